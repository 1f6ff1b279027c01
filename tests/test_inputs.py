"""The readers: sources -> tables -> distributions -> aligned pairs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kldiv_cli.errors import InputMissingError, InvalidDataError, UsageError
from kldiv_cli.readers import align, parse_number, parse_whole, read_table
from kldiv_cli.readers.sources import sniff


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


# --------------------------------------------------------------------------- sources


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1.0), (" 2.5 ", 2.5), ("1e-3", 1e-3), ("-4", -4.0), (".5", 0.5), ("+7.", 7.0)],
)
def test_parse_number_accepts_decimal_and_scientific(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1_000", "0x10", "1,5", "--1", "1e", "\u0663", "\uff11", "1\u0660", "\u00b2",
     "1e\u0663", "\u0131nf", "1\u00a0", "\u20001", "\x1c1"],
)  # fmt: skip
def test_parse_number_rejects_what_is_not_a_plain_number(text: str) -> None:
    # float() reads most of these (Unicode digits and blanks, '_'); the grammar does not.
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "value"), [("10", 10), ("-3", -3), ("+7", 7), (" 12 ", 12), ("007", 7)]
)
def test_parse_whole_reads_a_sign_and_ascii_digits(text: str, value: int) -> None:
    assert parse_whole(text) == value


@pytest.mark.parametrize("text", ["1_0", "\u0663", "1.0", "1e3", "", "0x1", "\uff11"])
def test_parse_whole_refuses_the_rest(text: str) -> None:
    assert parse_whole(text) is None


def test_parse_number_reads_nan_and_inf_so_they_can_be_rejected_by_name() -> None:
    assert np.isnan(parse_number("NaN"))  # type: ignore[arg-type]
    assert parse_number("inf") == float("inf")


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b'{"a": 1}', "json"),
        (b"  \n[1, 2]", "json"),
        (b"a\tb\n1\t2\n", "tsv"),
        (b"a,b\n1,2\n", "csv"),
        (b"a\tb,c\n", "csv"),
        (b"\xef\xbb\xbf{}", "json"),
    ],
)
def test_sniff_follows_the_spec(data: bytes, fmt: str) -> None:
    assert sniff(data) == fmt


def test_inline_numbers_are_an_unlabelled_distribution() -> None:
    table = read_table("0.9,0.1")
    dist = table.column(None)
    assert dist.values.tolist() == [0.9, 0.1]
    assert dist.labels.positional
    assert dist.labels.values == ["1", "2"]
    assert dist.column is None


def test_an_existing_file_wins_over_inline_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "1,2", "label,n\nx,5\n")
    assert read_table("1,2").labels.values == ["x"]


def test_a_missing_file_is_exit_66_and_names_it() -> None:
    with pytest.raises(InputMissingError, match=r"nope\.csv: no such file") as info:
        read_table("nope.csv")
    assert info.value.exit_status == 66


def test_a_directory_is_exit_66(tmp_path: Path) -> None:
    with pytest.raises(InputMissingError, match="directory"):
        read_table(str(tmp_path))


def test_stdin_is_read_and_sniffed() -> None:
    table = read_table("-", stdin=io.BytesIO(b'{"rain": 3, "sun": 5}'))
    assert table.source == "<stdin>"
    assert table.labels.values == ["rain", "sun"]
    assert table.column(None).values.tolist() == [3.0, 5.0]


def test_input_format_overrides_the_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "data.txt", "a\tb\n1\t2\n")
    table = read_table(path, input_format="tsv")
    assert table.numeric == ["a", "b"]


# --------------------------------------------------------------------------- CSV


def test_csv_first_column_of_text_is_the_label_column(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "word,n,m\nthe,3,4\nof,1,0\n")
    table = read_table(path)
    assert table.label_column == "word"
    assert table.labels.values == ["the", "of"]
    assert table.numeric == ["n", "m"]
    assert table.column("m").values.tolist() == [4.0, 0.0]


def test_csv_all_numeric_first_column_is_data_and_rows_are_positions(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "a,b\n1,2\n3,4\n")
    table = read_table(path)
    assert table.label_column is None
    assert table.numeric == ["a", "b"]
    assert table.labels.positional


def test_csv_numeric_looking_first_column_with_one_word_is_labels(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "id,n\n1,2\n2,3\nthree,4\n")
    table = read_table(path)
    assert table.label_column == "id"
    assert table.labels.values == ["1", "2", "three"]


def test_label_option_names_a_numeric_label_column_and_keeps_its_text(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "n,face\n5,01\n6,2\n")
    table = read_table(path, label="face")
    assert table.labels.values == ["01", "2"]
    assert table.numeric == ["n"]


def test_label_option_naming_no_column_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "a,b\nx,1\n")
    with pytest.raises(UsageError, match="'zzz'"):
        read_table(path, label="zzz")


@pytest.mark.parametrize("label", ["NA", "null", "None", "", "nan?", " spaced "])
def test_labels_are_kept_exactly_as_written(tmp_path: Path, label: str) -> None:
    path = write(tmp_path, "p.csv", f"label,n\n{label},1\nx,2\n")
    assert read_table(path).labels.values == [label, "x"]


def test_quoted_labels_with_commas_newlines_and_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", 'label,n\n"a,b",1\n"x\ny",2\n"say ""hi""",3\n')
    table = read_table(path)
    assert table.labels.values == ["a,b", "x\ny", 'say "hi"']
    assert table.column("n").values.tolist() == [1.0, 2.0, 3.0]


