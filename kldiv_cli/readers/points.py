"""Raw rows as points: chosen numeric columns read as coordinates, for ``samples``.

Owns :class:`Points` and :func:`read_points`. The rows come from
:func:`kldiv_cli.readers.raw.open_raw` (every raw format, folder, glob, ``.gz``,
stdin) and are read by DuckDB (imported inside the functions) with the raw-row
engine's rules: a value is a number by kldiv's grammar (``NUMBER_RE2``); it is
missing when empty, one of the ``--na`` tokens, JSON ``null`` or a NaN. A row with a
missing value in a chosen column is dropped (counted, for a warning); a value that is
not a number, or is infinite, is an error naming the file, the row and the column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from kldiv_cli.errors import InvalidDataError, UsageError, visible
from kldiv_cli.readers.numbers import NUMBER_FORMS, number_hint, quote
from kldiv_cli.readers.raw import (
    NUMBER_RE2,
    RawOptions,
    RawSource,
    _connection,
    _fetch,
    _ident,
    _literal,
    _scan,
)
from kldiv_cli.readers.table import FloatArray, names_text

if TYPE_CHECKING:
    import duckdb

#: DuckDB's types that hold numbers: a Parquet column of them needs no parsing.
_NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
)


@dataclass
class Points:
    """One side's points: the rows with a number in every chosen column.

    Attributes
    ----------
    source : str
        The SOURCE as given (``<stdin>`` for ``-``).
    values : ndarray of float64, shape (n, d)
        The coordinates, finite, one row a point, in the source's row order.
    rows : ndarray of int64, shape (n,)
        The data row (1-based, the header not counted; across the files of a folder
        or glob, in order) each point comes from; :meth:`place` names it.
    read : int
        The rows read.
    dropped : int
        The rows left out for a missing value in a chosen column.
    """

    source: str
    values: FloatArray
    rows: Any
    read: int
    dropped: int
    #: The files read (a folder or glob has several), for :meth:`place`.
    raw: RawSource | None = field(default=None, repr=False)
    _files: list[tuple[str, int]] | None = field(default=None, repr=False)

    def place(self, row: int) -> str:
        """Where data row ``row`` (1-based, over the whole source) is, for a message:
        ``4`` for a source of one file; ``b.csv:2`` (the file, its data row) for a
        folder or glob, whose files' rows are counted on first use."""
        if self.raw is None or len(self.raw.files) < 2:
            return str(row)
        if self._files is None:
            with _connection() as con:
                self._files = _file_rows(con, self.raw)
        return _place(self._files, row)


def read_points(
    p: RawSource,
    q: RawSource,
    columns: Sequence[str] | None,
    options: RawOptions,
) -> tuple[list[str], list[str], Points, Points]:
    """The points of ``p`` and ``q`` in ``columns`` (None: every column both have
    that is numeric on both sides, in P's order).

    A column is numeric on a side when every value that is not missing is a number
    by kldiv's grammar, and at least one is.

    Returns
    -------
    columns : list of str
        The columns read, the coordinates' order.
    skipped : list of str
        With ``columns`` None: the columns both sides have that were left out, not
        numeric on a side.
    p, q : Points

    Raises
    ------
    UsageError
        A column of ``columns`` that a side lacks; a column named twice.
    InvalidDataError
        A row DuckDB cannot read; no column numeric on both sides; a value that is
        not a number, or infinite, in a chosen column (file, row, column); no rows, or
        none left once rows with a missing value are dropped.
    """
    sides = (p, q)
    with _connection() as con:
        # Row numbers in messages are positions in the output: keep the files' order.
        con.execute("SET preserve_insertion_order = true")
        if columns is None:
            chosen, skipped = _numeric_columns(con, p, q, options)
        else:
            chosen, skipped = list(columns), []
            _require(sides, chosen)
        found = tuple(_points(con, side, chosen, options) for side in sides)
    return chosen, skipped, found[0], found[1]


