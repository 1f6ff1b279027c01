"""Issue 15, item 9: entropy of wide and odd shapes in bounded time and memory.

NSB's cost goes with a row's distinct count values (equal counts share one class), and
its temporaries are cut in blocks of about ``_BLOCK`` elements however many classes a
row has: 10^6 distinct counts took 4.8 GB on the coarse grid that brackets the peak.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from kldiv_cli.commands import entropy as batch
from kldiv_cli.maths import estimators as est
from kldiv_cli.maths.estimators import estimate_entropy
from kldiv_cli.readers.tables import Labels, Table


def test_nsb_temporaries_stay_within_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = np.random.default_rng(1).permutation(np.arange(1.0, 5001.0))[np.newaxis, :]
    want = estimate_entropy(counts, "nsb")
    monkeypatch.setattr(est, "_BLOCK", 1 << 12)  # 32 KiB of float64 per temporary
    tracemalloc.start()
    try:
        got = estimate_entropy(counts, "nsb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The same numbers (sums taken in other blocks: rounding only)...
    assert got.entropy[0] == pytest.approx(want.entropy[0], rel=1e-12)
    assert got.std is not None
    assert want.std is not None
    assert got.std[0] == pytest.approx(want.std[0], rel=1e-9)
    # ... in a peak of a few blocks and the (5000,) arrays of the row, where the
    # (1, 5000, ~60) temporaries of the coarse grid took 2.4 MB each, 20 MB in all.
    assert peak < 2_000_000


def test_nsb_costs_the_distinct_counts_not_the_labels() -> None:
    # 10^6 labels with 19 distinct counts: 19 classes, as cheap as a small table.
    counts = np.random.default_rng(2).integers(1, 20, 1_000_000).astype(float)
    # (Its speed, about 1 s where a per-label quadrature took minutes, is a benchmark's
    # matter, not a unit test's.)
    got = estimate_entropy(counts[np.newaxis, :], "nsb")
    # Every bin seen, ~10 times each (n = 10^7, K = 10^6): the posterior mean is the
    # plug-in estimate with its bias (K - 1) / (2n) = 0.05 nats added back (Miller and
    # Madow), to within 1e-3, and below ln K.
    n, k = counts.sum(), counts.size
    p = counts / n
    miller_madow = -float(np.sum(p * np.log(p))) + (k - 1) / (2 * n)
    assert got.entropy[0] == pytest.approx(miller_madow, abs=1e-3)
    assert got.entropy[0] <= math.log(k)


def test_a_million_one_value_columns_give_a_million_entropies() -> None:
    # entropy of a table of one row and 10^6 columns: 10^6 distributions of one bin,
    # each of entropy 0, n its value, support 1. Stacking them took 1.3 s (vstack
    # made each a 2-D array first).
    k = 1_000_000
    values = np.arange(1.0, k + 1.0)
    columns: dict[str, np.ndarray | None] = {f"c{i}": values[i : i + 1] for i in range(k)}
    table = Table("wide.csv", Labels.by_position(1), None, columns)  # type: ignore[arg-type]
    result = batch.entropies(table)
    assert result.entropy.shape == (k,)
    assert not result.entropy.any()
    assert np.array_equal(result.n, values)
    assert (result.support == 1).all()


def _many_class_rows() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    return {
        "2001 distinct": np.arange(1.0, 2002.0),
        "20000 distinct": rng.permutation(np.arange(1.0, 20001.0)),
        "3000 distinct and 10^5 zeros": np.r_[np.arange(1.0, 3001.0), np.zeros(100_000)],
        "skewed poisson": rng.poisson(rng.gamma(0.3, 3000.0, 40_000)).astype(float),
        "10^4 distinct squares": np.arange(1.0, 10_001.0) ** 2,
    }


@pytest.mark.parametrize("name", list(_many_class_rows()))
def test_nsb_on_many_classes_agrees_with_the_full_quadrature(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = _many_class_rows()[name][np.newaxis, :]
    values, mult = est._count_classes(counts)
    n = counts.sum(axis=1)
    k = counts.shape[1]
    assert values.shape[1] > est._WIDE_FROM
    # The narrow-posterior path does take these rows (else the comparison is empty).
    assert est._nsb_wide(values, mult, n, k) is not None
    fast = estimate_entropy(counts, "nsb")
    monkeypatch.setattr(est, "_WIDE_FROM", 10**12)  # the general quadrature, ~1e-13
    full = estimate_entropy(counts, "nsb")
    assert fast.std is not None
    assert full.std is not None
    # Measured: the means agree to ~5e-15 and the stds to ~1e-11 relative (the std is
    # a spread of ~1e-4 of a mean of ~10: its digits are the sums' rounding).
    assert fast.entropy[0] == pytest.approx(full.entropy[0], rel=1e-12)
    assert fast.std[0] == pytest.approx(full.std[0], rel=1e-9)


def test_nsb_on_many_classes_makes_a_bounded_number_of_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The work is (classes) x (points where they are summed): ~300 points per row
    # took 113 s for 10^6 distinct counts. Count the points, not the seconds.
    points = [0]
    density, moments = est._Posterior.log_density, est._Posterior.moments
    slopes = est._evidence_slopes

    def count_density(self: est._Posterior, t: np.ndarray) -> np.ndarray:
        points[0] += t.shape[1]
        return density(self, t)

    def count_moments(self: est._Posterior, beta: np.ndarray) -> tuple[np.ndarray, ...]:
        points[0] += beta.shape[1]
        return moments(self, beta)

    def count_slopes(g: est._Posterior, beta: np.ndarray) -> tuple[np.ndarray, ...]:
        points[0] += 1
        return slopes(g, beta)

    monkeypatch.setattr(est._Posterior, "log_density", count_density)
    monkeypatch.setattr(est._Posterior, "moments", count_moments)
    monkeypatch.setattr(est, "_evidence_slopes", count_slopes)
    counts = np.random.default_rng(3).permutation(np.arange(1.0, 20_001.0))
    got = estimate_entropy(counts[np.newaxis, :], "nsb")
    # Every bin seen many times (n = 2e8, K = 2e4): the plug-in entropy plus the
    # Miller-Madow bias (K - 1) / (2n) = 5e-5, to 1e-4 (the next terms of the bias and
    # the prior's pull are ~1e-5 here; the posterior std is 3.5e-5).
    n = counts.sum()
    p = counts / n
    miller_madow = -float(np.sum(p * np.log(p))) + (counts.size - 1) / (2 * n)
    assert got.entropy[0] == pytest.approx(miller_madow, abs=1e-4)
    # ~15 Newton steps, 17 nodes for the density, 17 for the moments, 2 at the peak.
    assert points[0] <= 60


def test_nsb_on_many_classes_with_a_broad_posterior_takes_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 3,000 nearly equal counts (10^6 to 10^6 + 2999): every beta above ~10^8 fits
    # them as well, so the posterior in ln beta is ~1 wide, too broad for the
    # narrow-posterior grid. It must decline, and the answer be the general one.
    counts = (1e6 + np.arange(3000.0))[np.newaxis, :]
    values, mult = est._count_classes(counts)
    assert values.shape[1] > est._WIDE_FROM
    assert est._nsb_wide(values, mult, counts.sum(axis=1), counts.shape[1]) is None
    got = estimate_entropy(counts, "nsb")
    monkeypatch.setattr(est, "_WIDE_FROM", 10**12)
    full = estimate_entropy(counts, "nsb")
    assert got.entropy[0] == full.entropy[0]  # the same code path: the same numbers
    # Nearly uniform: the entropy is ln K less ~ (variance of p) / (2 mean^2) ~ 1.5e-7.
    assert got.entropy[0] == pytest.approx(math.log(3000), abs=1e-6)
