"""Reading a SOURCE into a :class:`~kldiv_cli.readers.table.Table`: the entry point.

Owns :func:`read_table`, which opens the source (:mod:`~kldiv_cli.readers.sources`),
sniffs its format and hands its bytes to the reader of that format: inline numbers
here, CSV/TSV in :mod:`~kldiv_cli.readers.delimited`, JSON in
:mod:`~kldiv_cli.readers.json_doc`. Raw observations are read by
:mod:`~kldiv_cli.readers.categories`.
"""

from __future__ import annotations

import os
from typing import BinaryIO

import numpy as np

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.readers.delimited import LIBRARY_FROM, csv_file, csv_table
from kldiv_cli.readers.json_doc import json_table
from kldiv_cli.readers.numbers import number_hint, parse_number, shorten
from kldiv_cli.readers.sources import (
    BOM,
    STDIN_NAME,
    Held,
    Source,
    load,
    open_source,
    parse_delimiter,
    parsing,
    read_head,
    separator,
    sniff,
)
from kldiv_cli.readers.table import ONLY, Labels, Table, inexact_counts

__all__ = ["STDIN_NAME", "read_table"]


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

    Parameters
    ----------
    arg : str
        A path, ``-`` for standard input, or inline numbers such as ``0.9,0.1``.
    input_format : {"csv", "tsv", "json"}, optional
        The format; by default the file's extension, else sniffed from its content.
    no_header : bool
        CSV/TSV: the first line is data; the columns are named 1, 2, ...
    label : str, optional
        The column (CSV/TSV) or key (JSON records) that holds the labels.
    delimiter : str, optional
        The field separator of CSV/TSV (default: by the format); JSON and inline
        numbers do not use it.
    stdin : binary file, optional
        What ``-`` reads (default: the process's standard input).

    Returns
    -------
    Table
        Its numeric columns, labels and where each row is. A large clean CSV/TSV is
        read by pyarrow.csv (its labels stay in Arrow); anything else by the stdlib
        csv module or the JSON reader.

    Raises
    ------
    InvalidDataError
        Bad content (exit 65), naming the source, line, column and label.
    InputMissingError
        No such file, or one that cannot be read or is too large (exit 66).
    UsageError
        A bad option, such as a ``--label`` that names no column (exit 64).
    """
    if delimiter is not None:
        parse_delimiter(delimiter)  # a bad one is a usage error whatever the source
    src = open_source(arg, input_format, stdin, defer_from=LIBRARY_FROM)
    if src.inline is not None:
        return _inline_table(src.inline)
    library = True  # whether the columnar library is still to be asked
    if src.path is not None:  # a large file, not read: the columnar library may read it
        table, library = _large_file(src, no_header, label, delimiter)
        if table is not None:
            return table
        src = load(src)  # read it whole, for the csv module or the JSON reader
    assert src.data is not None
    name, size = src.name, len(src.data)
    held = Held(src.data[3:] if src.data.startswith(BOM) else src.data)  # BOM dropped here
    fmt = src.format or sniff(held.data)
    del src  # ``held`` is the only reference to the bytes: a reader may let them go
    with parsing(name, size):
        if fmt == "json":
            return json_table(name, held.data, label)
        return csv_table(name, held, separator(fmt, delimiter), no_header, label, library=library)


def _large_file(
    src: Source, no_header: bool, label: str | None, delimiter: str | None
) -> tuple[Table | None, bool]:
    """The table of a large file read by the columnar library from its path, or None
    when it is not a CSV/TSV that the library takes whole (JSON, a quote, ...); and
    whether the library is still worth asking once the file is read (it is, when only
    its head made this path decline: a BOM, a header longer than the head)."""
    assert src.path is not None
    head = read_head(src)
    if not head or head.startswith(BOM):
        return None, True
    fmt = src.format or sniff(head)
    if fmt == "json":
        return None, False
    with parsing(src.name, os.stat(src.path).st_size):
        sep = separator(fmt, delimiter)
        return csv_file(src.name, src.path, head, sep, no_header, label), False


def _inline_table(text: str) -> Table:
    cells = text.split(",")
    values = np.empty(len(cells))
    for i, cell in enumerate(cells):
        number = parse_number(cell)
        if number is None:
            raise InvalidDataError(
                f"inline numbers {shorten(text)!r}: entry {i + 1} ({cell!r}) is not a number"
                f"{number_hint(cell)}"
            )
        values[i] = number
    table = Table(text, Labels.by_position(len(cells)), None, {ONLY: values}, takes_labels=False)
    table.inexact = inexact_counts(table.columns, lambda _, rows: [cells[i] for i in rows])
    return table