def _require(sides: Sequence[RawSource], columns: Sequence[str]) -> None:
    if not columns:
        raise UsageError("--columns: name at least one column")
    twice = sorted({c for c in columns if list(columns).count(c) > 1})
    if twice:
        raise UsageError(f"--columns names {quote(twice[0])} twice")
    for column in columns:
        lacking = [side for side in sides if column not in side.columns]
        if lacking:
            names = " and ".join(visible(side.name) for side in lacking)
            listed = "" if len(lacking) > 1 else f"; columns: {names_text(lacking[0].columns)}"
            raise UsageError(f"{names}: no column {quote(column)}{listed}")


def _side_sql(
    con: duckdb.DuckDBPyConnection, source: RawSource, columns: Sequence[str], options: RawOptions
) -> str:
    """A subquery of ``source`` with, for column i of ``columns``: ``t{i}`` its text,
    ``m{i}`` whether it is missing, ``b{i}`` whether it is bad (present and not a
    number), ``v{i}`` its value (DOUBLE; 0 where missing or bad, never NULL).

    In three layers, as the raw-row engine does, so that the grammar's regular
    expression and the cast run once a value: DuckDB does not share an expression
    written twice (written inline, reading took 5 times as long).
    """
    types: dict[str, str] = dict.fromkeys(columns, "VARCHAR")
    if source.engine_format == "parquet":
        rows = _fetch(con, source, f"DESCRIBE SELECT * FROM {_scan(source)}").fetchall()
        types = {str(r[0]): str(r[1]) for r in rows}
    tokens = [t for t in dict.fromkeys(options.na) if t != ""]
    listed = f" OR {{t}} IN ({', '.join(_literal(x) for x in tokens)})" if tokens else ""
    first, second, third = [], [], []
    for i, name in enumerate(columns):
        c, t, n, v = _ident(name), f"t{i}", f"n{i}", f"x{i}"
        kind = types.get(name, "VARCHAR")
        if kind in _NUMERIC_TYPES or kind.startswith("DECIMAL"):
            first.append(f"{c} AS {t}, CAST({c} AS DOUBLE) AS {v}")
            second.append(f"{t}, true AS {n}, {v}")
            missing = f"({v} IS NULL OR isnan({v}))"
        else:
            text = c if kind == "VARCHAR" else f"CAST({c} AS VARCHAR)"
            first.append(f"{text} AS {t}")
            number = f"coalesce(regexp_full_match({t}, {_literal(NUMBER_RE2)}), false)"
            second.append(
                f"{t}, {number} AS {n}, CASE WHEN {number} THEN TRY_CAST({t} AS DOUBLE) END AS {v}"
            )
            # A number that is NaN is missing too, as the raw-row engine has it.
            token = listed.format(t=t)
            missing = f"({t} IS NULL OR {t} = ''{token} OR coalesce(isnan({v}), false))"
        third.append(
            f"CAST({t} AS VARCHAR) AS {t}, {missing} AS m{i}, "
            f"(NOT {missing} AND NOT {n}) AS b{i}, "
            f"CASE WHEN {missing} OR NOT {n} THEN 0.0 ELSE {v} END AS v{i}"
        )
    return (
        f"(SELECT {', '.join(third)} FROM (SELECT {', '.join(second)} FROM "
        f"(SELECT {', '.join(first)} FROM {_scan(source)})))"
    )


def _numeric_columns(
    con: duckdb.DuckDBPyConnection, p: RawSource, q: RawSource, options: RawOptions
) -> tuple[list[str], list[str]]:
    """The columns both sides have that are numeric on both (one scan a side), and
    the others both have."""
    common = [c for c in p.columns if c in set(q.columns)]
    numeric = set(common)
    for side in (p, q):
        if not common:
            break
        sql = _side_sql(con, side, common, options)
        parts = ["count(*)"]
        for i in range(len(common)):
            parts += [f"count_if(b{i})", f"count_if(NOT m{i})"]
        row = _fetch(con, side, f"SELECT {', '.join(parts)} FROM {sql}").fetchone()
        assert row is not None
        if int(row[0]) == 0:
            raise InvalidDataError(f"{visible(side.name)}: no rows")
        for i, name in enumerate(common):
            bad, present = int(row[1 + 2 * i]), int(row[2 + 2 * i])
            if bad or not present:
                numeric.discard(name)
    chosen = [c for c in common if c in numeric]
    if not chosen:
        what = "no column both have" if not common else f"of {names_text(common)}, none"
        raise InvalidDataError(
            f"{visible(p.name)} and {visible(q.name)}: {what} is numeric on both sides "
            "(every value a number or missing); name the columns with --columns"
        )
    return chosen, [c for c in common if c not in numeric]


