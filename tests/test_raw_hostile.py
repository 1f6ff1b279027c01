"""Hostile raw inputs: every one is a one-line InvalidDataError (exit 65) naming the
source and the line, or a usage error; never a traceback, never a silent repair."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kldiv_cli.errors import InputMissingError, InvalidDataError, UsageError
from kldiv_cli.readers import RawOptions, count_columns, open_raw, raw_files


def write(path: Path, data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return str(path)


def count(path: str, columns: list[str] | None = None) -> None:
    options = RawOptions()
    raw = open_raw(path, options)
    count_columns(raw, None, columns or raw.columns, options)


def refused(path: str, pattern: str) -> str:
    with pytest.raises(InvalidDataError) as e:
        count(path)
    message = str(e.value)
    assert e.value.exit_status == 65
    assert "\n" not in message, message
    assert pattern in message, message
    return message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b\n1,x\n2,y,z\n3,w\n", "line 3: 3 fields, where the header has 2"),
        ("a,b\n1,x\n2\n3,w\n", "line 3: 1 field, where the header has 2"),
        ('a,b\n1,x\n2,y"q\n', "line 3: a quote inside an unquoted field"),
        ('a,b\n1,x\n2,"y\n3,w\n', "line 3: a quoted field is never closed"),
        ('a,b\n1,x\n2,"y"z\n', "line 3:"),
        ("a,a\n1,2\n", "line 1: column name 'a' appears twice"),
    ],
)
def test_bad_csv_is_65_naming_the_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "bad.csv", text)
    assert refused(path, expected).startswith(f"{path}: ")


def test_a_ragged_row_deep_in_a_large_file_is_named_exactly(tmp_path: Path) -> None:
    rows = [f"{i},x\n" for i in range(200_000)]
    rows[150_000] = "1,2,3\n"
    path = write(tmp_path / "big.csv", "a,b\n" + "".join(rows))
    refused(path, "line 150002: 3 fields")


def test_a_ragged_row_in_one_file_of_a_glob_names_that_file(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "x,y\n1,2\n")
    bad = write(tmp_path / "b.csv", "x,y\n1,2\n3\n")
    message = refused(str(tmp_path / "*.csv"), "line 3: 1 field")
    assert message.startswith(f"{bad}: ")


def test_files_of_a_glob_with_different_headers(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "x,y\n1,2\n")
    write(tmp_path / "b.csv", "y,x\n1,2\n")
    with pytest.raises(InvalidDataError, match=r"b\.csv: line 1: the header"):
        open_raw(str(tmp_path / "*.csv"), RawOptions())


def test_quoted_fields_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Chunks of 8 bytes: quoted fields with line ends and doubled quotes run past
    # them, and must be carried whole; the stray quote after them is on line 8.
    monkeypatch.setattr(raw_files, "_CHUNK", 8)
    text = 'a,b\n1,"long\nfield, with ""quotes"""\n2,"x"\n3,"multi\n\nline"\n4,ab"c\n'
    path = write(tmp_path / "q.csv", text)
    refused(path, "line 8: a quote inside an unquoted field")
    good = write(tmp_path / "g.csv", text.replace('ab"c', "abc"))
    options = RawOptions()
    (b,) = count_columns(open_raw(good, options), None, ["b"], options)
    assert b.labels == ["abc", 'long\nfield, with "quotes"', "multi\n\nline", "x"]


def test_a_numeric_reference_and_a_text_current_is_categorical(tmp_path: Path) -> None:
    options = RawOptions()
    ref = open_raw(write(tmp_path / "r.csv", "x\n1\n2\n3\n"), options)
    cur = open_raw(write(tmp_path / "c.csv", "x\n1\nthree\n"), options)
    (cc,) = count_columns(ref, cur, ["x"], options)
    assert cc.kind == "categorical"
    assert cc.labels == ["1", "2", "3", "three"]
    assert cc.current.tolist() == [1, 0, 0, 1]