def test_bom_and_crlf_are_handled(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", b"\xef\xbb\xbflabel,n\r\nx,1\r\ny,2\r\n")
    table = read_table(path)
    assert table.label_column == "label"
    assert table.labels.values == ["x", "y"]


def test_crlf_with_labels_in_the_last_column_loses_the_cr(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "n,label\r\n1,x\r\n2,y\r\n")
    assert read_table(path, label="label").labels.values == ["x", "y"]


def test_no_header_names_columns_by_position(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "x,1,2\ny,3,4\n")
    table = read_table(path, no_header=True)
    assert table.numeric == ["2", "3"]
    assert table.labels.values == ["x", "y"]
    assert table.column("3").values.tolist() == [2.0, 4.0]


def test_tsv(tmp_path: Path) -> None:
    path = write(tmp_path, "p.tsv", "w\tn\na b\t1\nc\t2\n")
    table = read_table(path)
    assert table.labels.values == ["a b", "c"]


def test_blank_lines_are_skipped_and_line_numbers_stay_true(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "label,n\na,1\n\nb,-2\n")
    with pytest.raises(InvalidDataError, match=r"line 4, column 'n', label 'b'.*negative"):
        read_table(path).column("n")


def test_numbers_beyond_float64_integers_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "label,n\na,18446744073709551616\nb,9223372036854775808\n")
    values = read_table(path).column("n").values
    assert values.tolist() == [2.0**64, 2.0**63]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "empty"),
        ("label,n\n", "no data rows"),
        ("label,n\na,1\nb,2,3\n", "line 3: expected 2 fields, saw 3"),
        ("label,n\na,1\nb\n", "line 3: expected 2 fields, saw 1"),
        ("label,n\na,1\nb,\n", "line 3, column 'n', label 'b': '' is empty"),
        ("label,n\na,1\nb,lots\n", "line 3, column 'n', label 'b': 'lots' is not a number"),
        ("label,n\na,1\nb,-1\n", "line 3, column 'n', label 'b': value -1.0 is negative"),
        ("label,n\na,1\nb,nan\n", "label 'b': value nan is NaN"),
        ("label,n\na,1\nb,inf\n", "label 'b': value inf is infinite"),
        ("label,n\na,1\nb,1e400\n", "label 'b': value inf is infinite"),
        ("label,n\na,0\nb,0\n", "no positive value"),
        ("label,n\na,1\na,2\n", "line 3.*label 'a' appears twice \\(first at line 2\\)"),
        ('label,n\n"a,1\n', "line"),
        ("a,a\n1,2\n", "column name 'a' appears twice"),
    ],
)
def test_invalid_csv_is_exit_65_with_the_place(tmp_path: Path, content: str, match: str) -> None:
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(InvalidDataError, match=match) as info:
        read_table(path).column("n")
    assert info.value.exit_status == 65
    assert "bad.csv" in str(info.value)


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", b"label,n\na,1\n\xff,2\n")
    with pytest.raises(InvalidDataError, match="line 3: not valid UTF-8"):
        read_table(path)


