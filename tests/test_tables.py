"""Tables on narrow terminals: names and numbers are never cut.

The table is as wide as the terminal: rich reads the COLUMNS variable (else the
terminal's size), so ``COLUMNS=60 kldiv ... --format table`` draws it at 60 columns.
Each table here is drawn at 80, 60 and 40 columns and must hold every name and every
number of the machine output whole, spelled with six significant digits (as the
table spells them), with no ellipsis; a column left out is named in a note.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from kldiv_cli.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
WIDTHS = [80, 60, 40]
runner = CliRunner()


def kldiv(*args: str, columns: int | None = None) -> Any:
    env = {"COLUMNS": str(columns)} if columns else None
    result = runner.invoke(app, [*args, "--quiet"], env=env)
    assert result.exit_code == 0, result.stderr
    return result


def table(*args: str, columns: int) -> str:
    return str(kldiv(*args, "--format", "table", columns=columns).stdout)


def doc(*args: str) -> Any:
    return json.loads(kldiv(*args, "--format", "json").stdout)


def six(x: float | str) -> str:
    """A number as a table spells it: six significant digits, ``inf``."""
    return "inf" if x == "inf" else f"{float(x):.6g}"


def assert_whole(text: str, tokens: list[str]) -> None:
    """Each token appears, not as a piece of a longer word or number."""
    for token in tokens:
        pattern = rf"(?<![\w.\-]){re.escape(token)}(?![\w.])"
        assert re.search(pattern, text), f"{token!r} is not whole in\n{text}"


def flat(text: str) -> str:
    """The text with its line breaks (a note wraps at the width) as single spaces."""
    return " ".join(text.split())


def assert_drawn_within(text: str, columns: int) -> None:
    assert "…" not in text
    assert max(cell_len(line) for line in text.splitlines()) <= columns, text


S = str(SAMPLES)


@pytest.mark.parametrize("columns", WIDTHS)
def test_compare_with_top_keeps_every_measure_label_and_number(columns: int) -> None:
    args = ("compare", f"{S}/letters-en.csv", f"{S}/letters-fr.csv", "--top", "3")
    out = table(*args, columns=columns)
    assert_drawn_within(out, columns)
    measures = doc(*args)["measures"]
    assert_whole(out, list(measures))
    assert_whole(out, [six(v) for v in measures.values()])
    contributions = doc(*args)["contributions"]
    assert [c["label"] for c in contributions] == ["h", "w", "é"]
    assert_whole(out, [c["label"] for c in contributions])
    # the --top values the issue saw cut to "0.0609…"
    assert_whole(out, ["0.0609406", "0.00927356", "0.0153382"])
    for key in ("p", "q", "jsd", "kl_pq", "kl_qp"):
        header = key if key in ("p", "q") else f"{key} term"
        if key.startswith("kl") and f"'{header}'" in flat(out):  # left out, and said so
            assert f"(left out to fit {columns} columns:" in flat(out)
            continue
        assert_whole(out, [six(c[key]) for c in contributions])


def test_compare_table_leaves_out_the_description_first_with_a_note() -> None:
    args = ("compare", f"{S}/dice.csv", "--label", "face")
    wide = table(*args, columns=80)
    assert "what it is" in wide
    assert "left out" not in wide
    narrow = table(*args, columns=60)
    header = next(line for line in narrow.splitlines() if "measure" in line)
    assert "what it is" not in header
    assert "formula" in header
    assert "(left out to fit 60 columns: 'what it is'; 62 columns show it)" in flat(narrow)
    narrower = table(*args, columns=40)
    header = next(line for line in narrower.splitlines() if "measure" in line)
    assert "formula" not in header
    assert "(left out to fit 40 columns: 'formula', 'what it is';" in flat(narrower)


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize(
    ("p", "q"), [("dec-P.csv", "dec-Q.csv"), ("letters-europe.csv", "letters-europe.csv")]
)
def test_pairs_keeps_every_name_and_number(p: str, q: str, columns: int) -> None:
    args = ("pairs", f"{S}/{p}", f"{S}/{q}")
    out = table(*args, columns=columns)
    assert_drawn_within(out, columns)
    got = doc(*args)
    names = [pair["name"] for pair in got["pairs"]]
    assert_whole(out, [*names, "sum", "mean"])
    numbers = [v for pair in got["pairs"] for v in pair["measures"].values()]
    numbers += [*got["sum"].values(), *got["mean"].values()]
    assert_whole(out, [six(v) for v in numbers])


def test_pairs_of_the_dec_sample_by_hand_at_60_columns() -> None:
    out = table("pairs", f"{S}/dec-P.csv", f"{S}/dec-Q.csv", columns=60)
    # D(P1‖Q1) = 0.9 log2(0.9/0.8) + 0.1 log2(0.1/0.2): 0.0529325 bit
    assert re.search(r"│ x1 +│ 0\.0529325 │", out)


@pytest.mark.parametrize("columns", WIDTHS)
def test_mi_keeps_every_measure_and_number(columns: int) -> None:
    args = ("mi", f"{S}/hair-eye.csv")
    out = table(*args, columns=columns)
    assert_drawn_within(out, columns)
    measures = doc(*args)["measures"]
    assert_whole(out, list(measures))
    assert_whole(out, [six(v) for v in measures.values()])


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize(
    "args",
    [("letters-europe.csv",), ("tale-letters.csv", "--estimator", "nsb")],
)
def test_entropy_keeps_every_name_and_number(args: tuple[str, ...], columns: int) -> None:
    full = ("entropy", f"{S}/{args[0]}", *args[1:])
    out = table(*full, columns=columns)
    assert_drawn_within(out, columns)
    for d in doc(*full)["distributions"]:
        assert_whole(out, [d["name"], six(d["n"]), str(d["support"]), six(d["entropy"])])
        if "std" in d:
            assert_whole(out, [six(d["std"])])


@pytest.mark.parametrize("columns", WIDTHS)
def test_matrix_keeps_names_and_numbers_of_the_columns_it_shows(columns: int) -> None:
    args = ("matrix", f"{S}/letters-europe.csv")
    out = table(*args, columns=columns)
    assert_drawn_within(out, columns)
    got = doc(*args)
    shown = re.search(r"showing (\d+) of 12 columns; --format csv prints them all", flat(out))
    assert shown is not None
    k = int(shown.group(1))
    assert k >= 2
    assert_whole(out, got["rows"])
    assert_whole(out, got["columns"][:k])
    assert_whole(out, [six(row[j]) for row in got["matrix"] for j in range(k)])


def test_a_name_wider_than_the_terminal_stays_whole(tmp_path: Path) -> None:
    name = "a_distribution_whose_name_is_longer_than_forty"
    p = tmp_path / "p.csv"
    q = tmp_path / "q.csv"
    p.write_text(f"k,{name}\na,1\nb,3\n")
    q.write_text(f"k,{name}\na,1\nb,1\n")
    for command in (("pairs", str(p), str(q)), ("entropy", str(p))):
        out = table(*command, columns=40)
        assert "…" not in out
        assert_whole(out, [name])


def test_names_that_look_like_rich_markup_are_drawn_as_written(tmp_path: Path) -> None:
    p = tmp_path / "p.csv"
    p.write_text("k,[/],[red]b\na,1,3\nb,3,1\n")
    for command in (("matrix", str(p)), ("pairs", str(p), str(p)), ("entropy", str(p))):
        for columns in (80, 40):
            out = table(*command, columns=columns)
            assert "[/]" in out
            assert "[red]b" in out
