"""How fast is ``kldiv matrix`` on 2,000 distributions of 256 bins, whole process?

Times, interleaved, medians of

  (k) kldiv matrix benchmarks/data/matrix.csv --rows --format csv  (JSD, bits)
  (s) python benchmarks/baseline_pdist.py  (pandas.read_csv, scipy pdist
      "jensenshannon" squared, DataFrame.to_csv: what a user would write)

each writing its 2,000 x 2,000 matrix to a file, after checking that the two
matrices agree within 1e-12 relative (and exactly on the zero diagonal). Target:
s/k >= 3. A report, not a test: it always exits 0.

The table (``name,b001,...,b256``, one seeded Dirichlet distribution per row, about
3% of entries 0) is built once and cached in benchmarks/data/ (git-ignored).

    python benchmarks/matrix_large.py [--runs N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from _bench import (
    REPO,
    cached_file,
    interleaved,
    kldiv_command,
    median_ms,
    path_kldiv_note,
    spread_ms,
    verdict,
)

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "matrix.csv"
N, K = 2000, 256
SEED = 20261121
PARAMS = f"n={N} k={K} seed={SEED} dirichlet(0.5) zeros=3% v1"
MIN_RUNS = 3
REL_TOL = 1e-12
TARGET = 3.0


def build_table(path: Path = DATA) -> str:
    return cached_file(path, PARAMS, table_text)


def table_text() -> str:
    rng = np.random.default_rng(SEED)
    p = rng.dirichlet(np.full(K, 0.5), size=N)
    p[rng.random((N, K)) < 0.03] = 0.0  # zeros: 0 log 0 and disjoint bins
    header = "name," + ",".join(f"b{j:03d}" for j in range(1, K + 1))
    rows = [f"d{i:04d}," + ",".join(map(repr, row)) for i, row in enumerate(p.tolist(), 1)]
    return header + "\n" + "\n".join(rows) + "\n"


def read_matrix(path: Path) -> tuple[list[str], np.ndarray]:
    lines = path.read_text().splitlines()
    names = lines[0].split(",")[1:]
    values = np.array([[float(x) for x in line.split(",")[1:]] for line in lines[1:]])
    return names, values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"timed runs (>= {MIN_RUNS})")
    args = parser.parse_args()
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")
    how = build_table()
    data = DATA.relative_to(REPO)
    kldiv = kldiv_command()
    with tempfile.TemporaryDirectory() as tmp:
        out_k, out_s = Path(tmp) / "k.csv", Path(tmp) / "s.csv"
        # kldiv writes to stdout: a shell redirect keeps the timing a whole process
        k_cmd = " ".join([*kldiv, "matrix", str(data), "--rows", "--format", "csv"])
        commands = {
            "k": ["sh", "-c", f"{k_cmd} > {out_k}"],
            "s": [sys.executable, str(HERE / "baseline_pdist.py"), str(data), str(out_s)],
        }
        times, _ = interleaved(commands, args.runs, warmups=0)
        names_k, k = read_matrix(out_k)
        names_s, s = read_matrix(out_s)
    med = {name: median_ms(t) for name, t in times.items()}
    print(f"kldiv matrix on {data} ({N:,} distributions x {K} bins, {how})")
    print(f"{args.runs} interleaved runs each, medians; kldiv: {' '.join(kldiv)}")
    note = path_kldiv_note(kldiv)
    if note:
        print(note)
    off = ~np.eye(N, dtype=bool)
    rel = np.abs(k[off] - s[off]) / np.abs(s[off])
    agree = names_k == names_s and bool((np.diag(k) == 0).all()) and rel.max() <= REL_TOL
    print(
        f"agreement: names equal, diagonal 0, max rel. diff {rel.max():.1e} "
        f"(<= {REL_TOL:g}): {'yes' if agree else 'NO'}"
    )
    print(f"  (k) kldiv matrix --rows --format csv   {med['k']:8.0f} ms  ({spread_ms(times['k'])})")
    print(f"  (s) pandas + pdist + to_csv            {med['s']:8.0f} ms  ({spread_ms(times['s'])})")
    ratio = med["s"] / med["k"]
    print(
        f"ratio s/k = {ratio:.2f}: kldiv is {ratio:.2f}x faster (target >= {TARGET:g}): "
        f"{verdict(ratio >= TARGET)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