def test_duplicate_labels_are_found_in_a_large_simple_file(tmp_path: Path) -> None:
    # The fast path hashes label bytes; a duplicate far apart must still be caught,
    # and labels that differ only past the 8th byte must not be confused.
    rows = [f"label-{i:010d},{i % 7}" for i in range(50_000)]
    ok = write(tmp_path, "ok.csv", "label,n\n" + "\n".join(rows) + "\n")
    assert read_table(ok).labels.size == 50_000
    rows[40_000] = rows[3].split(",")[0] + ",1"
    dup = write(tmp_path, "dup.csv", "label,n\n" + "\n".join(rows) + "\n")
    with pytest.raises(
        InvalidDataError, match=r"line 40002.*'label-0000000003' appears twice \(first at line 5\)"
    ):
        read_table(dup)


def test_large_simple_and_quoted_files_read_the_same(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    counts = rng.integers(0, 100, size=(2000, 2))
    plain = "\n".join(f"w{i},{a},{b}" for i, (a, b) in enumerate(counts))
    quoted = "\n".join(f'"w{i}",{a},{b}' for i, (a, b) in enumerate(counts))
    t1 = read_table(write(tmp_path, "a.csv", "w,x,y\n" + plain + "\n"))
    t2 = read_table(write(tmp_path, "b.csv", "w,x,y\n" + quoted + "\n"))
    assert t1.labels.values == t2.labels.values
    for col in ("x", "y"):
        assert np.array_equal(t1.column(col).values, t2.column(col).values)


def test_a_text_column_is_not_numeric_and_says_why(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "label,n,note\na,1,hello\nb,2,x\n")
    table = read_table(path)
    assert table.numeric == ["n"]
    with pytest.raises(InvalidDataError, match="column 'note', label 'a': 'hello' is not a number"):
        table.column("note")


# --------------------------------------------------------------------------- JSON


def test_json_object_of_label_to_number(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "p.json", '{"a": 1, "b": 2.5}'))
    assert table.labels.values == ["a", "b"]
    assert table.column(None).values.tolist() == [1.0, 2.5]


def test_json_array_of_numbers(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "p.json", "[1, 2, 3]"))
    assert table.labels.positional
    assert table.column(None).values.tolist() == [1.0, 2.0, 3.0]


def test_json_named_objects_share_the_union_of_labels(tmp_path: Path) -> None:
    doc = {"p": {"a": 1, "b": 2}, "q": {"b": 3, "c": 4}}
    table = read_table(write(tmp_path, "t.json", json.dumps(doc)))
    assert table.labels.values == ["a", "b", "c"]
    assert table.column("p").values.tolist() == [1.0, 2.0, 0.0]
    assert table.column("q").values.tolist() == [0.0, 3.0, 4.0]


def test_json_named_arrays(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "t.json", '{"p": [1, 2], "q": [3, 4]}'))
    assert table.numeric == ["p", "q"]
    assert table.labels.positional


