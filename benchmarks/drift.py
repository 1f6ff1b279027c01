"""How fast does ``kldiv drift`` count raw rows, next to hand-written SQL and Evidently?

Times whole processes, interleaved (a, b, c, a, b, c, ...) after a warm-up round, and
reports medians and the peak resident memory (``ru_maxrss`` of the child) of

  (k) kldiv drift REF CUR --format json
      (while the command cannot print yet: drift's Python API in a whole process;
      while /work/drift-ready.md is absent: ``python drift.py --worker engine REF
      CUR``, open_raw and count_columns, where drift spends its time)
  (s) python drift_sql.py REF CUR: the same counts by a hand-written DuckDB SQL script
      (reference deciles by ``quantile_disc``, both sides binned, group-by counts)
  (e) Evidently's data drift report (``Report([DataDriftPreset()]).run(cur, ref)``,
      the CSVs loaded by ``pandas.read_csv``, load time included), run by
      ``--evidently-python`` (Evidently 0.7 does not import under pandas 3: give a
      venv with ``pip install evidently 'pandas<3'``); skipped, with a message, when
      that Python cannot import it: Evidently is never a kldiv dependency
  (o) with ``--baseline DIR``: the engine of another kldiv_cli (before and after)

Before timing, it checks that kldiv's engine and the SQL script give the same edges
and the same counts for every column and side (so the comparison is fair), and, when
(k) is the real ``drift``, that its JSON has the same edges, n and missing.

Targets (issue 11): e/k >= 3 (kldiv at least 3x faster than Evidently), k/s <= 1.3,
and kldiv's peak memory at most 600 MB at 10M rows. The machine has two cores and
other jobs may run at the same time: the medians of interleaved runs are the figures
to read, with that caveat. A report, not a test: it always exits 0.

Data: REF and CUR CSVs of N rows (``--rows 1000000`` or ``10000000``) by 3 columns,
built once from a seeded RNG and cached in benchmarks/data/ (git-ignored):

  ``cat``   a category, 40 values, Zipf-skewed (p ~ 1/(k+1)); CUR's weights shifted
  ``x``     a float (3 decimals, ~N(50, 10)), 1% missing (an empty field); CUR +0.5
  ``n``     an integer (log-normal, ~10^5 distinct values: binned); CUR x1.05

    python benchmarks/drift.py [--rows 1000000|10000000] [--runs N] [--no-evidently]
                               [--evidently-python PYTHON] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

import numpy as np
from _bench import REPO, interleaved, kldiv_command, median_ms, peak_mb, spread_ms, verdict

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 20261130
ROWS: Final = (1_000_000, 10_000_000)
COLUMNS: Final = ("cat", "x", "n")
CATEGORIES = 40
MIN_RUNS = 3
WARMUPS = 1
TARGET_VS_EVIDENTLY = 3.0
TARGET_VS_SQL = 1.3
TARGET_PEAK_MB = 600.0
#: The file that says the coordinator's ``kldiv drift`` has landed on main.
READY = Path("/work/drift-ready.md")


# --- data -------------------------------------------------------------------------


def data_paths(rows: int) -> tuple[Path, Path]:
    size = f"{rows // 1_000_000}m" if rows >= 1_000_000 else str(rows)
    return DATA / f"drift-ref-{size}.csv", DATA / f"drift-cur-{size}.csv"


def params(rows: int) -> str:
    """Bumping anything here rebuilds the cached files."""
    return (
        f"rows={rows} seed={SEED} cat=zipf({CATEGORIES}) x=N(50,10).3f missing=1% "
        "n=lognormal(9,1.5) shift=(dirichlet-ish, +0.5, x1.05) v1"
    )


def build(rows: int) -> str:
    """Write REF and CUR unless the cached ones have the same parameters."""
    ref, cur = data_paths(rows)
    stamp = ref.with_name(ref.name + ".params")
    if ref.exists() and cur.exists() and stamp.exists() and stamp.read_text() == params(rows):
        return "cached"
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    weights = 1.0 / np.arange(1, CATEGORIES + 1)
    for path, shifted in ((ref, False), (cur, True)):
        w = weights * (rng.lognormal(0.0, 0.2, CATEGORIES) if shifted else 1.0)
        cat = rng.choice(CATEGORIES, size=rows, p=w / w.sum())
        x = np.round(rng.normal(50.5 if shifted else 50.0, 10.0, rows), 3)
        n = np.floor(rng.lognormal(9.0, 1.5, rows) * (1.05 if shifted else 1.0)).astype(np.int64)
        gone = rng.random(rows) < 0.01
        _write_csv(path, cat, x, gone, n)
    stamp.write_text(params(rows))
    return "built"


def _write_csv(path: Path, cat: Any, x: Any, gone: Any, n: Any) -> None:
    """The three columns as CSV, by DuckDB (fast; a missing float is an empty field)."""
    import duckdb
    import pyarrow as pa

    names = np.array([f"c{k:02d}" for k in range(CATEGORIES)])
    table = pa.table(
        {
            "cat": pa.array(names[cat]),
            "x": pa.array(x, mask=gone),
            "n": pa.array(n),
        }
    )
    tmp = path.with_name(path.name + ".tmp")
    con = duckdb.connect()
    con.register("t", table)
    con.execute(f"COPY t TO '{tmp}' (HEADER, DELIMITER ',', NULLSTR '')")
    con.close()
    tmp.replace(path)


# --- the workers (each run as a whole process) -----------------------------------------


def worker_engine(ref: str, cur: str) -> None:
    """kldiv's engine, as drift calls it: print each column's edges and counts."""
    from kldiv_cli.readers import raw

    options = raw.RawOptions()
    a, b = raw.open_raw(ref, options), raw.open_raw(cur, options)
    columns = [c for c in a.columns if c in b.columns]
    counted = raw.count_columns(a, b, columns, options)
    print(json.dumps({c.column: engine_counts(c) for c in counted}))


def engine_counts(c: Any) -> dict[str, Any]:
    """A ColumnCounts in drift_sql.py's shape: keys are the value (categorical) or the
    bin's index (binned), missing values apart; labels with no count left out."""
    keys = [str(j) for j in range(len(c.labels))] if c.kind == "binned" else list(c.labels)
    sides = {}
    for side, counts in (("reference", c.reference), ("current", c.current)):
        sides[side] = {
            k: int(v)
            for k, v, label in zip(keys, counts.tolist(), c.labels, strict=True)
            if v and label != "(missing)"
        }
    return {
        "kind": c.kind,
        "edges": c.edges,
        "counts": sides,
        "missing": {"reference": c.missing[0], "current": c.missing[1]},
    }


