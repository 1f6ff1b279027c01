"""Spelling for every format: numbers (shortest round-trip text, ``inf``), JSON values,
CSV/TSV cells, and data text made safe for people (:func:`shown`).

Machine formats print floats as the shortest text that round-trips (``repr``) and
infinity as ``inf`` (the JSON string ``"inf"``); they are never coloured. Nothing here
imports rich or pandas.
"""

from __future__ import annotations

import codecs
import json
import math
import re
import sys
from collections.abc import Iterator
from typing import Any, Final

from kldiv_cli.commands.results import MEASURES, EntropyResult, PairsResult
from kldiv_cli.errors import visible


def number(x: float) -> str:
    """The shortest text that reads back as ``x``; ``inf`` for infinity; never ``-0.0``."""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(float(x) + 0.0)


def json_value(x: Any) -> Any:
    """Floats made JSON-safe: infinity as the string ``"inf"`` (never ``Infinity``)."""
    if isinstance(x, float):
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x + 0.0
    if isinstance(x, dict):
        return {k: json_value(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_value(v) for v in x]
    return x


def dumps(doc: dict[str, Any]) -> str:
    # allow_nan=False: a NaN or infinity that escaped json_value is a bug, not output.
    return json.dumps(json_value(doc), ensure_ascii=False, allow_nan=False) + "\n"


def human(x: float) -> str:
    """A value for people: six significant digits, ``inf`` for infinity."""
    if math.isinf(x):
        return "inf"
    return f"{x + 0.0:.6g}"


def output_encoding() -> str:
    """The encoding of standard output, by its codec's name (``utf-8``, ``ascii``)."""
    name = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def shown(text: str) -> str:
    r"""Text from data as a table shows it: control characters made visible
    (:func:`~kldiv_cli.errors.visible`), and, when the output's encoding cannot hold a
    character (``PYTHONIOENCODING=ascii``), that character as ``\xe9`` or ``\u2016``,
    before the table measures the widths (escaped later, the columns would not line up).
    """
    text = visible(text)
    encoding = output_encoding()
    if encoding == "utf-8":
        return text
    return text.encode(encoding, "backslashreplace").decode(encoding)


def number_rows(values: Any) -> list[str]:
    """Each row of a 2-D float array as ``repr`` texts joined by commas (``inf`` for
    infinity): what ``",".join(map(number, row))`` gives, about ten times faster.

    Python's ``repr`` costs ~0.6 µs a float: three seconds for a 2,000 x 2,000
    matrix. orjson writes the same shortest round-trip digits in C, and spells them
    exactly as ``repr`` does for 0 and for magnitudes in [1e-4, 1e16); the values of
    another magnitude (orjson writes ``0.00001`` and ``1e16``, ``repr`` ``1e-05`` and
    ``1e+16``), and -inf, are respelled one by one with :func:`number`.
    """
    import numpy as np
    import orjson

    a = np.ascontiguousarray(values, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] == 0:
        return [",".join(map(number, row)) for row in a.reshape(len(a), -1).tolist()]
    if np.isnan(a).any():
        raise ValueError("a NaN reached the output")  # never: the core returns no NaN
    magnitude = np.abs(a)
    odd = ((magnitude < 1e-4) & (a != 0.0)) | ((magnitude >= 1e16) & (a != np.inf))
    # orjson writes a non-finite number as null: a NaN stands for +inf (the only one left)
    blob = orjson.dumps(np.where(a == np.inf, np.nan, a), option=orjson.OPT_SERIALIZE_NUMPY)
    rows = blob[2:-2].decode("ascii").replace("null", "inf").split("],[")
    for i in np.flatnonzero(odd.any(axis=1)).tolist():
        cells = rows[i].split(",")
        for j in np.flatnonzero(odd[i]).tolist():
            cells[j] = number(float(a[i, j]))
        rows[i] = ",".join(cells)
    return rows


def number_texts(values: Any) -> list[str]:
    """:func:`number` of each value of a 1-D array, written in C by
    :func:`number_rows` (a million ``repr`` calls took a second); a NaN, which no
    estimator should give, is spelled ``nan`` one by one, as :func:`number` does."""
    import numpy as np

    a = np.asarray(values, dtype=np.float64).reshape(1, -1) + 0.0  # -0.0 -> 0.0
    if a.size == 0:
        return []
    if np.isnan(a).any():
        return [number(x) for x in a[0].tolist()]
    return number_rows(a)[0].split(",")


#: What ``json.dumps(text, ensure_ascii=False)`` escapes in a string.
JSON_ESCAPED: Final = re.compile(r'[\x00-\x1f"\\]')


def json_strings(texts: list[str]) -> list[str]:
    """Each text as ``json.dumps(text, ensure_ascii=False)`` writes it: between
    quotes, escaped only where one holds a character that needs it."""
    if not JSON_ESCAPED.search("".join(texts)):  # one pass over all, in C
        return [f'"{t}"' for t in texts]
    return [
        json.dumps(t, ensure_ascii=False) if JSON_ESCAPED.search(t) else f'"{t}"' for t in texts
    ]


def json_numbers(texts: list[str]) -> list[str]:
    """Number texts as JSON values: ``inf`` and ``-inf`` as strings (see :func:`json_value`)."""
    if "inf" not in texts and "-inf" not in texts:
        return texts
    return [f'"{t}"' if t.endswith("inf") else t for t in texts]


def cell(text: str, sep: str) -> str:
    """A name as one CSV/TSV cell, quoted (RFC 4180) when it holds a separator, a
    quote or a line break."""
    if any(c in text for c in (sep, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def cells(texts: list[str], sep: str) -> list[str]:
    """:func:`cell` of each text; a million names are first searched as one text."""
    joined = "".join(texts)
    if not any(c in joined for c in (sep, '"', "\n", "\r")):
        return texts
    return [cell(t, sep) for t in texts]


def lines(rows: list[str]) -> str:
    return "\n".join(rows) + "\n"


def pairs_rows(result: PairsResult) -> list[tuple[str, list[float]]]:
    rows = [
        (name, [float(result.measures[k][i]) for k in MEASURES])
        for i, name in enumerate(result.names)
    ]
    rows.append(("sum", [result.total(k) for k in MEASURES]))
    rows.append(("mean", [result.mean(k) for k in MEASURES]))
    return rows


def entropy_extra(result: EntropyResult) -> tuple[str, Any] | None:
    """The estimator's second number per distribution: nsb's ``std``, shrink's ``lambda``."""
    if result.std is not None:
        return "std", result.std
    if result.lam is not None:
        return "lambda", result.lam
    return None


#: Distributions written per block: the texts of a block are joined before the next
#: is made, so that a million distributions never hold five million small strings.
BLOCK: Final = 1 << 16


def entropy_blocks(result: EntropyResult) -> Iterator[tuple[list[str], list[list[str]]]]:
    """Per block of distributions: their names, and their n, support, entropy (and
    the extra number) as texts, one list per column, each written at once."""
    import numpy as np

    extra = entropy_extra(result)
    support = np.asarray(result.support, dtype=np.int64)
    for i in range(0, len(result.names), BLOCK):
        cut = slice(i, i + BLOCK)
        columns = [
            number_texts(result.n[cut]),
            list(map(str, support[cut].tolist())),
            number_texts(result.entropy[cut]),
        ]
        if extra:
            columns.append(number_texts(extra[1][cut]))
        yield result.names[cut], columns
