"""Gaussian sources: a mean vector and a covariance matrix, for ``kldiv gauss``.

Owns :func:`read_gaussian`: a SOURCE argument (a file, ``-``, or inline
``MEAN,VARIANCE``) read into a :class:`GaussianSpec`, strictly (every number in
kldiv's grammar and finite, the shapes consistent), each error naming the source and,
in a CSV/TSV, the line and column; in JSON, the key and the index. Whether the
covariance is symmetric and positive definite is the maths' question, not this one's.

The forms:

- JSON: ``{"mean": [...], "cov": [[...], ...]}`` (``"covariance"`` is the same key),
  or ``{"mean": [...], "var": [...]}`` (``"variance"``): the diagonal of a diagonal
  covariance. In one dimension a bare number may stand for the 1-vector or 1x1 matrix.
  No other key is taken.
- CSV/TSV: the first row is the mean (d numbers), the next d rows the covariance
  matrix, d numbers each. A header row is allowed: a first row with a cell that is not
  a number is a header (its names are not used); ``--no-header`` says there is none.
  Blank lines are skipped.
- Inline: ``MEAN,VARIANCE``, the two numbers of a univariate N(mean, variance):
  ``0,1`` is the standard normal, ``0,4`` has standard deviation 2.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

import numpy as np

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.readers.json_doc import load_json
from kldiv_cli.readers.numbers import not_a_number, number_hint, parse_number, shorten
from kldiv_cli.readers.sources import (
    BOM,
    decode_error,
    open_source,
    parse_delimiter,
    parsing,
    separator,
    sniff,
)
from kldiv_cli.readers.table import FloatArray

#: The keys a JSON Gaussian may hold: the mean, and one way of giving its covariance.
MEAN_KEYS: Final = ("mean",)
COV_KEYS: Final = ("cov", "covariance")
VAR_KEYS: Final = ("var", "variance")


@dataclass(frozen=True)
class GaussianSpec:
    """A Gaussian as a source gives it (not yet checked for positive definiteness).

    ``form`` is ``"full"`` (a covariance matrix), ``"diagonal"`` (variances, JSON
    ``var``) or ``"inline"`` (``MEAN,VARIANCE``); ``cov`` is always the d x d matrix.
    """

    source: str
    mean: FloatArray
    cov: FloatArray
    form: str

    @property
    def dimensions(self) -> int:
        return int(self.mean.shape[0])


def read_gaussian(
    arg: str,
    *,
    input_format: str | None = None,
    no_header: bool = False,
    delimiter: str | None = None,
    stdin: BinaryIO | None = None,
) -> GaussianSpec:
    """Read a SOURCE argument into a :class:`GaussianSpec`.

    Parameters
    ----------
    arg : str
        A path, ``-`` for standard input, or inline ``MEAN,VARIANCE``.
    input_format : {"csv", "tsv", "json"}, optional
        The format; by default the file's extension, else sniffed from its content.
    no_header : bool
        CSV/TSV: the first row is the mean even when a cell of it is not a number
        (which is then an error).
    delimiter : str, optional
        The field separator of CSV/TSV.
    stdin : binary file, optional
        What ``-`` reads.

    Raises
    ------
    InvalidDataError
        A value that is not a finite number, or shapes that do not fit (exit 65).
    InputMissingError
        No such file, or one that cannot be read (exit 66).
    """
    if delimiter is not None:
        parse_delimiter(delimiter)
    src = open_source(arg, input_format, stdin)
    if src.inline is not None:
        return _inline(src.inline)
    assert src.data is not None
    data = src.data[len(BOM) :] if src.data.startswith(BOM) else src.data
    fmt = src.format or sniff(data)
    with parsing(src.name, len(data)):
        if fmt == "json":
            return _json(src.name, data)
        return _delimited(src.name, data, separator(fmt, delimiter), no_header)


def _inline(text: str) -> GaussianSpec:
    text = text.strip()  # the CLI gives ``-1,2`` a leading blank (see cli._GaussCommand)
    cells = text.split(",")
    if len(cells) != 2:
        raise InvalidDataError(
            f"inline Gaussian {shorten(text)!r}: give MEAN,VARIANCE (two numbers, e.g. 0,1 "
            f"for N(0, 1)), not {len(cells)}; a file gives more dimensions"
        )
    values = []
    for cell, what in zip(cells, ("the mean", "the variance"), strict=True):
        number = parse_number(cell)
        if number is None:
            raise InvalidDataError(
                f"inline Gaussian {shorten(text)!r}: {what} {cell!r} is not a number"
                f"{number_hint(cell)}"
            )
        if not math.isfinite(number):
            raise InvalidDataError(f"inline Gaussian {shorten(text)!r}: {what} is {number!r}")
        values.append(number)
    return GaussianSpec(text, np.array([values[0]]), np.array([[values[1]]]), "inline")


# --------------------------------------------------------------------------- JSON


def _json(name: str, data: bytes) -> GaussianSpec:
    doc = load_json(name, data, float)
    if not isinstance(doc, dict):
        raise InvalidDataError(
            f'{name}: a Gaussian in JSON is an object {{"mean": [...], "cov": [[...], ...]}}'
            f' (or "var": [...]), not {_kind(doc)}'
        )
    known = (*MEAN_KEYS, *COV_KEYS, *VAR_KEYS)
    unknown = [key for key in doc if key not in known]
    if unknown:
        raise InvalidDataError(
            f"{name}: unknown key {unknown[0]!r}; a Gaussian has mean and one of "
            f"{', '.join(known[1:])}"
        )
    if "mean" not in doc:
        raise InvalidDataError(f'{name}: no "mean"')
    spread = [key for key in (*COV_KEYS, *VAR_KEYS) if key in doc]
    if len(spread) != 1:
        raise InvalidDataError(
            f'{name}: give the covariance once, as "cov" (or "covariance": a matrix) or "var" '
            f'(or "variance": its diagonal)'
            + (f"; found {', '.join(repr(k) for k in spread)}" if spread else "")
        )
    key = spread[0]
    raw_mean = doc["mean"]
    mean = _vector(name, "mean", [raw_mean] if isinstance(raw_mean, float) else raw_mean)
    d = mean.size
    if key in VAR_KEYS:
        raw = doc[key]
        var = _vector(name, key, [raw] if isinstance(raw, float) and d == 1 else raw)
        if var.size != d:
            raise InvalidDataError(
                f'{name}: "{key}" has {var.size} entries and "mean" {d}; give one variance '
                "per dimension"
            )
        return GaussianSpec(name, mean, np.diag(var), "diagonal")
    raw = doc[key]
    if isinstance(raw, float) and d == 1:
        raw = [[raw]]
    if not isinstance(raw, list) or not all(isinstance(row, list) for row in raw):
        raise InvalidDataError(f'{name}: "{key}" is a matrix, an array of rows (arrays)')
    if len(raw) != d:
        raise InvalidDataError(
            f'{name}: "{key}" has {len(raw)} rows and "mean" {d} entries; the covariance '
            f"of {d} dimensions is {d} x {d}"
        )
    rows = []
    for i, row in enumerate(raw):
        values = _vector(name, f"{key}[{i}]", row)
        if values.size != d:
            raise InvalidDataError(
                f'{name}: "{key}" row {i + 1} has {values.size} entries, not {d} (as "mean")'
            )
        rows.append(values)
    return GaussianSpec(name, mean, np.array(rows), "full")


def _vector(name: str, key: str, raw: Any) -> FloatArray:
    """A JSON array of finite numbers (load_json turned every number into a float)."""
    if not isinstance(raw, list):
        raise InvalidDataError(f'{name}: "{key}" is {_kind(raw)}, not an array of numbers')
    if not raw:
        raise InvalidDataError(f'{name}: "{key}" is empty')
    for i, value in enumerate(raw):
        if not isinstance(value, float):
            raise InvalidDataError(f'{name}: "{key}"[{i}] is {_kind(value)}, not a number')
        if not math.isfinite(value):  # 1e999 reads as inf
            raise InvalidDataError(f'{name}: "{key}"[{i}] is beyond the float range ({value!r})')
    return np.array(raw, dtype=np.float64)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return f"the string {shorten(value, 30)!r}"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return f"the number {value!r}"


# --------------------------------------------------------------------------- CSV/TSV


def _delimited(name: str, data: bytes, sep: str, no_header: bool) -> GaussianSpec:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise decode_error(name, data, e) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows: list[tuple[int, list[str]]] = []  # (line, cells), blank lines left out
    try:
        for cells in reader:
            if cells and any(c.strip() for c in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as e:
        raise InvalidDataError(f"{name}: line {reader.line_num}: {e}") from None
    if not rows:
        raise InvalidDataError(f"{name}: empty: no mean and no covariance")
    if not no_header and any(parse_number(c) is None for c in rows[0][1]):
        rows = rows[1:]  # a header: its names say nothing kldiv uses
        if not rows:
            raise InvalidDataError(f"{name}: a header and no rows: no mean, no covariance")
    values = [_numbers(name, line, cells) for line, cells in rows]
    d = values[0].size
    if len(values) != d + 1:
        raise InvalidDataError(
            f"{name}: the mean (line {rows[0][0]}) has {d} entries, so {d} rows of "
            f"covariance follow it; found {len(values) - 1}"
        )
    for (line, _), row in zip(rows[1:], values[1:], strict=True):
        if row.size != d:
            raise InvalidDataError(
                f"{name}: line {line}: {row.size} numbers, where the mean has {d}"
            )
    return GaussianSpec(name, values[0], np.array(values[1:]), "full")


def _numbers(name: str, line: int, cells: list[str]) -> FloatArray:
    out = np.empty(len(cells))
    for j, cell in enumerate(cells):
        number = parse_number(cell)
        if number is None:
            raise InvalidDataError(f"{name}: line {line}, column {j + 1}: {not_a_number(cell)}")
        if not math.isfinite(number):
            what = "NaN" if math.isnan(number) else "infinite (or beyond the float range)"
            raise InvalidDataError(
                f"{name}: line {line}, column {j + 1}: {cell.strip()!r} is {what}"
            )
        out[j] = number
    return out
