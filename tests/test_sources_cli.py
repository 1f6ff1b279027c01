"""How sources are read, through the real program (issue 10): inline numbers of any
length, tables aligned by row position, strict raw rows and ``--delimiter``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import assert_error, kldiv


def write(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- inline numbers


def test_ten_thousand_inline_numbers_are_numbers_not_a_file_name() -> None:
    # A real argv (not CliRunner): the name is far beyond NAME_MAX (255), where the
    # check for a file of that name fails with ENAMETOOLONG instead of "no such file".
    p = ",".join(["1"] * 10_000)
    q = ",".join(["1", "3"] * 5_000)
    run = subprocess.run(
        [sys.executable, "-m", "kldiv_cli", "compare", p, q, "--value", "kl_pq"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.stderr == ""
    assert run.returncode == 0
    # P uniform over 10,000; Q puts 1/20,000 and 3/20,000 on alternate entries:
    # D(P||Q) = sum p log2(p/q) = 1/2 log2(2) + 1/2 log2(2/3) = 1 - log2(3)/2.
    assert float(run.stdout) == pytest.approx(1 - math.log2(3) / 2, rel=1e-12)


def test_a_long_bad_entry_in_inline_numbers_is_65_naming_it() -> None:
    p = ",".join(["1"] * 5_000) + ",x"
    run = kldiv("compare", p, "1,2")
    assert_error(run, 65, "inline numbers", "entry 5001 ('x') is not a number")
    assert len(run.err) < 200  # the message quotes the numbers shortened, on one line


def test_a_long_name_that_is_not_numbers_is_66() -> None:
    run = kldiv("compare", "x" * 400, "1,2")
    assert_error(run, 66, "x" * 20 + "...", "cannot read", "too long")


# --------------------------------------------------------------------------- raw rows


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("x,y\na,1\nb\n", ("line 3", "expected 2 fields, saw 1")),
        ("x,y\na,1\nb,2,3\n", ("line 3", "expected 2 fields, saw 3")),
        ("x,y\r\na,1\r\n\r\nb,2,3\r\n", ("line 4", "saw 3")),
        ("x,y,x\na,1,2\n", ("line 1", "column name 'x' appears twice")),
        ('x,y\na,1"\nb,2\n', ("line 2", "a quote inside the unquoted field '1\"'")),
        ('x,y\na,1\n"b,2\nc,3\n', ("line 3", "never closed")),
        ('x,y\n"a"b,1\n', ("line 2",)),
        (b"x,y\na,\xff\n".decode("latin-1"), ("line 2", "not valid UTF-8")),
    ],
    ids=["short", "long", "long-crlf-after-blank", "dup-column", "stray-quote", "open-quote",
         "text-after-quote", "not-utf8"],
)  # fmt: skip
def test_raw_csv_rows_are_read_as_strictly_as_tables(
    tmp_path: Path, content: str, fragments: tuple[str, ...]
) -> None:
    path = tmp_path / "raw.csv"
    path.write_bytes(
        content.encode("latin-1") if "not valid" in fragments[-1] else content.encode()
    )
    assert_error(kldiv("mi", str(path), "--x", "x", "--y", "y"), 65, "raw.csv", *fragments)


def test_a_short_raw_row_in_a_large_file_is_found(tmp_path: Path) -> None:
    rows = "".join(f"v{i % 7},w{i % 5}\n" for i in range(100_000))
    path = write(tmp_path, "big.csv", "x,y\n" + rows + "a\n" + rows)
    assert_error(kldiv("mi", path, "--x", "x", "--y", "y"), 65, "big.csv", "line 100002")


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ('[{"x": "a", "y": 1},\n {"x": "b", "y": 2, "y": 3}]', ("line 2", "key 'y' appears twice")),
        ('[{"x": "a", "y": 1}, {"x": "b"}]', ("record 2 has keys 'x'",)),
        ('[{"x": "a", "y": 1}, {"x": "b", "y": 2, "z": 3}]', ("record 2",)),
        ('[{"x": "a", "y": NaN}]', ("line 1", "NaN is not valid JSON")),
        ('{"x": "a", "y": 1}', ("a JSON array of records",)),
    ],
    ids=["dup-key", "short-record", "long-record", "nan", "not-records"],
)
def test_raw_json_rows_are_read_as_strictly_as_tables(
    tmp_path: Path, content: str, fragments: tuple[str, ...]
) -> None:
    path = write(tmp_path, "raw.json", content)
    assert_error(kldiv("mi", path, "--x", "x", "--y", "y"), 65, "raw.json", *fragments)


def raw_mi(tmp_path: Path, records: list[dict[str, object]]) -> dict[str, object]:
    path = write(tmp_path, "raw.json", json.dumps(records))
    run = kldiv("mi", path, "--x", "x", "--y", "y", "--format", "json")
    assert run.status == 0, run.err
    assert run.err == ""
    doc: dict[str, object] = run.json()
    return doc


@pytest.mark.parametrize(
    ("one", "other"),
    [(1, "1"), (True, "true"), (None, "null"), (1, 1.0), ([1], "[1]"), (False, "false")],
)
def test_json_values_that_differ_are_different_categories(
    tmp_path: Path, one: object, other: object
) -> None:
    # x takes two values that read the same as text; y follows x exactly. As two
    # categories, I(X;Y) = H(X) = 1 bit; merged into one it would be 0.
    records = [{"x": one, "y": "a"}, {"x": other, "y": "b"}] * 2
    doc = raw_mi(tmp_path, records)
    assert doc["x"] == {"name": "x", "values": 2}
    # 1 bit, to rounding: the entropies are sums of logs that SIMD may round otherwise
    assert doc["measures"]["mutual_information"] == pytest.approx(1.0, rel=1e-12)  # type: ignore[index]


def test_equal_json_values_are_one_category(tmp_path: Path) -> None:
    records = [{"x": 1, "y": "a"}, {"x": 1, "y": "b"}, {"x": "1", "y": "a"}, {"x": "1", "y": "b"}]
    doc = raw_mi(tmp_path, records)
    # x has two categories (1 and "1"), each seen with a and b: independent of y.
    assert doc["x"] == {"name": "x", "values": 2}
    assert doc["measures"]["mutual_information"] == pytest.approx(0.0, abs=1e-12)  # type: ignore[index]


def test_a_quoted_raw_field_holds_the_separator(tmp_path: Path) -> None:
    path = write(tmp_path, "raw.csv", 'x,y\n"a,b",1\n"a,b",1\nc,2\nc,2\n')
    run = kldiv("mi", path, "--x", "x", "--y", "y", "--format", "json")
    assert run.status == 0, run.err
    assert run.json()["x"] == {"name": "x", "values": 2}
    assert run.json()["measures"]["mutual_information"] == pytest.approx(1.0, rel=1e-12)


# --------------------------------------------------------------------------- --delimiter


SEMI_P = "label;n\na;1\nb;3\n"
SEMI_Q = "label;n\nb;1\na;1\n"


@pytest.mark.parametrize("spelling", [";", "semicolon"])
def test_delimiter_reads_semicolon_files(tmp_path: Path, spelling: str) -> None:
    p, q = write(tmp_path, "p.csv", SEMI_P), write(tmp_path, "q.csv", SEMI_Q)
    run = kldiv("compare", p, q, "--delimiter", spelling, "--value", "kl_pq")
    if spelling == "semicolon":  # only one character (or tab) names a separator
        assert_error(run, 2, "--delimiter 'semicolon'", "one character")
        return
    assert run.status == 0, run.err
    # P = (1/4, 3/4) over a, b; Q uniform: D = 1/4 log2(1/2) + 3/4 log2(3/2).
    assert float(run.out) == pytest.approx(0.75 * math.log2(3) - 1, rel=1e-12)


def test_without_delimiter_a_semicolon_file_is_one_text_column(tmp_path: Path) -> None:
    p, q = write(tmp_path, "p.csv", SEMI_P), write(tmp_path, "q.csv", SEMI_Q)
    assert_error(kldiv("compare", p, q), 65, "p.csv", "numeric")


@pytest.mark.parametrize("spelling", ["\\t", "tab", "\t"])
def test_delimiter_tab(tmp_path: Path, spelling: str) -> None:
    p = write(tmp_path, "p.txt", SEMI_P.replace(";", "\t"))
    q = write(tmp_path, "q.txt", SEMI_Q.replace(";", "\t"))
    run = kldiv("compare", p, q, "--delimiter", spelling, "--value", "kl_pq")
    assert run.status == 0, run.err
    assert float(run.out) == pytest.approx(0.75 * math.log2(3) - 1, rel=1e-12)


@pytest.mark.parametrize("bad", ["", ";;", '"', "\n", "1", "a", ".", "-"])
def test_a_delimiter_that_cannot_separate_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    p = write(tmp_path, "p.csv", SEMI_P)
    assert_error(kldiv("compare", p, p, "--delimiter", bad), 2, "--delimiter")


@pytest.mark.parametrize(
    ("content", "cell", "hint"),
    [
        ("label;n\na;1,5\nb;2\n", "'1,5'", "(a decimal comma? kldiv reads '.' as the decimal"),
        ("label;n\na;2\nb;1.234,5\n", "'1.234,5'", "(a decimal comma?"),
        ("label;n\na;2\nb;1,234\n", "'1,234'", "(a thousands separator or a decimal comma?"),
    ],
)  # fmt: skip
def test_a_decimal_comma_is_refused_with_a_hint(
    tmp_path: Path, content: str, cell: str, hint: str
) -> None:
    p = write(tmp_path, "p.csv", content)
    run = kldiv("compare", p, "1,1", "--delimiter", ";")
    line = "line 2" if content.index(cell.strip("'")) < content.index("\nb") else "line 3"
    assert_error(run, 65, "p.csv", line, "column 'n'", f"{cell} is not a number", hint)


def test_a_quoted_thousands_separator_in_a_csv_is_refused_with_a_hint(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", 'label,n\na,"1,234"\nb,2\n')
    run = kldiv("compare", p, p)
    assert_error(
        run, 65, "p.csv: line 2, column 'n', label 'a': '1,234' is not a number",
        "(a thousands separator or a decimal comma? kldiv reads '.' as the decimal point "
        "and takes no thousands separator)",
    )  # fmt: skip


def test_a_comma_that_is_no_number_gets_no_hint(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", 'label,n\na,"x,y"\nb,2\n')
    run = kldiv("compare", p, p)
    assert_error(run, 65, "'x,y' is not a number")
    assert "decimal" not in run.err


def test_every_table_command_takes_delimiter(tmp_path: Path) -> None:
    p, q = write(tmp_path, "p.csv", SEMI_P), write(tmp_path, "q.csv", SEMI_Q)
    two = write(tmp_path, "two.csv", "label;u;v\na;1;1\nb;3;1\n")
    raw = write(tmp_path, "raw.csv", "x;y\na;1\na;1\nb;2\nb;2\n")
    want = 0.75 * math.log2(3) - 1  # D(P||Q) of the pair above
    matrix = kldiv("matrix", p, q, "--measure", "kl", "--delimiter", ";", "--format", "json")
    assert matrix.status == 0, matrix.err
    assert matrix.json()["matrix"][0][0] == pytest.approx(want, rel=1e-12)
    pairs = kldiv("pairs", p, q, "--delimiter", ";", "--format", "json")
    assert pairs.status == 0, pairs.err
    assert pairs.json()["pairs"][0]["measures"]["kl_pq"] == pytest.approx(want, rel=1e-12)
    entropy = kldiv("entropy", two, "--delimiter", ";", "--format", "json")
    assert entropy.status == 0, entropy.err
    h = [d["entropy"] for d in entropy.json()["distributions"]]
    assert h == pytest.approx([2 - 0.75 * math.log2(3), 1.0], rel=1e-12)
    mi = kldiv("mi", raw, "--x", "x", "--y", "y", "--delimiter", ";", "--format", "json")
    assert mi.status == 0, mi.err
    assert mi.json()["measures"]["mutual_information"] == pytest.approx(1.0, rel=1e-12)
    table = kldiv("mi", two, "--delimiter", ";", "--format", "json")
    assert table.status == 0, table.err
    assert table.json()["n"] == 6.0


# --------------------------------------------------------------------------- row position


# The same two counts, 1 and 3, by year: in the other order in B. By row position P
# and Q are the same; by year they are (1/4, 3/4) and (3/4, 1/4), whose JSD against
# M = (1/2, 1/2) is 1/4 log2(1/2) + 3/4 log2(3/2) = 3/4 log2(3) - 1 bit.
YEARS_A = "year,n\n2020,1\n2021,3\n"
YEARS_B = "year,n\n2021,1\n2020,3\n"
JSD_BY_YEAR = 0.75 * math.log2(3) - 1
POSITION_WARNING = (
    "kldiv: warning: P and Q are aligned by row position; "
    "column 'year' could hold labels: --label year aligns by it\n"
)


def years(tmp_path: Path) -> tuple[str, str]:
    return write(tmp_path, "a.csv", YEARS_A), write(tmp_path, "b.csv", YEARS_B)


def test_a_numeric_first_column_error_suggests_label_too(tmp_path: Path) -> None:
    a, b = years(tmp_path)
    run = kldiv("compare", a, b)
    assert_error(
        run, 2, "a.csv has 2 numeric columns ('year', 'n'); "
        "choose one with --p, or --label year if 'year' holds labels",
    )  # fmt: skip


def test_label_year_aligns_by_year(tmp_path: Path) -> None:
    a, b = years(tmp_path)
    run = kldiv("compare", a, b, "--label", "year", "--format", "json")
    assert run.status == 0, run.err
    assert run.err == ""
    doc = run.json()
    assert doc["measures"]["jsd"] == pytest.approx(JSD_BY_YEAR, rel=1e-12)
    assert doc["warnings"] == []


def test_aligning_by_position_says_so_and_names_the_column(tmp_path: Path) -> None:
    a, b = years(tmp_path)
    run = kldiv("compare", a, b, "--p", "n", "--q", "n", "--format", "json")
    assert run.status == 0
    assert run.err == POSITION_WARNING
    doc = run.json()
    assert doc["measures"]["jsd"] == 0.0  # the same numbers, position by position
    assert doc["warnings"] == [POSITION_WARNING.removeprefix("kldiv: warning: ").rstrip()]


def test_quiet_silences_the_position_warning(tmp_path: Path) -> None:
    a, b = years(tmp_path)
    run = kldiv("compare", a, b, "--p", "n", "--q", "n", "--quiet", "--value", "jsd")
    assert (run.status, run.out, run.err) == (0, "0.0\n", "")


def test_years_that_differ_are_reported_by_label(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "year,n\n2020,1\n2021,1\n")
    b = write(tmp_path, "b.csv", "year,n\n2021,1\n2022,1\n")
    by_year = kldiv("compare", a, b, "--label", "year", "--format", "json").json()
    assert by_year["support"] == {"size": 3, "only_p": ["2020"], "only_q": ["2022"]}
    assert by_year["measures"]["kl_pq"] == "inf"
    # Half the mass of each side is on a year the other lacks: JSD = 1/2 bit.
    assert by_year["measures"]["jsd"] == pytest.approx(0.5, rel=1e-12)
    by_row = kldiv("compare", a, b, "--p", "n", "--q", "n", "--format", "json")
    assert by_row.err == POSITION_WARNING
    assert by_row.json()["measures"]["jsd"] == 0.0


def test_one_table_is_aligned_by_its_own_rows_without_a_warning(tmp_path: Path) -> None:
    t = write(tmp_path, "t.csv", "year,p,q\n2020,1,3\n2021,3,1\n")
    run = kldiv("compare", t, "--p", "p", "--q", "q", "--value", "jsd")
    assert run.err == ""
    assert float(run.out) == pytest.approx(JSD_BY_YEAR, rel=1e-12)
    assert_error(
        kldiv("compare", t), 2, "choose two with --p and --q, or --label year if 'year' holds"
    )


def test_a_column_with_a_repeated_value_is_not_suggested(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "year,n\n2020,1\n2020,3\n")
    b = write(tmp_path, "b.csv", "year,n\n2020,3\n2020,1\n")
    run = kldiv("compare", a, b, "--p", "n", "--q", "n", "--value", "jsd")
    assert (run.status, run.err) == (0, "")
    assert_error(kldiv("compare", a, b), 2, "choose one with --p")
    assert "--label" not in kldiv("compare", a, b).err


def test_an_unused_unique_column_is_suggested(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "n,bin\n1,7\n3,8\n")
    b = write(tmp_path, "b.csv", "n,bin\n1,8\n3,7\n")
    run = kldiv("compare", a, b, "--p", "n", "--q", "n", "--value", "jsd")
    assert run.err == (
        "kldiv: warning: P and Q are aligned by row position; "
        "column 'bin' could hold labels: --label bin aligns by it\n"
    )
    by_bin = kldiv("compare", a, b, "--label", "bin", "--value", "jsd")
    assert float(by_bin.out) == pytest.approx(JSD_BY_YEAR, rel=1e-12)


def test_unlabelled_json_records_get_the_warning_and_take_label(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", '[{"year": 2020, "n": 1}, {"year": 2021, "n": 3}]')
    b = write(tmp_path, "b.json", '[{"year": 2021, "n": 1}, {"year": 2020, "n": 3}]')
    run = kldiv("compare", a, b, "--p", "n", "--q", "n", "--value", "jsd")
    assert run.err == POSITION_WARNING
    by_year = kldiv("compare", a, b, "--label", "year", "--value", "jsd")
    assert float(by_year.out) == pytest.approx(JSD_BY_YEAR, rel=1e-12)


def test_inline_numbers_have_no_column_to_suggest(tmp_path: Path) -> None:
    run = kldiv("compare", "1,3", "3,1", "--value", "jsd")
    assert run.err == ""
    assert float(run.out) == pytest.approx(JSD_BY_YEAR, rel=1e-12)


def test_matrix_and_pairs_of_two_tables_warn_too(tmp_path: Path) -> None:
    a, b = years(tmp_path)
    warning = (
        "kldiv: warning: the tables are aligned by row position; "
        "column 'year' could hold labels: --label year aligns by it\n"
    )
    for command in ("matrix", "pairs"):
        run = kldiv(command, a, b, "--format", "json")
        assert (run.status, run.err) == (0, warning)
        by_year = kldiv(command, a, b, "--label", "year", "--format", "json")
        assert by_year.err == ""
    matrix = kldiv("matrix", a, b, "--label", "year", "--format", "json").json()
    assert matrix["matrix"][0][0] == pytest.approx(JSD_BY_YEAR, rel=1e-12)
    rows = kldiv("pairs", a, b, "--rows", "--format", "json")
    assert rows.err == warning.replace(
        "the tables are aligned", "the rows of both tables are paired"
    )


def test_one_table_matrix_and_a_matrix_of_rows_do_not_warn(tmp_path: Path) -> None:
    a, b = years(tmp_path)
    assert kldiv("matrix", a, "--format", "json").err == ""
    # --rows: every row of A against every row of B over the columns, by name
    run = kldiv("matrix", a, b, "--rows", "--format", "json")
    assert (run.status, run.err) == (0, "")


def test_no_warning_when_one_side_cannot_take_labels(tmp_path: Path) -> None:
    # Inline numbers have only positions: --label would not help, so no advice.
    a, _ = years(tmp_path)
    run = kldiv("compare", a, "3,1", "--p", "n", "--value", "jsd")
    assert (run.status, run.err) == (0, "")
    assert float(run.out) == pytest.approx(JSD_BY_YEAR, rel=1e-12)


def test_a_json_string_with_a_decimal_comma_gets_the_hint(tmp_path: Path) -> None:
    p = write(tmp_path, "p.json", '{"a": "1,5", "b": 2}')
    assert_error(kldiv("compare", p, p), 65, "p.json", '"1,5" is not a number (a decimal comma?')
