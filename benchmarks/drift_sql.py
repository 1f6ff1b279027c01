"""The counts of ``kldiv drift REF CUR``, by a hand-written DuckDB SQL script.

What a user fluent in DuckDB would write for benchmarks/drift.py's data (``cat`` a
category, ``x`` a float with empty fields, ``n`` an integer): each CSV read once into a
table (DuckDB's sniffer types the columns), the reference's deciles of ``x`` and ``n``
by ``quantile_disc`` (the edges: the distinct ones, less one equal to the minimum),
both sides cut into bins [e_j, e_j+1) by a CASE, and group-by counts of the category,
of each bin and of the missing values. Prints JSON in the shape drift.py compares with
kldiv's: per column its kind, edges, the counts by key (the value, or the bin's index
0..m) per side, and the missing values per side.

    python benchmarks/drift_sql.py REF CUR
"""

from __future__ import annotations

import json
import sys
from typing import Any

import duckdb

BINS = 10


def bin_case(column: str, edges: list[float]) -> str:
    """The bin index of ``column``: 0 below the first edge, j from e_j on."""
    if not edges:
        return "0"
    arms = " ".join(f"WHEN {column} < {e!r} THEN {j}" for j, e in enumerate(edges))
    return f"CASE {arms} ELSE {len(edges)} END"


def main(ref: str, cur: str) -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE ref AS FROM read_csv('{ref}')")
    con.execute(f"CREATE TABLE cur AS FROM read_csv('{cur}')")
    deciles = ", ".join(str(j / BINS) for j in range(1, BINS))
    row = con.execute(
        f"SELECT quantile_disc(x, [{deciles}]), min(x), "
        f"quantile_disc(n, [{deciles}]), min(n) FROM ref"
    ).fetchone()
    assert row is not None
    edges = {
        "x": sorted({float(e) for e in row[0]} - {float(row[1])}),
        "n": sorted({float(e) for e in row[2]} - {float(row[3])}),
    }
    out: dict[str, Any] = {
        "cat": {"kind": "categorical", "edges": None, "counts": {}, "missing": {}},
        "x": {"kind": "binned", "edges": edges["x"], "counts": {}, "missing": {}},
        "n": {"kind": "binned", "edges": edges["n"], "counts": {}, "missing": {}},
    }
    for side, table in (("reference", "ref"), ("current", "cur")):
        rows = con.execute(
            f"SELECT 'cat', cat, count(*) FROM {table} WHERE cat IS NOT NULL GROUP BY cat "
            f"UNION ALL SELECT 'x', {bin_case('x', edges['x'])}, count(*) FROM {table} "
            "WHERE x IS NOT NULL GROUP BY 2 "
            f"UNION ALL SELECT 'n', {bin_case('n', edges['n'])}, count(*) FROM {table} "
            "WHERE n IS NOT NULL GROUP BY 2 "
            f"UNION ALL SELECT 'x', NULL, count(*) FILTER (x IS NULL) FROM {table} "
            f"UNION ALL SELECT 'n', NULL, count(*) FILTER (n IS NULL) FROM {table} "
            f"UNION ALL SELECT 'cat', NULL, count(*) FILTER (cat IS NULL) FROM {table}"
        ).fetchall()
        for column, key, count in rows:
            if key is None:
                out[column]["missing"][side] = int(count)
            elif count:
                out[column]["counts"].setdefault(side, {})[str(key)] = int(count)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
