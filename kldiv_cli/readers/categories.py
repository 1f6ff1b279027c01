"""Raw data: one row per observation, read as text categories.

Owns :func:`read_categories` (columns of a raw CSV, TSV or JSON as the strings they
hold, read as strictly as a table) and :func:`read_joint_counts` (the contingency
table of two of them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.readers.delimited import check_header, head_records, strict_records
from kldiv_cli.readers.json_doc import JsonNumber, load_json, record_keys, reject_constant
from kldiv_cli.readers.numbers import quote
from kldiv_cli.readers.sources import BOM, open_source, parse_delimiter, parsing, separator, sniff
from kldiv_cli.readers.table import FloatArray, names_text


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
    :func:`category_text` for how its values are spelled). Returns the source's name and
    one list of strings per name.
    """
    if delimiter is not None:
        parse_delimiter(delimiter)  # a bad one is a usage error whatever the source
    src = open_source(arg, input_format, stdin)
    if src.inline is not None:
        raise UsageError(f"{arg!r}: raw observations come from a file or -, not inline numbers")
    assert src.data is not None
    data = src.data[3:] if src.data.startswith(BOM) else src.data
    fmt = src.format or sniff(data)
    with parsing(src.name, len(src.data)):
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
    records = head_records(source, data, sep, 1)
    if not records:
        raise InvalidDataError(f"{source}: empty input: no header and no rows")
    header = [str(i) for i in range(1, len(records[0]) + 1)] if no_header else records[0]
    check_header(source, header)
    for name in names:
        if name not in header:
            raise UsageError(f"{source}: no column {quote(name)}; columns: {names_text(header)}")
    wanted = [header.index(n) for n in names]
    # The csv module checks every record, as for a table, and its fields are the
    # categories, exactly as written.
    _, columns = strict_records(source, data, sep, len(header), wanted)
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
    x_codes, nx = _codes(xs)
    y_codes, ny = _codes(ys)
    cells = np.bincount(x_codes * ny + y_codes, minlength=nx * ny)
    return cells.reshape(nx, ny).astype(np.float64)


def _codes(values: list[str]) -> tuple[NDArray[np.intp], int]:
    """Each value's code, 0, 1, ... in the order values first appear, and how many
    there are. A dict is a hash table in C: raw columns hold few categories, and
    importing pandas for its factorize took longer than this on any file that start-up
    matters for."""
    first: dict[str, int] = {}
    codes = np.fromiter((first.setdefault(v, len(first)) for v in values), np.intp, len(values))
    return codes, len(first)


def _json_categories(name: str, data: bytes, names: Sequence[str]) -> list[list[str]]:
    doc = load_json(name, data, JsonNumber)  # a number is a category as written
    if not (isinstance(doc, list) and doc and all(isinstance(r, dict) for r in doc)):
        raise InvalidDataError(f"{name}: raw observations must be a JSON array of records")
    keys = record_keys(name, doc)
    for col in names:
        if col not in keys:
            raise UsageError(f"{name}: no key {quote(col)}; keys: {names_text(keys)}")
    try:
        return [[category_text(record[col]) for record in doc] for col in names]
    except RecursionError:  # a value nested nearly as deep as json.loads goes
        raise InvalidDataError(f"{name}: invalid JSON: nested too deeply") from None


def category_text(value: Any) -> str:
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
    if isinstance(value, JsonNumber):
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
        json.loads(text, parse_constant=reject_constant)
    except (ValueError, InvalidDataError, RecursionError):
        return False
    return True
