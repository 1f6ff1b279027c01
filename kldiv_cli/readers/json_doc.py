"""JSON sources: the shapes kldiv reads, read strictly.

Owns :func:`load_json` (the one JSON reader of tables and raw rows: no NaN or
Infinity, no key twice in one object, no lone surrogate in a key, every error naming
the line) and :func:`json_table` (an object label -> number, an array of numbers, an
object of either, or an array of records).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any, Final

import numpy as np

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.readers.numbers import EXACT_UP_TO, is_inexact_integer, number_hint, quote
from kldiv_cli.readers.sources import decode_error
from kldiv_cli.readers.table import ONLY, FloatArray, Labels, Table, check_unique, names_text


def reject_constant(token: str) -> float:
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


class JsonNumber(float):
    """A JSON number that remembers how it was written (for labels: ``--label id``)."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> JsonNumber:
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
    kept (see :func:`json_table`), with that text."""
    out = np.zeros(size)
    inexact = None
    for row, value in values:
        if not isinstance(value, float):  # parse_int=float: every JSON number is a float
            problem = f"{json.dumps(value)[:40]} is not a number{number_hint(value)}"
            return None, (row, problem), None
        out[row] = value
        if (
            inexact is None
            and isinstance(value, JsonNumber)
            and EXACT_UP_TO <= abs(value) < math.inf
            and is_inexact_integer(value.text, value)
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


def load_json(name: str, data: bytes, number: Callable[[str], float]) -> Any:
    """The JSON document of ``data``, read strictly (the one JSON reader of tables and
    raw rows): no NaN or Infinity, no key twice in one object, no lone surrogate in a
    key; every error is InvalidDataError naming ``name`` and, where known, the line.
    Numbers become ``number(text)``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise decode_error(name, data, e) from None
    try:
        return json.loads(
            text,
            parse_constant=reject_constant,
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


def json_table(name: str, data: bytes, label: str | None) -> Table:
    # With --label, a number may be a label: keep its text, as written.
    table = _json_doc_table(
        name, load_json(name, data, float if label is None else JsonNumber), label
    )
    if label is None and _has_large_values(table):
        # Numbers of 2^53 or more: only their texts tell whether float64 holds them
        # exactly (a count must be), so the document is read again keeping them.
        table = _json_doc_table(name, load_json(name, data, JsonNumber), label)
    return table


def _has_large_values(table: Table) -> bool:
    """Whether a column holds a finite value of magnitude 2^53 or more."""
    with np.errstate(invalid="ignore"):
        return any(
            bool(((np.abs(v) >= EXACT_UP_TO) & np.isfinite(v)).any())
            for v in table.columns.values()
            if v is not None
        )


def _json_doc_table(name: str, doc: Any, label: str | None) -> Table:
    if isinstance(doc, dict):
        if not doc:
            raise InvalidDataError(f"{name}: an empty JSON object holds no distribution")
        if all(isinstance(v, dict | list) for v in doc.values()):
            return _json_named(name, doc)
        return _json_columns(name, {ONLY: doc})
    if isinstance(doc, list):
        if not doc:
            raise InvalidDataError(f"{name}: an empty JSON array holds no distribution")
        if all(isinstance(v, dict) for v in doc):
            return _json_records(name, doc, label)
        return _json_columns(name, {ONLY: doc})
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


def record_keys(name: str, records: list[dict[str, Any]]) -> list[str]:
    """The keys every record has (a table's columns): the same in each, at least one."""
    keys = list(records[0])
    for i, rec in enumerate(records):
        if list(rec) != keys and set(rec) != set(keys):
            raise InvalidDataError(
                f"{name}: record {i + 1} has keys {names_text(list(rec))}, "
                f"record 1 has {names_text(keys)}"
            )
    if not keys:
        raise InvalidDataError(f"{name}: the records have no keys")
    return keys


def _json_records(name: str, records: list[dict[str, Any]], label: str | None) -> Table:
    keys = record_keys(name, records)
    if label is not None:
        if label not in keys:
            raise UsageError(f"{name}: no key {quote(label)} for --label; keys: {names_text(keys)}")
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
            elif label is not None and isinstance(value, JsonNumber):  # as written
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
        check_unique(labels, table)
    return table
