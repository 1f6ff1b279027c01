"""How fast, and in how much memory, does core.measures measure one long pair?

In-process, on the two count columns of compare_large.py's table (``label,ref,cur``,
1M or 10M labels, built and cached by it), read once with pandas; interleaved runs,
medians and best of

  (k) kldiv_cli.maths.core.measures(ref, cur)            (what ``kldiv compare`` calls)
  (b) the arithmetic of benchmarks/baseline_numpy.py     (three logs on the raw counts,
      no checks, and digits lost when P is close to Q)

and the peak of the memory each allocates beyond its inputs (tracemalloc, which sees
NumPy's arrays), in bytes a label. Issue 14, item 4: a 10M-label compare within 80
bytes a label of peak resident memory leaves the measures no room for full-length
temporaries (8 bytes a label each), so core measures a long pair in blocks of
``PAIR_BLOCK`` entries: its peak should be a few blocks, whatever the length. A report,
not a test: it always exits 0.

    python benchmarks/measures_long.py [--rows 1000000|10000000] [--runs N]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from compare_large import ROWS, build_table, data_path

from kldiv_cli.maths import core


def baseline(cp: np.ndarray, cq: np.ndarray) -> float:
    """baseline_numpy.py's arithmetic, without its reading and printing (its JSD)."""
    sp, sq = float(cp.sum()), float(cq.sum())
    zp, zq = cp == 0, cq == 0
    with np.errstate(divide="ignore"):
        lp = np.log(cp)
        lq = np.log(cq)
        m = cp * (0.5 / sp)
        m += cq * (0.5 / sq)
        lm = np.log(m)
    lp[zp] = 0.0
    lq[zq] = 0.0
    lm[zp & zq] = 0.0
    h_p = math.log(sp) - float(cp @ lp) / sp
    h_q = math.log(sq) - float(cq @ lq) / sq
    _ = bool((zq & ~zp).any()), bool((zp & ~zq).any())
    _ = math.log(sq) - float(cp @ lq) / sp, math.log(sp) - float(cq @ lp) / sq
    return max(-float(m @ lm) - 0.5 * (h_p + h_q), 0.0)


def peak_bytes(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    import pandas as pd

    build_table(args.rows)
    path = data_path(args.rows, decimal=False)
    frame = pd.read_csv(path, usecols=["ref", "cur"], dtype=np.float64)
    p, q = frame["ref"].to_numpy(), frame["cur"].to_numpy()
    k = p.size
    cases: dict[str, Callable[[], Any]] = {
        "k core.measures": lambda: core.measures(p, q),
        "b baseline_numpy arithmetic": lambda: baseline(p, q),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for fn in cases.values():
        fn()  # warm-up
    for _ in range(args.runs):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    print(f"{k:,} labels, {args.runs} runs, PAIR_BLOCK = {core.PAIR_BLOCK:,}")
    for name, fn in cases.items():
        peak = peak_bytes(fn)
        print(
            f"  {name:28s} median {statistics.median(times[name]) * 1e3:7.1f} ms"
            f"  best {min(times[name]) * 1e3:7.1f} ms"
            f"  peak {peak / 1e6:7.1f} MB = {peak / k:5.1f} B/label"
        )
    ratio = statistics.median(times["k core.measures"]) / statistics.median(
        times["b baseline_numpy arithmetic"]
    )
    print(f"  k/b (medians) {ratio:.2f}")


if __name__ == "__main__":
    main()
