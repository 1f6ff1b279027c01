"""The error family of kldiv: each error carries the exit status the spec gives it.

Every error is a :class:`ValueError`, so Python callers can catch either. The CLI maps
``exit_status`` to the process status and prints ``kldiv: error: <message>``.
"""

from __future__ import annotations


class KldivError(ValueError):
    """Base class of every error kldiv reports to a user (exit status 70 if unmapped)."""

    exit_status = 70


class UsageError(KldivError):
    """A bad option, option value or argument combination (exit status 2)."""

    exit_status = 2


class InvalidDataError(KldivError):
    """The input data is invalid: unparsable, ragged, negative, ... (exit status 65)."""

    exit_status = 65


class InputMissingError(KldivError):
    """An input is missing or unreadable (exit status 66)."""

    exit_status = 66


class OutputError(KldivError):
    """A file kldiv was asked to write (``--save-reference``) cannot be written."""

    exit_status = 74  # sysexits.h EX_IOERR, as for stdout


def _controls() -> dict[int, str]:
    r"""The characters :func:`visible` respells, each with its escape.

    C0 controls, DEL and C1 controls (a terminal acts on them: ``ESC ] 0 ;`` retitles
    it, ``ESC [`` moves the cursor or clears the screen, ``\r`` overwrites the line); the
    bidirectional embeddings, overrides, isolates and marks (they reorder what the
    reader sees, "Trojan Source"); the line and paragraph separators (a line break to
    some readers); and lone surrogates, which are how Python holds the bytes of a file
    name that is not UTF-8 (``surrogateescape``): U+DC80 to U+DCFF are shown as the
    byte they stand for, ``\xff``.
    """
    table: dict[int, str] = {}
    for code in (*range(0x20), *range(0x7F, 0xA0)):
        table[code] = f"\\x{code:02x}"
    table.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"})
    for code in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)):
        table[code] = f"\\u{code:04x}"
    table[0x2028], table[0x2029] = "\\u2028", "\\u2029"
    for code in range(0xD800, 0xE000):
        table[code] = f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
    return table


_CONTROLS = _controls()


def visible(text: str) -> str:
    r"""``text`` as it may be shown to a person: every character that a terminal or a
    text viewer would act on instead of showing is replaced by its escape.

    ``"\x1b]0;pwned\x07"`` becomes ``\x1b]0;pwned\x07`` (printable text), a tab
    ``\t``, a newline ``\n`` (so a message stays one line), U+202E ``\u202e`` and
    the byte 0xFF of a file name that is not UTF-8 ``\xff``. Everything else, including
    a backslash and any printable non-ASCII letter, is kept. Only for people: tables,
    errors and warnings. Machine formats (JSON, CSV, TSV) keep the exact text.

    >>> visible("a\x1b[2Jb")
    'a\\x1b[2Jb'
    >>> visible("caf\u00e9")
    'café'
    """
    return text.translate(_CONTROLS)
