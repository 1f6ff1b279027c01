"""``visible``: the one function that makes data safe to show a person (issue 15, item 1)."""

from __future__ import annotations

import unicodedata

import pytest

from kldiv_cli.errors import visible


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # OSC: retitles the terminal
        ("\x1b[2J", "\\x1b[2J"),  # CSI: clears the screen
        ("\x9b31m", "\\x9b31m"),  # the one-byte C1 CSI
        ("a\tb\nc\rd", "a\\tb\\nc\\rd"),
        ("\x00\x7f", "\\x00\\x7f"),
        ("abc\u202edef", "abc\\u202edef"),  # right-to-left override
        ("\u2066x\u2069", "\\u2066x\\u2069"),  # isolates
        ("\u200f\u061c", "\\u200f\\u061c"),  # bidi marks
        ("l\u2028m", "l\\u2028m"),  # line separator
        ("p\udcffq", "p\\xffq"),  # the byte 0xFF of a non-UTF-8 file name
        ("\ud800", "\\ud800"),  # a lone surrogate that stands for no byte
        ("café 日本 ‖ √", "café 日本 ‖ √"),  # printable: kept
        ("C:\\dir\\x1b", "C:\\dir\\x1b"),  # a backslash is kept as it is
        ("", ""),
    ],
)
def test_visible_spells_each_control_as_its_escape(text: str, expected: str) -> None:
    assert visible(text) == expected


def test_visible_leaves_no_control_and_no_line_break() -> None:
    every = "".join(map(chr, range(0x30000)))
    shown = visible(every)
    # Cc: C0, DEL, C1; Zl, Zp: line and paragraph separators; Cs: surrogates
    left = {unicodedata.category(c) for c in shown} & {"Cc", "Zl", "Zp", "Cs"}
    assert left == set()
    assert len(shown.splitlines()) == 1
    bidi = set(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A))))
    assert not bidi & set(shown)