def worker_drift(ref: str, cur: str) -> None:
    """kldiv's ``drift`` by its Python API (all of the command but its renderer):
    print each column's edges, n and missing as ``--format json`` has them."""
    from kldiv_cli.commands.drift import drift

    result = drift(ref, cur)
    doc = {
        "columns": [
            {
                "column": c.column,
                "edges": c.edges,
                "n": {"reference": c.n[0], "current": c.n[1]},
                "missing": {"reference": c.missing[0], "current": c.missing[1]},
            }
            for c in result.columns
        ]
    }
    print(json.dumps(doc))


def worker_evidently(ref: str, cur: str) -> None:
    """Evidently's data drift preset, as its users run it: pandas loads, Report.run."""
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    reference = pd.read_csv(ref)
    current = pd.read_csv(cur)
    snapshot = Report([DataDriftPreset()]).run(current, reference)
    doc = snapshot.dict()
    print(json.dumps({"metrics": len(doc.get("metrics", []))}))


# --- the comparison ------------------------------------------------------------------


def same_counts(kldiv: dict[str, Any], sql: dict[str, Any]) -> list[str]:
    """The differences between two count documents (empty: the same edges and counts)."""
    problems = []
    for column in COLUMNS:
        a, b = kldiv.get(column), sql.get(column)
        if a is None or b is None:
            problems.append(f"{column}: missing from {'kldiv' if a is None else 'sql'}")
            continue
        for key in ("kind", "edges", "counts", "missing"):
            if a[key] != b[key]:
                problems.append(
                    f"{column}: {key} differ: kldiv {a[key]!r:.200} sql {b[key]!r:.200}"
                )
    return problems


