"""Reading a SOURCE into a :class:`~kldiv_cli.readers.table.Table`: the entry point.

Owns :func:`read_table`, which opens the source (:mod:`~kldiv_cli.readers.sources`),
sniffs its format and hands its bytes to the reader of that format: inline numbers
here, CSV/TSV in :mod:`~kldiv_cli.readers.delimited`, JSON in
:mod:`~kldiv_cli.readers.json_doc`. Raw observations are read by
:mod:`~kldiv_cli.readers.categories`.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.readers.delimited import csv_table
from kldiv_cli.readers.json_doc import json_table
from kldiv_cli.readers.numbers import number_hint, parse_number, shorten
from kldiv_cli.readers.sources import (
    BOM,
    STDIN_NAME,
    Held,
    open_source,
    parse_delimiter,
    parsing,
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

    ``delimiter`` separates the fields of CSV/TSV (default: by the format); JSON and
    inline numbers do not use it.
    """
    if delimiter is not None:
        parse_delimiter(delimiter)  # a bad one is a usage error whatever the source
    src = open_source(arg, input_format, stdin)
    if src.inline is not None:
        return _inline_table(src.inline)
    assert src.data is not None
    name, size = src.name, len(src.data)
    held = Held(src.data[3:] if src.data.startswith(BOM) else src.data)  # BOM dropped here
    fmt = src.format or sniff(held.data)
    del src  # ``held`` is the only reference to the bytes: a reader may let them go
    with parsing(name, size):
        if fmt == "json":
            return json_table(name, held.data, label)
        return csv_table(name, held, separator(fmt, delimiter), no_header, label)


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
