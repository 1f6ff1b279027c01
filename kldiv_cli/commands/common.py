"""What the commands share: reading their sources, ``--max`` checks, the distributions
of a table as one array (:class:`Stack`) and the warnings that name labels.

Commands read through :mod:`kldiv_cli.readers` (its package, never its modules) and
compute with :mod:`kldiv_cli.maths`; none prints or knows the output format.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO, cast

import numpy as np

from kldiv_cli.commands.results import Check
from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths import core
from kldiv_cli.maths.counts import (
    check_count_total,
    check_row_count_totals,
    count_total,
    require_whole,
)
from kldiv_cli.readers import (
    NUMBER_FORMS,
    FloatArray,
    Labels,
    Table,
    is_close_to_integer,
    number_hint,
    parse_number,
    parse_whole,
    position_warning,
    quote,
    read_table,
    require_exact_counts,
    union_of,
)

# The number grammar of the data, for the options that take numbers (the CLI's
# option types): one grammar for data and options, owned by the readers.
__all__ = ["NUMBER_FORMS", "number_hint", "parse_number", "parse_whole"]

#: How many labels a warning names before it says "and N more".
MAX_NAMED = 5


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ReadOptions:
    """How to read every source of a command: the CLI's ``--input-format``,
    ``--no-header``, ``--label`` and ``--delimiter``, and where ``-`` reads from
    (None: the process's standard input)."""

    input_format: str | None = None
    no_header: bool = False
    label: str | None = None
    delimiter: str | None = None
    stdin: BinaryIO | None = None


def one_stdin(sources: Sequence[str | None]) -> None:
    """Refuse more than one ``-`` among ``sources``: standard input reads once."""
    if list(sources).count("-") > 1:
        raise UsageError("both sources are - (standard input); at most one may be")


def read_tables(sources: list[str | None], read: ReadOptions) -> list[Table]:
    """Read each given SOURCE (None: not given) into a table; at most one may be -."""
    one_stdin(sources)
    given = [s for s in sources if s is not None]
    label = read.label
    tables = [
        read_table(
            s,
            input_format=read.input_format,
            no_header=read.no_header,
            label=label,
            delimiter=read.delimiter,
            stdin=read.stdin,
        )
        for s in given
    ]
    # A CSV or JSON records without the column already refused it; inline numbers and
    # JSON objects or arrays have no columns, and must not drop --label silently.
    if label is not None and all(table.label_column != label for table in tables):
        raise UsageError(
            f"--label {label!r}: no source has a column of that name "
            f"({', '.join(table.source for table in tables)})"
        )
    return tables


# --------------------------------------------------------------------------- checks


def parse_check(text: str) -> Check:
    """``jsd=0.05`` -> ``Check("jsd", 0.05)``; a usage error for anything else."""
    measure, sep, limit = text.partition("=")
    measure = measure.strip()
    if not sep:
        raise UsageError(f"--max {text!r}: expected MEASURE=LIMIT, e.g. jsd=0.05")
    if measure not in core.MEASURES:
        raise UsageError(
            f"--max {text!r}: unknown measure {measure!r}; choose {', '.join(core.MEASURES)}"
        )
    value = parse_number(limit)
    if value is None or math.isnan(value):
        raise UsageError(f"--max {text!r}: the limit {limit!r} is not a number")
    return Check(measure, value)


def some_labels(labels: list[str], positional: bool) -> str:
    """``labels 'a', 'b' (and 3 more)``: the first few of a list, for a warning."""
    kind = "position" if positional else "label"
    shown = ", ".join(lab if positional else quote(lab) for lab in labels[:MAX_NAMED])
    more = f" and {len(labels) - MAX_NAMED} more" if len(labels) > MAX_NAMED else ""
    return f"{kind}{'s' if len(labels) > 1 else ''} {shown}{more}"


# --------------------------------------------------------------------------- stacks


@dataclass
class Stack:
    """The distributions of one table as the rows of ``values`` (shape ``(n, K)``).

    ``names`` names the distributions (column names, or with ``rows`` the row
    labels); ``bins`` labels the K entries they share.
    """

    table: Table
    names: list[str]
    bins: Labels
    values: FloatArray
    rows: bool

    @property
    def source(self) -> str:
        return self.table.source

    @property
    def totals(self) -> FloatArray:
        with np.errstate(over="ignore"):  # a total beyond the float range is reported as inf
            return np.asarray(self.values.sum(axis=1), dtype=np.float64)

    def where(self, i: int, k: int) -> str:
        """``a.csv: line 4, column 'n', label 'x'``: entry k of distribution i."""
        if self.rows:
            return f"{self.source}: {self.table.where(i, self.bins.take([k])[0])}"
        return f"{self.source}: {self.table.where(k, self.names[i] or None)}"

    def describe(self, i: int) -> str:
        """``a.csv, column 'n'`` or ``a.csv, row 'x'``: distribution i, for messages."""
        kind = "row" if self.rows else "column"
        name = self.names[i]
        return f"{self.source}, {kind} {quote(name)}" if name else self.source


def stack(table: Table, *, rows: bool = False, each_positive: bool = True) -> Stack:
    """The distributions of ``table``: its numeric columns, or with ``rows`` its rows.

    Every column but the label column must be numeric (a column that is not is an
    error naming its first bad cell, rather than a distribution silently left out).
    Every value must be finite and >= 0, and every distribution have a positive total
    (with ``each_positive=False``, only the whole table: a contingency table may hold
    a row of zeros).
    """
    names = list(table.columns)
    given = list(table.columns.values())
    if any(values is None for values in given):  # no lookup per column: 10^6 of them
        bad = next(name for name, values in zip(names, given, strict=True) if values is None)
        raise InvalidDataError(table.problem(bad))
    columns = cast(list[FloatArray], given)
    if rows:
        values = np.column_stack(columns) if columns else np.empty((table.labels.size, 0))
        found = Stack(table, table.labels.values, Labels.of(names), values, rows=True)
        if table.labels.positional:
            found.names = [str(i) for i in range(1, table.labels.size + 1)]
    else:
        # One concatenate, not vstack: vstack makes each of a million one-value columns a
        # 2-D array first (0.9 s of the 1.3 s that stacking such a table took).
        values = np.concatenate(columns).reshape(len(columns), -1)
        found = Stack(table, names, table.labels, values, rows=False)
    _validate(found, each_positive)
    return found


def _validate(s: Stack, each_positive: bool) -> None:
    """Finite, non-negative values and a positive total for every distribution."""
    v = s.values
    if v.size == 0:
        raise InvalidDataError(f"{s.source}: no values")
    lowest = v.min()  # NaN propagates through min: one pass screens everything
    if not (lowest >= 0.0 and np.isfinite(v.max())):
        for mask, what in (
            (np.isnan(v), "is NaN"),
            (np.isinf(v), "is infinite (or beyond the float range)"),
            (v < 0.0, "is negative"),
        ):
            bad = np.argwhere(mask)
            if bad.size:
                i, k = (int(x) for x in bad[0])
                raise InvalidDataError(f"{s.where(i, k)}: value {float(v[i, k])!r} {what}")
    if not each_positive:
        if not v.max() > 0.0:
            raise InvalidDataError(f"{s.source}: no positive value (all {v.size} are 0)")
        return
    empty = np.flatnonzero(~(v.max(axis=1) > 0.0))
    if empty.size:
        i = int(empty[0])
        raise InvalidDataError(f"{s.describe(i)}: no positive value (all {v.shape[1]} are 0)")


def require_counts(s: Stack, option: str, *, whole: bool = False) -> None:
    """Raise InvalidDataError naming the first value of ``s`` that is not a count, or
    a total of counts too large (of each distribution; with ``whole``, of the table)."""
    require_exact_counts(s.table, None, option)
    require_whole(s.values, s.where, option)
    if whole:
        check_count_total(count_total(s.values), s.source, option)
        return
    check_row_count_totals(s.values, s.totals, s.describe, option)


def align_stacks(a: Stack, b: Stack) -> tuple[Labels, FloatArray, FloatArray]:
    """Both stacks over one list of bins: the union of their labels (A's order, then
    B's new ones; absent = 0), or by position when neither is labelled."""
    if a.bins.positional or b.bins.positional:
        if not (a.bins.positional and b.bins.positional):
            bare, named = (a, b) if a.bins.positional else (b, a)
            raise InvalidDataError(
                f"{bare.source} has no labels and {named.source} has; give both labels or neither"
            )
        if a.values.shape[1] != b.values.shape[1]:
            raise InvalidDataError(
                f"lengths differ: {a.source} has {a.values.shape[1]} entries per distribution "
                f"and {b.source} has {b.values.shape[1]}"
            )
        return a.bins, a.values, b.values
    return union_of(a.bins, b.bins, a.values, b.values)


def stacks_position_warning(stacks: list[Stack], rows: bool) -> list[str]:
    """Two tables whose entries (with ``rows``: whose rows, as pairs) go by row
    position: the warning naming a column that could hold labels. Every column is a
    distribution here, so the candidate is the first, as a year or a bin would be."""
    if not all(s.table.labels.positional for s in stacks):
        return []
    what = "the rows of both tables are paired" if rows else "the tables are aligned"
    return position_warning([(s.table, list(s.table.columns)[1:]) for s in stacks], what)


def probability_warnings(s: Stack) -> list[str]:
    """The spec's hint, once per stack: distributions whose values are all <= 1 and
    that sum to neither 1 nor an integer."""
    totals = s.totals
    odd = [
        i
        for i in np.flatnonzero(s.values.max(axis=1) <= 1.0).tolist()
        if not is_close_to_integer(float(totals[i]))
    ]
    if not odd:
        return []
    first = odd[0]
    more = f" ({len(odd)} distributions like it)" if len(odd) > 1 else ""
    return [
        f"{s.describe(first)} sums to {float(totals[first])!r}, not 1{more}; "
        "normalized (did you mean probabilities?)"
    ]
