"""Raw rows counted: the distribution of a column's values, by an embedded database.

Owns :class:`RawOptions`, :class:`ColumnCounts`, :func:`open_raw` and
:func:`count_columns`: the rules of the spec's "What a column's distribution is"
(missing values, categorical or numeric, few values or bins from the reference's
quantiles), computed by DuckDB in SQL, in bounded memory (it spills to a temporary
folder past its memory limit), so that data larger than memory is counted without
its rows ever reaching Python. ``duckdb`` is imported inside the functions that run
queries: other commands never pay for it.

The steps (each side is parsed once; the rest are scans of DuckDB's own columnar
copy of it, which spills to disk past the memory limit):

1. :func:`_load`: each side into a table of four columns per column: its text,
   whether it is a number by kldiv's grammar (``regexp_full_match``), its value
   (DOUBLE), whether it is missing;
2. :func:`_profile`: per side, for every column, rows, missing values, and whether a
   value is not a number (which makes the column categorical on both sides);
3. :func:`_numeric_plan`: per numeric reference column, few values or bins, and the
   edges by exact integer ranks (:func:`_edges`);
4. :func:`_counts`: per side, the counts of every column at once (``GROUPING
   SETS``), each value turned into its label's key in SQL (the text, the number, or
   the bin by a binary search of nested CASEs; never DuckDB's ``histogram()``, whose
   bins are closed on the right and which puts NaN in the first).
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from kldiv_cli.errors import InvalidDataError, UsageError, visible
from kldiv_cli.readers.numbers import quote
from kldiv_cli.readers.raw_files import RawSource as RawSource
from kldiv_cli.readers.raw_files import open_raw as _open_files
from kldiv_cli.readers.resources import available_memory
from kldiv_cli.readers.table import FloatArray, names_text

if TYPE_CHECKING:
    import duckdb

#: The missing-value tokens by default (the empty field is always missing).
DEFAULT_NA: Final = ("NA", "N/A", "NaN", "nan", "null", "NULL", "None")
#: The label of missing values.
MISSING: Final = "(missing)"
#: The label of the one bin of a column whose edges all fell on its minimum.
ALL_VALUES: Final = "(-inf, inf)"

#: kldiv's number grammar (:mod:`kldiv_cli.readers.numbers`) for DuckDB's
#: ``regexp_full_match`` (RE2): the same pattern, with ``nan``/``inf``/``infinity``
#: in any case spelled out letter by letter (RE2's ``(?i)`` folds Unicode, Python's
#: re.ASCII does not).
NUMBER_RE2: Final = (
    r"[ \t\n\r\f\v]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)[ \t\n\r\f\v]*"
)
#: DuckDB's types that hold numbers (a Parquet column of them needs no parsing).
_NUMERIC_TYPES: Final = re.compile(
    r"(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|"
    r"UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)"
)
#: DuckDB's memory limit: past it, it spills to a temporary folder.
MEMORY_LIMIT: Final = 384 << 20


@dataclass(frozen=True)
class RawOptions:
    """How raw rows become distributions (the options of ``--count`` and ``drift``).

    Attributes
    ----------
    input_format : str or None
        ``csv``, ``tsv``, ``json``, ``jsonl`` or ``parquet``; None: by the files'
        names, else their content (see :func:`open_raw`).
    delimiter : str or None
        The CSV/TSV field separator (``--delimiter``).
    na : tuple of str
        The missing-value tokens (``--na``, repeated, replaces the list); the empty
        field is always missing, and so are JSON ``null`` and a number that is NaN.
    drop_missing : bool
        Leave the ``(missing)`` label out (the counts of missing values are still
        reported).
    bins : int
        N: a numeric column with more than N distinct reference values is cut into
        at most N bins; at least 2.
    categorical : frozenset of str
        Columns read as categories whatever their values.
    edges : Mapping of str to tuple of float
        Columns whose bin edges are fixed (``--edges COL=e1,e2``): finite, strictly
        increasing.
    """

    input_format: str | None = None
    delimiter: str | None = None
    na: tuple[str, ...] = DEFAULT_NA
    drop_missing: bool = False
    bins: int = 10
    categorical: frozenset[str] = frozenset()
    edges: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.bins < 2:
            raise UsageError(f"--bins {self.bins}: give at least 2")
        for column, edges in self.edges.items():
            if not edges:
                raise UsageError(f"--edges {column}=: give at least one edge")
            if not all(math.isfinite(e) for e in edges):
                raise UsageError(f"--edges {column}: the edges must be finite numbers")
            if any(b <= a for a, b in itertools.pairwise(edges)):
                raise UsageError(f"--edges {column}: the edges must be strictly increasing")
        both = sorted(self.categorical & set(self.edges))
        if both:
            raise UsageError(f"{quote(both[0])} is given both --categorical and --edges")


@dataclass
class ColumnCounts:
    """The counts of one column's values on the two sides, over the same labels.

    Attributes
    ----------
    column : str
        The column's name.
    kind : str
        ``categorical`` (each value as written), ``numeric`` (few distinct values, each
        a label), ``binned``, or ``identifier`` (skipped, see :func:`count_columns`).
    edges : list of float or None
        The bin edges e1 < ... < em (binned only): bins (-inf, e1), [e1, e2), ...,
        [em, +inf).
    labels : list of str
        The union of both sides' labels, in this order: categorical, by the text's
        code points; numeric, by value (``-inf`` first); binned, every bin from the
        lowest (all of them, even a bin empty on both sides); then ``(missing)``, when
        a side has a missing value and ``drop_missing`` is off.
    reference, current : ndarray of float64
        The count of each label on each side (whole numbers); ``current`` is all zeros
        when :func:`count_columns` was given one side.
    missing : tuple of int
        Missing values (reference, current), reported even with ``drop_missing``.
    rows : tuple of int
        Rows (reference, current); 0 for an absent current side.
    """

    column: str
    kind: str
    edges: list[float] | None
    labels: list[str]
    reference: FloatArray
    current: FloatArray
    missing: tuple[int, int]
    rows: tuple[int, int]
    #: Distinct reference values (missing left out) of a categorical or identifier
    #: column; 0 for the other kinds.
    distinct: int = 0


def open_raw(source: str, options: RawOptions, stdin: Any = None) -> RawSource:
    """The raw rows of ``source`` (a file, a folder, a glob such as
    ``'data/*.parquet'``, or ``-`` for standard input), with ``options``' format and
    delimiter. The source's ``name``, ``columns`` (in order) and ``rows`` tell what
    it holds; see :func:`kldiv_cli.readers.raw_files.open_raw` for what is checked
    when."""
    return _open_files(source, options.input_format, options.delimiter, stdin)


def count_rows(source: RawSource) -> int:
    """The number of rows of ``source``, counted by DuckDB."""
    with _connection() as con:
        row = _fetch(con, source, f"SELECT count(*) FROM {_scan(source)}").fetchone()
    assert row is not None
    return int(row[0])


def count_columns(
    reference: RawSource,
    current: RawSource | None,
    columns: Sequence[str],
    options: RawOptions,
    *,
    plans: Sequence[ColumnPlan] | None = None,
    identifiers: int | None = None,
    keep: Collection[str] = (),
) -> list[ColumnCounts]:
    """The counts of each of ``columns`` on both sides, by the spec's rules.

    Missing: an empty field, a token of ``options.na``, JSON ``null``, a NaN in a
    numeric column. A column is categorical when it is named by
    ``options.categorical`` or a value on either side is not a number by kldiv's
    grammar; its labels are the values as written. Otherwise it is numeric: with at
    most ``bins`` distinct reference values (``-inf`` and ``inf`` among them), each
    value is a label spelled as the shortest float text (:func:`number_label`);
    with more, it is binned, by ``options.edges`` or by the reference's quantiles:

    .. math:: e_j = x_{(k_j)}, \\quad k_j = \\lceil j n / N \\rceil, \\quad j = 1..N-1

    (the inverted CDF: the smallest reference value x with F(x) >= j/N, the rank
    computed in integers; n the reference's values that are not missing), the
    distinct ones, less one equal to the reference's minimum. Every such bin holds
    reference mass.

    With ``current`` None the counts are of ``reference`` alone (for the entropy of a
    column): ``current`` is then all zeros and its rows and missing 0.

    ``plans`` (one per column) fixes each column's kind and edges instead of taking
    them from the data (a saved profile's, for counting the current rows against
    it): then a value that is not a number in a column that is not categorical is an
    error, since the profile's labels cannot hold it. With ``identifiers`` N, a
    categorical column with more than N distinct reference values that ``keep`` does
    not name is not aligned: its kind is ``identifier``, ``distinct`` says how many,
    and its labels and counts are empty.

    Raises
    ------
    UsageError
        A column that a side lacks; --edges for a column that is not numeric.
    InvalidDataError
        A row DuckDB cannot read (a ragged row, a quote never closed: the file and the
        line); a side with no rows; a numeric column with values but no finite
        reference value (no bins can be formed); a category spelled ``(missing)``.
    """
    sides = [reference] if current is None else [reference, current]
    _require_columns(sides, columns)
    if not columns:
        return []
    with _connection() as con:
        tables = [_load(con, side, f"side{k}", columns, options) for k, side in enumerate(sides)]
        profiles = [_profile(con, side, t, columns) for side, t in zip(sides, tables, strict=True)]
        if plans is None:
            plans = _plan(con, reference, tables[0], profiles, columns, options)
        else:
            plans = list(plans)
            _fits(reference, profiles[0], columns, plans)
        counted = [_counts(con, t, columns, plans) for t in tables]
        distinct = _distinct(con, counted[0], columns, plans) if identifiers is not None else {}
        result = []
        for i, column in enumerate(columns):
            plan = plans[i]
            ref_rows, ref_missing, _ = profiles[0][i]
            cur_rows, cur_missing, _ = profiles[1][i] if current is not None else (0, 0, False)
            many = distinct.get(i, 0)
            if identifiers is not None and many > identifiers and column not in keep:
                result.append(
                    ColumnCounts(
                        column=column,
                        kind="identifier",
                        edges=None,
                        labels=[],
                        reference=np.zeros(0),
                        current=np.zeros(0),
                        missing=(ref_missing, cur_missing),
                        rows=(ref_rows, cur_rows),
                        distinct=many,
                    )
                )
                continue
            labels, ref_counts, cur_counts = _aligned(con, counted, i, len(columns), plan)
            with_missing = not options.drop_missing and bool(ref_missing or cur_missing)
            if with_missing and plan.kind == "categorical" and MISSING in labels:
                spelled = [
                    visible(side.name)
                    for side, k in zip(sides, (ref_counts, cur_counts), strict=False)
                    if k[labels.index(MISSING)] > 0
                ]
                raise InvalidDataError(
                    f"{' and '.join(spelled)}: column {quote(column)}: a value is spelled "
                    f"{MISSING!r}, the label of missing values; name it with --na or give "
                    "--drop-missing"
                )
            if with_missing:
                labels.append(MISSING)
                ref_counts = np.append(ref_counts, float(ref_missing))
                cur_counts = np.append(cur_counts, float(cur_missing))
            result.append(
                ColumnCounts(
                    column=column,
                    kind=plan.kind,
                    edges=plan.edges,
                    labels=labels,
                    reference=ref_counts,
                    current=cur_counts,
                    missing=(ref_missing, cur_missing),
                    rows=(ref_rows, cur_rows),
                    distinct=many if plan.kind == "categorical" else 0,
                )
            )
    return result


def _require_columns(sides: Sequence[RawSource], columns: Sequence[str]) -> None:
    """A usage error for the first column a side lacks, naming every side that lacks
    it (a column absent from both files is named against both)."""
    for column in columns:
        lacking = [side for side in sides if column not in side.columns]
        if lacking:
            names = " and ".join(visible(side.name) for side in lacking)
            listed = "" if len(lacking) > 1 else f"; columns: {names_text(lacking[0].columns)}"
            raise UsageError(f"{names}: no column {quote(column)}{listed}")


def _fits(
    source: RawSource,
    profile: list[tuple[int, int, bool]],
    columns: Sequence[str],
    plans: Sequence[ColumnPlan],
) -> None:
    """With fixed plans (a profile's), a column that is not categorical must hold
    numbers only: its labels are values or bins, which a text cannot join."""
    for i, (column, plan) in enumerate(zip(columns, plans, strict=True)):
        if plan.kind != "categorical" and profile[i][2]:
            raise InvalidDataError(
                f"{visible(source.name)}: column {quote(column)} has a value that is not a "
                f"number, but it is {plan.kind} in the reference profile"
            )


def _distinct(
    con: duckdb.DuckDBPyConnection,
    counted: str,
    columns: Sequence[str],
    plans: Sequence[ColumnPlan],
) -> dict[int, int]:
    """The distinct reference values (missing left out) of each categorical column:
    the rows of its counts, one small query on the counted table."""
    found = {}
    width = len(columns)
    for i, plan in enumerate(plans):
        if plan.kind == "categorical":
            mask = ((1 << width) - 1) & ~(1 << (width - 1 - i))
            sql = f"SELECT count(*) FROM {counted} WHERE g = {mask} AND k{i} IS NOT NULL"
            row = con.execute(sql).fetchone()
            assert row is not None
            found[i] = int(row[0])
    return found


def number_label(x: float) -> str:
    """The shortest float text of ``x``: Python's repr less a trailing ``.0``
    (``2.0`` is ``2``, ``0.1`` is ``0.1``, ``1e+20`` stays), ``inf``/``-inf``, and
    ``0`` for ``-0.0``.

    >>> [number_label(x) for x in (2.0, -0.0, 0.1, 1e20, 1.5e-7, float("-inf"))]
    ['2', '0', '0.1', '1e+20', '1.5e-07', '-inf']
    """
    text = repr(float(x) + 0.0)
    return text[:-2] if text.endswith(".0") else text


def bin_labels(edges: Sequence[float]) -> list[str]:
    """The labels of the bins of ``edges``: ``<e1``, ``[e1, e2)``, ..., ``>=em``.

    >>> bin_labels([1.0, 2.5])
    ['<1', '[1, 2.5)', '>=2.5']
    """
    if not edges:
        return [ALL_VALUES]
    texts = [number_label(e) for e in edges]
    middle = [f"[{a}, {b})" for a, b in itertools.pairwise(texts)]
    return [f"<{texts[0]}", *middle, f">={texts[-1]}"]


# --- the engine -----------------------------------------------------------------


@dataclass(frozen=True)
class ColumnPlan:
    """How a column's values become labels: its kind (``categorical``, ``numeric``
    or ``binned``) and a binned column's edges."""

    kind: str
    edges: list[float] | None = None


@contextmanager
def _connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection that spills to its own temporary folder past
    :data:`MEMORY_LIMIT` (or half the memory left, if less), removed afterwards."""
    import duckdb  # imported only on the raw paths

    scratch = tempfile.mkdtemp(prefix="kldiv-duckdb-")
    room = available_memory()
    limit = MEMORY_LIMIT if room is None else max(64 << 20, min(MEMORY_LIMIT, room // 2))
    con = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": f"{limit >> 20}MB",
            "temp_directory": scratch,
            # Counting needs no order; keeping it costs memory in every operator.
            "preserve_insertion_order": False,
        },
    )
    try:
        yield con
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scan(source: RawSource) -> str:
    """The table function that reads ``source``: strict CSV of text, or Parquet."""
    files = "[" + ", ".join(_literal(f) for f in source.files) + "]"
    if source.engine_format == "parquet":
        return f"read_parquet({files})"
    assert source.delimiter is not None
    columns = "{" + ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in source.columns) + "}"
    # Every field as text (kldiv decides what is a number); no sniffing; a ragged row
    # or a quote never closed is an error, not a NULL-padded or skipped row.
    return (
        f"read_csv({files}, columns = {columns}, header = true, auto_detect = false, "
        f"delim = {_literal(source.delimiter)}, quote = '\"', escape = '\"', "
        "strict_mode = true, null_padding = false, ignore_errors = false, "
        "compression = 'auto', encoding = 'utf-8')"
    )


_CSV_ERROR: Final = re.compile(r"CSV Error on Line: (\d+)")
_CSV_FILE: Final = re.compile(r"^\s*file = (.*)$", re.MULTILINE)
_COLUMNS_FOUND: Final = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _fetch(
    con: duckdb.DuckDBPyConnection, source: RawSource, sql: str
) -> duckdb.DuckDBPyConnection:
    """Run ``sql``; DuckDB's errors about the data become one-line InvalidDataErrors
    naming the file and the line (DuckDB counts lines from 1, the header's included)."""
    import duckdb

    try:
        return con.execute(sql)
    except duckdb.InvalidInputException as e:
        raise InvalidDataError(_data_problem(source, str(e))) from None
    except duckdb.ConversionException as e:  # pragma: no cover - the grammar guards casts
        raise InvalidDataError(f"{visible(source.name)}: {str(e).splitlines()[0]}") from None
    except duckdb.OutOfMemoryException as e:
        raise InvalidDataError(
            f"{visible(source.name)}: out of memory while counting ({str(e).splitlines()[0]})"
        ) from None


def _data_problem(source: RawSource, text: str) -> str:
    """A DuckDB error about ``source`` as one line: file, line, what is wrong."""
    name = source.name
    file = _CSV_FILE.search(text)
    if file is not None and source.name != "<stdin>":
        name = file.group(1).strip()
    line = _CSV_ERROR.search(text)
    where = f"line {line.group(1)}: " if line else ""
    found = _COLUMNS_FOUND.search(text)
    if found:
        fields = int(found.group(2))
        what = f"{fields} field{'s' * (fields != 1)}, where the header has {found.group(1)}"
    elif "unterminated quote" in text:
        what = "a quoted field is never closed"
    elif "Invalid unicode" in text or "UTF" in text:
        what = "not valid UTF-8"
    else:
        lines = [s for s in text.splitlines() if s.strip()]
        what = lines[0] if lines else "cannot be read"
        what = what.removeprefix("Invalid Input Error: ")
    return f"{visible(name)}: {where}{what}"


@dataclass(frozen=True)
class _Column:
    """A column's SQL on one side: its text, whether it is missing, its number."""

    text: str
    missing: str
    number: str  # true when a value that is not missing is a number
    value: str  # the value as DOUBLE (where ``number``)


def _types(
    con: duckdb.DuckDBPyConnection, source: RawSource, columns: Sequence[str]
) -> dict[str, str]:
    if source.engine_format != "parquet":
        return dict.fromkeys(columns, "VARCHAR")
    rows = _fetch(con, source, f"DESCRIBE SELECT * FROM {_scan(source)}").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def _column(i: int, typed: frozenset[int] = frozenset()) -> _Column:
    """Column ``i`` of a side's table (see :func:`_load`)."""
    text = f"CAST(t{i} AS VARCHAR)" if i in typed else f"t{i}"
    return _Column(text, f"m{i}", f"n{i}", f"v{i}")


def _load(
    con: duckdb.DuckDBPyConnection,
    source: RawSource,
    table: str,
    columns: Sequence[str],
    options: RawOptions,
) -> _Side:
    """Read ``source`` once into ``table`` (on disk, in DuckDB's own columnar format),
    with four columns for each of ``columns``: its text ``t``, whether it is a number
    ``n``, its value ``v`` (DOUBLE, where a number) and whether it is missing ``m``.

    The passes that follow scan this narrow table: the CSV is parsed, and the
    grammar's regular expression run, once for each value, not once a pass.
    """
    types = _types(con, source, columns)
    tokens = [t for t in dict.fromkeys(options.na) if t != ""]
    first, second, third = [], [], []
    typed: set[int] = set()
    for i, name in enumerate(columns):
        c, t, n, v, m = _ident(name), f"t{i}", f"n{i}", f"v{i}", f"m{i}"
        if _NUMERIC_TYPES.fullmatch(types[name]):
            # Kept as it is typed: its text is needed only if the column turns out
            # categorical (the other side has text), and costs 0.3 s a million.
            first.append(f"{c} AS {t}, CAST({c} AS DOUBLE) AS {v}")
            typed.add(i)
            second.append(f"{t}, true AS {n}, {v}")
            third.append(f"{t}, {n}, {v}, ({v} IS NULL OR isnan({v})) AS {m}")
            continue
        text = c if types[name] == "VARCHAR" else f"CAST({c} AS VARCHAR)"
        first.append(f"{text} AS {t}")
        number = f"regexp_full_match({t}, {_literal(NUMBER_RE2)})"
        # TRY_CAST: every text the grammar takes casts (DuckDB's cast skips the blanks
        # around a number itself, and takes more, such as 1_000, which the grammar has
        # refused first).
        value = f"CASE WHEN {n} THEN TRY_CAST({t} AS DOUBLE) END"
        second.append(f"{t}, {number} AS {n}")
        listed = f" OR {t} IN ({', '.join(_literal(x) for x in tokens)})" if tokens else ""
        # A number that is NaN is missing too (``nan`` when --na has replaced the list).
        missing = f"({t} IS NULL OR {t} = ''{listed} OR coalesce(isnan({v}), false))"
        third.append(f"{t}, {n}, {v}, {missing} AS {m}")
        second[-1] += f", {value} AS {v}"
    sql = (
        f"CREATE TABLE {table} AS SELECT {', '.join(third)} FROM "
        f"(SELECT {', '.join(second)} FROM (SELECT {', '.join(first)} FROM {_scan(source)}))"
    )
    _fetch(con, source, sql)
    return _Side(table, frozenset(typed))


@dataclass(frozen=True)
class _Side:
    """A side's table, and which of its columns are kept typed (numbers, not text)."""

    table: str
    typed: frozenset[int]


def _profile(
    con: duckdb.DuckDBPyConnection,
    source: RawSource,
    side: _Side,
    columns: Sequence[str],
) -> list[tuple[int, int, bool]]:
    """(rows, missing, has a value that is not a number) of each column: one scan."""
    parts = ["count(*)"]
    for i in range(len(columns)):
        col = _column(i)
        parts.append(f"count_if({col.missing})")
        parts.append(f"count_if(NOT {col.missing} AND NOT {col.number})")
    row = con.execute(f"SELECT {', '.join(parts)} FROM {side.table}").fetchone()
    assert row is not None
    rows = int(row[0])
    if rows == 0:
        raise InvalidDataError(f"{visible(source.name)}: no rows")
    return [(rows, int(row[1 + 2 * i]), bool(row[2 + 2 * i])) for i in range(len(columns))]


def _plan(
    con: duckdb.DuckDBPyConnection,
    reference: RawSource,
    side: _Side,
    profiles: list[list[tuple[int, int, bool]]],
    columns: Sequence[str],
    options: RawOptions,
) -> list[ColumnPlan]:
    """Each column's kind, and the edges of a binned one (from the reference)."""
    plans = []
    for i, name in enumerate(columns):
        text_somewhere = any(p[i][2] for p in profiles)
        if name in options.categorical or text_somewhere:
            if name in options.edges:
                raise UsageError(
                    f"--edges {name}: the column is not numeric (a value is not a number)"
                )
            plans.append(ColumnPlan("categorical"))
            continue
        if name in options.edges:
            plans.append(ColumnPlan("binned", list(options.edges[name])))
            continue
        plans.append(_numeric_plan(con, reference, side.table, name, profiles, i, options))
    return plans


def _numeric_plan(
    con: duckdb.DuckDBPyConnection,
    reference: RawSource,
    table: str,
    name: str,
    profiles: list[list[tuple[int, int, bool]]],
    i: int,
    options: RawOptions,
) -> ColumnPlan:
    """Few values or bins, by the reference's distinct values, and the edges by
    exact ranks k_j = ceil(j n / N), in integers (:func:`_edges`)."""
    col = _column(i)
    where = f"FROM {table} WHERE NOT {col.missing}"
    sql = f"SELECT count({col.value}), min({col.value}), count_if(isfinite({col.value})) {where}"
    row = con.execute(sql).fetchone()
    assert row is not None
    n, minimum, finite = int(row[0]), row[1], int(row[2] or 0)
    has_values = any(p[i][1] < p[i][0] for p in profiles)
    if finite == 0 and has_values:
        raise InvalidDataError(
            f"{visible(reference.name)}: column {quote(name)} is numeric but has no finite "
            "value in the reference: no bins can be formed (give --edges or --categorical)"
        )
    if _few_values(con, col.value, where, minimum, options.bins):
        return ColumnPlan("numeric")
    chosen = _edges(con, col.value, where, n, options.bins)
    return ColumnPlan("binned", sorted(set(chosen) - {float(minimum)}))


def _few_values(
    con: duckdb.DuckDBPyConnection, value: str, where: str, minimum: float | None, bins: int
) -> bool:
    """Whether the values hold at most ``bins`` distinct ones (-0.0 and 0.0 are one).

    Up to 64 bins, by stepping from the minimum to the next larger value, at most
    ``bins`` times (a scan each: 11 scans of 10M values take 0.45 s, where counting
    the distinct values takes 1.9 s); beyond, by ``count(DISTINCT)``.
    """
    if minimum is None:
        return True
    if bins > 64:
        row = con.execute(f"SELECT count(DISTINCT {value} + 0.0) {where}").fetchone()
        assert row is not None
        return int(row[0]) <= bins
    here: float | None = minimum
    for _ in range(bins):
        row = con.execute(f"SELECT min({value}) {where} AND {value} > ?", [here]).fetchone()
        assert row is not None
        here = row[0]
        if here is None:
            return True
    return False


def _edges(
    con: duckdb.DuckDBPyConnection, value: str, where: str, n: int, bins: int, fast: bool = True
) -> list[float]:
    """The k_j-th smallest of the ``n`` values, k_j = ceil(j n / N), j = 1..N-1.

    First by DuckDB's ``quantile_disc`` at j/N (a selection, not a sort: 0.4 s for
    10M values), each candidate then checked in integers by one scan: x is the k-th
    smallest exactly when count(v < x) < k <= count(v <= x). ``quantile_disc`` ranks
    with floats and holds the values in memory; if a candidate is off (or memory runs
    out), the ranks come from the values grouped with their counts and a running sum
    over them in order, which spill to disk (2 s for 10M distinct values).
    """
    import duckdb

    ranks = [-(-j * n // bins) for j in range(1, bins)]
    quantiles = ", ".join(repr(j / bins) for j in range(1, bins))
    try:
        if not fast:
            raise duckdb.OutOfMemoryException("the exact path asked for")
        row = con.execute(f"SELECT quantile_disc({value} + 0.0, [{quantiles}]) {where}").fetchone()
        assert row is not None
        candidates = [float(x) for x in row[0]]
        checks = ", ".join(
            f"count_if({value} < {_double(x)}), count_if({value} <= {_double(x)})"
            for x in candidates
        )
        row = con.execute(f"SELECT {checks} {where}").fetchone()
        assert row is not None
        if all(row[2 * j] < k <= row[2 * j + 1] for j, k in enumerate(ranks)):
            return candidates
    except duckdb.OutOfMemoryException:  # data larger than memory (or fast=False, in tests)
        pass
    picks = ", ".join(f"min(v) FILTER (WHERE cum >= {k})" for k in ranks)
    sql = (
        f"WITH g AS (SELECT {value} + 0.0 AS v, count(*) AS m {where} GROUP BY v), "
        "c AS (SELECT v, sum(m) OVER (ORDER BY v ROWS UNBOUNDED PRECEDING) AS cum FROM g) "
        f"SELECT {picks} FROM c"
    )
    row = con.execute(sql).fetchone()
    assert row is not None
    return [float(x) for x in row]


def _double(x: float) -> str:
    """A float as SQL, exactly (its shortest round-trip text, cast)."""
    return f"CAST({_literal(repr(float(x)))} AS DOUBLE)"


def _bucket(value: str, edges: Sequence[float], lo: int, hi: int) -> str:
    """SQL for the bin of ``value`` among bins lo..hi: the number of edges at or
    below it, by a binary search of nested CASEs (log2(m) comparisons)."""
    if lo == hi:
        return str(lo)
    mid = (lo + hi) // 2
    left = _bucket(value, edges, lo, mid)
    right = _bucket(value, edges, mid + 1, hi)
    return f"CASE WHEN {value} < {_double(edges[mid])} THEN {left} ELSE {right} END"


def _key(col: _Column, plan: ColumnPlan) -> str:
    """SQL for a value's label key, categorical or numeric: NULL when missing; else
    its text, or its number."""
    key = col.text if plan.kind == "categorical" else f"({col.value} + 0.0)"  # -0.0 is 0
    return f"CASE WHEN {col.missing} THEN NULL ELSE {key} END"


def _counts(
    con: duckdb.DuckDBPyConnection,
    side: _Side,
    columns: Sequence[str],
    plans: list[ColumnPlan],
) -> str:
    """A table of each column's counts by key (NULL: missing), all in one scan, by
    GROUPING SETS: ``g`` (which column a row counts), ``k0``, ``k1``, ..., ``m``."""
    inner = []
    outer = []
    for i in range(len(columns)):
        col = _column(i, side.typed)
        edges = plans[i].edges
        if edges is None:
            inner.append(f"{_key(col, plans[i])} AS k{i}")
            outer.append(f"k{i}")
        else:
            # The value is computed once, in the inner SELECT, and bucketed from
            # there: the binary search names it log2(m) times.
            inner.append(f"CASE WHEN {col.missing} THEN NULL ELSE {col.value} END AS k{i}")
            bucket = _bucket(f"k{i}", edges, 0, len(edges))
            outer.append(f"CASE WHEN k{i} IS NULL THEN NULL ELSE {bucket} END AS k{i}")
    names = [f"k{i}" for i in range(len(columns))]
    sets = ", ".join(f"({k})" for k in names)
    sql = (
        f"SELECT GROUPING({', '.join(names)}) AS g, {', '.join(names)}, count(*) AS m "
        f"FROM (SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {side.table})) "
        f"GROUP BY GROUPING SETS ({sets})"
    )
    counts = f"{side.table}_counts"
    con.execute(f"CREATE TABLE {counts} AS {sql}")
    return counts


def _aligned(
    con: duckdb.DuckDBPyConnection, counted: list[str], i: int, width: int, plan: ColumnPlan
) -> tuple[list[str], FloatArray, FloatArray]:
    """Column ``i``'s labels (missing values left out) and the counts of each side
    over them, aligned in DuckDB (a full outer join of the sides' counts, in order:
    text by code points, which is UTF-8's byte order; numbers by value; bins by
    position), so that a million labels never go through a Python dict."""
    # GROUPING's bit mask: the first column the highest bit, set where not grouped.
    mask = ((1 << width) - 1) & ~(1 << (width - 1 - i))
    sides = [
        f"(SELECT k{i} AS k, m FROM {table} WHERE g = {mask} AND k{i} IS NOT NULL)"
        for table in counted
    ]
    if len(sides) == 1:
        sql = f"SELECT k, m AS r, 0 AS c FROM {sides[0]} ORDER BY k"
    else:
        sql = (
            "SELECT coalesce(a.k, b.k) AS k, coalesce(a.m, 0) AS r, coalesce(b.m, 0) AS c "
            f"FROM {sides[0]} a FULL OUTER JOIN {sides[1]} b ON a.k = b.k ORDER BY 1"
        )
    found = con.execute(sql).fetchnumpy()
    keys, ref, cur = found["k"], found["r"], found["c"]
    ref = np.asarray(ref, dtype=np.float64)
    cur = np.asarray(cur, dtype=np.float64)
    if plan.kind == "binned":
        assert plan.edges is not None
        at = np.asarray(keys, dtype=np.intp)
        ref_all = np.zeros(len(plan.edges) + 1)
        cur_all = np.zeros(len(plan.edges) + 1)
        ref_all[at] = ref
        cur_all[at] = cur
        return bin_labels(plan.edges), ref_all, cur_all
    if plan.kind == "numeric":
        return [number_label(x) for x in np.asarray(keys, dtype=np.float64).tolist()], ref, cur
    return [str(k) for k in np.asarray(keys, dtype=object).tolist()], ref, cur
