"""Tables: named numeric columns of one source that share one label column.

Owns :class:`Labels` (the labels of a table's rows, turned into Python strings only
when asked: a large CSV keeps them in one Arrow string array), :class:`Table`,
:class:`Distribution` (one validated column), where a row is for messages
(:meth:`Table.where`), the uniqueness of labels (:func:`check_unique`) and the counts
that float64 cannot hold (:func:`inexact_counts`, :func:`require_exact_counts`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.readers.numbers import EXACT_UP_TO, is_inexact_integer, quote, shorten

FloatArray = NDArray[np.float64]

#: Values per block when columns are screened for large values: ~8 MB per temporary.
FIELDS: Final = 1 << 20


class Labels:
    """The labels of a table's rows, made into strings only when asked.

    Parameters
    ----------
    size : int
        The number of rows.
    load : callable
        Returns the labels as a list of strings (called at most once).
    positional : bool
        True when the rows have no labels and are named by 1-based position.
    pick : callable, optional
        Returns the labels of some rows without loading them all (for a large file
        whose report names a few labels).
    arrow : pyarrow.Array or pyarrow.ChunkedArray, optional
        The labels as one Arrow string array, when they were read into one: they stay
        in its compact buffers (10M labels of 8 bytes: 120 MB, where Python strings
        take 650 MB), and :func:`~kldiv_cli.readers.alignment.union_of` joins them there.
    """

    def __init__(
        self,
        size: int,
        load: Callable[[], list[str]],
        *,
        positional: bool = False,
        pick: Callable[[Sequence[int]], list[str]] | None = None,
        arrow: Any = None,
    ):
        self.size = size
        self._load = load
        self._pick = pick
        self.positional = positional
        self.arrow = arrow

    @classmethod
    def of(cls, labels: list[str]) -> Labels:
        return cls(len(labels), lambda: labels)

    @classmethod
    def by_position(cls, size: int) -> Labels:
        return cls(size, lambda: [str(i) for i in range(1, size + 1)], positional=True)

    @classmethod
    def of_arrow(cls, array: Any) -> Labels:
        """Labels held in an Arrow string array (or chunked array): Python strings are
        made only for the rows asked for (:meth:`take`) or when all are (:attr:`values`)."""
        import pyarrow as pa

        chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
        starts = np.cumsum([0] + [len(chunk) for chunk in chunks])

        def pick(rows: Sequence[int]) -> list[str]:
            # Chunk by chunk: a take on the whole chunked array cost 0.29 s for 44,000
            # of 10M labels (the infinite ones that JSON lists), by chunk 8 ms.
            at = np.asarray(rows, dtype=np.int64)
            order = np.argsort(at, kind="stable")
            ordered = at[order]
            found = np.empty(at.size, dtype=object)
            bounds = np.searchsorted(ordered, starts)
            for chunk, start, lo, hi in zip(chunks, starts, bounds, bounds[1:], strict=False):
                if hi > lo:
                    # An Arrow array made from the buffer: pa.array() of a list or of a
                    # NumPy array asks whether it is a pandas object, which imports
                    # pandas (0.17 s).
                    inside = np.ascontiguousarray(ordered[lo:hi] - start)
                    indices = pa.Array.from_buffers(
                        pa.int64(), inside.size, [None, pa.py_buffer(inside.tobytes())]
                    )
                    found[order[lo:hi]] = chunk.take(indices).to_pylist()
            return list(found)

        return cls(len(array), array.to_pylist, pick=pick, arrow=array)

    @cached_property
    def values(self) -> list[str]:
        """All the labels as Python strings (for a large table, loaded on first use)."""
        return self._load()

    def take(self, indices: Sequence[int] | NDArray[np.intp]) -> list[str]:
        """The labels of rows ``indices`` (0-based), as strings."""
        if self.positional:
            return [str(int(i) + 1) for i in indices]
        if self._pick is not None and "values" not in self.__dict__:
            return self._pick([int(i) for i in indices])
        values = self.values
        return [values[int(i)] for i in indices]


# --------------------------------------------------------------------------- tables


@dataclass
class Table:
    """Numeric columns of one source that share a label column.

    ``columns`` maps a column name to its values, or to None when the column is not
    numeric; ``problems`` then holds the row of its first cell that is not a number,
    and what is wrong with it. ``line_of(row)`` is the 1-based line of a row in the
    source, when known.
    """

    source: str
    labels: Labels
    label_column: str | None
    columns: dict[str, FloatArray | None]
    problems: dict[str, tuple[int, str]] = field(default_factory=dict)
    line_of: Callable[[int], int | None] = lambda row: None
    #: Entries read per column, where fewer than the rows (JSON objects over a union).
    sizes: dict[str, int] = field(default_factory=dict)
    #: Whether ``--label`` may name one of its columns (not inline numbers or arrays).
    takes_labels: bool = True
    #: Per column, the first row whose text float64 cannot hold exactly although it
    #: reads as a whole number (``9007199254740993`` reads as 2^53), and that text: a
    #: count only where counts are needed (see :func:`require_exact_counts`).
    inexact: dict[str, tuple[int, str]] = field(default_factory=dict)

    def problem(self, column: str) -> str:
        """Why ``column`` is not numeric: ``a.csv: line 5, column 'n', label 'x': ...``."""
        row, what = self.problems[column]
        return f"{self.source}: {self.where(row, None if column == ONLY else column)}: {what}"

    @property
    def numeric(self) -> list[str]:
        return [name for name, values in self.columns.items() if values is not None]

    def where(self, row: int, column: str | None = None) -> str:
        """``line 4, column 'n', label 'x'``: where a row is, for messages."""
        parts = []
        line = self.line_of(row)
        if line is not None:
            parts.append(f"line {line}")
        if column is not None:
            parts.append(f"column {quote(column)}")
        label = self.labels.take([row])[0]
        parts.append(f"position {label}" if self.labels.positional else f"label {quote(label)}")
        return ", ".join(parts)

    def column(self, name: str | None) -> Distribution:
        """The distribution in column ``name`` (None: the only column), validated."""
        if name is None:
            name = next(iter(self.columns))
        values = self.columns[name]
        if values is None:
            raise InvalidDataError(self.problem(name))
        dist = Distribution(self, None if name == ONLY else name, values)
        dist.validate()
        return dist


# The name of the single column of an inline list, a JSON object or a JSON array.
ONLY: Final = ""


@dataclass
class Distribution:
    """One column of a :class:`Table`: non-negative values with a positive total."""

    table: Table
    column: str | None
    values: FloatArray

    @property
    def source(self) -> str:
        return self.table.source

    @property
    def labels(self) -> Labels:
        return self.table.labels

    @cached_property
    def total(self) -> float:
        with np.errstate(over="ignore"):  # a total beyond 1.8e308 is reported as inf
            return float(self.values.sum())

    @property
    def size(self) -> int:
        """How many entries were read (a JSON object may hold fewer than the rows)."""
        return self.table.sizes.get(self.column or ONLY, self.values.size)

    @property
    def name(self) -> str:
        """``a.csv`` or ``a.csv, column 'n'``: which distribution, for messages."""
        if self.column is None:
            return self.source
        return f"{self.source}, column {quote(self.column)}"

    def validate(self) -> None:
        """Raise InvalidDataError for a NaN, infinite or negative value, or no positive one."""
        v = self.values
        if v.size == 0 or self.size == 0:
            raise InvalidDataError(f"{self.name}: no values")
        lowest = v.min()  # NaN propagates through min, so one pass screens everything
        if lowest >= 0.0 and math.isfinite(float(v.max())):
            if v.max() > 0.0:
                return
            raise InvalidDataError(f"{self.name}: no positive value (all {self.size} are 0)")
        bad_kind = [
            (np.isnan(v), "is NaN"),
            (np.isinf(v), "is infinite (or beyond the float range)"),
            (v < 0.0, "is negative"),
        ]
        for mask, what in bad_kind:
            if mask.any():
                row = int(np.argmax(mask))
                where = self.table.where(row, self.column)
                raise InvalidDataError(f"{self.source}: {where}: value {float(v[row])!r} {what}")


def inexact_counts(
    columns: dict[str, FloatArray | None], texts: Callable[[str, list[int]], list[str]]
) -> dict[str, tuple[int, str]]:
    """Per column, the first value of magnitude 2^53 or more (where float64 skips
    whole numbers) written as a whole number that float64 does not hold exactly, and
    its text (``texts(column, rows)`` gives the texts of some rows).

    Below 2^53 every whole number is exact; from there on only the few large values
    are looked at, as text. A number in scientific notation (``1e20``) says it is
    rounded, and is taken as the float it reads as.
    """
    found: dict[str, tuple[int, str]] = {}
    for name, values in _with_large_values(columns):
        with np.errstate(invalid="ignore"):
            rows = np.flatnonzero((np.abs(values) >= EXACT_UP_TO) & np.isfinite(values))
        for row, text in zip(rows.tolist(), texts(name, rows.tolist()), strict=True):
            if is_inexact_integer(text, float(values[row])):
                found[name] = (row, text.strip())
                break
    return found


def _with_large_values(columns: dict[str, FloatArray | None]) -> list[tuple[str, FloatArray]]:
    """The columns that hold a finite value of magnitude 2^53 or more (few, if any).

    The columns of a table are all as long as it has rows: they are screened in
    blocks of about ``FIELDS`` values, not one by one (a million columns of one
    row took a million small passes)."""
    present = [(name, v) for name, v in columns.items() if v is not None]
    if not present:
        return []
    step = max(1, FIELDS // max(1, present[0][1].size))
    found = []
    for first in range(0, len(present), step):
        block = present[first : first + step]
        values = np.concatenate([v for _, v in block])
        with np.errstate(invalid="ignore"):
            large = np.flatnonzero((np.abs(values) >= EXACT_UP_TO) & np.isfinite(values))
        if large.size:
            ends = np.cumsum([v.size for _, v in block])
            found += [block[k] for k in np.unique(np.searchsorted(ends, large, side="right"))]
    return found


def require_exact_counts(table: Table, columns: Iterable[str | None] | None, option: str) -> None:
    """Raise InvalidDataError when one of ``columns`` of ``table`` (None: all) holds
    a count that float64 cannot hold: ``9007199254740993`` reads as 2^53, one less.

    Counts are whole numbers up to 2^53; beyond it float64 holds only every second
    (then fourth, ...) one, so such a count would be counted as another.
    """
    names = list(table.inexact) if columns is None else [c or ONLY for c in columns]
    for name in names:
        if name in table.inexact:
            row, text = table.inexact[name]
            value = float(table.columns[name][row])  # type: ignore[index]
            where = table.where(row, None if name == ONLY else name)
            raise InvalidDataError(
                f"{table.source}: {where}: {option} needs counts, and {shorten(text)} is "
                f"not exactly representable (it reads as {value:.17g}); counts beyond "
                "2^53 (9007199254740992) lose their last digits"
            )


def check_unique(labels: list[str], table: Table) -> None:
    if len(set(labels)) == len(labels):
        return

    def place(row: int) -> str:
        line = table.line_of(row)
        return f"line {line}" if line is not None else f"entry {row + 1}"

    first: dict[str, int] = {}
    for row, lab in enumerate(labels):
        if lab in first:
            raise InvalidDataError(
                f"{table.source}: {place(row)}: label {quote(lab)} appears twice "
                f"(first at {place(first[lab])})"
            )
        first[lab] = row


def names_text(names: Sequence[str]) -> str:
    return ", ".join(quote(n) for n in names)
