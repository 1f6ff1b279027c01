r"""How often does a drift check fire when nothing has drifted?

``kldiv drift REF CUR --max jsd=0.05`` fails a column whose JSD(CUR, REF) exceeds 0.05
bit. Two samples of the same distribution are never identical, so their JSD is above
0 by chance alone; this script measures how often it is above 0.05 bit for samples of
the size of ``samples/penguins-*.csv`` (120 reference rows, 110 current rows), and how
often it is above the spec's ``jsd_noise`` instead, for a few realistic columns:

* ``species`` and ``island``: categories drawn with the shares of
  ``samples/penguins-2007.csv`` (species 50/26/34, island 44/46/20 of 110 rows);
* ``weather``: the five shares of ``samples/seattle-weather-2012.csv`` (one label at
  1.4%, which a sample of 110 often lacks: k varies from draw to draw);
* ``bill_length_mm``: rows resampled (with replacement) from the 110 values of
  ``samples/penguins-2007.csv``, the one ``NA`` among them counted as ``(missing)``,
  binned in 10 bins at the reference's deciles as the spec bins (below);
* ``normal``: a standard normal variable, binned the same way.

Every repetition draws both sides afresh from the same distribution, so every alarm
is a false alarm. The JSD is kldiv's own (:func:`kldiv_cli.js_divergence`, along the
rows of a (repetitions, labels) array of counts).

Binning (spec, "What a column's distribution is"): with the reference's ``n`` non-
missing values sorted, ``x_(1) <= ... <= x_(n)``, the candidate edges are
``x_(k_j)`` with ``k_j = ceil(j n / N)``, ``j = 1..N-1`` (the inverted CDF: the
smallest x with F_ref(x) >= j/N), the distinct ones, less one equal to ``x_(1)``; the
bins are ``(-inf, e_1), [e_1, e_2), ..., [e_m, +inf)``, and missing values are one
more label. The edges come from the reference sample itself, as they do in ``kldiv
drift``, so their randomness is part of what is measured.

Why ``jsd_noise`` (the law behind it)
------------------------------------
Let a side have counts ``a_i`` (total ``n_1``, shares ``p_i``), the other ``b_i``
(``n_2``, ``q_i``), drawn from the same distribution ``pi`` over k labels. With
``M = (P + Q) / 2`` and ``d_i = p_i - q_i``, a Taylor expansion of
``x log(x / m)`` about ``m`` gives, in nats,

.. math::

    D(P \| M) = \tfrac12 \sum_i (p_i - m_i)^2 / m_i + O(d^3)
              = \tfrac18 \sum_i d_i^2 / m_i + O(d^3),

the same for ``D(Q || M)``, hence

.. math:: \mathrm{JSD}(P, Q) = \tfrac18 \sum_i d_i^2 / m_i + O(d^3).

Pearson's statistic of homogeneity of the 2 x k table is
``X^2 = n_eff sum_i d_i^2 / pihat_i`` with ``n_eff = n_1 n_2 / (n_1 + n_2)`` (=
``1 / (1/n_1 + 1/n_2)``) and ``pihat`` the pooled shares; under "same distribution"
it tends to chi-squared with k - 1 degrees of freedom, and so does the G statistic
(``G = 2 sum O log(O/E)``, which equals ``X^2`` to second order). Since ``d_i =
O(n^{-1/2})`` and ``m_i`` and ``pihat_i`` both tend to ``pi_i``,

.. math:: 8\, n_\mathrm{eff}\, \mathrm{JSD}(P, Q) \to \chi^2_{k-1} \text{ in law},

(for ``n_1 = n_2`` it is exactly ``G / 2 + O(n^{-1/2})`` with equal weights), so the
JSD that chance alone exceeds 5% of the time is

.. math::

    \mathrm{jsd\_noise} = \chi^2_{0.95}(k - 1)\,(1/n_1 + 1/n_2) / 8 \text{ nats}
                        = \text{that} / \ln 2 \text{ bits},

the spec's formula, with k the labels that hold mass on either side. Its mean, for
comparison, is ``(k - 1) (1/n_1 + 1/n_2) / 8`` nats: the JSD of two same-law samples
grows with the number of labels and shrinks like ``1/n``. A fixed limit ignores both,
so for 110 against 120 rows and 10 bins ``--max jsd=0.05`` sits *below* the 95th
percentile of pure noise.

The last column is the rate of jsd > 1.5 jsd_noise: a limit with room above the
noise, for a check that should rarely fire on a clean run (by the law 1.1% for k = 3,
0.7% for k = 5, 0.26% for k = 10, 0.22% for k = 11).

Two departures from the asymptotic law are visible below: labels whose expected
count is small (the 1.4% ``fog``: about 1.6 per side) and, for binned columns, k
counted per draw. The printed rates show how far they move the 5%.

Usage::

    python benchmarks/false_alarms.py [--repetitions R] [--seed S] [--n-ref N] [--n-cur N]

A report, not a test (``tests/test_false_alarms.py`` checks the law on a small case).
Takes a few seconds; the figures depend only on the seed.
"""

