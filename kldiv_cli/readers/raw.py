"""Raw rows counted: the distribution of a column's values, by an embedded database.

Owns :class:`RawOptions`, :class:`ColumnCounts`, :func:`open_raw` and
:func:`count_columns`: the rules of the spec's "What a column's distribution is"
(missing values, categorical or numeric, few values or bins from the reference's
quantiles), computed by DuckDB in SQL, in bounded memory (it spills to a temporary
folder past its memory limit), so that data larger than memory is counted without
its rows ever reaching Python. ``duckdb`` is imported inside the functions that run
queries: other commands never pay for it.

The steps (each side is parsed once; the rest reads DuckDB's own table of each
column's distinct values and their counts, whose size is the distinct values, not
the rows):

1. :func:`_load`: each side grouped, every column at once (``GROUPING SETS``), by its
   text, or by its number when DuckDB's CSV parser may read the column as DOUBLE
   (:func:`_typed_columns`: the head is numbers, and no field holds what the parser
   takes beyond the grammar); then, once a distinct value, whether it is a number by
   kldiv's grammar (``regexp_full_match``), its value, whether it is missing;
2. :func:`_profile`: per side, for every column, rows, missing values, and whether a
   value is not a number (which makes the column categorical on both sides);
3. :func:`_numeric_plan`: per numeric reference column, few values or bins, and the
   edges by exact integer ranks (:func:`_edges`, a running sum over the counts);
4. :func:`_counts`: per side, the counts of every column by its label's key (the
   text, the number, or the bin by a binary search of nested CASEs; never DuckDB's
   ``histogram()``, whose bins are closed on the right and which puts NaN in the
   first); a column read as numbers that is categorical after all is read again as
   text first.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from kldiv_cli.errors import InputMissingError, InvalidDataError, UsageError, visible
from kldiv_cli.readers.numbers import quote
from kldiv_cli.readers.raw_files import ENGINE_LINE_LIMIT, MAX_ROW_BYTES
from kldiv_cli.readers.raw_files import RawSource as RawSource
from kldiv_cli.readers.raw_files import open_raw as _open_files
from kldiv_cli.readers.resources import available_memory
from kldiv_cli.readers.table import FloatArray, names_text

if TYPE_CHECKING:
    import mmap

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
#: Under this memory limit the engine runs on one thread (see :func:`_connection`).
SMALL_LIMIT: Final = 256 << 20
#: DuckDB's memory limit: past it, it spills to a temporary folder.
MEMORY_LIMIT: Final = 384 << 20
#: The least memory limit a user may give (DuckDB's own buffers and one group of
#: rows need about this much; below it a query fails rather than spills).
MIN_MEMORY_LIMIT: Final = 64_000_000
#: How often the progress of the running query is read (seconds; a test lowers it).
POLL_INTERVAL: float = 0.2


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
    memory_limit : int or None
        DuckDB's memory limit in bytes (``--memory-limit``), at least
        :data:`MIN_MEMORY_LIMIT`; past it, it spills. None: :data:`MEMORY_LIMIT`, or
        half the memory left if less.
    spill_dir : str or None
        The folder where DuckDB spills (``--spill-dir``): a subfolder of it is made,
        and removed afterwards. None: the system's temporary folder.
    progress : callable or None
        ``progress(done, 100)``: the percent of the counting done, called from a
        thread that watches the running query (see :func:`_watch`); None: not watched.
    """

    input_format: str | None = None
    delimiter: str | None = None
    na: tuple[str, ...] = DEFAULT_NA
    drop_missing: bool = False
    bins: int = 10
    categorical: frozenset[str] = frozenset()
    edges: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: MappingProxyType({}))
    memory_limit: int | None = None
    spill_dir: str | None = None
    progress: Callable[[int, int], None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.memory_limit is not None and self.memory_limit < MIN_MEMORY_LIMIT:
            raise UsageError(
                f"--memory-limit {self.memory_limit}B: give at least "
                f"{MIN_MEMORY_LIMIT // 1_000_000}MB"
            )
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
    not name, and whose reference values are text (or that ``options.categorical``
    names), is not aligned: its kind is ``identifier``, ``distinct`` says how many,
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
    require_columns(sides, columns)
    if not columns:
        return []
    with _connection(options) as con, _watch(con, options.progress, len(sides) + 1) as watch:
        tables = []
        for k, side in enumerate(sides):
            watch.phase = k  # the scans of the raw rows: most of the time
            tables.append(_load(con, side, f"side{k}", columns, options))
        watch.phase = len(sides)
        profiles = [_profile(con, side, t, columns) for side, t in zip(sides, tables, strict=True)]
        if plans is None:
            plans = _plan(con, reference, tables[0], profiles, columns, options)
        else:
            plans = list(plans)
            check_plans(reference, profiles[0], columns, plans)
        counted = [_counts(con, t, columns, plans) for t in tables]
        distinct = _distinct(con, counted[0], columns, plans) if identifiers is not None else {}
        fixed = plans
        return assemble(
            sides,
            columns,
            fixed,
            profiles,
            options,
            identifiers=identifiers,
            keep=keep,
            distinct=lambda i: distinct.get(i, 0),
            aligned=lambda i: _aligned(con, counted, i, len(columns), fixed[i]),
        )


def assemble(
    sides: Sequence[RawSource],
    columns: Sequence[str],
    plans: Sequence[ColumnPlan],
    profiles: list[list[tuple[int, int, bool]]],
    options: RawOptions,
    *,
    identifiers: int | None,
    keep: Collection[str],
    distinct: Callable[[int], int],
    aligned: Callable[[int], tuple[list[str], FloatArray, FloatArray]],
) -> list[ColumnCounts]:
    """Every engine's last step, one rule for all: column ``i``'s
    :class:`ColumnCounts` from its plan, its sides' (rows, missing, has text)
    ``profiles``, its ``distinct(i)`` reference values and its ``aligned(i)`` labels
    and counts (missing left out): identifiers skipped, the ``(missing)`` label added
    unless dropped, a value spelled ``(missing)`` refused."""
    result = []
    for i, column in enumerate(columns):
        plan = plans[i]
        ref_rows, ref_missing, _ = profiles[0][i]
        cur_rows, cur_missing, _ = profiles[1][i] if len(profiles) > 1 else (0, 0, False)
        many = distinct(i) if plan.kind == "categorical" and identifiers is not None else 0
        # An identifier is REF's own text (or declared so): a numeric REF column that
        # turned categorical by a text in CUR is compared, so that a gate sees it.
        own_text = profiles[0][i][2] or column in options.categorical
        if identifiers is not None and own_text and many > identifiers and column not in keep:
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
        labels, ref_counts, cur_counts = aligned(i)
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


def require_columns(sides: Sequence[RawSource], columns: Sequence[str]) -> None:
    """A usage error for the first column a side lacks, naming every side that lacks
    it (a column absent from both files is named against both)."""
    for column in columns:
        lacking = [side for side in sides if column not in side.columns]
        if lacking:
            names = " and ".join(visible(side.name) for side in lacking)
            listed = "" if len(lacking) > 1 else f"; columns: {names_text(lacking[0].columns)}"
            raise UsageError(f"{names}: no column {quote(column)}{listed}")


def check_plans(
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
def _connection(options: RawOptions | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection that spills to its own temporary folder past
    ``options.memory_limit`` (by default :data:`MEMORY_LIMIT`, or half the memory
    left if less), made in ``options.spill_dir`` (by default the system's temporary
    folder) and removed afterwards.

    Raises
    ------
    InputMissingError
        ``spill_dir`` is not a folder, or one where a folder cannot be made.
    """
    import duckdb  # imported only on the raw paths

    options = options or RawOptions()
    scratch = _scratch(options.spill_dir)
    if options.memory_limit is not None:
        limit = options.memory_limit
    else:
        room = available_memory()
        limit = MEMORY_LIMIT if room is None else max(64 << 20, min(MEMORY_LIMIT, room // 2))
    try:
        con = duckdb.connect(
            ":memory:",
            config={
                "memory_limit": f"{limit}B",
                "temp_directory": scratch,
                # Counting needs no order; keeping it costs memory in every operator.
                "preserve_insertion_order": False,
                # Each thread's CSV reader holds a block of ~32 MiB: under a small limit,
                # more than one thread runs out of memory where one thread spills.
                **({"threads": 1} if limit < SMALL_LIMIT else {}),
            },
        )
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    try:
        yield con
    except RuntimeError as e:
        # DuckDB takes Ctrl-C during a query and raises this instead: the CLI's
        # interrupt (exit 130), not an internal error.
        if str(e) == "Query interrupted":
            raise KeyboardInterrupt from None
        raise
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _scratch(spill_dir: str | None) -> str:
    """A new folder for DuckDB to spill to, in ``spill_dir`` (checked first, so that a
    wrong folder is told before any work, not when a query first spills)."""
    if spill_dir is None:
        return tempfile.mkdtemp(prefix="kldiv-duckdb-")
    if not os.path.isdir(spill_dir):
        raise InputMissingError(f"--spill-dir {visible(spill_dir)}: no such folder")
    try:
        return tempfile.mkdtemp(prefix="kldiv-duckdb-", dir=spill_dir)
    except OSError as e:
        raise InputMissingError(
            f"--spill-dir {visible(spill_dir)}: cannot make a folder in it ({e.strerror})"
        ) from None


class _Watch:
    """The progress of a run of queries, by phases: ``phase`` k of ``phases`` maps the
    running query's percent into [k, k + 1] / phases of the run. What is reported
    never goes back (a phase's second query starts again at 0)."""

    def __init__(self, phases: int) -> None:
        self.phase = 0
        self.phases = phases
        self.last = 0

    def done(self, percent: float) -> int:
        share = min(max(percent, 0.0), 100.0) / 100.0
        return min(99, int(100 * (min(self.phase, self.phases - 1) + share) / self.phases))


@contextmanager
def _watch(
    con: duckdb.DuckDBPyConnection,
    progress: Callable[[int, int], None] | None,
    phases: int = 1,
) -> Iterator[_Watch]:
    """Report ``progress(done, 100)`` while the queries of ``con`` run: 0 first, then,
    every :data:`POLL_INTERVAL` seconds, the percent of the run that DuckDB's
    ``query_progress()`` gives (-1 between queries: nothing reported), and 100 at the
    end (after an error too: a bar is then taken away before the error is told).

    The queries run on the calling thread, as without progress (Ctrl-C interrupts
    them there); a daemon thread only reads the progress, which DuckDB allows from
    another thread, and is joined before the connection closes.
    """
    watch = _Watch(phases)
    if progress is None:
        yield watch
        return
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(POLL_INTERVAL):
            percent = con.query_progress()
            if percent < 0:  # no query running
                continue
            done = watch.done(percent)
            if done > watch.last:
                watch.last = done
                progress(done, 100)

    progress(0, 100)
    thread = threading.Thread(target=poll, name="kldiv-progress", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        stop.set()
        thread.join()
        # Also after an error: the end of the work, which takes a bar away before
        # the error is told.
        progress(100, 100)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scan(
    source: RawSource,
    doubles: Collection[str] = (),
    nulls: Sequence[str] | None = None,
) -> str:
    """The table function that reads ``source``: strict CSV, or Parquet.

    CSV columns are text, but those of ``doubles``, which DuckDB's parser reads as
    DOUBLE (see :func:`_typed_columns` for when that is the grammar); ``nulls``, the
    fields that are NULL (an empty field by default).
    """
    files = "[" + ", ".join(_literal(f) for f in source.files) + "]"
    if source.engine_format == "parquet":
        # By name: files whose column types differ are read as the wider type (BIGINT
        # and DOUBLE as DOUBLE; with text, as text), not cast to the first file's
        # (which rounds 1.5 to 2 in a BIGINT column). The names are checked equal.
        return f"read_parquet({files}, union_by_name = true)"
    assert source.delimiter is not None
    columns = (
        "{"
        + ", ".join(
            f"{_literal(c)}: {'DOUBLE' if c in doubles else 'VARCHAR'}" for c in source.columns
        )
        + "}"
    )
    null = "" if nulls is None else f", nullstr = [{', '.join(_literal(t) for t in nulls)}]"
    # No sniffing; a ragged row or a quote never closed is an error, not a NULL-padded
    # or skipped row.
    return (
        f"read_csv({files}, columns = {columns}, header = true, auto_detect = false, "
        f"delim = {_literal(source.delimiter)}, quote = '\"', escape = '\"', "
        "strict_mode = true, null_padding = false, ignore_errors = false, "
        f"compression = {_literal(source.compression)}, encoding = 'utf-8', "
        f"max_line_size = {ENGINE_LINE_LIMIT}{null})"
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
    elif "Maximum line size" in text:  # kldiv refuses such a row first; kept as a net
        what = f"a row longer than {MAX_ROW_BYTES:,} bytes, the most kldiv reads in one row"
    elif "unterminated quote" in text:
        what = "a quoted field is never closed"
    elif "Invalid unicode" in text or "UTF" in text:
        what = "not valid UTF-8"
    else:
        lines = [s for s in text.splitlines() if s.strip()]
        what = lines[0] if lines else "cannot be read"
        what = what.removeprefix("Invalid Input Error: ")
    return f"{visible(name)}: {where}{what}"


def _types(
    con: duckdb.DuckDBPyConnection, source: RawSource, columns: Sequence[str]
) -> dict[str, str]:
    if source.engine_format != "parquet":
        return dict.fromkeys(columns, "VARCHAR")
    rows = _fetch(con, source, f"DESCRIBE SELECT * FROM {_scan(source)}").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


@dataclass(frozen=True)
class _Side:
    """A side: its table of grouped values (see :func:`_load`), and the columns whose
    values were grouped as numbers read by DuckDB's CSV parser, whose text is not
    kept (read again by :func:`_counts` if the column turns out categorical)."""

    table: str
    source: RawSource
    columns: tuple[str, ...]
    options: RawOptions
    untexted: frozenset[int] = frozenset()


def _load(
    con: duckdb.DuckDBPyConnection,
    source: RawSource,
    table: str,
    columns: Sequence[str],
    options: RawOptions,
) -> _Side:
    """Read ``source`` once, into ``table``: each column's distinct values with their
    counts, one row a value, as ``(c, t, v, n, miss, m)``: the column's index, the
    text, the value (DOUBLE, where a number), whether it is a number by the grammar,
    whether it is missing, and how many rows have it.

    One scan groups every column at once (GROUPING SETS), by its text, or by its
    number when DuckDB's parser can read the column as DOUBLE (:func:`_typed_columns`:
    the same numbers as the grammar's, half the time of text); the grammar's regular
    expression then runs once a distinct value, not once a row, and every later step
    reads this table, whose size is the distinct values, not the rows. A typed scan
    that fails (a text after the head, a ragged row) is done again as text, which
    reports a bad row as always.
    """

    side = _Side(table, source, tuple(columns), options)
    typed = _typed_columns(con, side)
    if typed:
        try:
            _group(con, side, range(len(columns)), typed, table)
        except _data_errors():  # not an interrupt: Ctrl-C stops, as ever
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(f"DROP TABLE IF EXISTS {table}_g")
        else:
            return _Side(table, source, tuple(columns), options, frozenset(typed))
    _group(con, side, range(len(columns)), frozenset(), table)
    return side


def _tokens(options: RawOptions) -> list[str]:
    """The missing-value tokens besides the empty field."""
    return [t for t in dict.fromkeys(options.na) if t != ""]


def _group(
    con: duckdb.DuckDBPyConnection,
    side: _Side,
    indices: Iterable[int],
    typed: Collection[int],
    table: str,
) -> None:
    """Group the columns ``indices`` of ``side`` (those of ``typed`` read as DOUBLE by
    DuckDB's CSV parser) into ``table`` (see :func:`_load`), created or added to."""
    source, columns = side.source, side.columns
    indices = list(indices)
    types = _types(con, source, columns)
    tokens = _tokens(side.options)
    keys, grouped_all, sets, arms = [], [], [], []
    width = len(indices)
    for j, i in enumerate(indices):
        c, k = _ident(columns[i]), f"k{j}"
        kind = types[columns[i]]
        mask = ((1 << width) - 1) & ~(1 << (width - 1 - j))  # GROUPING's bits
        rows = f"FROM {table}_g WHERE g = {mask}"
        if i in typed or _NUMERIC_TYPES.fullmatch(kind):
            keys.append(f"{c} AS {k}")
            grouped = [k]
            if kind in ("FLOAT", "DOUBLE"):
                # -0.0 and 0.0 are one group to DuckDB; their texts differ.
                keys.append(f"signbit({c}) AS s{j}")
                grouped.append(f"s{j}")
            # A CSV number's text is not kept (see _Side); a typed Parquet value's
            # text is its cast, as DuckDB spells it.
            text = "NULL::VARCHAR" if i in typed else f"CAST({k} AS VARCHAR)"
            arms.append(
                f"SELECT {i} AS c, t, v, n, (v IS NULL OR isnan(v)) AS miss, m FROM "
                f"(SELECT {text} AS t, CAST({k} AS DOUBLE) AS v, true AS n, m {rows})"
            )
        else:
            keys.append(f"{c if kind == 'VARCHAR' else f'CAST({c} AS VARCHAR)'} AS {k}")
            grouped = [k]
            number = f"coalesce(regexp_full_match({k}, {_literal(NUMBER_RE2)}), false)"
            # TRY_CAST: every text the grammar takes casts (DuckDB's cast skips the
            # blanks around a number itself, and takes more, such as 1_000, which the
            # grammar has refused first). A number that is NaN is missing too
            # (``nan`` when --na has replaced the list).
            missing = f"({_text_missing('t', tokens)} OR coalesce(isnan(v), false))"
            arms.append(
                f"SELECT {i} AS c, t, v, n, {missing} AS miss, m FROM "
                "(SELECT t, n, CASE WHEN n THEN TRY_CAST(t AS DOUBLE) END AS v, m FROM "
                f"(SELECT {k} AS t, {number} AS n, m {rows}))"
            )
        sets.append(f"({', '.join(grouped)})")
        grouped_all.extend(grouped)
    names = ", ".join(f"k{j}" for j in range(width))
    scan = _scan(source, [columns[i] for i in typed], ["", *tokens] if typed else None)
    grouping = (
        f"CREATE TABLE {table}_g AS SELECT GROUPING({names}) AS g, {', '.join(grouped_all)}, "
        f"count(*) AS m FROM (SELECT {', '.join(keys)} FROM {scan}) "
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    )
    if typed:  # the caller falls back to text on any error
        con.execute(grouping)
    else:
        _fetch(con, source, grouping)
    union = " UNION ALL ".join(arms)
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]
    ).fetchone()
    if exists is not None and exists[0]:
        con.execute(f"INSERT INTO {table} {union}")
    else:
        con.execute(f"CREATE TABLE {table} AS {union}")
    con.execute(f"DROP TABLE {table}_g")


#: What DuckDB's CSV parser reads as a DOUBLE but kldiv's grammar refuses: digits
#: grouped by underscores (``1_000``) and a sign after a sign (``+-1``). A column none
#: of whose fields holds these may be read by the parser: every field it reads as a
#: number is then one by the grammar, with the same value (and every text of the
#: grammar parses), as tests/test_raw_speed_typed.py checks on this DuckDB.
_NOT_GRAMMAR: Final = (b"_", b"+-")
#: The window of a file searched for :data:`_NOT_GRAMMAR` at a time (a multiple of
#: mmap's granularity), and how far windows overlap (a pattern across an edge).
_WINDOW: int = 32 << 20
_OVERLAP: Final = 16
#: The rows of a CSV's head that decide which columns may be read as numbers.
_HEAD_ROWS: Final = 2048


def _typed_columns(con: duckdb.DuckDBPyConnection, side: _Side) -> frozenset[int]:
    """The columns of a CSV side that DuckDB's parser may read as DOUBLE: not named
    by ``--categorical``, numbers or missing in the head, and with no field that the
    parser takes as a number where the grammar does not (:data:`_NOT_GRAMMAR`:
    looked for in the files' bytes, and in those columns' text if found there)."""

    source, columns, options = side.source, side.columns, side.options
    if source.engine_format != "csv":
        return frozenset()
    candidates = [i for i, name in enumerate(columns) if name not in options.categorical]
    if not candidates:
        return frozenset()
    tokens = _tokens(options)
    parts = []
    for i in candidates:
        t = _ident(columns[i])
        number = f"regexp_full_match({t}, {_literal(NUMBER_RE2)})"
        parts.append(f"coalesce(bool_and({_text_missing(t, tokens)} OR {number}), true)")
    head = f"(SELECT * FROM {_scan(source)} LIMIT {_HEAD_ROWS})"
    try:
        row = con.execute(f"SELECT {', '.join(parts)} FROM {head}").fetchone()
    except _data_errors():  # reported by the scan as text
        return frozenset()
    assert row is not None
    candidates = [i for i, alike in zip(candidates, row, strict=True) if alike]
    if not candidates:
        return frozenset()
    plain = _plain_bytes(source.files)
    if plain is None:  # compressed: the bytes cannot be searched cheaply
        return frozenset()
    if plain:
        return frozenset(candidates)
    # Found somewhere (a header, a category): in which columns?
    parts = [
        " OR ".join(f"contains({_ident(columns[i])}, {_literal(b.decode())})" for b in _NOT_GRAMMAR)
        for i in candidates
    ]
    sql = f"SELECT {', '.join(f'count_if({p})' for p in parts)} FROM {_scan(source)}"
    try:
        row = con.execute(sql).fetchone()
    except _data_errors():
        return frozenset()
    assert row is not None
    return frozenset(i for i, found in zip(candidates, row, strict=True) if not found)


def _data_errors() -> tuple[type[Exception], ...]:
    """DuckDB's errors about the data (a row, a conversion, memory), which a scan as
    text reports: the fast path falls back on them, and on nothing else."""
    import duckdb

    return (
        duckdb.InvalidInputException,
        duckdb.ConversionException,
        duckdb.OutOfMemoryException,
    )


def _text_missing(t: str, tokens: Sequence[str]) -> str:
    """SQL: whether text ``t`` is missing by its spelling (NULL, empty, a token)."""
    listed = f" OR {t} IN ({', '.join(_literal(x) for x in tokens)})" if tokens else ""
    return f"({t} IS NULL OR {t} = ''{listed})"


def _plain_bytes(files: Sequence[str]) -> bool | None:
    """Whether no file holds :data:`_NOT_GRAMMAR` past its first line (None: a file
    is gzip). By ``mmap`` and ``find``: the bytes are searched, not copied."""
    import mmap

    for path in files:
        with open(path, "rb") as f:
            if f.read(2) == b"\x1f\x8b":
                return None
            size = os.fstat(f.fileno()).st_size
            # By windows, each unmapped after its search: a file's pages, once read
            # through a map, count in the process's resident memory until unmapped
            # (a whole 160 MB CSV mapped at once added 107 MB to drift's peak).
            for start in range(0, size, _WINDOW):
                length = min(_WINDOW + _OVERLAP, size - start)
                with mmap.mmap(f.fileno(), length, access=mmap.ACCESS_READ, offset=start) as data:
                    # Past the header (a header longer than a window: searched too,
                    # which costs a look at the columns' text, never a wrong answer).
                    body = data.find(b"\n") + 1 if start == 0 else 0
                    if any(_holds(data, b, body) for b in _NOT_GRAMMAR):
                        return False
    return True


def _holds(data: mmap.mmap, pattern: bytes, start: int) -> bool:
    """Whether ``data`` holds ``pattern`` from ``start``: by ``find`` of its first byte
    (memchr, 10 GB/s) and a look at the bytes after each, as a search of two bytes
    runs at a tenth of that speed; after 64 false starts (a file of ``1e+05``), by it."""
    at = data.find(pattern[:1], start)
    for _ in range(64):
        if at < 0:
            return False
        if data[at : at + len(pattern)] == pattern:
            return True
        at = data.find(pattern[:1], at + 1)
    return at >= 0 and data.find(pattern, at) >= 0


def _profile(
    con: duckdb.DuckDBPyConnection,
    source: RawSource,
    side: _Side,
    columns: Sequence[str],
) -> list[tuple[int, int, bool]]:
    """(rows, missing, has a value that is not a number) of each column, from the
    grouped values."""
    sql = (
        "SELECT c, sum(m), coalesce(sum(m) FILTER (WHERE miss), 0), "
        f"bool_or(NOT miss AND NOT n) FROM {side.table} GROUP BY c"
    )
    found = {int(r[0]): r for r in con.execute(sql).fetchall()}
    rows = int(found[0][1]) if 0 in found else 0
    if rows == 0:
        raise InvalidDataError(f"{visible(source.name)}: no rows")
    return [(rows, int(found[i][2]), bool(found[i][3])) for i in range(len(columns))]


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
    exact ranks k_j = ceil(j n / N), in integers (:func:`_edges`), from the grouped
    values of the reference's ``table`` (see :func:`_load`)."""
    where = f"FROM {table} WHERE c = {i} AND NOT miss"
    sql = f"SELECT sum(m), min(v), sum(m) FILTER (WHERE isfinite(v)) {where}"
    row = con.execute(sql).fetchone()
    assert row is not None
    n, minimum, finite = int(row[0] or 0), row[1], int(row[2] or 0)
    has_values = any(p[i][1] < p[i][0] for p in profiles)
    if finite == 0 and has_values:
        raise InvalidDataError(
            f"{visible(reference.name)}: column {quote(name)} is numeric but has no finite "
            "value in the reference: no bins can be formed (give --edges or --categorical)"
        )
    if _few_values(con, "v", where, minimum, options.bins):
        return ColumnPlan("numeric")
    chosen = _edges(con, "v", where, n, options.bins, weight="m")
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
    con: duckdb.DuckDBPyConnection,
    value: str,
    where: str,
    n: int,
    bins: int,
    fast: bool = True,
    weight: str | None = None,
) -> list[float]:
    """The k_j-th smallest of the ``n`` values, k_j = ceil(j n / N), j = 1..N-1;
    each row counts ``weight`` times (a column of counts) if given, else once.

    First by DuckDB's ``quantile_disc`` at j/N of the rows (a selection, not a sort:
    0.4 s for 10M values), each candidate then checked in integers by one scan: x is
    the k-th smallest exactly when count(v < x) < k <= count(v <= x) (sums of the
    weights). Rows of distinct values with weights all 1 (a column of distinct
    floats) pass; ``quantile_disc`` ranks with floats and holds the values in memory.
    If a candidate is off (weights, or float ranks), or memory runs out, the ranks come
    from a running sum over the rows in order, which spills to disk: the k-th
    smallest is the value of the first row where the sum reaches k (2 s for 10M).
    """
    import duckdb

    ranks = [-(-j * n // bins) for j in range(1, bins)]
    quantiles = ", ".join(repr(j / bins) for j in range(1, bins))
    count = "1" if weight is None else weight
    try:
        if not fast:
            raise duckdb.OutOfMemoryException("the exact path asked for")
        row = con.execute(f"SELECT quantile_disc({value} + 0.0, [{quantiles}]) {where}").fetchone()
        assert row is not None
        candidates = [float(x) for x in row[0]]
        checks = ", ".join(
            f"sum({count}) FILTER (WHERE {value} < {_double(x)}), "
            f"sum({count}) FILTER (WHERE {value} <= {_double(x)})"
            for x in candidates
        )
        row = con.execute(f"SELECT {checks} {where}").fetchone()
        assert row is not None
        if all((row[2 * j] or 0) < k <= (row[2 * j + 1] or 0) for j, k in enumerate(ranks)):
            return candidates
    except duckdb.OutOfMemoryException:  # data larger than memory (or fast=False, in tests)
        pass
    # Rows in order of value, ties in any order: the running sum rises by at least 1 a
    # row, so the first row where it reaches k holds the k-th smallest value.
    picks = ", ".join(f"min(v) FILTER (WHERE cum >= {k})" for k in ranks)
    sql = (
        f"WITH g AS (SELECT {value} + 0.0 AS v, {count} AS m {where}), "
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


def _counts(
    con: duckdb.DuckDBPyConnection,
    side: _Side,
    columns: Sequence[str],
    plans: list[ColumnPlan],
) -> str:
    """A table of each column's counts by key, from the grouped values: ``g`` (which
    column a row counts, as GROUPING's bit mask: the column's bit clear), ``k0``,
    ``k1``, ..., ``m``; a key is the text (categorical), the number (numeric) or the
    bin (binned); missing values are left out.

    A column read as numbers (its text not kept) that is categorical after all (the
    other side has text, or a profile says so) is read again, as text, first.
    """
    again = sorted(i for i in side.untexted if plans[i].kind == "categorical")
    if again:
        con.execute(f"DELETE FROM {side.table} WHERE c IN ({', '.join(map(str, again))})")
        _group(con, side, again, frozenset(), side.table)
    width = len(columns)
    keys, texts = [], []
    for i, plan in enumerate(plans):
        if plan.kind == "categorical":
            # A text is on one row of its column already (grouped by _load): no
            # second grouping of what may be a million distinct texts.
            texts.append(i)
            continue
        # Numbers: -0.0 is 0, and 1 and 1.0 (two texts) are one value.
        key = "v + 0.0" if plan.edges is None else _bucket("v", plan.edges, 0, len(plan.edges))
        keys.append(f"CASE WHEN c = {i} AND NOT miss THEN {key} END AS k{i}")
    parts = []
    if keys:
        chosen = ", ".join(str(i) for i in range(width) if i not in texts)
        masks = " ".join(f"WHEN {i} THEN {_mask(width, i)}" for i in range(width))
        outer = ", ".join(f"k{i}" if i not in texts else f"NULL AS k{i}" for i in range(width))
        grouped = ", ".join(f"k{i}" for i in range(width) if i not in texts)
        parts.append(
            f"SELECT CASE c {masks} END AS g, {outer}, sum(m) AS m FROM "
            f"(SELECT c, {', '.join(keys)}, m FROM {side.table} WHERE c IN ({chosen})) "
            f"GROUP BY c, {grouped}"
        )
    for i in texts:
        outer = ", ".join(f"t AS k{j}" if j == i else f"NULL AS k{j}" for j in range(width))
        parts.append(
            f"SELECT {_mask(width, i)} AS g, {outer}, m FROM {side.table} "
            f"WHERE c = {i} AND NOT miss"
        )
    counts = f"{side.table}_counts"
    con.execute(f"CREATE TABLE {counts} AS {' UNION ALL BY NAME '.join(parts)}")
    return counts


def _mask(width: int, i: int) -> int:
    """GROUPING's bit mask of column ``i`` of ``width``: its bit (the first column's the
    highest) clear, every other set."""
    return ((1 << width) - 1) & ~(1 << (width - 1 - i))


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
