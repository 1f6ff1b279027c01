"""Does ``kldiv drift`` count 10M current rows against 2M reference rows in bounded
memory, and does ``--memory-limit`` lower the peak?

Runs ``kldiv drift REF CUR --format json`` as a whole process, REF the 2M-row and CUR
the 10M-row CSV of benchmarks/drift.py (3 columns: a category, a float with 1%
missing, a binned integer; about 195 MB of CSV in all, built once and cached in
benchmarks/data/), and reports the child's peak resident memory (``ru_maxrss`` of a
fresh Python parent whose only child it is) and its wall time:

  (d) with the engine's default limit (384 MiB, or half the free memory if less),
      against the target of issue 12: at most 600 MB;
  (c) with ``--memory-limit 200MB``: the cap should lower the peak (DuckDB spills to
      its temporary folder past it), at some cost in time.

Both runs must give the same JSON figures (the cap changes memory, not counts). The
peak of each is the largest over ``--runs`` runs (the time, the median). The machine
may be shared and loaded: times are indicative; the peaks depend little on load. A
report, not a test: it always exits 0 unless a run fails.

    python benchmarks/drift_memory.py [--runs N] [--limit 200MB]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import REPO, kldiv_command, verdict
from drift import build, data_paths

REF_ROWS: Final = 2_000_000
CUR_ROWS: Final = 10_000_000
TARGET_PEAK_MB: Final = 600.0

#: A fresh Python parent: one child, then its ru_maxrss (KiB on Linux) and wall time.
_PROBE: Final = (
    "import json, resource, subprocess, sys, time; "
    "t = time.perf_counter(); "
    "done = subprocess.run(sys.argv[1:], capture_output=True); "
    "t = time.perf_counter() - t; "
    "sys.stderr.buffer.write(done.stderr); "
    "print(json.dumps({'status': done.returncode, 'seconds': t, "
    "'peak_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
    "'out': done.stdout.decode()}))"
)


def measured(command: Sequence[str]) -> tuple[float, float, dict[str, Any]]:
    """(peak MB, seconds, the JSON result) of one run of ``command``."""
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, *command], capture_output=True, cwd=REPO, check=True
    )
    found = json.loads(probe.stdout)
    if found["status"] != 0:
        err = probe.stderr.decode(errors="replace").strip()
        raise SystemExit(f"failed ({found['status']}): {' '.join(command)}\n{err}")
    return found["peak_kib"] / 1024, found["seconds"], json.loads(found["out"])


def figures(result: dict[str, Any]) -> list[Any]:
    """What the cap must not change: per column, its kind, edges, n, missing values
    and measures."""
    keys = ("column", "kind", "edges", "n", "missing", "measures")
    return [[c[k] for k in keys] for c in result["columns"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="runs of each (default 1)")
    parser.add_argument("--limit", default="200MB", help="the --memory-limit run (200MB)")
    args = parser.parse_args()

    built = [build(REF_ROWS), build(CUR_ROWS)]
    ref = data_paths(REF_ROWS)[0]
    cur = data_paths(CUR_ROWS)[1]
    size = (ref.stat().st_size + cur.stat().st_size) / 1e6
    print(f"REF {ref.name} ({REF_ROWS:,} rows), CUR {cur.name} ({CUR_ROWS:,} rows): ", end="")
    print(f"{size:.0f} MB of CSV ({'/'.join(built)})")

    base = [*kldiv_command(), "drift", str(ref), str(cur), "--format", "json"]
    runs: dict[str, list[tuple[float, float, dict[str, Any]]]] = {"d": [], "c": []}
    commands = {"d": base, "c": [*base, "--memory-limit", args.limit]}
    for _ in range(args.runs):  # interleaved: a change of load hits both alike
        for key, command in commands.items():
            runs[key].append(measured(command))

    peak = {k: max(r[0] for r in v) for k, v in runs.items()}
    seconds = {k: statistics.median(r[1] for r in v) for k, v in runs.items()}
    same = all(figures(r[2]) == figures(runs["d"][0][2]) for v in runs.values() for r in v)
    print(f"runs: {args.runs} of each; the machine may be shared: times are indicative")
    print(
        f"(d) default limit:          peak {peak['d']:6.0f} MB, {seconds['d']:6.1f} s  "
        f"(target <= {TARGET_PEAK_MB:g} MB): {verdict(peak['d'] <= TARGET_PEAK_MB)}"
    )
    print(
        f"(c) --memory-limit {args.limit:<7s}: peak {peak['c']:6.0f} MB, {seconds['c']:6.1f} s  "
        f"(lower than (d): {'yes' if peak['c'] < peak['d'] else 'NO'})"
    )
    print(f"same figures with and without the cap: {'yes' if same else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