from __future__ import annotations

import argparse
import csv
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kldiv_cli import js_divergence
from kldiv_cli.commands.drift import jsd_noise

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
N_REF = 120
N_CUR = 110
LIMIT_BITS = 0.05
BINS = 10
REPETITIONS = 20_000
SEED = 20261130
#: The spec's missing tokens that occur in the samples.
MISSING = {"NA", ""}

Counts = NDArray[np.float64]


def jsd_noise_bits(k: int | NDArray[np.int64], n_ref: float, n_cur: float) -> NDArray[np.float64]:
    r"""The spec's ``jsd_noise`` in bits, as ``kldiv drift`` computes it
    (:func:`kldiv_cli.commands.drift.jsd_noise`):
    :math:`\chi^2_{0.95}(k-1)(1/n_r + 1/n_c)/(8 \ln 2)`.

    ``k`` is the number of labels with mass on either side (k = 1 gives 0: two
    one-label samples cannot differ).
    """
    return jsd_noise(k, n_ref, n_cur, unit="bits")


def inverted_cdf_edges(reference: NDArray[np.float64], bins: int) -> NDArray[np.float64]:
    """The spec's edges, one row of candidates per repetition, NaN where left out.

    ``reference`` is (repetitions, n) of non-missing values. Candidate j is the
    ``ceil(j n / N)``-th smallest value (integer arithmetic); a candidate equal to the
    one before it, or to the row's minimum, is not an edge (NaN).
    """
    ordered = np.sort(reference, axis=-1)
    n = ordered.shape[-1]
    ranks = np.array([-(-j * n // bins) for j in range(1, bins)])
    candidates = ordered[:, ranks - 1]
    repeated = np.zeros_like(candidates, dtype=bool)
    repeated[:, 1:] = candidates[:, 1:] == candidates[:, :-1]
    repeated |= candidates == ordered[:, :1]
    return np.where(repeated, np.nan, candidates)


def bin_counts(values: NDArray[np.float64], edges: NDArray[np.float64]) -> Counts:
    """Counts per bin and repetition: (repetitions, N + 1), the last column ``(missing)``.

    Bin b of a row is ``[e_b, e_{b+1})`` among that row's edges (NaN edges skipped, so
    bins past the row's last edge stay empty on both sides and are not labels); a NaN
    value is missing.
    """
    reps, width = edges.shape
    # A value's bin is the number of the row's edges at or below it (NaN >= is False).
    index = (values[:, :, None] >= edges[:, None, :]).sum(axis=-1)
    index = np.where(np.isnan(values), width + 1, index)
    flat = index + (width + 2) * np.arange(reps)[:, None]
    return np.bincount(flat.ravel(), minlength=reps * (width + 2)).reshape(reps, width + 2) * 1.0


@dataclass(frozen=True)
class Outcome:
    """False-alarm rates of one column over the repetitions."""

    name: str
    k: NDArray[np.int64]
    jsd: NDArray[np.float64]
    noise: NDArray[np.float64]

    @property
    def fixed_rate(self) -> float:
        return float(np.mean(self.jsd > LIMIT_BITS))

    @property
    def noise_rate(self) -> float:
        return float(np.mean(self.jsd > self.noise))

    @property
    def wide_rate(self) -> float:
        """Rate of jsd > 1.5 jsd_noise: a limit with some room above the noise."""
        return float(np.mean(self.jsd > 1.5 * self.noise))


def measure(name: str, reference: Counts, current: Counts) -> Outcome:
    """JSD(CUR, REF) per repetition (kldiv's function, vectorised along the rows)."""
    jsd = np.asarray(js_divergence(current, reference, unit="bits", axis=-1), dtype=np.float64)
    k = ((reference + current) > 0).sum(axis=-1)
    # n per side is the total of the counts, as kldiv drift reports it.
    noise = jsd_noise_bits(k, reference.sum(axis=-1), current.sum(axis=-1))
    return Outcome(name, k, jsd, noise)


def categorical(
    rng: np.random.Generator,
    shares: NDArray[np.float64],
    reps: int,
    n_ref: int = N_REF,
    n_cur: int = N_CUR,
) -> tuple[Counts, Counts]:
    """Multinomial counts of both sides: (reps, k) each."""
    shares = shares / shares.sum()
    ref = rng.multinomial(n_ref, shares, size=reps).astype(np.float64)
    cur = rng.multinomial(n_cur, shares, size=reps).astype(np.float64)
    return ref, cur


Draw = Callable[[np.random.Generator, tuple[int, int]], NDArray[np.float64]]


def binned(
    rng: np.random.Generator, draw: Draw, reps: int, n_ref: int = N_REF, n_cur: int = N_CUR
) -> tuple[Counts, Counts]:
    """Both sides drawn by ``draw`` ((reps, n) values, NaN = missing), binned by REF."""
    ref_values = draw(rng, (reps, n_ref))
    cur_values = draw(rng, (reps, n_cur))
    # Edges from the reference's non-missing values: sorting puts NaN last, so the
    # ranks are taken among the first n_i of each row; rows differ in n_i only when
    # a missing value was drawn, handled row group by row group.
    present = (~np.isnan(ref_values)).sum(axis=-1)
    edges = np.full((ref_values.shape[0], BINS - 1), np.nan)
    ordered = np.sort(ref_values, axis=-1)
    for n in np.unique(present):
        rows = present == n
        edges[rows] = inverted_cdf_edges(ordered[rows, :n], BINS)
    return bin_counts(ref_values, edges), bin_counts(cur_values, edges)


def column(path: Path, name: str) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return [row[name] for row in csv.DictReader(f)]


def shares_of(values: list[str]) -> tuple[list[str], NDArray[np.float64]]:
    counts = Counter(values)
    labels = sorted(counts)
    return labels, np.array([counts[x] for x in labels], dtype=np.float64)


def resampler(values: list[str]) -> Draw:
    """Draws with replacement from ``values`` (a missing token is NaN)."""
    pool = np.array([math.nan if v in MISSING else float(v) for v in values])

    def draw(rng: np.random.Generator, shape: tuple[int, int]) -> NDArray[np.float64]:
        return rng.choice(pool, size=shape, replace=True)

    return draw


def normal(rng: np.random.Generator, shape: tuple[int, int]) -> NDArray[np.float64]:
    return rng.standard_normal(shape)


def run(reps: int, seed: int, n_ref: int = N_REF, n_cur: int = N_CUR) -> list[Outcome]:
    rng = np.random.default_rng(seed)
    penguins = SAMPLES / "penguins-2007.csv"
    weather = SAMPLES / "seattle-weather-2012.csv"
    outcomes = []
    for name, path in (("species", penguins), ("island", penguins), ("weather", weather)):
        _, shares = shares_of(column(path, name))
        outcomes.append(measure(name, *categorical(rng, shares, reps, n_ref, n_cur)))
    bill = resampler(column(penguins, "bill_length_mm"))
    outcomes.append(measure("bill_length_mm", *binned(rng, bill, reps, n_ref, n_cur)))
    outcomes.append(measure("normal", *binned(rng, normal, reps, n_ref, n_cur)))
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=REPETITIONS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--n-ref", type=int, default=N_REF, help="reference rows")
    parser.add_argument("--n-cur", type=int, default=N_CUR, help="current rows")
    args = parser.parse_args()
    reps, n_ref, n_cur = args.repetitions, args.n_ref, args.n_cur
    outcomes = run(reps, args.seed, n_ref, n_cur)
    # One binomial standard error of a rate near 5% at this many repetitions.
    se = math.sqrt(0.05 * 0.95 / reps)
    print(
        f"{reps:,} repetitions, seed {args.seed}: {n_ref} reference rows against "
        f"{n_cur} current rows drawn from the same distribution (no drift)."
    )
    print(f"A rate near 5% is known to +-{se:.2%} (one binomial standard error).\n")
    header = (
        "column",
        "k (usual)",
        "mean JSD",
        "jsd_noise",
        "P(jsd > 0.05)",
        "P(jsd > noise)",
        "P(jsd > 1.5 noise)",
    )
    rows = []
    for o in outcomes:
        k = int(np.bincount(o.k).argmax())
        share = np.mean(o.k == k)
        rows.append(
            (
                o.name,
                f"{k}" + ("" if share == 1 else f" ({share:.0%})"),
                f"{np.mean(o.jsd):.4f}",
                f"{float(jsd_noise_bits(k, n_ref, n_cur)):.4f}",
                f"{o.fixed_rate:.2%}",
                f"{o.noise_rate:.2%}",
                f"{o.wide_rate:.2%}",
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    print(f"\njsd_noise (bits) for {n_ref} against {n_cur} rows, by k:")
    for k in range(2, 13):
        print(f"  k = {k:2d}: {float(jsd_noise_bits(k, n_ref, n_cur)):.4f}")
    # The sample size at which 0.05 bit is the 5% noise level of a 10-bin column.
    n_eff = float(jsd_noise_bits(BINS, 1, math.inf)) / LIMIT_BITS
    print(
        f"\n0.05 bit is the 5% noise level of a {BINS}-label column at n_eff = "
        f"{n_eff:.0f} (e.g. {2 * n_eff:.0f} rows against {2 * n_eff:.0f})."
    )


if __name__ == "__main__":
    main()
