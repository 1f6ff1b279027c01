"""CSV and TSV sources, read strictly.

Owns the header (:func:`head_records`, :func:`check_header`), the choice of the label
column, and the two readers of a delimited table: the stdlib :mod:`csv` module for
small inputs and for anything unusual (:func:`_stdlib_table`: every record checked
as RFC 4180 wants it, every cell by :func:`~kldiv_cli.readers.numbers.parse_number`,
so that an error names its exact line, column and label), and a columnar library for
large clean ones (:mod:`kldiv_cli.readers.columnar`, imported only then: start-up is
what a small file costs). Also the strict records of raw data
(:func:`strict_records`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Sequence
from typing import Final

import numpy as np

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.readers.numbers import (
    EXACT_UP_TO,
    is_inexact_integer,
    not_a_number,
    parse_number,
    quote,
)
from kldiv_cli.readers.sources import Held, decode_error
from kldiv_cli.readers.table import FloatArray, Labels, Table, check_unique, names_text

#: From this size on, a CSV/TSV is read by the columnar library: below it, importing
#: the library costs more than the csv module takes to read the whole input.
LIBRARY_FROM: Final = 1 << 20
#: The most columns the columnar library is given: it costs per column, and a wide
#: table of few rows is read as fast by the csv module.
LIBRARY_WIDEST: Final = 1024


def head_records(
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
            raise decode_error(name, data, e) from None
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
                return head_records(name, data, sep, count, size * 16)
            line = csv_error_line(e, reader.line_num, start)
            raise InvalidDataError(f"{name}: line {line}: {csv_problem(e)}") from None
    if truncated and len(records) < count:
        return head_records(name, data, sep, count, size * 16)
    return records


def csv_problem(e: csv.Error) -> str:
    text = str(e)
    if "unexpected end of data" in text:
        return "a quoted field is never closed (unexpected end of data)"
    return text


def csv_error_line(e: csv.Error, line_num: int, start: int) -> int:
    """Where a csv error is: a quote never closed is where its record starts (the
    reader only notices at the end of the data); anything else, where the reader is."""
    return start if "unexpected end of data" in str(e) else line_num


def stray_quote(text: str, sep: str) -> int | None:
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


def csv_table(
    name: str, held: Held, sep: str, no_header: bool, label: str | None, *, library: bool = True
) -> Table:
    """The table of a CSV/TSV source whose bytes ``held`` holds (a BOM dropped).

    The header names the columns (1, 2, ... with ``no_header``); the label column is
    ``label``, else the first when its first cell is not a number, else the first
    when any of its cells is not a number, else none (rows named by position). A large
    input goes to the columnar library first (unless ``library`` is False: it has
    already declined it). ``held`` is never bound to a local name here: the columnar
    reader releases the bytes once it has parsed them.
    """
    header, label_idx = _header(name, head_records(name, held.data, sep, 2), no_header, label)
    if library and len(held.data) >= LIBRARY_FROM and len(header) <= LIBRARY_WIDEST:
        from kldiv_cli.readers import columnar  # pyarrow: imported only here

        table = columnar.csv_table(name, held, sep, header, no_header, label_idx)
        if table is not None:
            return table
    return _stdlib_table(name, held.data, sep, header, no_header, label_idx)


def csv_file(
    name: str, path: str, head: bytes, sep: str, no_header: bool, label: str | None
) -> Table | None:
    """The table of a large CSV/TSV file that was not read (``head``: its first whole
    lines), read by the columnar library from ``path``; None when the library path
    does not take it (the caller then reads the file and :func:`csv_table` reads it).
    """
    if b'"' in head:  # a quoted field may run past the head: the whole file decides
        return None
    records = head_records(name, head, sep, 2)
    if len(records) < (1 if no_header else 2):
        return None  # a header longer than the head, or no rows: read it all
    header, label_idx = _header(name, records, no_header, label)
    if len(header) > LIBRARY_WIDEST:
        return None
    from kldiv_cli.readers import columnar  # pyarrow: imported only here

    return columnar.csv_file(name, path, sep, header, no_header, label_idx)


def _header(
    name: str, records: list[list[str]], no_header: bool, label: str | None
) -> tuple[list[str], int | None]:
    """The column names, from the first ``records`` of a source, and the index of the
    label column (None: the first if not all its cells are numbers, decided later)."""
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
    check_header(name, header)
    if label is not None:
        if label not in header:
            raise UsageError(
                f"{name}: no column {quote(label)} for --label; columns: {names_text(header)}"
            )
        return header, header.index(label)
    if first_row and parse_number(first_row[0]) is None:
        return header, 0
    return header, None  # decided by the reader: the first column, if not all numeric


def _stdlib_table(
    name: str, data: bytes, sep: str, header: list[str], no_header: bool, label_idx: int | None
) -> Table:
    """Read every record with the csv module, strictly (:func:`_records`), and every
    data cell with :func:`parse_number`: the reader of small inputs, where start-up
    is what costs, and of anything the library path leaves (it then names the exact
    line, column and label of what is wrong).

    The label column (the first, while undecided) is kept as text; a data column is
    read until its first cell that is not a number, which is recorded as its
    problem (an error only if the column is used).
    """
    width = len(header)
    text_idx = 0 if label_idx is None else label_idx
    data_idx = [i for i in range(width) if i != label_idx]
    values: list[list[float] | None] = [[] for _ in data_idx]
    problems: dict[str, tuple[int, str]] = {}
    inexact: dict[str, tuple[int, str]] = {}
    texts: list[str] = []
    lines: list[int] = []
    records = _records(name, data, sep, width)
    if not no_header:
        next(records)
    for row, (line, record) in enumerate(records):
        lines.append(line)
        texts.append(record[text_idx])
        for k, i in enumerate(data_idx):
            column = values[k]
            if column is None:
                continue
            cell = record[i]
            number = parse_number(cell)
            if number is None:
                values[k] = None
                problems[header[i]] = (row, not_a_number(cell))
                continue
            column.append(number)
            if (
                EXACT_UP_TO <= abs(number) < math.inf
                and header[i] not in inexact
                and is_inexact_integer(cell, number)
            ):
                inexact[header[i]] = (row, cell.strip())
    if not lines:
        raise InvalidDataError(f"{name}: a header and no data rows")
    numeric: dict[str, FloatArray | None] = {
        header[i]: None if column is None else np.array(column, dtype=np.float64)
        for i, column in zip(data_idx, values, strict=True)
    }
    del values
    if label_idx is None and numeric[header[0]] is None:
        label_idx = 0  # the first column is not all numbers: it holds the labels
        del numeric[header[0]], problems[header[0]]
        inexact.pop(header[0], None)
    if label_idx is None:
        return Table(
            name,
            Labels.by_position(len(lines)),
            None,
            numeric,
            problems,
            lines.__getitem__,
            inexact=inexact,
        )
    table = Table(
        name,
        Labels.of(texts),
        header[label_idx],
        numeric,
        problems,
        lines.__getitem__,
        inexact=inexact,
    )
    check_unique(texts, table)
    return table


def _records(name: str, data: bytes, sep: str, width: int) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record of a CSV/TSV (the header too) and the line it starts on,
    checked as RFC 4180 and kldiv want it: valid UTF-8, ``width`` fields, every quote
    closed and none inside an unquoted field (that last check runs at the end)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise decode_error(name, data, e) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    start = 1
    try:
        for record in reader:
            if record:
                if len(record) != width:
                    raise InvalidDataError(
                        f"{name}: line {start}: expected {width} fields, saw {len(record)}"
                    )
                yield start, record
            start = reader.line_num + 1
    except csv.Error as e:
        line = csv_error_line(e, reader.line_num, start)
        raise InvalidDataError(f"{name}: line {line}: {csv_problem(e)}") from None
    if '"' in text:
        _refuse_stray_quote(name, text, sep)


def strict_records(
    name: str, data: bytes, sep: str, width: int, keep: Sequence[int] = ()
) -> tuple[list[int], list[list[str]]]:
    """Check every record of a CSV/TSV as RFC 4180 and kldiv want it (the one home of
    these checks, for tables and raw rows): valid UTF-8, each record ``width`` fields,
    every quote closed and none inside an unquoted field. Returns the line where each
    record (the header too) starts, and the fields ``keep`` of every record, by column.
    """
    lines: list[int] = []
    fields: list[list[str]] = [[] for _ in keep]
    seen: dict[str, str] = {}
    for line, record in _records(name, data, sep, width):
        lines.append(line)
        for column, i in zip(fields, keep, strict=True):
            # one string per distinct value: a million rows hold few categories
            column.append(seen.setdefault(record[i], record[i]))
    return lines, fields


def check_header(name: str, header: list[str]) -> None:
    """A column name twice is an error: which column would a name pick?"""
    if len(set(header)) == len(header):  # the common case, in C: 10^6 names in 0.05 s
        return
    seen: set[str] = set()
    for col in header:
        if col in seen:
            raise InvalidDataError(f"{name}: line 1: column name {quote(col)} appears twice")
        seen.add(col)


def _refuse_stray_quote(name: str, text: str, sep: str) -> None:
    """InvalidDataError naming the line and field of a quote inside an unquoted field."""
    stray = stray_quote(text, sep)
    if stray is not None:
        start = max(text.rfind(c, 0, stray) for c in (sep, "\n", "\r")) + 1
        ends = [i for i in (text.find(c, stray) for c in (sep, "\n", "\r")) if i >= 0]
        field = text[start : min(ends, default=len(text))]
        raise InvalidDataError(
            f"{name}: line {text.count(chr(10), 0, stray) + 1}: a quote inside the unquoted "
            f"field {field!r}; quote the whole field and double its quotes"
        )
