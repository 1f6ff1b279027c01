"""Time and peak memory of ``kldiv compare`` at scale, against the bare pandas + NumPy script.

For each size (default 1M and 10M labels) builds the ``label,ref,cur`` table of
compare_large.py with that many rows (cached in benchmarks/data/), then runs, interleaved,

  (k) kldiv compare FILE --format json
  (b) python benchmarks/baseline_numpy.py FILE

and reports medians of wall time, the peak resident memory of each (``ru_maxrss`` of
a fresh parent, the larger of two runs), the ratios k/b and kldiv's peak in bytes per label.
With ``--shuffled`` the rows are also written in a random order (labels not sorted:
the uniqueness check then sorts 64-bit keys instead of one comparison of neighbours).

Targets (issue 14): at 10M, k/b <= 1.0 in time and <= 80 bytes a label of peak
memory; at 1M, k/b <= 0.8. A report, not a test: it always exits 0.

    python benchmarks/compare_scale.py [--rows 1000000 10000000] [--runs 5] [--shuffled]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import compare_large
import numpy as np
from _bench import cached_file, kldiv_command, peak_mb

HERE = Path(__file__).resolve().parent
TARGETS = {10_000_000: 1.0, 1_000_000: 0.8}
TARGET_BYTES_PER_LABEL = 80


def table(rows: int, shuffled: bool) -> Path:
    """The ``label,ref,cur`` table of ``rows`` rows (compare_large's generator)."""
    path = HERE / "data" / f"scale-{rows}{'-shuffled' if shuffled else ''}.csv"

    def text() -> str:
        compare_large.ROWS = rows
        body = compare_large.table_text()
        if not shuffled:
            return body
        header, rest = body.split("\n", 1)
        lines = rest.splitlines(keepends=True)
        order = np.random.default_rng(7).permutation(len(lines))
        return header + "\n" + "".join(lines[i] for i in order.tolist())

    params = f"{compare_large.PARAMS} rows={rows} shuffled={shuffled}"
    path.parent.mkdir(exist_ok=True)
    cached_file(path, params, text)
    return path


def run_once(command: Sequence[str]) -> float:
    """Wall seconds of one run of ``command`` (which must succeed)."""
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"benchmark command failed ({done.returncode}): {command}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--shuffled", action="store_true", help="also rows in random order")
    args = parser.parse_args()
    kldiv = kldiv_command()
    for rows in args.rows:
        for shuffled in [False, True] if args.shuffled else [False]:
            path = table(rows, shuffled)
            commands = {
                "k": [*kldiv, "compare", str(path), "--format", "json"],
                "b": [sys.executable, str(HERE / "baseline_numpy.py"), str(path)],
            }
            for command in commands.values():  # one warm-up each: the page cache
                run_once(command)
            times: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, command in commands.items():
                    times[name].append(run_once(command))
            t = {name: statistics.median(v) for name, v in times.items()}
            # Peaks from a fresh parent (_bench.peak_mb): a child forked from this
            # process, which built the table, would inherit its ru_maxrss.
            m = {
                name: max(peak_mb(command) for _ in range(2)) for name, command in commands.items()
            }
            order = "shuffled" if shuffled else "as written (sorted but the last)"
            print(f"{rows:,} labels, rows {order}: {args.runs} interleaved runs, medians")
            for name in commands:
                print(f"  ({name}) {t[name]:6.2f} s   peak {m[name]:6.0f} MB")
            ratio = t["k"] / t["b"]
            per_label = m["k"] * 2**20 / rows
            target = TARGETS.get(rows)
            met = "" if target is None else f" (target <= {target}: {ratio <= target})"
            print(f"  time k/b = {ratio:.2f}{met}")
            bound = TARGET_BYTES_PER_LABEL
            goal = f" (target <= {bound}: {per_label <= bound})" if rows >= 10_000_000 else ""
            print(f"  peak k/b = {m['k'] / m['b']:.2f}; kldiv {per_label:.0f} bytes a label{goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
