"""How fast is ``kldiv entropy`` on a table of one row and 1,000,000 columns?

Times whole processes, interleaved, and reports medians of

  (j) kldiv entropy benchmarks/data/wide.csv --format json
  (t) kldiv entropy benchmarks/data/wide.csv --format tsv
  (p) python -c "import numpy, pandas; pandas.read_csv(...)"  (the floor a user's
      script starts from: reading the table, no entropy, no output)

after checking that kldiv's JSON and TSV give each column's count as its n and
entropy 0 (one row: each column is a distribution of one bin). Targets: j/p <= 1 and
t/p <= 1 (kldiv no slower than pandas reading the table alone; it was 2.5x slower:
~36 s, a Python loop per column) and a peak memory of at most 700 MB for each
(1.39 GB before). A report, not a test: it always exits 0.

The table (header ``c0000000,...``, one row of seeded counts 1-999) is built once and
cached in benchmarks/data/ (git-ignored).

    python benchmarks/wide_entropy.py [--runs N] [--columns N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from _bench import (
    REPO,
    cached_file,
    interleaved,
    kldiv_command,
    median_ms,
    path_kldiv_note,
    peak_mb,
    verdict,
)

HERE = Path(__file__).resolve().parent
COLUMNS = 1_000_000
SEED = 20261130
MIN_RUNS = 3
TARGET_RATIO = 1.0
TARGET_PEAK_MB = 700


def data_path(columns: int) -> Path:
    return HERE / "data" / f"wide-{columns}.csv"


def table_text(columns: int) -> str:
    counts = np.random.default_rng(SEED).integers(1, 1000, columns)
    header = ",".join(f"c{i:07d}" for i in range(columns))
    return header + "\n" + ",".join(map(str, counts.tolist())) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"timed runs (>= {MIN_RUNS})")
    parser.add_argument("--columns", type=int, default=COLUMNS, help="columns of the table")
    args = parser.parse_args()
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")
    path = data_path(args.columns)
    how = cached_file(
        path, f"columns={args.columns} seed={SEED} v1", lambda: table_text(args.columns)
    )
    data = str(path.relative_to(REPO))
    kldiv = kldiv_command()
    floor = "import numpy, pandas, sys; pandas.read_csv(sys.argv[1])"
    commands = {
        "j": [*kldiv, "entropy", data, "--format", "json"],
        "t": [*kldiv, "entropy", data, "--format", "tsv"],
        "p": [sys.executable, "-c", floor, data],
    }
    times, outputs = interleaved(commands, args.runs, warmups=0)
    med = {name: median_ms(t) for name, t in times.items()}
    peaks = {name: peak_mb(command) for name, command in commands.items()}

    counts = [float(x) for x in path.read_text().splitlines()[1].split(",")]
    doc = json.loads(outputs["j"])["distributions"]
    tsv = [line.split("\t") for line in outputs["t"].decode().splitlines()[1:]]
    agree = (
        [d["n"] for d in doc] == counts
        and all(d["entropy"] == 0.0 and d["support"] == 1 for d in doc)
        and [(float(n), float(h)) for _, n, _, h in tsv] == [(n, 0.0) for n in counts]
    )

    size = path.stat().st_size / 1e6
    print(f"kldiv entropy on {data} (1 row x {args.columns:,} columns, {size:.1f} MB, {how})")
    print(f"{args.runs} interleaved runs each, medians; kldiv: {' '.join(kldiv)}")
    note = path_kldiv_note(kldiv)
    if note:
        print(note)
    print(f"agreement: n = each count, entropy 0, in JSON and TSV: {'yes' if agree else 'NO'}")
    labels = {
        "j": "kldiv entropy --format json",
        "t": "kldiv entropy --format tsv",
        "p": "import numpy, pandas; read_csv",
    }
    for name, label in labels.items():
        print(f"  ({name}) {label:<32} {med[name]:8.0f} ms  peak {peaks[name]:6.0f} MB")
    for name in ("j", "t"):
        ratio = med[name] / med["p"]
        met = ratio <= TARGET_RATIO and peaks[name] <= TARGET_PEAK_MB
        print(
            f"ratio {name}/p = {ratio:.2f}: kldiv ({labels[name][14:]}) takes {ratio:.2f}x "
            f"pandas.read_csv alone (target <= {TARGET_RATIO:g}, peak <= "
            f"{TARGET_PEAK_MB} MB): {verdict(met)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