def drift_figures(stdout: bytes) -> dict[str, Any]:
    """From ``kldiv drift --format json``: each column's edges, n and missing."""
    doc = json.loads(stdout)
    return {
        c["column"]: {"edges": c["edges"], "n": c["n"], "missing": c["missing"]}
        for c in doc["columns"]
    }


def check_drift(figures: dict[str, Any], sql: dict[str, Any]) -> list[str]:
    """kldiv drift's JSON against the SQL counts: edges, n (every label's count, the
    missing ones included) and missing values per side."""
    problems = []
    for column in COLUMNS:
        got, want = figures.get(column), sql[column]
        if got is None:
            problems.append(f"{column}: not in drift's output")
            continue
        if got["edges"] != want["edges"]:
            problems.append(f"{column}: edges differ: {got['edges']} vs {want['edges']}")
        for side in ("reference", "current"):
            n = sum(want["counts"][side].values()) + want["missing"][side]
            if got["n"][side] != n or got["missing"][side] != want["missing"][side]:
                problems.append(
                    f"{column} {side}: n {got['n'][side]} missing {got['missing'][side]}, "
                    f"sql n {n} missing {want['missing'][side]}"
                )
    return problems


def contender_k(ref: str, cur: str, engine: list[str]) -> tuple[str, list[str]]:
    """(k): the real ``kldiv drift`` when it runs to the end; else drift's Python API
    when /work/drift-ready.md says it landed (its renderers may come later); else the
    engine alone. Returns the mode (cli, api, engine) and the command."""
    from _bench import run

    cli = [*kldiv_command(), "drift", ref, cur, "--format", "json"]
    if not READY.exists():
        return "engine", engine
    if run(cli).returncode == 0:
        return "cli", cli
    return "api", [sys.executable, engine[1], "--worker", "drift", ref, cur]


