"""Sources -> labelled, aligned NumPy arrays.

A SOURCE is a file (CSV, TSV or JSON), ``-`` for standard input, or inline numbers
such as ``0.9,0.1``. Each is read into a :class:`Table`: named numeric columns that
share one label column (or none: then entries are labelled by 1-based position).
A :class:`Distribution` is one column of a table; :func:`align` lines two of them up
by label.

pandas is imported here, lazily, and only for CSV/TSV: inline numbers and JSON never
pay for it. For a large CSV without quotes the labels stay bytes until something
needs them as text: their structure is checked and their duplicates found by one
vectorised pass over the file (:class:`_Grid`).

Hostile input: a source's bytes are read with a bound, half the memory available
(:func:`memory_available`): a larger file is refused before it is read, a stream as
soon as it passes the bound, and MemoryError while parsing is the same error
(:class:`InputTooLargeError`, exit 66). A NUL byte, which no text holds, is refused
where it is seen, so ``/dev/zero`` ends at once. Every number, in data and in
options, is read by one ASCII grammar (:func:`parse_number`). Fields may be of any
length. A whole number of 16 digits or more that float64 cannot hold is recorded per
column (``Table.inexact``) and refused where counts are needed.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import re
import shlex
import stat
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np
from numpy.typing import NDArray

from kldiv_cli.errors import (
    InputMissingError,
    InvalidDataError,
    KldivError,
    UsageError,
    visible,
)
from kldiv_cli.readers import resources
from kldiv_cli.readers.resources import size_text

FloatArray = NDArray[np.float64]

FORMATS: Final = ("csv", "tsv", "json")
_EXTENSIONS: Final = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json"}
#: Blanks around a number, as C's isspace (and pandas) take them.
_BLANKS: Final = r"[ \t\n\r\f\v]*"
#: The number grammar, one for data and options alike: an optional sign, ASCII digits
#: with an optional fraction (``1``, ``1.``, ``.5``), an optional exponent (``e-3``),
#: blanks around it; ``nan`` and ``inf``/``infinity`` are read so that they can be
#: refused by name. re.ASCII: ``[0-9]`` and IGNORECASE stay ASCII (float() itself
#: takes ``1_0``, Arabic-Indic and fullwidth digits, which kldiv does not).
_NUMBER: Final = re.compile(
    rf"{_BLANKS}[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf(?:inity)?){_BLANKS}",
    re.IGNORECASE | re.ASCII,
)
#: What looks meant as a number, for telling inline numbers from a path: the grammar
#: loosened to Unicode digits and blanks and to ``_``, so that ``٣,1`` is refused by
#: the grammar, entry by entry, rather than reported as a missing file.
_NUMBERISH: Final = re.compile(
    r"\s*[+-]?(?:(?:[\d_]+\.?[\d_]*|\.[\d_]+)(?:[eE][+-]?[\d_]+)?|nan|inf(?:inity)?)\s*",
    re.IGNORECASE,
)
_WHOLE: Final = re.compile(rf"{_BLANKS}[+-]?[0-9]+{_BLANKS}", re.ASCII)
STDIN_NAME: Final = "<stdin>"
#: What the grammar is, for messages.
NUMBER_FORMS: Final = "ASCII decimal or scientific notation, e.g. 10, 0.5 or 1e-3"


def parse_number(text: str) -> float | None:
    """The float that ``text`` spells in kldiv's number grammar, else None.

    The grammar is ``[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?``
    with ASCII digits, or ``nan``, ``inf``, ``infinity`` (any case), blanks around it
    allowed. Stricter than :func:`float`: no ``1_000``, no hex, no Unicode digits.
    Data and option values (``--pseudocount``, ``--ci``, ``--max``) alike use it.
    """
    if not _NUMBER.fullmatch(text):
        return None
    return float(text)


def parse_whole(text: str) -> int | None:
    """The int that ``text`` spells as an optional sign and ASCII digits, else None
    (for whole-number options such as ``--top``; :func:`int` takes ``1_0`` and ``٣``)."""
    if not _WHOLE.fullmatch(text):
        return None
    return int(text)


def number_hint(cell: object) -> str:
    """Why a text that is not a number may have been meant as one, for a message:
    a comma, an underscore or a digit that is not ASCII (empty when none applies)."""
    if not isinstance(cell, str):
        return ""
    if "," in cell:
        return _comma_hint(cell)
    if "_" in cell and any(c.isdigit() for c in cell):
        return " (no '_' between digits: kldiv reads " + NUMBER_FORMS + ")"
    if not cell.isascii() and any(c.isdigit() or c.isnumeric() for c in cell):
        return " (only the ASCII digits 0-9 are digits: kldiv reads " + NUMBER_FORMS + ")"
    return ""


def quote(label: str) -> str:
    """A label as messages show it: quoted, so that '' and ' a' are visible."""
    return repr(label)


# --------------------------------------------------------------------------- labels


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
    """

    def __init__(
        self,
        size: int,
        load: Callable[[], list[str]],
        *,
        positional: bool = False,
        pick: Callable[[Sequence[int]], list[str]] | None = None,
    ):
        self.size = size
        self._load = load
        self._pick = pick
        self.positional = positional

    @classmethod
    def of(cls, labels: list[str]) -> Labels:
        return cls(len(labels), lambda: labels)

    @classmethod
    def by_position(cls, size: int) -> Labels:
        return cls(size, lambda: [str(i) for i in range(1, size + 1)], positional=True)

    @cached_property
    def values(self) -> list[str]:
        return self._load()

    def take(self, indices: Sequence[int] | NDArray[np.intp]) -> list[str]:
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
        return f"{self.source}: {self.where(row, None if column == _ONLY else column)}: {what}"

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
        dist = Distribution(self, None if name == _ONLY else name, values)
        dist.validate()
        return dist


# The name of the single column of an inline list, a JSON object or a JSON array.
_ONLY: Final = ""


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
        return self.table.sizes.get(self.column or _ONLY, self.values.size)

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


#: From here on float64 does not hold every whole number: 2^53 + 1 reads as 2^53.
_EXACT_UP_TO: Final = 2.0**53


def _inexact_counts(
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
            rows = np.flatnonzero((np.abs(values) >= _EXACT_UP_TO) & np.isfinite(values))
        for row, text in zip(rows.tolist(), texts(name, rows.tolist()), strict=True):
            if _is_inexact_integer(text, float(values[row])):
                found[name] = (row, text.strip())
                break
    return found


def _with_large_values(columns: dict[str, FloatArray | None]) -> list[tuple[str, FloatArray]]:
    """The columns that hold a finite value of magnitude 2^53 or more (few, if any).

    The columns of a table are all as long as it has rows: they are screened in
    blocks of about ``_FIELDS`` values, not one by one (a million columns of one
    row took a million small passes)."""
    present = [(name, v) for name, v in columns.items() if v is not None]
    if not present:
        return []
    step = max(1, _FIELDS // max(1, present[0][1].size))
    found = []
    for first in range(0, len(present), step):
        block = present[first : first + step]
        values = np.concatenate([v for _, v in block])
        with np.errstate(invalid="ignore"):
            large = np.flatnonzero((np.abs(values) >= _EXACT_UP_TO) & np.isfinite(values))
        if large.size:
            ends = np.cumsum([v.size for _, v in block])
            found += [block[k] for k in np.unique(np.searchsorted(ends, large, side="right"))]
    return found


#: A whole number written out in 16 digits or more: float64 may not hold it.
_LONG_INTEGER: Final = re.compile(rf"{_BLANKS}[+-]?[0-9]{{16,}}{_BLANKS}", re.ASCII)


def _is_inexact_integer(text: str, value: float) -> bool:
    """Whether ``text`` writes out a whole number that ``value``, its float, is not."""
    return bool(_LONG_INTEGER.fullmatch(text)) and int(text) != int(value)


def require_exact_counts(table: Table, columns: Iterable[str | None] | None, option: str) -> None:
    """Raise InvalidDataError when one of ``columns`` of ``table`` (None: all) holds
    a count that float64 cannot hold: ``9007199254740993`` reads as 2^53, one less.

    Counts are whole numbers up to 2^53; beyond it float64 holds only every second
    (then fourth, ...) one, so such a count would be counted as another.
    """
    names = list(table.inexact) if columns is None else [c or _ONLY for c in columns]
    for name in names:
        if name in table.inexact:
            row, text = table.inexact[name]
            value = float(table.columns[name][row])  # type: ignore[index]
            where = table.where(row, None if name == _ONLY else name)
            raise InvalidDataError(
                f"{table.source}: {where}: {option} needs counts, and {_shorten(text)} is "
                f"not exactly representable (it reads as {value:.17g}); counts beyond "
                "2^53 (9007199254740992) lose their last digits"
            )


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """What a SOURCE argument names: its display name, its format and its bytes."""

    name: str
    format: str | None  # None: to be sniffed from the content
    data: bytes | None  # None for inline numbers
    inline: str | None = None


def open_source(arg: str, input_format: str | None = None, stdin: BinaryIO | None = None) -> Source:
    """Resolve a SOURCE argument: ``-`` (stdin), an existing path, or inline numbers.

    The bytes are read with a bound (see :func:`memory_available`): an input too large
    to hold is InputTooLargeError (exit 66) before it is read, or as soon as a stream
    passes the bound; a NUL byte, which no text holds, is InvalidDataError as soon as
    it is seen (so ``/dev/zero`` ends at once).
    """
    if input_format is not None and input_format not in FORMATS:
        raise UsageError(f"unknown input format {input_format!r}; choose csv, tsv or json")
    if not arg.strip():
        raise UsageError("an empty SOURCE; give a file, - for standard input, or numbers")
    if arg == "-":
        if stdin is None:
            if sys.stdin is None:  # file descriptor 0 closed: Python has no sys.stdin
                raise InputMissingError(f"{STDIN_NAME}: cannot read (standard input is closed)")
            stdin = sys.stdin.buffer
        return Source(STDIN_NAME, input_format, _read_stream(STDIN_NAME, stdin))
    shown = visible(arg)
    try:
        st = os.stat(arg)
    except FileNotFoundError:
        if _looks_inline(arg):
            return Source(arg, None, None, inline=arg)
        if os.path.islink(arg):
            raise InputMissingError(f"{shown}: a symlink to a missing file") from None
        raise InputMissingError(f"{shown}: no such file") from None
    except OSError as e:  # a name longer than the system takes (ENAMETOOLONG): no file
        if _looks_inline(arg):
            return Source(arg, None, None, inline=arg)
        if e.errno == errno.ELOOP:
            raise InputMissingError(
                f"{shown}: a symlink loop (too many levels of symbolic links)"
            ) from None
        if e.errno == errno.ENOTDIR:
            raise InputMissingError(f"{shown}: no such file (a parent is not a folder)") from None
        raise InputMissingError(f"{_shorten(shown)}: cannot read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputMissingError(f"{shown}: is a directory, not a file")
    try:
        with open(arg, "rb") as f:
            if stat.S_ISREG(st.st_mode):
                _check_size(shown, st.st_size)
                data = f.read()
                _refuse_nul(shown, data, 0, 1)
            else:  # a device or a pipe (/dev/zero, <(...)): its size is unknown
                data = _read_stream(shown, f)
    except PermissionError:
        raise InputMissingError(f"{shown}: permission denied") from None
    except MemoryError:
        raise _too_large(shown, st.st_size) from None
    except OSError as e:
        raise InputMissingError(f"{shown}: cannot read ({e.strerror or e})") from None
    fmt = input_format or _EXTENSIONS.get(Path(arg).suffix.lower())
    return Source(arg, fmt, data)


class InputTooLargeError(InputMissingError):
    """An input larger than the memory kldiv may use to read it (exit status 66)."""


#: Bytes of memory per byte of input that reading takes at the least: the bytes
#: themselves and one pass of work of the same size (NumPy's scan of a CSV, the text
#: decoded from them); the parsed values often take more.
READ_FACTOR: Final = 2
#: Inputs up to this size are read without asking how much memory is free.
_SMALL_INPUT: Final = 64 << 20
_CHUNK: Final = 1 << 20


def memory_available() -> int:
    """Bytes of memory this process may still take
    (:func:`kldiv_cli.readers.resources.available_memory`); when nothing says, a figure so
    large that the reader's MemoryError is the bound."""
    room = resources.available_memory()
    return 1 << 62 if room is None else room


def _too_large(
    name: str, size: int, available: int | None = None, more: bool = False
) -> InputTooLargeError:
    """The error for an input of ``size`` bytes (``more``: at least) that memory cannot
    hold while it is read."""
    if available is None:
        available = memory_available()
    held = f"more than {size_text(size)} and still going" if more else size_text(size)
    return InputTooLargeError(
        f"{name}: too large to read ({held}): reading it needs at least "
        f"{size_text(READ_FACTOR * size)} of memory, and {size_text(available)} is available"
    )


def _check_size(name: str, size: int) -> None:
    """Refuse an input of ``size`` bytes that cannot fit in memory, before reading it."""
    if size > _SMALL_INPUT:
        available = memory_available()
        if READ_FACTOR * size > available:
            raise _too_large(name, size, available)


def _refuse_nul(name: str, chunk: bytes, offset: int, line: int) -> None:
    """A NUL byte is in no text kldiv reads (RFC 4180 and JSON have no place for one):
    refuse it where it is. ``chunk`` starts at byte ``offset`` of the input, on line
    ``line``. Bytes that are not UTF-8 at all are reported as that, first."""
    at = chunk.find(b"\0")
    if at < 0:
        return
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(chunk) - 4:  # not just a character cut at the chunk's end
            bad_line = line + chunk.count(b"\n", 0, e.start)
            raise InvalidDataError(
                f"{name}: line {bad_line}: not valid UTF-8 "
                f"(byte 0x{chunk[e.start]:02x} at offset {offset + e.start})"
            ) from None
    nul_line = line + chunk.count(b"\n", 0, at)
    raise InvalidDataError(
        f"{name}: line {nul_line}: a NUL byte (at offset "
        f"{offset + at}) is not text; kldiv reads UTF-8 CSV, TSV or JSON"
    )


def _read_stream(name: str, stream: BinaryIO) -> bytes:
    """All of a stream of unknown length, in chunks: refused as soon as it passes what
    memory can hold, or holds a NUL byte."""
    chunks: list[bytes] = []
    total = 0
    line = 1
    available: int | None = None
    try:
        while chunk := stream.read(_CHUNK):
            _refuse_nul(name, chunk, total, line)
            chunks.append(chunk)
            total += len(chunk)
            line += chunk.count(b"\n")
            if total > _SMALL_INPUT:
                if available is None:
                    available = memory_available()
                if READ_FACTOR * total > available:
                    raise _too_large(name, total, available, more=True)
        return b"".join(chunks)
    except KldivError:
        raise
    except MemoryError:
        chunks.clear()
        raise _too_large(name, total) from None
    except (OSError, ValueError) as e:  # EBADF, EIO; ValueError: a closed file object
        raise InputMissingError(
            f"{name}: cannot read ({getattr(e, 'strerror', None) or e})"
        ) from None


def _looks_inline(arg: str) -> bool:
    """Inline numbers, by their first entry (a bad later one is reported by its place)."""
    return bool(_NUMBERISH.fullmatch(arg.split(",", 1)[0]))


def _shorten(text: str, limit: int = 60) -> str:
    """A long argument cut for a one-line message."""
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def sniff(data: bytes) -> str:
    """JSON when the first non-blank byte is ``{`` or ``[``; TSV when the header has a
    tab and no comma; else CSV."""
    body = data.lstrip(b" \t\r\n\xef\xbb\xbf")
    if body[:1] in (b"{", b"["):
        return "json"
    first_line = data.lstrip(b"\r\n\xef\xbb\xbf").split(b"\n", 1)[0]
    return "tsv" if b"\t" in first_line and b"," not in first_line else "csv"


def parse_delimiter(text: str) -> str:
    """``--delimiter``: one character; ``\\t`` or ``tab`` is a tab.

    Refused: a quote or line end (RFC 4180 gives them other roles), and a character
    that can be part of a number (a digit, a letter, ``.``, ``+``, ``-``).
    """
    char = "\t" if text in ("\\t", "tab", "TAB") else text
    if len(char) != 1:
        raise UsageError(
            f"--delimiter {text!r}: give one character, e.g. ';' (or \\t or tab for a tab)"
        )
    printable = char.isascii() and char.isprintable() and not char.isalnum()
    if char == "\t" or (printable and char not in '".+-'):
        return char
    raise UsageError(f"--delimiter {text!r}: cannot separate fields; e.g. ';', '|' or tab")


def separator(fmt: str, delimiter: str | None) -> str:
    """The field separator of a CSV/TSV source: ``--delimiter`` (already checked by
    :func:`parse_delimiter`), else a tab for TSV and a comma for CSV."""
    if delimiter is not None:
        return parse_delimiter(delimiter)
    return "\t" if fmt == "tsv" else ","


def read_table(
    arg: str,
    *,
    input_format: str | None = None,
    no_header: bool = False,
    label: str | None = None,
    delimiter: str | None = None,
    stdin: BinaryIO | None = None,
) -> Table:
    """Read a SOURCE argument into a :class:`Table`.

    ``delimiter`` separates the fields of CSV/TSV (default: by the format); JSON and
    inline numbers do not use it.
    """
    if delimiter is not None:
        parse_delimiter(delimiter)  # a bad one is a usage error whatever the source
    src = open_source(arg, input_format, stdin)
    if src.inline is not None:
        return _inline_table(src.inline)
    assert src.data is not None
    data = src.data[3:] if src.data.startswith(_BOM) else src.data  # dropped once, here
    fmt = src.format or sniff(data)
    with _parsing(src):
        if fmt == "json":
            return _json_table(src.name, data, label)
        return _csv_table(src.name, data, separator(fmt, delimiter), no_header, label)


#: The longest field the csv module reads: any (its default, 131,072 characters, is
#: a limit that neither pandas nor the in-place reader has, so a long label was
#: refused on the lines the csv module reads and accepted on the others). 2^31 - 1:
#: what a C long holds everywhere; memory bounds the input first.
FIELD_SIZE_LIMIT: Final = 2**31 - 1


@contextmanager
def _parsing(src: Source) -> Iterator[None]:
    """Around the parsing of a source's bytes: fields of any length, and running out
    of memory is InputTooLargeError naming the source and its size, never exit 70."""
    old = csv.field_size_limit(FIELD_SIZE_LIMIT)
    try:
        yield
    except MemoryError:
        raise _too_large(visible(src.name), len(src.data or b"")) from None
    finally:
        csv.field_size_limit(old)


_BOM: Final = b"\xef\xbb\xbf"


def _inline_table(text: str) -> Table:
    cells = text.split(",")
    values = np.empty(len(cells))
    for i, cell in enumerate(cells):
        number = parse_number(cell)
        if number is None:
            raise InvalidDataError(
                f"inline numbers {_shorten(text)!r}: entry {i + 1} ({cell!r}) is not a number"
                f"{number_hint(cell)}"
            )
        values[i] = number
    table = Table(text, Labels.by_position(len(cells)), None, {_ONLY: values}, takes_labels=False)
    table.inexact = _inexact_counts(table.columns, lambda _, rows: [cells[i] for i in rows])
    return table


# --------------------------------------------------------------------------- CSV / TSV


def _decode_error(name: str, data: bytes, e: UnicodeDecodeError) -> InvalidDataError:
    line = data.count(b"\n", 0, e.start) + 1
    return InvalidDataError(
        f"{name}: line {line}: not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})"
    )


def _head_records(
    name: str, data: bytes, sep: str, count: int, size: int = 1 << 16
) -> list[list[str]]:
    """The first ``count`` records, parsed by the csv module (for the header), from the
    first ``size`` bytes cut at a line end; from more when those do not hold them."""
    head = data[:size]
    truncated = len(head) < len(data)
    if truncated:  # whole lines only: a cut record would look complete
        head = head[: head.rfind(b"\n") + 1]
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not just a character cut at the 64 KiB boundary
            raise _decode_error(name, data, e) from None
        text = head[: e.start].decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    records: list[list[str]] = []
    start = 1  # the line where the record being read starts
    try:
        for record in reader:
            if record:
                records.append(record)
            if len(records) == count:
                break
            start = reader.line_num + 1
    except csv.Error as e:
        if len(records) < count:  # past the records needed, the full parse reports it
            if truncated:
                return _head_records(name, data, sep, count, size * 16)
            line = _csv_error_line(e, reader.line_num, start)
            raise InvalidDataError(f"{name}: line {line}: {_csv_problem(e)}") from None
    if truncated and len(records) < count:
        return _head_records(name, data, sep, count, size * 16)
    return records


def _csv_problem(e: csv.Error) -> str:
    text = str(e)
    if "unexpected end of data" in text:
        return "a quoted field is never closed (unexpected end of data)"
    return text


def _csv_error_line(e: csv.Error, line_num: int, start: int) -> int:
    """Where a csv error is: a quote never closed is where its record starts (the
    reader only notices at the end of the data); anything else, where the reader is."""
    return start if "unexpected end of data" in str(e) else line_num


def _stray_quote(text: str, sep: str) -> int | None:
    """The offset of a quote inside an unquoted field (RFC 4180 forbids it), or None.

    Run after the csv module has accepted ``text``: every quoted field is then well
    formed, and a quote that does not open a field (at the start of the text or after
    a separator or line end) is a stray one.
    """
    pattern = _STRAY_QUOTE.get(sep)
    if pattern is None:
        field_start = re.escape(sep) + r"\r\n"
        pattern = _STRAY_QUOTE[sep] = re.compile(
            rf'(?:(?<=[{field_start}])|^)"[^"]*(?:""[^"]*)*"|"'
        )
    for match in pattern.finditer(text):
        if len(match.group()) == 1:
            return match.start()
    return None


_STRAY_QUOTE: dict[str, re.Pattern[str]] = {}


def _csv_table(name: str, data: bytes, sep: str, no_header: bool, label: str | None) -> Table:
    records = _head_records(name, data, sep, 2)
    if not records:
        raise InvalidDataError(f"{name}: empty input: no header and no rows")
    if no_header:
        header = [str(i) for i in range(1, len(records[0]) + 1)]
        first_row = records[0]
    else:
        header = records[0]
        if len(records) < 2:
            raise InvalidDataError(f"{name}: a header and no data rows")
        first_row = records[1]
    _check_header(name, header)

    if label is not None:
        if label not in header:
            raise UsageError(
                f"{name}: no column {quote(label)} for --label; columns: {_names(header)}"
            )
        label_idx: int | None = header.index(label)
    elif first_row and parse_number(first_row[0]) is None:
        label_idx = 0
    else:
        label_idx = None  # decided below: the first column, if not all numeric
    del records, first_row  # a wide table's first row: a million strings

    grid = _Grid.scan(data, sep, len(header), no_header)
    if grid is None:
        return _csv_table_slow(name, data, sep, header, no_header, label_idx)

    data_idx = [i for i in range(len(header)) if i != label_idx]
    counts = _whole_number_columns(grid, data, header, data_idx)
    numeric: dict[str, FloatArray | None] = dict(counts or {})
    problems: dict[str, tuple[int, str]] = {}
    if counts is not None and not data.isascii():
        try:  # pandas would have decoded the whole input; its labels are still text
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise _decode_error(name, data, e) from None
    if counts is None:
        frame = _read_frame(name, data, sep=sep, header=None if no_header else 0, usecols=data_idx)
        numeric, problems = _frame_columns(frame, [header[i] for i in data_idx])
    if label_idx is None and numeric[header[0]] is None:
        label_idx = 0  # the first column is not all numbers: it holds the labels
        del numeric[header[0]], problems[header[0]]
    table = Table(name, Labels.by_position(grid.rows), None, numeric, problems, grid.line_of)
    if counts is None:  # whole numbers read in place have at most 15 digits: exact
        table.inexact = _inexact_counts(
            numeric, lambda column, rows: grid.labels(data, header.index(column), rows)
        )
    if label_idx is not None:
        column = label_idx
        table.label_column = header[column]
        table.labels = Labels(
            grid.rows,
            lambda: grid.labels(data, column),
            pick=lambda rows: grid.labels(data, column, rows),
        )
        grid.check_unique_labels(data, column, table)
    return table


def _whole_number_columns(
    grid: _Grid, data: bytes, header: list[str], data_idx: list[int]
) -> dict[str, FloatArray] | None:
    """Every data column read in place when all its fields are plain whole numbers
    (counts, the common case), else None: pandas then reads them all.

    Importing pandas alone costs ~0.35 s, longer than reading a million counts, so a
    table of counts is read without it. All the columns are read in a few vectorised
    passes (:meth:`_Grid.whole_numbers`), not one column at a time: a table of one row
    and a million columns took 31 s that way, in a million small passes.
    """
    values = grid.whole_numbers(data, data_idx)
    if values is None:
        return None
    # Iterating a 2-D array gives its rows as views in C: one per column, no copy.
    return dict(zip([header[i] for i in data_idx], values, strict=True))


def _read_frame(name: str, data: bytes, **options: Any) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(
            io.BytesIO(data),
            na_filter=False,
            index_col=False,
            encoding="utf-8-sig",
            skip_blank_lines=True,
            **options,
        )
    except UnicodeDecodeError as e:
        raise _decode_error(name, data, e) from None
    except pd.errors.EmptyDataError:
        raise InvalidDataError(f"{name}: empty input: no header and no rows") from None
    except (pd.errors.ParserError, ValueError, OverflowError) as e:
        message = str(e).strip().split("C error: ")[-1].rstrip(".")
        raise InvalidDataError(f"{name}: {message[:1].lower()}{message[1:]}") from None


def _frame_columns(
    frame: Any, names: list[str]
) -> tuple[dict[str, FloatArray | None], dict[str, tuple[int, str]]]:
    """The columns of ``frame``, named ``names``, as :func:`_numeric_columns` gives
    them: those pandas read as numbers taken out together, as one float64 block (a
    million columns of one row took a million ``iloc`` calls, a minute); only the
    others are looked at one by one."""
    kinds = [dtype.kind for dtype in frame.dtypes.tolist()]
    numeric_at = [k for k, kind in enumerate(kinds) if kind in "iuf"]
    columns: dict[str, FloatArray | None] = dict.fromkeys(names)
    # A frame of some columns costs seconds to make for 10^5 of them: all, when all
    # are numbers (the common case). Transposed and copied: each column a contiguous
    # row of the block, as a view.
    some = frame if len(numeric_at) == len(kinds) else frame.iloc[:, numeric_at]
    block = np.ascontiguousarray(some.to_numpy(np.float64).T)
    columns.update(zip([names[k] for k in numeric_at], block, strict=True))
    others = {names[k]: frame.iloc[:, k] for k, kind in enumerate(kinds) if kind not in "iuf"}
    parsed, problems = _numeric_columns(others)
    columns.update(parsed)
    return columns, problems


def _numeric_columns(
    columns: dict[str, Any],
) -> tuple[dict[str, FloatArray | None], dict[str, tuple[int, str]]]:
    """Each column as float64, or None with its first cell that is not a number."""
    numeric: dict[str, FloatArray | None] = {}
    problems: dict[str, tuple[int, str]] = {}
    for name, series in columns.items():
        kind = series.dtype.kind
        if kind in "iuf":
            numeric[name] = series.to_numpy(dtype=np.float64)
            continue
        cells = series.tolist()
        values = np.empty(len(cells))
        for row, cell in enumerate(cells):
            if isinstance(cell, str):
                number = parse_number(cell)
            elif isinstance(cell, int | float) and not isinstance(cell, bool):
                number = _int_to_float(cell) if isinstance(cell, int) else cell
            else:
                number = None
            if number is None:
                numeric[name] = None
                what = "is empty (or the row is short)" if cell == "" else "is not a number"
                problems[name] = (row, f"{cell!r} {what}{number_hint(cell)}")
                break
            values[row] = number
        else:
            numeric[name] = values
    return numeric, problems


# 1,234 or 12,345,678(.5): grouped thousands, or a decimal comma; 1,5 or 1.234,5: a
# decimal comma (with dots grouping the thousands).
_THOUSANDS: Final = re.compile(r"\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\s*", re.ASCII)
_DECIMAL_COMMA: Final = re.compile(r"\s*[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*),\d+\s*", re.ASCII)


def _comma_hint(cell: str) -> str:
    """Why a cell with a comma may not be a number: a hint for the error message."""
    if _THOUSANDS.fullmatch(cell):
        return (
            " (a thousands separator or a decimal comma? kldiv reads '.' as the decimal "
            "point and takes no thousands separator)"
        )
    if _DECIMAL_COMMA.fullmatch(cell):
        return " (a decimal comma? kldiv reads '.' as the decimal point)"
    return ""


def _int_to_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf  # beyond the float range: reported as not finite


def _csv_table_slow(
    name: str, data: bytes, sep: str, header: list[str], no_header: bool, label_idx: int | None
) -> Table:
    """Quoted fields, blank lines or ragged rows: parse with the csv module for exact
    lines (and the first ragged row), then pandas with the label column as text."""
    import pandas as pd

    lines, _ = _strict_records(name, data, sep, len(header))
    if not no_header:
        lines = lines[1:]
    if not lines:
        raise InvalidDataError(f"{name}: a header and no data rows")
    # The label column (or the first, while undecided) is read as text, exactly.
    text_idx = 0 if label_idx is None else label_idx
    frame = _read_frame(
        name,
        data,
        sep=sep,
        header=None if no_header else 0,
        dtype={text_idx if no_header else header[text_idx]: str},
    )
    series = {header[i]: frame.iloc[:, i] for i in range(len(header))}
    texts = series.pop(header[text_idx]).tolist()
    numeric, problems = _numeric_columns(series)

    def texts_of(column: str, rows: list[int]) -> list[str]:
        if column == header[text_idx]:
            return [texts[row] for row in rows]
        i = header.index(column)
        cells = _read_frame(
            name, data, sep=sep, header=None if no_header else 0, usecols=[i], dtype=str
        )
        return [str(cells.iloc[row, 0]) for row in rows]

    if label_idx is None:
        first, _ = _numeric_columns({header[0]: pd.Series(texts, dtype=object)})
        if first[header[0]] is not None:  # all numbers: a data column, and no labels
            numeric = {header[0]: first[header[0]], **numeric}
            table = Table(
                name, Labels.by_position(len(texts)), None, numeric, problems, lines.__getitem__
            )
            table.inexact = _inexact_counts(numeric, texts_of)
            return table
    table = Table(name, Labels.of(texts), header[text_idx], numeric, problems, lines.__getitem__)
    table.inexact = _inexact_counts(numeric, texts_of)
    _check_unique(texts, table)
    return table


def _strict_records(
    name: str, data: bytes, sep: str, width: int, keep: Sequence[int] = ()
) -> tuple[list[int], list[list[str]]]:
    """Check every record of a CSV/TSV as RFC 4180 and kldiv want it (the one home of
    these checks, for tables and raw rows): valid UTF-8, each record ``width`` fields,
    every quote closed and none inside an unquoted field. Returns the line where each
    record (the header too) starts, and the fields ``keep`` of every record, by column.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _decode_error(name, data, e) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    lines: list[int] = []
    fields: list[list[str]] = [[] for _ in keep]
    seen: dict[str, str] = {}
    start = 1
    try:
        for record in reader:
            if record:
                if len(record) != width:
                    raise InvalidDataError(
                        f"{name}: line {start}: expected {width} fields, saw {len(record)}"
                    )
                lines.append(start)
                for column, i in zip(fields, keep, strict=True):
                    # one string per distinct value: a million rows hold few categories
                    column.append(seen.setdefault(record[i], record[i]))
            start = reader.line_num + 1
    except csv.Error as e:
        line = _csv_error_line(e, reader.line_num, start)
        raise InvalidDataError(f"{name}: line {line}: {_csv_problem(e)}") from None
    stray = _stray_quote(text, sep)
    if stray is not None:
        start = max(text.rfind(c, 0, stray) for c in (sep, "\n", "\r")) + 1
        ends = [i for i in (text.find(c, stray) for c in (sep, "\n", "\r")) if i >= 0]
        field = text[start : min(ends, default=len(text))]
        raise InvalidDataError(
            f"{name}: line {text.count(chr(10), 0, stray) + 1}: a quote inside the unquoted "
            f"field {field!r}; quote the whole field and double its quotes"
        )
    return lines, fields


def _check_header(name: str, header: list[str]) -> None:
    """A column name twice is an error: which column would a name pick?"""
    if len(set(header)) == len(header):  # the common case, in C: 10^6 names in 0.05 s
        return
    seen: set[str] = set()
    for col in header:
        if col in seen:
            raise InvalidDataError(f"{name}: line 1: column name {quote(col)} appears twice")
        seen.add(col)


def _check_unique(labels: list[str], table: Table) -> None:
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


def _names(names: Sequence[str]) -> str:
    return ", ".join(quote(n) for n in names)


#: The most digits a whole number may have to be read in place: 15 are always exact
#: in float64; longer ones go through pandas, which rounds them as kldiv specifies.
_MAX_DIGITS: Final = 15


class _Grid:
    """Where every field of a simple CSV lies, found by one vectorised pass.

    Simple: no quote character, no blank line, every row with the header's number of
    fields. Then the separators and newlines, in file order, form a grid of
    ``columns`` marks per row; anything else is left to the csv module.
    """

    def __init__(self, marks: NDArray[np.intp], columns: int, header_rows: int):
        self.marks = marks.reshape(-1, columns)  # per row: its separators, then its end
        self.header_rows = header_rows
        self.rows = self.marks.shape[0] - header_rows
        self._spans: dict[int, tuple[NDArray[np.intp], NDArray[np.intp]]] = {}

    @classmethod
    def scan(cls, data: bytes, sep: str, columns: int, no_header: bool) -> _Grid | None:
        if b'"' in data:
            return None
        if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
            return None  # a bare \r: pandas ends a row there, the grid would not
        b = np.frombuffer(data, np.uint8)
        is_mark = b == ord(sep)
        is_mark |= b == 10
        marks = np.flatnonzero(is_mark)
        kinds = b[marks] == 10
        if not data.endswith(b"\n"):  # the last row ends at the end of the data
            marks = np.append(marks, len(data))
            kinds = np.append(kinds, True)
        if marks.size % columns:
            return None
        grid = kinds.reshape(-1, columns)
        if grid[:, :-1].any() or not grid[:, -1].all():
            return None
        found = cls(marks, columns, 0 if no_header else 1)
        return found if found.rows > 0 else None

    def line_of(self, row: int) -> int:
        return row + self.header_rows + 1

    def spans(self, data: bytes, column: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Start and end offsets of each data row's field ``column``."""
        if column not in self._spans:
            self._spans[column] = self._find_spans(data, column)
        return self._spans[column]

    def _find_spans(self, data: bytes, column: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        starts, ends = self._block_spans(data, column, column + 1)
        return starts[0], ends[0]

    def whole_numbers(self, data: bytes, columns: Sequence[int]) -> FloatArray | None:
        """Fields ``columns`` (increasing) of every data row as float64, one row of
        the result per column, when each field is 1 to 15 ASCII digits (so exact in
        float64, as pandas reads it), else None.

        The fields are read in blocks of adjacent columns of about ``_FIELDS`` fields
        each: a table of one row and a million columns in one pass, a tall one a
        column at a time, so temporaries stay a few block sizes however the table is
        shaped.
        """
        out = np.empty((len(columns), self.rows))
        step = max(1, _FIELDS // self.rows)
        # Blocks of columns that lie side by side in the grid (the label column, left
        # out, is the only gap), at most ``step`` of them.
        wanted = np.asarray(columns, dtype=np.intp)
        runs = np.flatnonzero(np.diff(wanted) != 1) + 1
        for run_start, run_stop in zip(
            [0, *runs.tolist()], [*runs.tolist(), wanted.size], strict=True
        ):
            for first in range(run_start, run_stop, step):
                stop = min(first + step, run_stop)
                lo = int(wanted[first])
                starts, ends = self._block_spans(data, lo, lo + stop - first)
                if not _read_whole(data, starts, ends, out[first:stop]):
                    return None
        return out

    def _block_spans(
        self, data: bytes, lo: int, hi: int
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Start and end offsets of fields ``lo`` to ``hi - 1`` of each data row,
        shaped (columns, rows): what :meth:`spans` gives for each column, stacked."""
        marks = self.marks[self.header_rows :]
        ends = marks[:, lo:hi].T  # a view: the marks are not copied
        # A field starts after the mark before it: the previous field's separator or,
        # for column 0, the previous row's end.
        starts = np.empty(ends.shape, dtype=np.intp)
        np.add(marks[:, max(lo, 1) - 1 : hi - 1].T, 1, out=starts[1 if lo == 0 else 0 :])
        if lo == 0:
            starts[0, 0] = self.marks[self.header_rows - 1, -1] + 1 if self.header_rows else 0
            np.add(marks[:-1, -1], 1, out=starts[0, 1:])
        if hi == self.marks.shape[1]:  # the last field may end in the \r of a \r\n
            b = np.frombuffer(data, np.uint8)
            e, s = ends[-1], starts[-1]
            ends = ends.copy()
            ends[-1] = e - ((e > s) & (b[np.maximum(e - 1, 0)] == 13))
        return starts, ends

    def labels(self, data: bytes, column: int, rows: Sequence[int] | None = None) -> list[str]:
        """The labels of ``rows`` (default: all), decoded from their bytes."""
        starts, ends = self.spans(data, column)
        if rows is not None:
            starts, ends = starts[list(rows)], ends[list(rows)]
        return [
            data[s:e].decode("utf-8") for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
        ]

    def check_unique_labels(self, data: bytes, column: int, table: Table) -> None:
        """Raise InvalidDataError on a duplicate label, reading the label bytes in place.

        Each label becomes one 64-bit key: its bytes themselves when it has at most 8
        (then equal keys are equal labels), else a hash of its bytes, 8 at a time.
        Sorted keys that repeat send the labels to an exact check. The work is done
        in a few reused buffers: fresh memory is what costs most on a cold start.
        """
        starts, ends = self.spans(data, column)
        lengths = ends - starts
        longest = int(lengths.max())
        if longest == 0 or longest > 256:  # all empty, or long: the exact check is as cheap
            _check_unique(table.labels.values, table)
            return
        words = np.frombuffer(data, np.uint64, count=len(data) // 8)  # a view, no copy
        offsets = starts.astype(np.uint64)
        key = np.empty_like(offsets)
        spare = np.empty_like(offsets)
        bits = np.empty_like(offsets)
        h = None
        for offset in range(0, longest, 8):
            _word_at(data, words, offsets, key, spare, bits)
            # keep min(length - offset, 8) bytes: clear the high bits past the label
            signed = bits.view(np.int64)
            np.subtract(lengths, offset, out=signed)
            np.clip(signed, 0, 8, out=signed)
            bits <<= np.uint64(3)
            key &= _low_bits(bits, spare)
            if longest <= 8:
                h = key
                break
            if h is None:
                h = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
            h ^= key
            h *= np.uint64(0x100000001B3)
            h ^= h >> np.uint64(29)
            offsets += np.uint64(8)
        assert h is not None
        h.sort()  # faster than a hash table for a million unique keys
        if (h[1:] == h[:-1]).any():
            _check_unique(table.labels.values, table)


#: Fields per block when whole numbers are read in place: ~8 MB per temporary.
_FIELDS: Final = 1 << 20


def _read_whole(
    data: bytes, starts: NDArray[np.intp], ends: NDArray[np.intp], out: FloatArray
) -> bool:
    """Write into ``out`` the whole numbers that the fields from ``starts`` to
    ``ends`` of ``data`` spell, when each is 1 to 15 ASCII digits; else False.

    Digit by digit, right-aligned: digit j of a field of the longest length sits at
    ``end - longest + j``; a shorter field has leading zeros there, masked to 0
    instead of read.
    """
    lengths = ends - starts
    if lengths.min() < 1 or lengths.max() > _MAX_DIGITS:
        return False
    b = np.frombuffer(data, np.uint8)
    longest = int(lengths.max())
    pos = ends - longest
    value = np.zeros(lengths.shape, dtype=np.int64)
    digit = np.empty(lengths.shape, dtype=np.uint8)
    inside = np.empty(lengths.shape, dtype=np.bool_)
    for j in range(longest):
        np.take(b, pos, out=digit, mode="clip")
        digit -= np.uint8(48)  # '0'..'9' -> 0..9; any other byte wraps above 9
        np.greater_equal(lengths, longest - j, out=inside)
        digit *= inside
        if digit.max() > 9:
            return False
        value *= 10
        value += digit
        pos += 1
    out[...] = value
    return True


def _low_bits(bits: NDArray[np.uint64], out: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """A mask of the low ``bits`` bits (0 to 64) of each word, in ``out``."""
    np.left_shift(np.uint64(1), bits & np.uint64(63), out=out)
    out -= np.uint64(1)
    out[bits == 64] = np.uint64(0xFFFFFFFFFFFFFFFF)
    return out


def _word_at(
    data: bytes,
    words: NDArray[np.uint64],
    offsets: NDArray[np.uint64],
    out: NDArray[np.uint64],
    high: NDArray[np.uint64],
    shift: NDArray[np.uint64],
) -> NDArray[np.uint64]:
    """The 8 bytes at each byte offset of ``data`` (zeros past its end), as a
    little-endian uint64, from ``words``: the aligned words of ``data``."""
    if words.size == 0:  # under 8 bytes in all: every offset is done by hand below
        words = np.zeros(1, dtype=np.uint64)
    last = np.uint64(words.size - 1)
    np.right_shift(offsets, np.uint64(3), out=shift)
    np.minimum(shift, last, out=shift)
    np.take(words, shift, out=out)
    shift += np.uint64(1)
    np.minimum(shift, last, out=shift)
    np.take(words, shift, out=high)
    np.bitwise_and(offsets, np.uint64(7), out=shift)
    shift <<= np.uint64(3)
    out >>= shift
    # high word: shifted left by 64 - shift, which is 0 bits (not 64) when shift == 0
    aligned = shift == 0
    np.subtract(np.uint64(64), shift, out=shift)
    shift &= np.uint64(63)
    high <<= shift
    high[aligned] = 0
    out |= high
    # The few offsets whose 16-byte window runs past the aligned words: by hand.
    for i in np.flatnonzero(offsets + np.uint64(16) > np.uint64(len(data) // 8 * 8)).tolist():
        start = int(offsets[i])
        out[i] = int.from_bytes(data[start : start + 8].ljust(8, b"\0"), "little")
    return out


# --------------------------------------------------------------------------- JSON


def _reject_constant(token: str) -> float:
    raise _ConstantError(token)


class _ConstantError(InvalidDataError):
    """NaN, Infinity or -Infinity in a JSON text; where it is is found afterwards."""

    def __init__(self, token: str):
        super().__init__(f"{token} is not valid JSON (use a number)")
        self.token = token


# A JSON string (skipped) or one of the constants json.loads takes and JSON has not.
_CONSTANT: Final = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')


def _constant_place(text: str, token: str) -> str:
    """``line 3, column 8``: where the first ``token`` outside a string is."""
    for match in _CONSTANT.finditer(text):
        if match.group(1) == token:
            at = match.start()
            line = text.count("\n", 0, at) + 1
            return f"line {line}, column {at - text.rfind(chr(10), 0, at)}"
    return "somewhere"  # pragma: no cover - json.loads met it, so it is there


class _Number(float):
    """A JSON number that remembers how it was written (for labels: ``--label id``)."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> _Number:
        number = super().__new__(cls, text)  # float() of a digit string never raises
        number.text = text
        return number


_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _check_text(text: str, what: str) -> str:
    """A JSON string that is to be a label: a lone surrogate (``"\\ud800"``) is not a
    character, and could not be written out."""
    if not text.isascii() and _SURROGATE.search(text):
        raise InvalidDataError(f"{what} {quote(text)} holds a lone UTF-16 surrogate")
    return text


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(f"key {quote(key)} appears twice in one object")
        out[_check_text(key, "key")] = value
    return out


def _json_column(
    values: Iterable[tuple[int, Any]], size: int
) -> tuple[FloatArray | None, tuple[int, str] | None, tuple[int, str] | None]:
    """The numbers at their rows (0 elsewhere), or None and the first row that holds
    something else: a column that is not numeric is an error only when it is used.
    Third: the first number that float64 does not hold exactly, when its text was
    kept (see :func:`_json_table`), with that text."""
    out = np.zeros(size)
    inexact = None
    for row, value in values:
        if not isinstance(value, float):  # parse_int=float: every JSON number is a float
            problem = f"{json.dumps(value)[:40]} is not a number{number_hint(value)}"
            return None, (row, problem), None
        out[row] = value
        if (
            inexact is None
            and isinstance(value, _Number)
            and _EXACT_UP_TO <= abs(value) < math.inf
            and _is_inexact_integer(value.text, value)
        ):
            inexact = (row, value.text)
    return out, None, inexact


def _json_columns_of(
    pairs: Iterable[tuple[str, Iterable[tuple[int, Any]]]], size: int
) -> tuple[dict[str, FloatArray | None], dict[str, tuple[int, str]], dict[str, tuple[int, str]]]:
    columns: dict[str, FloatArray | None] = {}
    problems: dict[str, tuple[int, str]] = {}
    inexact: dict[str, tuple[int, str]] = {}
    for col, values in pairs:
        columns[col], problem, first_inexact = _json_column(values, size)
        if problem is not None:
            problems[col] = problem
        if first_inexact is not None:
            inexact[col] = first_inexact
    return columns, problems, inexact


def _load_json(name: str, data: bytes, number: Callable[[str], float]) -> Any:
    """The JSON document of ``data``, read strictly (the one JSON reader of tables and
    raw rows): no NaN or Infinity, no key twice in one object, no lone surrogate in a
    key; every error is InvalidDataError naming ``name`` and, where known, the line.
    Numbers become ``number(text)``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _decode_error(name, data, e) from None
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            object_pairs_hook=_pairs,
            parse_int=number,
            parse_float=number,
        )
    except json.JSONDecodeError as e:
        raise InvalidDataError(
            f"{name}: line {e.lineno}, column {e.colno}: invalid JSON: {e.msg}"
        ) from None
    except _ConstantError as e:
        raise InvalidDataError(f"{name}: {_constant_place(text, e.token)}: {e}") from None
    except _DuplicateKeyError as e:
        line = _duplicate_key_line(text)
        where = "" if line is None else f"line {line}: "
        raise InvalidDataError(f"{name}: {where}{e}") from None
    except InvalidDataError as e:
        raise InvalidDataError(f"{name}: {e}") from None
    except RecursionError:
        raise InvalidDataError(f"{name}: invalid JSON: nested too deeply") from None


class _DuplicateKeyError(InvalidDataError):
    """A key twice in one JSON object; which line is found afterwards."""


# A JSON string (a key when a colon follows it) or a bracket: enough to follow objects.
_JSON_TOKEN: Final = re.compile(r'"(?:[^"\\]|\\.)*"\s*:?|[{}\[\]]')


def _duplicate_key_line(text: str) -> int | None:
    """The line of the first key that repeats within its object (None: not found).

    Run only after json.loads has met the duplicate: the text is then valid JSON up
    to it, so strings and brackets are all this needs to follow the objects.
    """
    keys: list[set[str] | None] = []  # per open bracket: an object's keys, or None
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("{", "["):
            keys.append(set() if token == "{" else None)
        elif token in ("}", "]"):
            if keys:
                keys.pop()
        elif token.endswith(":") and keys and keys[-1] is not None:
            key = json.loads(token[:-1].rstrip())
            if key in keys[-1]:
                return text.count("\n", 0, match.start()) + 1
            keys[-1].add(key)
    return None  # pragma: no cover - json.loads met it, so it is there


def _json_table(name: str, data: bytes, label: str | None) -> Table:
    # With --label, a number may be a label: keep its text, as written.
    table = _json_doc_table(
        name, _load_json(name, data, float if label is None else _Number), label
    )
    if label is None and _has_large_values(table):
        # Numbers of 2^53 or more: only their texts tell whether float64 holds them
        # exactly (a count must be), so the document is read again keeping them.
        table = _json_doc_table(name, _load_json(name, data, _Number), label)
    return table


def _has_large_values(table: Table) -> bool:
    """Whether a column holds a finite value of magnitude 2^53 or more."""
    with np.errstate(invalid="ignore"):
        return any(
            bool(((np.abs(v) >= _EXACT_UP_TO) & np.isfinite(v)).any())
            for v in table.columns.values()
            if v is not None
        )


def _json_doc_table(name: str, doc: Any, label: str | None) -> Table:
    if isinstance(doc, dict):
        if not doc:
            raise InvalidDataError(f"{name}: an empty JSON object holds no distribution")
        if all(isinstance(v, dict | list) for v in doc.values()):
            return _json_named(name, doc)
        return _json_columns(name, {_ONLY: doc})
    if isinstance(doc, list):
        if not doc:
            raise InvalidDataError(f"{name}: an empty JSON array holds no distribution")
        if all(isinstance(v, dict) for v in doc):
            return _json_records(name, doc, label)
        return _json_columns(name, {_ONLY: doc})
    raise InvalidDataError(
        f"{name}: a JSON {type(doc).__name__} is not a distribution; "
        "give an object label -> number, an array of numbers, or an object of them"
    )


def _json_named(name: str, doc: dict[str, Any]) -> Table:
    kinds = {type(v) for v in doc.values()}
    if len(kinds) > 1:
        raise InvalidDataError(
            f"{name}: mixes labelled (objects) and unlabelled (arrays) distributions"
        )
    return _json_columns(name, doc)


def _json_columns(name: str, doc: dict[str, Any]) -> Table:
    """Columns given as label -> number objects (labels: their union) or as arrays."""
    first = next(iter(doc.values()))

    if isinstance(first, list):
        sizes = {len(v) for v in doc.values()}
        if len(sizes) > 1:
            raise InvalidDataError(f"{name}: the arrays differ in length ({sorted(sizes)})")
        size = sizes.pop()
        if size == 0:
            raise InvalidDataError(f"{name}: an empty JSON array holds no distribution")
        columns, problems, inexact = _json_columns_of(
            ((c, enumerate(a)) for c, a in doc.items()), size
        )
        table = Table(name, Labels.by_position(size), None, columns, problems, takes_labels=False)
        table.inexact = inexact
        return table
    union: dict[str, int] = {}
    for obj in doc.values():
        for key in obj:
            union.setdefault(key, len(union))
    if not union:
        raise InvalidDataError(f"{name}: an empty JSON object holds no distribution")
    columns, problems, inexact = _json_columns_of(
        ((col, ((union[k], v) for k, v in obj.items())) for col, obj in doc.items()), len(union)
    )
    table = Table(name, Labels.of(list(union)), None, columns, problems, inexact=inexact)
    table.sizes = {col: len(obj) for col, obj in doc.items()}  # entries read, not the union
    return table


def _record_keys(name: str, records: list[dict[str, Any]]) -> list[str]:
    """The keys every record has (a table's columns): the same in each, at least one."""
    keys = list(records[0])
    for i, rec in enumerate(records):
        if list(rec) != keys and set(rec) != set(keys):
            raise InvalidDataError(
                f"{name}: record {i + 1} has keys {_names(list(rec))}, record 1 has {_names(keys)}"
            )
    if not keys:
        raise InvalidDataError(f"{name}: the records have no keys")
    return keys


def _json_records(name: str, records: list[dict[str, Any]], label: str | None) -> Table:
    keys = _record_keys(name, records)
    if label is not None:
        if label not in keys:
            raise UsageError(f"{name}: no key {quote(label)} for --label; keys: {_names(keys)}")
        label_key: str | None = label
    else:
        label_key = next((k for k in keys if isinstance(records[0][k], str)), None)
    labels = None
    if label_key is not None:
        labels = []
        for i, rec in enumerate(records):
            value = rec[label_key]
            if isinstance(value, str):
                _check_text(value, f"{name}: record {i + 1}: label")
            elif label is not None and isinstance(value, _Number):  # as written
                value = value.text
            else:
                raise InvalidDataError(
                    f"{name}: record {i + 1}: label {quote(label_key)} "
                    f"is {json.dumps(value)}, not a string"
                )
            labels.append(value)
    columns, problems, inexact = _json_columns_of(
        (
            (key, ((i, rec[key]) for i, rec in enumerate(records)))
            for key in keys
            if key != label_key
        ),
        len(records),
    )
    if not columns:
        raise InvalidDataError(f"{name}: the records have no numeric key")
    table = Table(
        name,
        Labels.by_position(len(records)) if labels is None else Labels.of(labels),
        label_key,
        columns,
        problems,
        inexact=inexact,
    )
    if labels is not None:
        _check_unique(labels, table)
    return table


# --------------------------------------------------------------------------- alignment


@dataclass
class Aligned:
    """Two distributions over one list of labels (absent = 0), pseudocount added."""

    labels: Labels
    p: FloatArray
    q: FloatArray

    @property
    def size(self) -> int:
        return self.labels.size


def align(p: Distribution, q: Distribution, pseudocount: float = 0.0) -> Aligned:
    """Line ``p`` and ``q`` up by label over the union of their labels (P's order, then
    Q's new labels), or by position when both are unlabelled."""
    if p.labels is q.labels or (p.labels.positional and q.labels.positional):
        if p.values.size != q.values.size:
            raise InvalidDataError(
                f"lengths differ: {p.name} has {p.values.size} values "
                f"and {q.name} has {q.values.size}"
            )
        labels, pv, qv = p.labels, p.values, q.values
    elif p.labels.positional or q.labels.positional:
        bare, named = (p, q) if p.labels.positional else (q, p)
        raise InvalidDataError(
            f"{bare.name} has no labels and {named.name} has; give both labels or neither"
        )
    else:
        labels, pv, qv = _union(p, q)
    if pseudocount:
        pv = pv + pseudocount
        qv = qv + pseudocount
    return Aligned(labels, pv, qv)


def _union(p: Distribution, q: Distribution) -> tuple[Labels, FloatArray, FloatArray]:
    return union_of(p.labels, q.labels, p.values, q.values)


def union_of(
    p_labels: Labels, q_labels: Labels, p_values: FloatArray, q_values: FloatArray
) -> tuple[Labels, FloatArray, FloatArray]:
    """Values over the union of two label lists (P's order, then Q's new labels; absent
    = 0), along the last axis: one distribution each, or a stack of them."""
    p_names, q_names = p_labels.values, q_labels.values
    if p_names == q_names:
        return p_labels, p_values, q_values
    index = {lab: i for i, lab in enumerate(p_names)}
    union = list(p_names)
    q_pos = np.empty(len(q_names), dtype=np.intp)
    for j, lab in enumerate(q_names):
        i = index.get(lab)
        if i is None:
            i = index[lab] = len(union)
            union.append(lab)
        q_pos[j] = i
    pv = np.zeros((*p_values.shape[:-1], len(union)))
    pv[..., : len(p_names)] = p_values
    qv = np.zeros((*q_values.shape[:-1], len(union)))
    qv[..., q_pos] = q_values
    return Labels.of(union), pv, qv


# --------------------------------------------------------------------------- position


def label_candidates(table: Table, used: Collection[str]) -> list[str]:
    """Columns of an unlabelled table that could hold its labels: numeric, not in
    ``used`` (the columns read as distributions), and no value twice.

    The spec takes the first column as labels only when its values are not all
    numbers, so a year or a bin number is data unless ``--label`` names it.
    """
    if not (table.labels.positional and table.takes_labels):
        return []
    return [
        name
        for name, values in table.columns.items()
        if name != _ONLY
        and name not in used
        and values is not None
        and np.unique(values).size == values.size
    ]


def label_hint(table: Table) -> str:
    """For an error that asks which column is data: the first column, when it could
    instead hold the labels, as ``, or --label year if 'year' holds labels``."""
    names = label_candidates(table, list(table.columns)[1:])
    if not names:
        return ""
    return f", or --label {shlex.quote(names[0])} if {quote(names[0])} holds labels"


def position_warning(sides: Sequence[tuple[Table, Collection[str]]], what: str) -> list[str]:
    """The warning when distributions of different tables are aligned (``what``: "P
    and Q are aligned") by row position while a column could hold labels (none: an
    empty list).

    ``sides`` pairs each table with the columns it gives as distributions. A column
    that every table with named columns has is suggested as ``--label NAME``, which
    applies to every source. No warning when a side cannot take labels at all.
    """
    if not all(table.takes_labels for table, _ in sides):
        return []  # inline numbers or a JSON array: position is the only order there is
    found = [(table, label_candidates(table, used)) for table, used in sides]
    named = [(table, names) for table, names in found if names]
    if not named:
        return []
    common = [
        name
        for _, names in named
        for name in names
        if all(name in table.columns for table, _ in sides)
    ]
    if common:
        name = common[0]
        hint = f"column {quote(name)} could hold labels: --label {shlex.quote(name)} aligns by it"
    else:
        columns = " and ".join(f"column {quote(names[0])} of {t.source}" for t, names in named)
        hint = f"{columns} could hold labels (--label names the same column in every source)"
    return [f"{what} by row position; {hint}"]


# --------------------------------------------------------------------------- checks


def is_close_to_integer(x: float) -> bool:
    return abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))


def probability_warning(dist: Distribution) -> str | None:
    """The spec's hint: values all <= 1 that sum to neither 1 nor an integer."""
    total = dist.total
    if dist.values.max() > 1.0 or is_close_to_integer(total):
        return None
    return f"{dist.name} sums to {total!r}, not 1; it was normalized (did you mean probabilities?)"


def check_normalized(dist: Distribution) -> None:
    """For ``--no-normalize``: the values must sum to 1 within a relative 1e-9."""
    if not math.isclose(dist.total, 1.0, rel_tol=1e-9, abs_tol=0.0):
        raise InvalidDataError(
            f"{dist.name} sums to {dist.total!r}, not 1 (--no-normalize needs probabilities)"
        )


# --------------------------------------------------------------------------- raw data


def read_categories(
    arg: str,
    names: Sequence[str],
    *,
    input_format: str | None = None,
    no_header: bool = False,
    delimiter: str | None = None,
    stdin: BinaryIO | None = None,
) -> tuple[str, list[list[str]]]:
    """Columns ``names`` of a raw dataset (one row per observation) as text categories.

    Read as strictly as a table: a ragged row, a duplicate column name, a stray quote
    or a duplicate JSON key is InvalidDataError naming the line. Cells are kept
    exactly as written, like labels: ``""``, ``NA`` and ``1.0`` are categories of
    their own. CSV/TSV columns are named by the header (or 1, 2, ... with
    ``no_header``); JSON must be an array of records, each with the same keys (see
    :func:`_category` for how its values are spelled). Returns the source's name and
    one list of strings per name.
    """
    if delimiter is not None:
        parse_delimiter(delimiter)  # a bad one is a usage error whatever the source
    src = open_source(arg, input_format, stdin)
    if src.inline is not None:
        raise UsageError(f"{arg!r}: raw observations come from a file or -, not inline numbers")
    assert src.data is not None
    data = src.data[3:] if src.data.startswith(_BOM) else src.data
    fmt = src.format or sniff(data)
    with _parsing(src):
        return _categories(src.name, data, fmt, names, no_header, delimiter)


def _categories(
    source: str,
    data: bytes,
    fmt: str,
    names: Sequence[str],
    no_header: bool,
    delimiter: str | None,
) -> tuple[str, list[list[str]]]:
    if fmt == "json":
        return source, _json_categories(source, data, names)
    sep = separator(fmt, delimiter)
    records = _head_records(source, data, sep, 1)
    if not records:
        raise InvalidDataError(f"{source}: empty input: no header and no rows")
    header = [str(i) for i in range(1, len(records[0]) + 1)] if no_header else records[0]
    _check_header(source, header)
    for name in names:
        if name not in header:
            raise UsageError(f"{source}: no column {quote(name)}; columns: {_names(header)}")
    wanted = [header.index(n) for n in names]
    if _Grid.scan(data, sep, len(header), no_header) is not None:
        # A plain grid (no quote, no blank line, no bare \r, no ragged row): pandas
        # reads its fields as the csv module would, in less time and memory.
        frame = _read_frame(
            source, data, sep=sep, header=None if no_header else 0, usecols=wanted, dtype=str
        )
        position = {i: k for k, i in enumerate(sorted(wanted))}  # usecols keeps file order
        return source, [frame.iloc[:, position[i]].tolist() for i in wanted]
    # Anything else: the csv module checks every record, as for a table, and its
    # fields are the categories (pandas would read a bare \r otherwise).
    _, columns = _strict_records(source, data, sep, len(header), wanted)
    if not no_header:
        columns = [column[1:] for column in columns]
    if not columns[0]:
        raise InvalidDataError(f"{source}: a header and no data rows")
    return source, columns


def read_joint_counts(
    arg: str,
    x: str,
    y: str,
    *,
    input_format: str | None = None,
    no_header: bool = False,
    delimiter: str | None = None,
    stdin: BinaryIO | None = None,
) -> FloatArray:
    """The joint counts of columns ``x`` and ``y`` of raw data: one row per value of
    x, one column per value of y, in the order they first appear."""
    import pandas as pd

    if x == y:
        raise UsageError(f"--x and --y both name {quote(x)}; give two columns")
    _, (xs, ys) = read_categories(
        arg,
        [x, y],
        input_format=input_format,
        no_header=no_header,
        delimiter=delimiter,
        stdin=stdin,
    )
    x_codes, x_values = pd.factorize(pd.Series(xs, dtype=object), sort=False)
    y_codes, y_values = pd.factorize(pd.Series(ys, dtype=object), sort=False)
    nx, ny = len(x_values), len(y_values)
    cells = np.bincount(x_codes * ny + y_codes, minlength=nx * ny)
    return cells.reshape(nx, ny).astype(np.float64)


def _json_categories(name: str, data: bytes, names: Sequence[str]) -> list[list[str]]:
    doc = _load_json(name, data, _Number)  # a number is a category as written
    if not (isinstance(doc, list) and doc and all(isinstance(r, dict) for r in doc)):
        raise InvalidDataError(f"{name}: raw observations must be a JSON array of records")
    keys = _record_keys(name, doc)
    for col in names:
        if col not in keys:
            raise UsageError(f"{name}: no key {quote(col)}; keys: {_names(keys)}")
    try:
        return [[_category(record[col]) for record in doc] for col in names]
    except RecursionError:  # a value nested nearly as deep as json.loads goes
        raise InvalidDataError(f"{name}: invalid JSON: nested too deeply") from None


def _category(value: Any) -> str:
    """A JSON value as a category, spelled so that different values stay different.

    A number is kept as written (``1`` and ``1.0`` differ, as in a CSV); ``true``,
    ``false`` and ``null`` (a missing value, counted as a category of its own like an
    empty CSV field) are spelled so; an array or object as compact JSON. A string is
    itself, unless it reads as JSON (``"1"``, ``"true"``, ``"null"``, ``"\"a\""``):
    then it is spelled as JSON writes it, with quotes, so that ``1`` and ``"1"`` are
    two categories, ``1`` and ``"1"``.
    """
    if isinstance(value, str) and not _reads_as_json(value):
        return value
    return _compact(value)


def _compact(value: Any) -> str:
    """A JSON value as compact JSON text, its numbers as written."""
    if isinstance(value, _Number):
        return value.text
    if isinstance(value, list):
        return f"[{','.join(_compact(v) for v in value)}]"
    if isinstance(value, dict):
        return f"{{{','.join(f'{_compact(k)}:{_compact(v)}' for k, v in value.items())}}}"
    return json.dumps(value, ensure_ascii=False)  # a string, true, false or null


def _reads_as_json(text: str) -> bool:
    """Whether ``text`` is a whole JSON document (``1``, ``true``, ``"a"``, ``[1]``)."""
    head = text.lstrip(" \t\r\n")[:1]
    if not head or head not in '-0123456789"[{tfn':  # most categories stop here
        return False
    try:
        json.loads(text, parse_constant=_reject_constant)
    except (ValueError, InvalidDataError, RecursionError):
        return False
    return True
