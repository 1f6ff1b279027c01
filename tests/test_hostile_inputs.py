"""Hostile input, round two (issue 15): endless and oversized inputs, the number
grammar, odd paths, long fields, and counts that float64 cannot hold.

Every case runs the real program (a subprocess where the process itself matters:
its standard input, its memory limit, a real argv) and checks the exit status, that
stdout is empty and that stderr is one ``kldiv: error:`` line, without a traceback.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_run import Run, kldiv

from kldiv_cli.readers import categories, sources, tables


def process(
    *args: str,
    stdin: Any = subprocess.DEVNULL,
    preexec_fn: Callable[[], None] | None = None,
    timeout: float = 60,
) -> Run:
    """The program as its own process, ``python -m kldiv_cli``."""
    done = subprocess.run(
        [sys.executable, "-m", "kldiv_cli", *args],
        stdin=stdin,
        capture_output=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
        check=False,
    )
    return Run(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def assert_one_error(run: Run, status: int, *fragments: str) -> str:
    """The spec's error: its status, one `kldiv: error:` line naming every fragment,
    nothing on stdout, no traceback. Returns the line."""
    assert "Traceback" not in run.err
    assert run.status == status, (run.status, run.err)
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1, lines
    assert run.err.endswith("\n")
    assert lines[0].startswith("kldiv: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


# --------------------------------------------------------------------------- item 2: resources


@pytest.mark.parametrize("command", [["compare", "/dev/zero", "1,1"], ["entropy", "/dev/zero"]])
def test_dev_zero_is_refused_at_its_first_byte(command: list[str]) -> None:
    # Read whole, /dev/zero never ends: it used to grow until MemoryError (exit 70).
    # A NUL byte is in no text, so the first chunk settles it.
    run = process(*command, timeout=30)
    assert_one_error(run, 65, "/dev/zero", "line 1", "NUL byte", "offset 0")


def test_an_endless_stdin_of_nul_bytes_is_refused_at_once() -> None:
    with open("/dev/zero", "rb") as zero:
        run = process("compare", "-", "1,1", stdin=zero, timeout=30)
    assert_one_error(run, 65, "<stdin>", "line 1", "NUL byte")


def test_a_nul_byte_in_a_file_names_its_line() -> None:
    run = kldiv("compare", "-", "1,1", stdin=b"label,n\na,1\nb\x00,2\n")
    assert_one_error(
        run, 65, "<stdin>", "line 3", "NUL byte (at offset 13)"
    )  # 8 + 4 + 1 bytes before it


def test_bytes_that_are_not_utf8_are_reported_as_such_before_a_nul() -> None:
    # UTF-16 holds NUL bytes; its 0xff 0xfe mark is what is wrong first.
    run = kldiv("entropy", "-", stdin="label,n\na,1\n".encode("utf-16"))
    assert_one_error(run, 65, "<stdin>", "line 1", "not valid UTF-8", "0xff")


def test_a_file_larger_than_memory_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.truncate(1 << 40)  # 1 TiB, sparse: no disk used, and beyond a test machine
    for command in (["compare", str(path), "1,1"], ["entropy", str(path)]):
        run = process(*command, timeout=30)
        line = assert_one_error(run, 66, "huge.csv", "too large to read (1.0 TiB)")
        assert "2.0 TiB of memory" in line  # what reading it would need


def _limit_memory() -> None:
    # 1.5 GiB of address space: room for Python, NumPy and pandas, not for 10 GiB.
    resource.setrlimit(resource.RLIMIT_AS, (3 << 29, resource.RLIM_INFINITY))


def test_an_endless_stdin_of_text_stops_at_the_memory_bound() -> None:
    # `yes 1` writes "1\n" forever: valid text, so only the memory bound stops it.
    feeder = subprocess.Popen(["yes", "1"], stdout=subprocess.PIPE)
    try:
        run = process("entropy", "-", stdin=feeder.stdout, preexec_fn=_limit_memory)
    finally:
        feeder.kill()
        feeder.wait()
    line = assert_one_error(run, 66, "<stdin>", "too large to read", "and still going")
    assert "is available" in line


def test_running_out_of_memory_while_parsing_is_66_naming_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MemoryError where it really happens (pyarrow, the csv module) cannot be caused
    # cheaply; the reader's own translation of it is what is tested.
    def exhausted(*args: Any, **kwargs: Any) -> None:
        raise MemoryError

    path = write(tmp_path, "p.csv", "label,n\na,1\nb,2\n")
    monkeypatch.setattr(tables, "csv_table", exhausted)
    run = kldiv("compare", path, "--p", "n", "--q", "n")
    assert_one_error(run, 66, "p.csv", "too large to read (16 bytes)", "32 bytes of memory")
    monkeypatch.setattr(categories, "_categories", exhausted)
    run = kldiv("mi", path, "--x", "label", "--y", "n")
    assert_one_error(run, 66, "p.csv", "too large to read")


def test_stdin_closed_is_66() -> None:
    run = process("compare", "-", "1,1", preexec_fn=lambda: os.close(0))
    assert_one_error(run, 66, "standard input", "closed")


def test_memory_available_is_a_positive_figure_below_the_address_space_limit() -> None:
    available = sources.memory_available()
    assert available > 0
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        assert available <= soft


# --------------------------------------------------------------------------- item 4: mi --no-header

# Rows (a, x), (b, y), (a, y): H(X) = H(Y) = H(2/3, 1/3) = log2(3) - 2/3 bits, and
# H(X, Y) = log2(3) (three equally likely pairs), so I = 2 H(X) - H(X, Y).
H_X = math.log2(3) - 2 / 3
MI = 2 * H_X - math.log2(3)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("plain.csv", "a,x\nb,y\na,y\n"),
        ("quoted.csv", '"a",x\nb,"y"\na,y\n'),
        ("crlf-blank.csv", "a,x\r\n\r\nb,y\r\na,y\r\n"),
        ("tabs.tsv", "a\tx\nb\ty\na\ty\n"),
    ],
)
def test_mi_of_raw_rows_without_a_header_names_columns_1_2(
    tmp_path: Path, name: str, content: str
) -> None:
    path = write(tmp_path, name, content)
    doc = kldiv("mi", path, "--no-header", "--x", "1", "--y", "2", "--format", "json").json()
    assert doc["x"] == {"name": "1", "values": 2}
    assert doc["y"] == {"name": "2", "values": 2}
    assert doc["n"] == 3
    m = doc["measures"]
    assert m["entropy_x"] == pytest.approx(H_X, rel=1e-12)
    assert m["joint_entropy"] == pytest.approx(math.log2(3), rel=1e-12)
    assert m["mutual_information"] == pytest.approx(MI, rel=1e-12)


def test_mi_without_a_header_from_stdin_and_an_unknown_column(tmp_path: Path) -> None:
    doc = kldiv(
        "mi",
        "-",
        "--no-header",
        "--x",
        "2",
        "--y",
        "1",
        "--format",
        "json",
        stdin="a,x\nb,y\na,y\n",
    ).json()
    assert doc["measures"]["mutual_information"] == pytest.approx(MI, rel=1e-12)
    run = kldiv("mi", "-", "--no-header", "--x", "1", "--y", "3", stdin="a,x\nb,y\n")
    assert_one_error(run, 2, "<stdin>", "no column '3'", "columns: '1', '2'")


# --------------------------------------------------------------------------- item 5: numbers

NOT_ASCII_DIGITS = [
    "\u0663",  # Arabic-Indic 3
    "\u06f3",  # Extended Arabic-Indic 3
    "\uff13",  # fullwidth 3
    "\u00b3",  # superscript 3
    "\u0969",  # Devanagari 3
    "1\u0660",  # 1 then Arabic-Indic 0
]


@pytest.mark.parametrize("cell", NOT_ASCII_DIGITS)
@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_unicode_digits_in_data_are_not_numbers(tmp_path: Path, cell: str, quoted: bool) -> None:
    label = '"b"' if quoted else "b"  # a quote sends the table through the csv module
    path = write(tmp_path, "p.csv", f"label,n\na,1\n{label},{cell}\n")
    run = kldiv("entropy", path)
    assert_one_error(run, 65, "p.csv", "line 3", "column 'n'", "label 'b'", "not a number")


def test_unicode_digits_are_named_in_the_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "label,n\na,\u0663\n")
    run = kldiv("entropy", path)
    assert_one_error(run, 65, "'\u0663' is not a number", "only the ASCII digits 0-9")


@pytest.mark.parametrize("cell", ["1_000", "1_0.5", "1e1_0"])
def test_underscores_are_refused_in_data_as_in_options(tmp_path: Path, cell: str) -> None:
    path = write(tmp_path, "p.csv", f"label,n\na,{cell}\n")
    assert_one_error(kldiv("entropy", path), 65, "line 2", f"'{cell}'", "no '_' between digits")
    assert_one_error(kldiv("entropy", f"1,{cell}"), 65, "entry 2", "no '_' between digits")


@pytest.mark.parametrize("cell", ["\u0663", "\uff11", "1_0"])
def test_inline_numbers_use_the_grammar(cell: str) -> None:
    run = kldiv("compare", f"{cell},1", "1,1")
    assert_one_error(run, 65, "inline numbers", "entry 1", "not a number")


def test_json_numbers_are_ascii_and_strings_are_not_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", '{"a": 1, "b": "\u0663"}')
    assert_one_error(kldiv("entropy", path), 65, "p.json", "label 'b'", "not a number")


@pytest.mark.parametrize(
    "option",
    [
        ["--pseudocount", "1_0"],
        ["--pseudocount", "\u0663"],
        ["--pseudocount", "0x1"],
        ["--pseudocount", "\uff11.5"],
        ["--ci", "\u0660.\u0669"],
        ["--ci", "0.9_5"],
        ["--max", "jsd=\u0663"],
        ["--max", "jsd=1_0"],
        ["--top", "\u0663"],
        ["--top", "1_0"],
        ["--ci", "0.9", "--resamples", "1_000"],
        ["--ci", "0.9", "--seed", "\uff17"],
    ],
    ids=lambda o: "-".join(o).encode("ascii", "backslashreplace").decode(),
)
def test_option_values_use_the_data_grammar(option: list[str]) -> None:
    run = kldiv("compare", "1,2", "3,4", *option)
    assert_one_error(run, 2, option[-2], "not a")


def test_entropy_bins_is_a_whole_number_in_ascii() -> None:
    assert_one_error(kldiv("entropy", "1,2", "--bins", "\u0663"), 2, "--bins", "not a whole number")
    doc = kldiv("entropy", "1,1", "--bins", "3", "--estimator", "laplace", "--format", "json")
    # Laplace adds 1 to each of 3 bins: (2, 2, 1) / 5.
    probs = [0.4, 0.4, 0.2]
    want = -sum(p * math.log2(p) for p in probs)
    assert doc.json()["distributions"][0]["entropy"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("spelling", ["10", "1e1", "10.", "+10", "1.0E+1", " 10 "])
def test_a_pseudocount_in_the_grammar_is_its_number(spelling: str) -> None:
    # Adding 10 to 1,2 and 3,4 gives 11,12 and 13,14: the same measure either way.
    got = kldiv("compare", "1,2", "3,4", "--pseudocount", spelling, "--value", "jsd")
    want = kldiv("compare", "11,12", "13,14", "--value", "jsd")
    assert got.status == 0, got.err
    assert got.out == want.out


@pytest.mark.parametrize("cell", [" 1", "1 ", "\t1", "1.", ".5", "1E2", "+4", "2.5e+1", "-0"])
def test_odd_but_valid_spellings_are_still_numbers(tmp_path: Path, cell: str) -> None:
    value = float(cell)
    path = write(tmp_path, "p.csv", f"n\n{cell}\n1\n")
    # Q = 2 P, spelled plainly: the same distribution once normalized.
    doc = kldiv("compare", path, f"{abs(2 * value):g},2", "--format", "json").json()
    assert doc["p"]["total"] == value + 1
    assert doc["measures"]["kl_pq"] == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    ("cell", "what"), [("nan", "is NaN"), ("inf", "is infinite"), ("-Infinity", "is infinite")]
)
def test_nan_and_inf_are_read_then_refused_by_name(tmp_path: Path, cell: str, what: str) -> None:
    path = write(tmp_path, "p.csv", f"label,n\na,1\nb,{cell}\n")
    assert_one_error(kldiv("entropy", path), 65, "line 3", "label 'b'", what)


# --------------------------------------------------------------------------- item 7: paths


SOURCE_COMMANDS = [
    lambda path: ["compare", path, "1,1"],
    lambda path: ["compare", "1,1", path],
    lambda path: ["entropy", path],
    lambda path: ["mi", path],
    lambda path: ["mi", path, "--x", "a", "--y", "b"],
    lambda path: ["matrix", path],
    lambda path: ["pairs", path, "1,1"],
]
COMMAND_IDS = ["compare-p", "compare-q", "entropy", "mi", "mi-raw", "matrix", "pairs"]


@pytest.mark.parametrize("command", SOURCE_COMMANDS, ids=COMMAND_IDS)
@pytest.mark.parametrize(
    "name",
    ["a" * 300 + ".csv", "\u00e9" * 200 + ".csv", "d/" + "b" * 256],
    ids=["ascii", "utf8", "dir"],
)
def test_a_path_component_over_255_bytes_is_66(
    tmp_path: Path, command: Callable[[str], list[str]], name: str
) -> None:
    (tmp_path / "d").mkdir()
    run = process(*command(str(tmp_path / name)))  # a real argv: no runner in between
    assert_one_error(run, 66, "cannot read", "too long")


@pytest.mark.parametrize("command", SOURCE_COMMANDS, ids=COMMAND_IDS)
def test_a_missing_file_name_with_a_newline_stays_on_one_line(
    tmp_path: Path, command: Callable[[str], list[str]]
) -> None:
    path = str(tmp_path / "two\nlines.csv")
    run = kldiv(*command(path))
    assert_one_error(run, 66, "two\\nlines.csv", "no such file")


@pytest.mark.parametrize("command", SOURCE_COMMANDS, ids=COMMAND_IDS)
def test_a_symlink_loop_is_named_as_such(
    tmp_path: Path, command: Callable[[str], list[str]]
) -> None:
    (tmp_path / "one.csv").symlink_to(tmp_path / "two.csv")
    (tmp_path / "two.csv").symlink_to(tmp_path / "one.csv")
    run = kldiv(*command(str(tmp_path / "one.csv")))
    assert_one_error(run, 66, "one.csv", "symlink loop")


def test_a_dangling_symlink_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "p.csv").symlink_to(tmp_path / "gone.csv")
    run = kldiv("compare", str(tmp_path / "p.csv"), "1,1")
    assert_one_error(run, 66, "p.csv", "a symlink to a missing file")


def test_a_path_through_a_file_is_no_such_file(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "label,n\na,1\n")
    run = kldiv("entropy", path + "/x.csv")
    assert_one_error(run, 66, "x.csv", "no such file")


# --------------------------------------------------------------------------- item 9: long fields

LONG = "L" * 200_000  # beyond the csv module's default field limit of 131,072


@pytest.mark.parametrize("line", [2, 3])
@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_a_long_label_is_read_on_any_line(tmp_path: Path, line: int, quoted: bool) -> None:
    label = f'"{LONG}"' if quoted else LONG
    rows = [f"{label},1", "b,3"] if line == 2 else ["b,3", f"{label},1"]
    path = write(tmp_path, "p.csv", "label,n\n" + "\n".join(rows) + "\n")
    doc = kldiv("entropy", path, "--rows", "--format", "json").json()
    names = [d["name"] for d in doc["distributions"]]
    assert sorted(names, key=len) == ["b", LONG]


def test_a_long_label_in_json_and_a_long_raw_value(tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", json.dumps({LONG: 1, "b": 3}))
    doc = kldiv("compare", path, path, "--format", "json", "--top", "1").json()
    assert doc["contributions"][0]["label"] in (LONG, "b")
    assert doc["support"]["size"] == 2
    raw = write(tmp_path, "raw.csv", f"x,y\n{LONG},1\nb,2\n{LONG},1\n")
    doc = kldiv("mi", raw, "--x", "x", "--y", "y", "--format", "json").json()
    # x and y determine each other: I = H(X) = H(2/3, 1/3) bits.
    assert doc["measures"]["mutual_information"] == pytest.approx(H_X, rel=1e-12)


def test_a_long_column_name_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", f"label,{LONG}\na,1\nb,1\n")
    doc = kldiv("entropy", path, "--format", "json").json()
    assert doc["distributions"][0]["name"] == LONG
    assert doc["distributions"][0]["entropy"] == pytest.approx(1.0, rel=1e-15)


# --------------------------------------------------------------------------- counts past 2^53

BIG = str(2**53 + 1)  # float64 reads it as 2^53


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("big.csv", f"l,n\na,{BIG}\n", "line 2, column 'n', label 'a'"),
        ("quoted.csv", f'l,n\n"b",1\n"a",{BIG}\n', "line 3, column 'n', label 'a'"),
        ("decimal.csv", f"l,n\nb,2.0\na,{BIG}\n", "line 3, column 'n', label 'a'"),
        ("nolabel.csv", f"n\n1\n{BIG}\n", "line 3, column 'n', position 2"),
        ("big.json", f'{{"b": 1, "a": {BIG}}}', "label 'a'"),
        ("records.json", f'[{{"l": "a", "n": {BIG}}}]', "column 'n', label 'a'"),
        ("array.json", f"[1, {BIG}]", "position 2"),
    ],
)
def test_a_count_float64_cannot_hold_is_refused_where_counts_are_needed(
    tmp_path: Path, name: str, content: str, where: str
) -> None:
    path = write(tmp_path, name, content)
    run = kldiv("entropy", path, "--estimator", "nsb")
    assert_one_error(run, 65, name, where, f"{BIG} is not exactly representable", "2^53")
    # The plug-in entropy needs no counts: the value is read as 2^53, as any float.
    doc = kldiv("entropy", path, "--format", "json").json()
    assert sum(d["n"] for d in doc["distributions"]) in (2.0**53, 2.0**53 + 1, 2.0**53 + 2)


def test_compare_test_and_ci_and_mi_test_refuse_an_inexact_count(tmp_path: Path) -> None:
    assert_one_error(
        kldiv("compare", f"{BIG},1", "1,1", "--test"), 65, "position 1", "--test needs counts"
    )
    assert_one_error(
        kldiv("compare", "1,1", f"1,{BIG}", "--ci", "0.9"), 65, "position 2", "--ci needs counts"
    )
    table = write(tmp_path, "ct.csv", f"x,a,b\nr,{BIG},0\ns,1,1\n")
    assert_one_error(kldiv("mi", table, "--test"), 65, "line 2, column 'a', label 'r'", BIG)
    # Without a test nothing asks for counts: mi reads the values as given.
    assert kldiv("mi", table).status == 0


def test_large_counts_float64_holds_exactly_are_counts(tmp_path: Path) -> None:
    # 2^53 itself and 2^53 + 2 have floats of their own: no false alarm (2^53 + 2 is
    # then refused for its total, the existing rule).
    path = write(tmp_path, "p.csv", f"l,n\na,{2**53}\nb,0\n")
    doc = kldiv("entropy", path, "--estimator", "nsb", "--format", "json").json()
    assert doc["distributions"][0]["n"] == 2.0**53
    path = write(tmp_path, "p.json", f'{{"a": {2**53}, "b": 0}}')
    doc = kldiv("entropy", path, "--estimator", "nsb", "--format", "json").json()
    assert doc["distributions"][0]["n"] == 2.0**53
    path = write(tmp_path, "q.csv", f"l,n\na,{2**53 + 2}\n")
    assert_one_error(kldiv("entropy", path, "--estimator", "nsb"), 65, "total at most 2^53")