def have_evidently(python: str) -> bool:
    """Whether ``python`` imports Evidently (0.7 does not import under pandas 3: give
    ``--evidently-python`` a Python whose pandas is 2.x)."""
    import subprocess

    probe = [python, "-c", "import evidently.presets"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, choices=ROWS, default=ROWS[0])
    parser.add_argument(
        "--runs", type=int, default=5, help=f"timed runs of each command (>= {MIN_RUNS})"
    )
    parser.add_argument("--no-evidently", action="store_true", help="leave (e) out")
    parser.add_argument(
        "--evidently-python",
        default=sys.executable,
        help="the Python that runs Evidently (one with evidently and pandas 2.x installed)",
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="also time (o), the engine of another kldiv_cli (a folder holding it, e.g. "
        "from `git archive main kldiv_cli | tar -x -C DIR`): before and after a change",
    )
    parser.add_argument(
        "--worker", choices=("engine", "drift", "evidently"), help=argparse.SUPPRESS
    )
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "engine":
        worker_engine(*args.files)
        return 0
    if args.worker == "drift":
        worker_drift(*args.files)
        return 0
    if args.worker == "evidently":
        worker_evidently(*args.files)
        return 0
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")

    how = build(args.rows)
    ref, cur = (str(p.relative_to(REPO)) for p in data_paths(args.rows))
    me = str(Path(__file__).relative_to(REPO))
    engine = [sys.executable, me, "--worker", "engine", ref, cur]
    mode, kldiv = contender_k(ref, cur, engine)
    commands: dict[str, list[str]] = {
        "k": kldiv,
        "s": [sys.executable, str(HERE.relative_to(REPO) / "drift_sql.py"), ref, cur],
    }
    if args.baseline:
        old = ["env", f"PYTHONPATH={Path(args.baseline).resolve()}", *engine]
        commands["o"] = old
    notes = []
    if args.no_evidently:
        notes.append("(e) Evidently: left out (--no-evidently)")
    elif not have_evidently(args.evidently_python):
        notes.append(
            f"(e) Evidently: SKIPPED, {args.evidently_python} cannot import it (pip install "
            "evidently 'pandas<3' into a venv and give --evidently-python; it is used by "
            "this benchmark only, never by kldiv)"
        )
    else:
        commands["e"] = [args.evidently_python, me, "--worker", "evidently", ref, cur]

    # Fair play first: the same edges and counts (and, for drift, the same n/missing).
    from _bench import run

    outputs = {}
    for name, command in (("engine", engine), ("s", commands["s"])):
        done = run(command)
        if done.returncode != 0:
            raise SystemExit(f"{command} failed: {done.stderr.decode(errors='replace')[-2000:]}")
        outputs[name] = json.loads(done.stdout)
    problems = same_counts(outputs["engine"], outputs["s"])

    times, printed = interleaved(commands, args.runs, WARMUPS)
    if mode != "engine":
        problems += check_drift(drift_figures(printed["k"]), outputs["s"])
    med = {name: median_ms(t) / 1000 for name, t in times.items()}
    peaks = {name: peak_mb(command) for name, command in commands.items()}

    size = sum(Path(REPO / p).stat().st_size for p in (ref, cur)) / 1e6
    print(
        f"kldiv drift on {ref} and {cur} ({args.rows:,} rows x 3 columns each, {size:.0f} MB, {how})"
    )
    print(f"{args.runs} interleaved runs each after {WARMUPS} warm-up round, medians")
    print("(two cores; other jobs may share them: read the medians and spreads with that)")
    print(f"same edges and counts, kldiv and the SQL script: {'yes' if not problems else 'NO'}")
    for p in problems:
        print(f"  {p}")
    labels = {
        "k": {
            "cli": "kldiv drift --format json",
            "api": "kldiv drift by its Python API (no renderer)",
            "engine": "kldiv engine (open_raw + count_columns)",
        }[mode],
        "s": "hand-written DuckDB SQL (drift_sql.py)",
        "e": "Evidently DataDriftPreset (pandas load)",
        "o": "the --baseline engine",
    }
    for name in commands:
        print(
            f"  ({name}) {labels[name]:<42} {med[name]:7.2f} s  ({spread_ms(times[name])})"
            f"   peak {peaks[name]:6.0f} MB"
        )
    for note in notes:
        print(f"  {note}")
    if mode == "engine":
        print(f"  (k) is the engine alone: {READY} does not exist yet")
    elif mode == "api":
        print("  (k) is drift() in a whole process: `kldiv drift --format json` cannot print yet")
    if "e" in med:
        e_k = med["e"] / med["k"]
        print(
            f"ratio e/k = {e_k:.2f}: kldiv is {e_k:.2f}x faster than Evidently "
            f"(target >= {TARGET_VS_EVIDENTLY:g}): {verdict(e_k >= TARGET_VS_EVIDENTLY)}"
        )
    k_s = med["k"] / med["s"]
    print(
        f"ratio k/s = {k_s:.2f}: kldiv takes {k_s:.2f}x the SQL script's time "
        f"(target <= {TARGET_VS_SQL:g}): {verdict(k_s <= TARGET_VS_SQL)}"
    )
    if "o" in med:
        print(
            f"ratio o/k = {med['o'] / med['k']:.2f}: the baseline engine takes that much of kldiv's time"
        )
    line = f"peak memory: kldiv {peaks['k']:.0f} MB, the SQL script {peaks['s']:.0f} MB"
    if args.rows >= 10_000_000:
        met = peaks["k"] <= TARGET_PEAK_MB
        line += f" (target <= {TARGET_PEAK_MB:g} MB at 10M rows): {verdict(met)}"
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