def test_json_records_take_the_string_key_as_labels(tmp_path: Path) -> None:
    doc = [{"word": "the", "n": 3, "m": 1}, {"word": "of", "n": 1, "m": 2}]
    table = read_table(write(tmp_path, "r.json", json.dumps(doc)))
    assert table.label_column == "word"
    assert table.labels.values == ["the", "of"]
    assert table.column("m").values.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"a": NaN}', "NaN is not valid JSON"),
        ('{"a": Infinity}', "Infinity is not valid JSON"),
        ('{"a": 1, "a": 2}', "key 'a' appears twice"),
        ('{"a": 1', "line 1, column 8: invalid JSON"),
        ('{"a": "1"}', "label 'a': \"1\" is not a number"),
        ('{"a": true}', "label 'a': true is not a number"),
        ('{"a": null}', "label 'a': null is not a number"),
        ("{}", "empty JSON object"),
        ("[]", "empty JSON array"),
        ("3", "a JSON float is not a distribution"),
        ('"x"', "a JSON str is not a distribution"),
        ('{"p": [1, 2], "q": [1]}', "differ in length"),
        ('{"p": [1], "q": {"a": 1}}', "mixes labelled"),
        ('[{"w": "a", "n": 1}, {"w": "b", "m": 1}]', "record 2 has keys"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_invalid_json_is_exit_65(tmp_path: Path, content: str, match: str) -> None:
    path = write(tmp_path, "bad.json", content)
    with pytest.raises(InvalidDataError, match=match):
        read_table(path).column(None)


def test_json_integers_of_thousands_of_digits_are_not_finite(tmp_path: Path) -> None:
    path = write(tmp_path, "big.json", '{"a": ' + "9" * 5000 + ', "b": 1}')
    with pytest.raises(InvalidDataError, match=r"label 'a'.*infinite"):
        read_table(path).column(None)


# --------------------------------------------------------------------------- alignment


def test_align_by_label_over_the_union_in_p_then_q_order(tmp_path: Path) -> None:
    p = read_table(write(tmp_path, "p.csv", "label,n\na,1\nb,2\nc,3\n")).column("n")
    q = read_table(write(tmp_path, "q.csv", "label,n\nc,3\nb,2\na,1\nd,4\n")).column("n")
    pair = align(p, q)
    assert pair.labels.values == ["a", "b", "c", "d"]
    assert pair.p.tolist() == [1.0, 2.0, 3.0, 0.0]
    assert pair.q.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_align_adds_the_pseudocount_to_every_aligned_entry() -> None:
    pair = align(read_table("1,0").column(None), read_table("0,3").column(None), 0.5)
    assert pair.p.tolist() == [1.5, 0.5]
    assert pair.q.tolist() == [0.5, 3.5]


def test_align_unlabelled_needs_equal_lengths() -> None:
    with pytest.raises(InvalidDataError, match="lengths differ: 1,2 has 2 values and 1,2,3 has 3"):
        align(read_table("1,2").column(None), read_table("1,2,3").column(None))


def test_align_labelled_with_unlabelled_is_an_error(tmp_path: Path) -> None:
    p = read_table(write(tmp_path, "p.json", '{"a": 1}')).column(None)
    with pytest.raises(InvalidDataError, match="no labels"):
        align(p, read_table("1").column(None))


# --------------------------------------------------------------------------- review fixes


def test_bom_with_no_header_does_not_stick_to_the_first_label(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", b"\xef\xbb\xbfa,1,2\nb,3,4\n")
    assert read_table(path, no_header=True).labels.values == ["a", "b"]


def test_stdin_tsv_after_a_blank_line_is_sniffed_as_tsv() -> None:
    table = read_table("-", stdin=io.BytesIO(b"\nl\tp\tq\na\t1\t2\n"))
    assert table.numeric == ["p", "q"]


def test_a_header_longer_than_the_first_read_is_parsed_whole(tmp_path: Path) -> None:
    wide = 8000
    header = ",".join(["l"] + [f"c{i}" for i in range(wide)])
    path = write(tmp_path, "wide.csv", f"{header}\na,{','.join(['1'] * wide)}\n")
    assert len(read_table(path).numeric) == wide
    long_label = "x" * 70_000
    path = write(tmp_path, "long.csv", f'l,p,q\n"{long_label}",1,2\nb,3,4\n')
    assert read_table(path).labels.values == [long_label, "b"]


def test_json_records_ignore_a_text_key_unless_it_is_used(tmp_path: Path) -> None:
    doc = [{"w": "a", "note": "hi", "x": 1, "y": 2}, {"w": "b", "note": "yo", "x": 3, "y": 4}]
    table = read_table(write(tmp_path, "r.json", json.dumps(doc)))
    assert table.numeric == ["x", "y"]
    with pytest.raises(InvalidDataError, match="column 'note', label 'a': \"hi\" is not a number"):
        table.column("note")


def test_json_named_objects_report_the_entries_each_had(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "n.json", '{"A": {"a": 1, "b": 2}, "B": {"b": 1}}'))
    assert (table.column("A").size, table.column("B").size) == (2, 1)
    empty = read_table(write(tmp_path, "e.json", '{"A": {"a": 1}, "B": {}}'))
    with pytest.raises(InvalidDataError, match="column 'B': no values"):
        empty.column("B")


# ------------------------------------------------------------- numbers, as pandas reads them

cell = st.one_of(
    st.integers(0, 10**17).map(str),
    st.integers(0, 999).map(lambda n: f"{n:05d}"),  # leading zeros
    st.sampled_from(["1.5", "2e3", " 7", "+4", "", "x", "٣", "0x1"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(cell, st.integers(0, 10**6).map(str)), min_size=1, max_size=30))
def test_numbers_read_by_the_csv_module_equal_what_pandas_reads(
    rows: list[tuple[str, str]],
) -> None:
    """Small tables are read without pandas; they must still read as pandas reads them."""
    import pandas as pd

    text = "label,a,b\n" + "".join(f"w{i},{a},{b}\n" for i, (a, b) in enumerate(rows))
    table = read_table("-", stdin=io.BytesIO(text.encode()))
    frame = pd.read_csv(io.StringIO(text), dtype={"label": str}, na_filter=False)
    b = table.columns["b"]
    assert b is not None
    assert np.array_equal(b, frame["b"].to_numpy(np.float64))
    a = table.columns["a"]
    if frame["a"].dtype.kind in "iuf":
        assert a is not None
        assert np.array_equal(a, frame["a"].to_numpy(np.float64))


def test_a_small_count_table_is_read_without_pandas_or_pyarrow(tmp_path: Path) -> None:
    # Start-up is what a small file costs: importing pandas (0.35 s) or pyarrow
    # (0.05-0.1 s) would be most of it.
    import subprocess
    import sys

    path = write(
        tmp_path, "c.csv", "label,p,q\n" + "".join(f"x{i},{i},{2 * i + 1}\n" for i in range(999))
    )
    code = (
        "import sys; from kldiv_cli.readers import read_table; "
        f"t = read_table({path!r}); print(t.columns['q'].sum(), 'pandas' in sys.modules, "
        "'pyarrow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    want = [repr(float(sum(2 * i + 1 for i in range(999)))), "False", "False"]
    assert out.stdout.split() == want


def test_raw_json_values_are_spelled_so_that_different_values_differ(tmp_path: Path) -> None:
    from kldiv_cli.readers import read_categories

    values = [1, "1", 1.0, "1.0", True, "true", None, "null", "a", '"a"', [1, 2], "[1, 2]", ""]
    doc = json.dumps([{"x": v} for v in values])
    _, (spelled,) = read_categories(write(tmp_path, "r.json", doc), ["x"])
    assert spelled == [
        "1", '"1"', "1.0", '"1.0"', "true", '"true"', "null", '"null"', "a", '"\\"a\\""',
        "[1,2]", '"[1, 2]"', "",
    ]  # fmt: skip
    assert len(set(spelled)) == len(values)


def test_raw_csv_cells_are_kept_as_written(tmp_path: Path) -> None:
    from kldiv_cli.readers import read_categories

    for content in ("x,y\n1.0,a\n,b\nNA,c\n", 'x,y\n"1.0",a\n"",b\nNA,"c"\n'):  # grid, csv
        _, (xs, ys) = read_categories(write(tmp_path, "r.csv", content), ["x", "y"])
        assert (xs, ys) == (["1.0", "", "NA"], ["a", "b", "c"])