def _points(
    con: duckdb.DuckDBPyConnection, source: RawSource, columns: Sequence[str], options: RawOptions
) -> Points:
    """The chosen columns of ``source`` fetched in row order: values, missing and bad
    flags; then checked and the rows with a missing value dropped, in NumPy."""
    sql = _side_sql(con, source, columns, options)
    parts = ", ".join(f"v{i}, m{i}, b{i}" for i in range(len(columns)))
    found = _fetch(con, source, f"SELECT {parts} FROM {sql}").fetchnumpy()
    d = len(columns)
    read = len(found["v0"]) if d else 0
    name = visible(source.name)
    if read == 0:
        raise InvalidDataError(f"{name}: no rows")
    values = np.empty((read, d), dtype=np.float64)
    missing = np.zeros(read, dtype=bool)
    for i in range(d):
        values[:, i] = np.asarray(found[f"v{i}"], dtype=np.float64)
        bad = np.asarray(found[f"b{i}"], dtype=bool)
        if bad.any():
            row = int(np.argmax(bad))
            text = _text_at(con, source, sql, i, row)
            hint = number_hint(text) or f"; give {NUMBER_FORMS}"
            raise InvalidDataError(
                f"{name}: row {_where(con, source, row + 1)}, column {quote(columns[i])}: "
                f"{quote(text)} is not a number{hint}"
            )
        missing |= np.asarray(found[f"m{i}"], dtype=bool)
    keep = ~missing
    infinite = keep[:, None] & ~np.isfinite(values)
    if infinite.any():
        row, col = (int(x) for x in np.argwhere(infinite)[0])
        text = _text_at(con, source, sql, col, row)
        raise InvalidDataError(
            f"{name}: row {_where(con, source, row + 1)}, column {quote(columns[col])}: "
            f"{quote(text)} is infinite; a point needs finite coordinates"
        )
    dropped = int(missing.sum())
    if dropped == read:
        raise InvalidDataError(
            f"{name}: no row left: every one of its {read} rows has a missing value in "
            f"{names_text(columns)}"
        )
    return Points(
        source=source.name,
        values=np.ascontiguousarray(values[keep]),
        rows=np.flatnonzero(keep) + 1,
        read=read,
        dropped=dropped,
        raw=source,
    )


def _file_rows(con: duckdb.DuckDBPyConnection, source: RawSource) -> list[tuple[str, int]]:
    """Each file of ``source`` with its rows, in the order DuckDB reads them."""
    found = []
    for file in source.files:
        one = replace(source, files=[file])
        row = _fetch(con, one, f"SELECT count(*) FROM {_scan(one)}").fetchone()
        assert row is not None
        found.append((file, int(row[0])))
    return found


def _place(files: Sequence[tuple[str, int]], row: int) -> str:
    """``file:r`` for data row ``row`` of the files' rows laid end to end.

    >>> _place([("a.csv", 2), ("b.csv", 3)], 4)
    'b.csv:2'
    """
    start = 0
    for file, count in files:
        if row <= start + count:
            return f"{visible(file)}:{row - start}"
        start += count
    return str(row)


def _where(con: duckdb.DuckDBPyConnection, source: RawSource, row: int) -> str:
    """Data row ``row`` of ``source`` for a message (see :meth:`Points.place`)."""
    return _place(_file_rows(con, source), row) if len(source.files) > 1 else str(row)


def _text_at(con: duckdb.DuckDBPyConnection, source: RawSource, sql: str, i: int, row: int) -> str:
    """The text of column ``i`` of :func:`_side_sql`'s ``sql`` at 0-based ``row`` (for
    an error message only)."""
    found = _fetch(con, source, f"SELECT t{i} FROM {sql} LIMIT 1 OFFSET {row}")
    got = found.fetchone()
    return "" if got is None or got[0] is None else str(got[0])
