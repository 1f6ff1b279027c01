"""How fast are the ``compare --ci`` bootstrap intervals (kldiv_cli.maths.bootstrap)?

In-process, on a seeded pair of count columns over 1,000 labels (Poisson counts with
log-normal means, totals near 66,000 each, one zero each), both sides resampled:
medians of

  (t) bootstrap_intervals(p, q, level=0.95, resamples=10000)  -- the whole call
  (d) the drawing alone: the same tables, chunks, seeds and threads, without the
      measures (for the split: the measures, the sort and the rest are t - d)

Target: t <= 1 s. A report, not a test: it always exits 0. The machine is small and
often shared: the load average is printed, and a run on a busy machine is slower.

    python benchmarks/bootstrap.py [--runs N] [--resamples B]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

import numpy as np
from _bench import verdict

from kldiv_cli.maths import bootstrap
from kldiv_cli.maths.bootstrap import bootstrap_intervals

LABELS = 1000
SEED = 20240521
RESAMPLES = 10_000
LEVEL = 0.95
CI_SEED = 1
MIN_RUNS = 5
TARGET_S = 1.0


def build_pair(labels: int = LABELS, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Counts ``p`` and ``q``: Poisson(2 lambda) and a drifted Poisson, lambda log-normal."""
    rng = np.random.default_rng(seed)
    lam = 2.0 * rng.lognormal(3.0, 1.0, labels)
    p = rng.poisson(lam).astype(np.float64)
    q = rng.poisson(lam * rng.lognormal(0.0, 0.25, labels)).astype(np.float64)
    return p, q


def draw_only(p: np.ndarray, q: np.ndarray, resamples: int, seed: int) -> None:
    """Every resample of both sides, as bootstrap_intervals draws them, not measured."""
    sides = (bootstrap._side(p, "p", True, 0.0), bootstrap._side(q, "q", True, 0.0))
    chunks = bootstrap._chunks(p.size, resamples, seed)
    local = threading.local()

    def chunk(i: int) -> None:
        start, stop, child = chunks[i]
        if not hasattr(local, "work"):
            local.work = bootstrap._Work()
        rng = np.random.default_rng(child)
        for side in sides:
            side.draw(rng, stop - start, local.work)

    bootstrap._run(chunk, len(chunks))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=MIN_RUNS, help=f"timed runs of each (>= {MIN_RUNS})"
    )
    parser.add_argument(
        "--resamples", type=int, default=RESAMPLES, help=f"B (default {RESAMPLES:,})"
    )
    args = parser.parse_args()
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")

    p, q = build_pair()

    def whole() -> None:
        bootstrap_intervals(
            p,
            q,
            resample_p=True,
            resample_q=True,
            level=LEVEL,
            resamples=args.resamples,
            seed=CI_SEED,
        )

    def drawing() -> None:
        draw_only(p, q, args.resamples, CI_SEED)

    jobs = {"t": whole, "d": drawing}
    load_before = os.getloadavg()[0]
    for job in jobs.values():  # warm-up: imports, page faults
        job()
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(args.runs):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(t) for name, t in times.items()}

    sides = [bootstrap._Resampler(x, 0.0) for x in (p, q)]
    how = ", ".join(
        f"{name}: n = {s.n:,} over {s.cols.size:,} labels, "
        f"{'Poissonized' if s.poisson else 'multinomial'}"
        for name, s in zip("pq", sides, strict=True)
    )
    print(
        f"bootstrap_intervals on {LABELS:,} labels, both sides resampled, "
        f"level {LEVEL}, B = {args.resamples:,} (data seed {SEED}, seed {CI_SEED})"
    )
    print(f"  {how}")
    print(
        f"{args.runs} interleaved runs each after 1 warm-up, medians; "
        f"{len(os.sched_getaffinity(0))} cores, load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after"
    )
    labels = {"t": "the whole call", "d": "drawing alone"}
    for name, label in labels.items():
        spread = " ".join(f"{t:.3f}" for t in sorted(times[name]))
        print(f"  ({name}) {label:<16} {med[name] * 1000:7.0f} ms  (runs: {spread} s)")
    print(f"  t - d: measures, quantiles and the rest: {(med['t'] - med['d']) * 1000:.0f} ms")
    print(f"t = {med['t']:.3f} s (target <= {TARGET_S:g} s): {verdict(med['t'] <= TARGET_S)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
