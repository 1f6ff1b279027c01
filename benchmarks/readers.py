"""Which library should kldiv read a large ``label,ref,cur`` table with?

Each candidate reader runs as a whole process (``python readers.py --worker NAME FILE``)
that does what kldiv must do with a count table:

  (1) get ``ref`` and ``cur`` as contiguous float64 NumPy arrays (and find any empty cell),
  (2) keep the labels compactly (not as one Python ``str`` per label) until the end,
  (3) check that the labels are unique, and find the first repeated one and its line,

then prints the eight measures of ``kldiv compare --format json`` (the NumPy code of
baseline_numpy.py), which are checked against the baseline's (rel. 1e-9, inf = inf).
The reference is ``baseline_numpy.py`` itself (pandas ``usecols=[ref, cur]`` float64).
Candidates: pandas' C engine (labels as object or pandas 3's "str"), pandas' pyarrow
engine with Arrow dtypes, pyarrow.csv, polars and duckdb, each checking uniqueness with a
hash table of the strings; plus "pyarrow-sorted" (labels in strictly increasing order are
unique without a hash table) and "polars-hash" (distinct 64-bit hashes prove distinct
labels), because that hash table dominated time and memory at 10M labels.

Runs are interleaved (a, b, c, a, b, c, ...) after a warm-up round; the report gives the
median wall time, the median peak RSS of the process (GNU time's %M, its ru_maxrss),
bytes per label of that peak, and the time ratio to the baseline. Targets: at 10M labels
time <= 1.0x the baseline and peak <= 80 B/label; at 1M labels time <= 0.8x.

It also times ``python -c "import X"`` for each library against ``import numpy``, and
prints how each reader takes a ragged row, a stray quote, a cell that is not a number
("1,5", "abc", ""), and a repeated label. A report, not a test: it always exits 0.

The tables (integer counts, and decimals: probabilities printed with ``repr``, ~17
significant digits) are built once from a seeded RNG and cached in benchmarks/data/
(git-ignored). Needs ``pyarrow``, ``polars`` and ``duckdb`` besides kldiv's own
dependencies; a candidate whose library is missing is skipped.

    python benchmarks/readers.py [--quick] [--runs N] [--only NAME,NAME]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _bench import REPO, cached_file, median_ms, spread_ms, verdict

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 20261130
SIZES = (1_000_000, 10_000_000)
KINDS = ("int", "dec")
MIN_RUNS = 5
WARMUPS = 1
REL_TOL = 1e-9
TARGET_RATIO = {1_000_000: 0.8, 10_000_000: 1.0}
TARGET_BYTES_PER_LABEL = 80.0
COLUMNS = ("label", "ref", "cur")

#: One candidate's result: ref, cur (contiguous float64), the label column (kept alive,
#: in the library's own compact form), the number of rows, the first repeated label and
#: its 1-based line (header = line 1) or None, and the line of the first empty number
#: cell or None.
Read = tuple[np.ndarray, np.ndarray, Any, int, tuple[str, int] | None, int | None]


# --------------------------------------------------------------------------- data


def table_params(rows: int, kind: str) -> str:
    return f"rows={rows} kind={kind} seed={SEED} lam=lognormal(3.0,1.0) drift=lognormal(0,0.25) v1"


def table_path(rows: int, kind: str) -> Path:
    return DATA / f"readers-{kind}-{rows // 1_000_000}M.csv"


def table_text(rows: int, kind: str) -> str:
    """``label,ref,cur`` with labels ``w00000001`` ...: Poisson counts (``int``) or the
    same model as probabilities, ``repr``-printed (``dec``)."""
    rng = np.random.default_rng(SEED)
    lam = rng.lognormal(3.0, 1.0, rows)
    drift = rng.lognormal(0.0, 0.25, rows)
    labels = [f"w{i:08d}" for i in range(1, rows + 1)]
    if kind == "int":
        ref = rng.poisson(lam)
        cur = rng.poisson(lam * drift)
        cur[(ref > 0) & (cur == 0)] = 1  # keep D(P||Q) finite, as compare_large does
        cols = (ref.tolist(), cur.tolist())
        lines = [f"{a},{b},{c}\n" for a, b, c in zip(labels, *cols, strict=True)]
    else:
        p = lam / lam.sum()
        q = lam * drift
        q /= q.sum()
        lines = [
            f"{a},{b!r},{c!r}\n" for a, b, c in zip(labels, p.tolist(), q.tolist(), strict=True)
        ]
    return "label,ref,cur\n" + "".join(lines)


def build_table(rows: int, kind: str) -> tuple[Path, str]:
    path = table_path(rows, kind)
    how = cached_file(path, table_params(rows, kind), lambda: table_text(rows, kind))
    return path, how


# --------------------------------------------------------------------------- measures


def measures(cp: np.ndarray, cq: np.ndarray) -> dict[str, float]:
    """The eight measures of baseline_numpy.py, in bits (same formulas, same order)."""
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
    lsp, lsq = math.log(sp), math.log(sq)
    h_p = lsp - float(cp @ lp) / sp
    h_q = lsq - float(cq @ lq) / sq
    h_pq = math.inf if bool((zq & ~zp).any()) else lsq - float(cp @ lq) / sp
    h_qp = math.inf if bool((zp & ~zq).any()) else lsp - float(cq @ lp) / sq
    jsd = max(-float(m @ lm) - 0.5 * (h_p + h_q), 0.0)
    ln2 = math.log(2.0)
    return {
        "entropy_p": h_p / ln2,
        "entropy_q": h_q / ln2,
        "cross_entropy_pq": h_pq / ln2,
        "cross_entropy_qp": h_qp / ln2,
        "kl_pq": (h_pq - h_p) / ln2,
        "kl_qp": (h_qp - h_q) / ln2,
        "jsd": jsd / ln2,
        "js_distance": math.sqrt(jsd / ln2),
    }


def first_repeat(codes: np.ndarray) -> int:
    """Row of the first label seen before, given codes numbered in order of first
    appearance (a new label's code is one more than every code before it)."""
    seen_max = np.maximum.accumulate(codes)
    repeat = np.flatnonzero(codes[1:] <= seen_max[:-1])
    return int(repeat[0]) + 1


def first_true(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def line_of(row: int | None) -> int | None:
    return None if row is None else row + 2  # header is line 1


# --------------------------------------------------------------------------- candidates


def read_pandas_c(path: str, label_dtype: str) -> Read:
    import pandas as pd

    frame = pd.read_csv(path, dtype={"label": label_dtype, "ref": np.float64, "cur": np.float64})
    labels = frame["label"]
    cp = np.ascontiguousarray(frame["ref"].to_numpy())
    cq = np.ascontiguousarray(frame["cur"].to_numpy())
    dup = None
    if not pd.Index(labels).is_unique:
        row = int(labels.duplicated().to_numpy().argmax())
        dup = (str(labels.iloc[row]), row + 2)
    bad = line_of(first_true(np.isnan(cp) | np.isnan(cq)))
    return cp, cq, labels, len(frame), dup, bad


def read_pandas_object(path: str) -> Read:
    return read_pandas_c(path, "object")


def read_pandas_str(path: str) -> Read:
    # pandas 3's "str" dtype: Arrow-backed when pyarrow is installed, else object-backed.
    return read_pandas_c(path, "str")


def read_pandas_arrow(path: str) -> Read:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    frame = pd.read_csv(
        path,
        engine="pyarrow",
        dtype_backend="pyarrow",
        dtype={"label": "string[pyarrow]", "ref": "double[pyarrow]", "cur": "double[pyarrow]"},
    )
    labels = frame["label"]
    # Hash the Arrow array itself: pandas' own duplicated() would build Python strs.
    arrow = pa.chunked_array(labels.array.__arrow_array__())
    cp = frame["ref"].to_numpy(dtype=np.float64, na_value=np.nan)
    cq = frame["cur"].to_numpy(dtype=np.float64, na_value=np.nan)
    dup = None
    if pc.count_distinct(arrow).as_py() != len(arrow):
        codes = arrow.combine_chunks().dictionary_encode().indices.to_numpy()
        row = first_repeat(codes)
        dup = (arrow[row].as_py(), row + 2)
    bad = line_of(first_true(np.isnan(cp) | np.isnan(cq)))
    return cp, cq, labels, len(frame), dup, bad


def read_pyarrow(path: str) -> Read:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    types = {"label": pa.string(), "ref": pa.float64(), "cur": pa.float64()}
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
    labels = table["label"]
    ref, cur = table["ref"], table["cur"]
    bad = None
    if ref.null_count or cur.null_count:  # an empty cell reads as null
        nulls = pc.or_(pc.is_null(ref), pc.is_null(cur)).to_numpy(zero_copy_only=False)
        bad = line_of(first_true(nulls))
    cp = ref.to_numpy()  # one copy: the chunks are joined into one contiguous array
    cq = cur.to_numpy()
    dup = None
    if pc.count_distinct(labels).as_py() != len(labels):
        codes = labels.combine_chunks().dictionary_encode().indices.to_numpy()
        row = first_repeat(codes)
        dup = (labels[row].as_py(), row + 2)
    return cp, cq, labels, table.num_rows, dup, bad


def read_polars(path: str) -> Read:
    import polars as pl

    schema = {"label": pl.String, "ref": pl.Float64, "cur": pl.Float64}
    frame = pl.read_csv(path, schema=schema)
    labels = frame["label"]
    ref, cur = frame["ref"], frame["cur"]
    bad = None
    if ref.null_count() or cur.null_count():
        bad = line_of(first_true((ref.is_null() | cur.is_null()).to_numpy()))
    cp = np.ascontiguousarray(ref.to_numpy())
    cq = np.ascontiguousarray(cur.to_numpy())
    dup = None
    if labels.n_unique() != frame.height:
        row = first_true((~labels.is_first_distinct()).to_numpy())
        assert row is not None
        dup = (str(labels[row]), row + 2)
    return cp, cq, labels, frame.height, dup, bad


def read_duckdb(path: str) -> Read:
    import duckdb

    con = duckdb.connect(config={"threads": os.cpu_count() or 1})
    quoted = path.replace("'", "''")
    con.execute(
        "create table t as select * from read_csv("
        f"'{quoted}', header = true, auto_detect = false, delim = ',', quote = '\"', "
        "columns = {'label': 'VARCHAR', 'ref': 'DOUBLE', 'cur': 'DOUBLE'})"
    )
    row = con.execute(
        "select count(*), count(distinct label), count(*) - count(ref), count(*) - count(cur) from t"
    ).fetchone()
    assert row is not None
    n, distinct, null_ref, null_cur = row
    bad = None
    if null_ref or null_cur:
        got = con.execute("select min(rowid) from t where ref is null or cur is null").fetchone()
        bad = line_of(None if got is None else int(got[0]))
    arrays = con.execute("select ref, cur from t order by rowid").fetchnumpy()
    cp = np.ascontiguousarray(np.ma.filled(arrays["ref"], np.nan), dtype=np.float64)
    cq = np.ascontiguousarray(np.ma.filled(arrays["cur"], np.nan), dtype=np.float64)
    dup = None
    if distinct != n:
        got = con.execute(
            "select label, rowid from t qualify row_number() over "
            "(partition by label order by rowid) = 2 order by rowid limit 1"
        ).fetchone()
        assert got is not None
        dup = (str(got[0]), int(got[1]) + 2)
    return cp, cq, con, int(n), dup, bad  # the labels stay in the connection's table


def read_pyarrow_sorted(path: str) -> Read:
    """pyarrow.csv, but labels in strictly increasing order (as a sorted export has them)
    are proven unique by one vectorised comparison of neighbours, with no hash table;
    other orders fall back to ``count_distinct``."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    types = {"label": pa.string(), "ref": pa.float64(), "cur": pa.float64()}
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
    labels = table["label"]
    ref, cur = table["ref"], table["cur"]
    bad = None
    if ref.null_count or cur.null_count:
        nulls = pc.or_(pc.is_null(ref), pc.is_null(cur)).to_numpy(zero_copy_only=False)
        bad = line_of(first_true(nulls))
    cp = ref.to_numpy()
    cq = cur.to_numpy()
    n = table.num_rows
    del table, ref, cur
    # One contiguous array: comparing two chunked slices that are offset by one row
    # makes pyarrow realign (copy) every chunk, which costs more than one join.
    labels = labels.combine_chunks()
    dup = None
    increasing = n < 2 or pc.all(pc.greater(labels[1:], labels[:-1])).as_py()
    if not increasing and pc.count_distinct(labels).as_py() != n:
        codes = labels.dictionary_encode().indices.to_numpy()
        row = first_repeat(codes)
        dup = (labels[row].as_py(), row + 2)
    return cp, cq, labels, n, dup, bad


def read_polars_hash(path: str) -> Read:
    """polars, but uniqueness is checked on 64-bit hashes of the labels first: distinct
    hashes prove distinct labels; only a repeated hash needs the exact string check."""
    import polars as pl

    schema = {"label": pl.String, "ref": pl.Float64, "cur": pl.Float64}
    frame = pl.read_csv(path, schema=schema)
    labels = frame["label"]
    ref, cur = frame["ref"], frame["cur"]
    bad = None
    if ref.null_count() or cur.null_count():
        bad = line_of(first_true((ref.is_null() | cur.is_null()).to_numpy()))
    cp = np.ascontiguousarray(ref.to_numpy())
    cq = np.ascontiguousarray(cur.to_numpy())
    dup = None
    hashes = np.sort(labels.hash(seed=0).to_numpy())
    if bool((hashes[1:] == hashes[:-1]).any()) and labels.n_unique() != frame.height:
        row = first_true((~labels.is_first_distinct()).to_numpy())
        assert row is not None
        dup = (str(labels[row]), row + 2)
    return cp, cq, labels, frame.height, dup, bad


CANDIDATES: dict[str, Callable[[str], Read]] = {
    "pandas-c-object": read_pandas_object,
    "pandas-c-str": read_pandas_str,
    "pandas-arrow": read_pandas_arrow,
    "pyarrow.csv": read_pyarrow,
    "pyarrow-sorted": read_pyarrow_sorted,
    "polars": read_polars,
    "polars-hash": read_polars_hash,
    "duckdb": read_duckdb,
}
NEEDS = {
    "pandas-c-object": "pandas",
    "pandas-c-str": "pandas",
    "pandas-arrow": "pyarrow",
    "pyarrow.csv": "pyarrow",
    "pyarrow-sorted": "pyarrow",
    "polars": "polars",
    "polars-hash": "polars",
    "duckdb": "duckdb",
}
BASELINE = "baseline"


def worker(name: str, path: str) -> int:
    cp, cq, labels, n, dup, bad = CANDIDATES[name](path)
    for column in (cp, cq):
        if column.dtype != np.float64 or not column.flags.c_contiguous:
            raise SystemExit(f"{name}: not a contiguous float64 array")
    result = {k: "inf" if math.isinf(v) else v for k, v in measures(cp, cq).items()}
    print(json.dumps({"measures": result, "n": n, "dup": dup, "bad": bad}))
    del labels  # kept alive to here, as kldiv would keep them for its output
    return 0


# --------------------------------------------------------------------------- timing


#: GNU time, a small C program, runs each command so the peak RSS is the command's own:
#: a child's ru_maxrss also counts the pages of the parent it was forked from (Linux
#: keeps the pre-exec high-water mark), and this parent has pandas, pyarrow... loaded.
GNU_TIME = "/usr/bin/time"


def time_and_peak(command: Sequence[str]) -> tuple[float, float, bytes]:
    """Wall seconds and peak RSS (MB) of one whole process, and its stdout."""
    with tempfile.NamedTemporaryFile("r") as mem:
        start = time.perf_counter()
        done = subprocess.run(
            [GNU_TIME, "-f", "%M", "-o", mem.name, *command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=REPO,
            check=False,
        )
        elapsed = time.perf_counter() - start
        peak_kb = mem.read().strip().splitlines()[-1]
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed ({done.returncode}): {done.stderr.decode()[-1500:]}")
    return elapsed, int(peak_kb) / 1024, done.stdout


def command_for(name: str, path: Path) -> list[str]:
    rel = str(path.relative_to(REPO))
    if name == BASELINE:
        return [sys.executable, str(HERE / "baseline_numpy.py"), rel]
    return [sys.executable, str(Path(__file__).resolve()), "--worker", name, rel]


def same(x: float, y: float) -> bool:
    if math.isinf(x) or math.isinf(y):
        return x == y
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=0.0)


def bench_table(rows: int, kind: str, names: Sequence[str], runs: int) -> None:
    path, how = build_table(rows, kind)
    size = path.stat().st_size / 1e6
    print(f"\n== {rows:,} labels, {kind} values: {path.relative_to(REPO)} ({size:.0f} MB, {how})")
    commands = {name: command_for(name, path) for name in [BASELINE, *names]}
    times: dict[str, list[float]] = {n: [] for n in commands}
    peaks: dict[str, list[float]] = {n: [] for n in commands}
    outputs: dict[str, bytes] = {}
    failed: dict[str, str] = {}
    for round_no in range(WARMUPS + runs):
        for name, command in commands.items():
            if name in failed:
                continue
            try:
                elapsed, peak, stdout = time_and_peak(command)
            except RuntimeError as exc:
                failed[name] = str(exc).strip().splitlines()[-1][:100]
                continue
            outputs.setdefault(name, stdout)
            if round_no >= WARMUPS:
                times[name].append(elapsed)
                peaks[name].append(peak)
    base = json.loads(outputs[BASELINE])
    base_ms = median_ms(times[BASELINE])
    target = TARGET_RATIO[rows]
    print(
        f"{runs} interleaved runs after {WARMUPS} warm-up; medians; target time <= {target:g}x "
        f"baseline, peak <= {TARGET_BYTES_PER_LABEL:g} B/label"
    )
    print(
        f"  {'candidate':<16} {'time ms':>8} {'peak MB':>8} {'B/label':>8} {'x base':>7}  "
        f"agrees  {'spread':<20} verdict"
    )
    for name in commands:
        if name in failed:
            print(f"  {name:<16} FAILED: {failed[name]}")
            continue
        med = median_ms(times[name])
        peak = statistics.median(peaks[name])
        per_label = peak * 1024 * 1024 / rows
        doc = json.loads(outputs[name])
        got = doc["measures"] if name != BASELINE else doc
        agree = all(same(float(got[k]), float(base[k])) for k in base)
        checks = name == BASELINE or (
            doc["n"] == rows and doc["dup"] is None and doc["bad"] is None
        )
        ratio = med / base_ms
        ok = ratio <= target and per_label <= TARGET_BYTES_PER_LABEL
        note = "" if name == BASELINE else verdict(ok)
        print(
            f"  {name:<16} {med:8.0f} {peak:8.0f} {per_label:8.1f} {ratio:7.2f}  "
            f"{'yes' if agree and checks else 'NO ':<6}  {spread_ms(times[name]):<20} {note}"
        )


# --------------------------------------------------------------------------- imports


IMPORTS = {
    "nothing": "pass",
    "numpy": "import numpy",
    "pandas": "import pandas",
    "pyarrow.csv": "import pyarrow.csv, pyarrow.compute",
    "polars": "import polars",
    "duckdb": "import duckdb",
}


def bench_imports(runs: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    commands = {k: [sys.executable, "-c", code] for k, code in IMPORTS.items()}
    times: dict[str, list[float]] = {k: [] for k in commands}
    for round_no in range(2 + runs):
        for name, command in commands.items():
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, env=env, check=False)
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                times[name] = []
                continue
            if round_no >= 2:
                times[name].append(elapsed)
    print(f"\n== import time, python -c '...' ({runs} interleaved runs after 2 warm-ups, medians)")
    numpy_ms = median_ms(times["numpy"])
    for name, t in times.items():
        if not t:
            print(f"  {IMPORTS[name]:<36} not installed")
            continue
        print(
            f"  {IMPORTS[name]:<36} {median_ms(t):6.0f} ms  {median_ms(t) / numpy_ms:5.2f}x numpy"
        )


# --------------------------------------------------------------------------- strictness


CASES = {
    "ragged (short row)": "label,ref,cur\nw1,1,2\nw2,3\nw3,4,5\n",
    "ragged (long row)": "label,ref,cur\nw1,1,2\nw2,3,4,9\nw3,4,5\n",
    "stray quote": 'label,ref,cur\nw1,1,2\nw2,"3,4\nw3,4,5\n',
    'cell "1,5"': 'label,ref,cur\nw1,1,2\nw2,"1,5",4\nw3,4,5\n',
    'cell "abc"': "label,ref,cur\nw1,1,2\nw2,abc,4\nw3,4,5\n",
    'cell ""': "label,ref,cur\nw1,1,2\nw2,,4\nw3,4,5\n",
    "repeated label": "label,ref,cur\nw1,1,2\nw2,3,4\nw1,4,5\n",
}


def describe(name: str, path: str) -> str:
    if name == BASELINE:
        import pandas as pd

        def read(p: str) -> Read:
            f = pd.read_csv(p, usecols=["ref", "cur"], dtype=np.float64)
            cp, cq = f["ref"].to_numpy(), f["cur"].to_numpy()
            return cp, cq, None, len(f), None, line_of(first_true(np.isnan(cp) | np.isnan(cq)))
    else:
        read = CANDIDATES[name]
    try:
        cp, _, _, n, dup, bad = read(path)
    except Exception as exc:
        text = " ".join(str(exc).split())
        return f"RAISES {type(exc).__name__}: {text[:150]}"
    parts = [f"accepts, {n} rows, ref={cp.tolist()}"]
    if bad is not None:
        parts.append(f"missing cell -> NaN (our check: line {bad})")
    if dup is not None:
        parts.append(f"repeat {dup[0]!r} (our check: line {dup[1]})")
    return "; ".join(parts)


def strictness(names: Sequence[str]) -> None:
    print("\n== strictness: what each reader does with a bad 3-row table")
    with tempfile.TemporaryDirectory() as tmp:
        for case, text in CASES.items():
            path = Path(tmp) / "t.csv"
            path.write_text(text)
            print(f"  {case}: {text[14:]!r}")
            for name in [BASELINE, *names]:
                print(f"    {name:<16} {describe(name, str(path))}")


# --------------------------------------------------------------------------- main


def available(names: Sequence[str]) -> list[str]:
    import importlib.util

    return [n for n in names if importlib.util.find_spec(NEEDS[n]) is not None]


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        return worker(sys.argv[2], sys.argv[3])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1M-label tables only")
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"timed runs (>= {MIN_RUNS})")
    parser.add_argument("--only", default="", help="comma-separated candidates to run")
    parser.add_argument("--kinds", default=",".join(KINDS), help="int,dec or one of them")
    parser.add_argument("--no-extras", action="store_true", help="skip import and strictness")
    parser.add_argument("--sizes", default="", help="comma-separated label counts, e.g. 10000000")
    args = parser.parse_args()
    if not Path(GNU_TIME).exists():
        parser.error(f"needs GNU time at {GNU_TIME} (apt-get install time) for the peak RSS")
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")
    names = list(CANDIDATES)
    if args.only:
        names = [n for n in args.only.split(",") if n in CANDIDATES]
    missing = set(names) - set(available(names))
    if missing:
        print(f"skipped (library not installed): {', '.join(sorted(missing))}")
    names = [n for n in names if n not in missing]
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(SIZES)
    if args.quick:
        sizes = [SIZES[0]]

    if not args.no_extras:
        bench_imports(max(args.runs, 9))
        strictness(names)
    for rows in sizes:
        for kind in args.kinds.split(","):
            bench_table(rows, kind, names, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
