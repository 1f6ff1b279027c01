"""How fast does ``kldiv drift`` count raw rows, next to hand-written SQL and Evidently?

Times whole processes, interleaved (a, b, c, a, b, c, ...) after a warm-up round, and
reports medians and the peak resident memory (``ru_maxrss`` of the child) of

  (k) kldiv drift REF CUR --format json
      (until the ``drift`` command exists: ``python drift.py --worker engine REF CUR``,
      which calls :func:`kldiv_cli.readers.open_raw` and ``count_columns``, where drift
      spends its time)
  (s) python drift_sql.py REF CUR: the same counts by a hand-written DuckDB SQL script
      (reference deciles by ``quantile_disc``, both sides binned, group-by counts)
  (e) Evidently's data drift report (``Report([DataDriftPreset()]).run(cur, ref)``,
      the CSVs loaded by ``pandas.read_csv``, load time included); skipped, with a
      message, when ``evidently`` is not installed: it is never a kldiv dependency

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
    keys = (
        [str(j) for j in range(len(c.labels))] if c.kind == "binned" else list(c.labels)
    )
    sides = {}
    for side, counts in (("reference", c.reference), ("current", c.current)):
        sides[side] = {
            k: int(v) for k, v, label in zip(keys, counts.tolist(), c.labels) if v and label != "(missing)"
        }
    return {
        "kind": c.kind,
        "edges": c.edges,
        "counts": sides,
        "missing": {"reference": c.missing[0], "current": c.missing[1]},
    }


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
