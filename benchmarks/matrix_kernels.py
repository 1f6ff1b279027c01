"""How fast are the ``kldiv matrix`` kernels (kldiv_cli.maths.pairwise) against SciPy?

In-process, on 2,000 seeded distributions of 256 bins, interleaved runs, medians of

  (a) pairwise(P, P, measure="kl")            vs  (b) scipy.stats.entropy(P[i][:, None], P.T)
                                                       for each row i (what a user would write)
  (c) pairwise(P, measure="jsd", unit="nats") vs  (d) scipy.spatial.distance.pdist(
                                                       P, "jensenshannon") ** 2 (nats)

and the largest relative disagreement with SciPy over the finite entries, after checking
that both put their infinities in the same places. Targets: b/a >= 30, d/c >= 5, and a
disagreement within 1e-12 relative. A report, not a test: it always exits 0.

The rows are Dirichlet(1) draws, with zeros placed so that they test something rather
than turn every KL into inf = inf:

* 10% of the rows are 0 on the same 32 bins. D(full || sparse) is inf (about 9% of the
  pairs), D(sparse || full) and D(sparse || sparse) are finite, and the JSD tiles of two
  sparse rows meet 0 + 0 = 0 bins (0 ln 0).
* 4 rows live on one half of the bins each, two per half: disjoint supports (a JSD of
  exactly ln 2, and more infinities).
* 40 rows are copies of others moved by a relative 10% per bin: a KL near 5e-3 next
  to a cross-entropy near 5.5 (and a JSD near 1e-3), below the thresholds of the fast
  forms, so these pairs take the term-by-term recomputation. Much closer rows could
  not be compared to 1e-12 with anyone: in float64 the term form (SciPy's and
  core's) resolves a KL only to about 1e-16 * |p|_2 / KL relative, and normalizing
  a row one ulp differently moves a KL by about 1e-16, absolutely.

    python benchmarks/matrix_kernels.py [--runs N] [--rows M]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import scipy.stats
from _bench import verdict
from scipy.spatial.distance import pdist

from kldiv_cli.maths.pairwise import pairwise

ROWS, BINS = 2000, 256
SEED = 20261121
MIN_RUNS = 3
REL_TOL = 1e-12
TARGET_KL = 30.0
TARGET_JSD = 5.0


def build_rows(rows: int = ROWS, bins: int = BINS, seed: int = SEED) -> np.ndarray:
    """The (rows, bins) table of distributions described in the module docstring."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(bins), size=rows)
    sparse = rng.choice(rows, size=rows // 10, replace=False)
    p[np.ix_(sparse, np.arange(32))] = 0.0
    half = bins // 2
    p[0:2, half:] = 0.0  # rows 0, 1 on the first half; rows 2, 3 on the second
    p[2:4, :half] = 0.0
    near = rng.choice(np.arange(4, rows), size=80, replace=False)
    copies, sources = near[:40], near[40:]
    p[copies] = p[sources] * (1.0 + 0.1 * rng.standard_normal((40, bins)))
    return p / p.sum(axis=1, keepdims=True)


def scipy_kl(p: np.ndarray) -> np.ndarray:
    """D(P_i || P_j) for every pair, one scipy.stats.entropy call per row."""
    return np.array([scipy.stats.entropy(row[:, None], p.T) for row in p])


def scipy_jsd(p: np.ndarray) -> np.ndarray:
    """JSD(P_i, P_j) in nats for i < j (pdist's condensed order): pdist's root, squared."""
    return pdist(p, "jensenshannon") ** 2


def agreement(got: np.ndarray, want: np.ndarray) -> tuple[bool, int, int, float]:
    """Same infinities?, how many, finite entries compared, max relative difference."""
    same_inf = bool(np.array_equal(np.isinf(got), np.isinf(want)))
    finite = np.isfinite(got) & np.isfinite(want) & (want != 0)
    rel = np.abs(got[finite] - want[finite]) / np.abs(want[finite])
    return same_inf, int(np.isinf(want).sum()), int(finite.sum()), float(rel.max(initial=0.0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=MIN_RUNS, help=f"timed runs of each (>= {MIN_RUNS})"
    )
    parser.add_argument("--rows", type=int, default=ROWS, help=f"distributions (default {ROWS})")
    args = parser.parse_args()
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")
    if args.rows < 8:
        parser.error("--rows must be at least 8")

    p = build_rows(args.rows)
    upper = np.triu_indices(args.rows, 1)
    jobs: dict[str, Callable[[], np.ndarray]] = {
        "a": lambda: pairwise(p, p, measure="kl", unit="nats"),
        "b": lambda: scipy_kl(p),
        "c": lambda: pairwise(p, measure="jsd", unit="nats")[upper],
        "d": lambda: scipy_jsd(p),
    }
    labels = {
        "a": 'pairwise(P, P, measure="kl")',
        "b": "scipy.stats.entropy, row by row",
        "c": 'pairwise(P, measure="jsd")',
        "d": 'pdist(P, "jensenshannon") ** 2',
    }
    load_before = os.getloadavg()[0]
    for job in jobs.values():  # warm-up: imports, BLAS threads, page faults
        job()
    times: dict[str, list[float]] = {name: [] for name in jobs}
    results: dict[str, np.ndarray] = {}
    for _ in range(args.runs):
        for name, job in jobs.items():
            start = time.perf_counter()
            results[name] = job()
            times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(t) for name, t in times.items()}

    print(f"kldiv_cli.maths.pairwise on {args.rows:,} distributions x {BINS} bins (seed {SEED})")
    print(
        f"{args.runs} interleaved runs each after 1 warm-up, medians; "
        f"{len(os.sched_getaffinity(0))} cores, load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after"
    )
    for name, label in labels.items():
        spread = " ".join(f"{t:.2f}" for t in sorted(times[name]))
        print(f"  ({name}) {label:<33} {med[name] * 1000:9.0f} ms  (runs: {spread} s)")

    print(f"agreement with SciPy over the finite entries (target rel. {REL_TOL:g}):")
    all_agree = True
    for what, got, want in [
        ("kl", results["a"], results["b"]),
        ("jsd", results["c"], results["d"]),
    ]:
        same_inf, infinite, compared, worst = agreement(got, want)
        ok = same_inf and worst <= REL_TOL
        all_agree &= ok
        print(
            f"  {what:<4} {'ok ' if ok else 'BAD'} infinities in the same places: "
            f"{'yes' if same_inf else 'NO'} ({infinite:,} of {want.size:,}); "
            f"{compared:,} finite entries, max rel. diff {worst:.1e}"
        )

    kl_ratio = med["b"] / med["a"]
    jsd_ratio = med["d"] / med["c"]
    print(
        f"ratio b/a = {kl_ratio:.1f}: pairwise kl is {kl_ratio:.1f}x faster than SciPy row by "
        f"row (target >= {TARGET_KL:g}): {verdict(kl_ratio >= TARGET_KL)}"
    )
    print(
        f"ratio d/c = {jsd_ratio:.2f}: pairwise jsd is {jsd_ratio:.2f}x faster than pdist "
        f"(target >= {TARGET_JSD:g}): {verdict(jsd_ratio >= TARGET_JSD)}"
    )
    print(f"agreement within {REL_TOL:g}: {verdict(all_agree)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
