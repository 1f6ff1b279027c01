"""The one number grammar of kldiv, for data and options alike.

Owns :func:`parse_number` (the ASCII grammar every cell and every numeric option is
read by), :func:`parse_whole` (whole-number options), the hints that say why a text
meant as a number is not one (:func:`number_hint`: a comma, an underscore, a digit that
is not ASCII), and the test of whether a long whole number survives float64
(:func:`is_inexact_integer`). Pure text: no NumPy, no I/O.
"""

from __future__ import annotations

import re
from typing import Final

#: Blanks around a number, as C's isspace takes them.
BLANKS: Final = r"[ \t\n\r\f\v]*"
#: The number grammar, one for data and options alike: an optional sign, ASCII digits
#: with an optional fraction (``1``, ``1.``, ``.5``), an optional exponent (``e-3``),
#: blanks around it; ``nan`` and ``inf``/``infinity`` are read so that they can be
#: refused by name. re.ASCII: ``[0-9]`` and IGNORECASE stay ASCII (float() itself
#: takes ``1_0``, Arabic-Indic and fullwidth digits, which kldiv does not).
_NUMBER: Final = re.compile(
    rf"{BLANKS}[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf(?:inity)?){BLANKS}",
    re.IGNORECASE | re.ASCII,
)
#: What looks meant as a number, for telling inline numbers from a path: the grammar
#: loosened to Unicode digits and blanks and to ``_``, so that ``٣,1`` is refused by
#: the grammar, entry by entry, rather than reported as a missing file.
NUMBERISH: Final = re.compile(
    r"\s*[+-]?(?:(?:[\d_]+\.?[\d_]*|\.[\d_]+)(?:[eE][+-]?[\d_]+)?|nan|inf(?:inity)?)\s*",
    re.IGNORECASE,
)
_WHOLE: Final = re.compile(rf"{BLANKS}[+-]?[0-9]+{BLANKS}", re.ASCII)
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


def not_a_number(cell: str) -> str:
    """What is wrong with a data cell that the grammar does not read, for a message:
    ``'x' is not a number``, with a hint when one applies."""
    what = "is empty (or the row is short)" if cell == "" else "is not a number"
    return f"{cell!r} {what}{number_hint(cell)}"


def quote(label: str) -> str:
    """A label as messages show it: quoted, so that '' and ' a' are visible."""
    return repr(label)


#: From here on float64 does not hold every whole number: 2^53 + 1 reads as 2^53.
EXACT_UP_TO: Final = 2.0**53

#: A whole number written out in 16 digits or more: float64 may not hold it.
_LONG_INTEGER: Final = re.compile(rf"{BLANKS}[+-]?[0-9]{{16,}}{BLANKS}", re.ASCII)


def is_inexact_integer(text: str, value: float) -> bool:
    """Whether ``text`` writes out a whole number that ``value``, its float, is not."""
    return bool(_LONG_INTEGER.fullmatch(text)) and int(text) != int(value)


def looks_inline(arg: str) -> bool:
    """Inline numbers, by their first entry (a bad later one is reported by its place)."""
    return bool(NUMBERISH.fullmatch(arg.split(",", 1)[0]))


def shorten(text: str, limit: int = 60) -> str:
    """A long argument cut for a one-line message."""
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


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