def test_numbers_of_other_spellings_are_text(tmp_path: Path) -> None:
    # The grammar is ASCII decimal or scientific: 1_000 (which DuckDB's cast takes),
    # 0x10 and a decimal comma are not numbers.
    for value in ("1_000", "0x10", '"1,5"', "\u0661"):
        options = RawOptions()
        raw = open_raw(write(tmp_path / "r.csv", f"x\n1\n{value}\n"), options)
        (cc,) = count_columns(raw, None, ["x"], options)
        assert cc.kind == "categorical", value


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", b"x\na\n\xff\n")
    refused(path, "not valid UTF-8")


def test_empty_and_header_only(tmp_path: Path) -> None:
    with pytest.raises(InvalidDataError, match="empty input"):
        open_raw(write(tmp_path / "e.csv", ""), RawOptions())
    refused(write(tmp_path / "h.csv", "x\n"), "no rows")


def test_a_corrupt_gzip(tmp_path: Path) -> None:
    data = gzip.compress(b"x\n" + b"1\n" * 1000)
    path = write(tmp_path / "r.csv.gz", data[: len(data) // 2])
    with pytest.raises(InvalidDataError):
        count(path)


def test_missing_sources(tmp_path: Path) -> None:
    with pytest.raises(InputMissingError, match="no such file"):
        open_raw(str(tmp_path / "none.csv"), RawOptions())
    with pytest.raises(InputMissingError, match="no file matches"):
        open_raw(str(tmp_path / "*.parquet"), RawOptions())
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputMissingError, match="no files"):
        open_raw(str(tmp_path / "empty"), RawOptions())


def test_mixed_formats_in_a_folder_and_unknown_format(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "x\n1\n")
    write(tmp_path / "b.jsonl", '{"x": 1}\n')
    with pytest.raises(UsageError, match="different formats"):
        open_raw(str(tmp_path), RawOptions())
    with pytest.raises(UsageError, match="unknown input format"):
        open_raw(str(tmp_path / "a.csv"), RawOptions(input_format="xlsx"))


def test_json_that_is_not_records(tmp_path: Path) -> None:
    with pytest.raises(InvalidDataError, match="array of records"):
        open_raw(write(tmp_path / "r.json", "[1, 2]"), RawOptions())
    with pytest.raises(InvalidDataError, match="line 2: a JSON line must be one record"):
        open_raw(write(tmp_path / "r.jsonl", '{"x": 1}\n[1]\n'), RawOptions())


def plain_quote_problem(text: str) -> tuple[int, str] | None:
    """RFC 4180's quotes, one character at a time: the offset of the first problem."""
    state = "start"  # start of a field, unquoted, inside quotes, just after a quote inside
    opened = 0
    for i, ch in enumerate(text):
        lead = ch in ",\r\n"
        if state == "start":
            state, opened = ("inside", i) if ch == '"' else ("start" if lead else "plain", opened)
        elif state == "plain":
            if ch == '"':
                return i, "inside an unquoted field"
            state = "start" if lead else "plain"
        elif state == "inside":
            state = "quote" if ch == '"' else "inside"
        else:  # a quote inside: doubled, or the closing one
            if ch == '"':
                state = "inside"
            elif lead:
                state = "start"
            else:
                return i, "after the closing quote"
    if state == "inside":
        return opened, "never closed"
    return None


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='ab,"\n', max_size=40), chunk=st.integers(1, 12))
def test_quote_check_matches_a_character_by_character_reading(
    tmp_path_factory: pytest.TempPathFactory, text: str, chunk: int
) -> None:
    path = tmp_path_factory.mktemp("q") / "q.csv"
    path.write_text(text, encoding="utf-8")
    expected = plain_quote_problem(text)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(raw_files, "_CHUNK", chunk)
        if expected is None:
            raw_files.check_quotes("q.csv", str(path), ",")
            return
        with pytest.raises(InvalidDataError) as e:
            raw_files.check_quotes("q.csv", str(path), ",")
    at, what = expected
    assert f"q.csv: line {text.count(chr(10), 0, at) + 1}: " in str(e.value)
    assert what in str(e.value)
