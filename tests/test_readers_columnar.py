"""The columnar (pyarrow.csv) path of large CSV/TSV tables, and its fall-back.

A large clean table is read by pyarrow.csv; anything it does not take whole goes to
the stdlib csv reader, which must then name the exact line, column and label, as it
does for a small file. Each error case is checked twice: on a file large enough for
the library path (through the real program), and with the library path forced on a
small input (in process), against the message the stdlib reader gives.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.readers import columnar, delimited, read_table

#: Rows that make a ``label,p,q`` file of more than LIBRARY_FROM bytes.
ROWS = 80_000


def big_rows(rows: int = ROWS) -> list[str]:
    return [f"w{i:07d},{i % 97 + 1},{i % 89 + 1}\n" for i in range(rows)]


def write_big(tmp_path: Path, rows: list[str], name: str = "big.csv") -> Path:
    path = tmp_path / name
    path.write_text("label,p,q\n" + "".join(rows), encoding="utf-8", newline="")
    assert path.stat().st_size >= delimited.LIBRARY_FROM
    return path


def kldiv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kldiv_cli", *args], capture_output=True, text=True, check=False
    )


def one_error(run: subprocess.CompletedProcess[str], status: int) -> str:
    assert run.returncode == status, run.stderr
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith("kldiv: error: "), line
    return line.removeprefix("kldiv: error: ")


# --------------------------------------------------------------------------- values


def test_a_large_clean_table_is_read_by_the_library_with_its_labels(tmp_path: Path) -> None:
    rows = big_rows()
    path = write_big(tmp_path, rows)
    table = read_table(str(path))
    assert table.labels.arrow is not None  # read by pyarrow.csv, labels kept in Arrow
    assert table.label_column == "label"
    p = table.columns["p"]
    assert p is not None
    # The oracle: the values the rows were written from.
    assert p.tolist() == [float(i % 97 + 1) for i in range(ROWS)]
    assert table.labels.take([0, ROWS - 1]) == ["w0000000", f"w{ROWS - 1:07d}"]
    assert table.line_of(ROWS - 1) == ROWS + 1  # the header is line 1


def test_the_program_on_a_large_table_gives_the_same_measures_as_on_its_json(
    tmp_path: Path,
) -> None:
    # The same distributions as a JSON object (read by the JSON reader, Python
    # strings) and as a large CSV (pyarrow.csv): every measure agrees.
    rows = big_rows()
    path = write_big(tmp_path, rows)
    import json

    p = {f"w{i:07d}": i % 97 + 1 for i in range(ROWS)}
    q = {f"w{i:07d}": i % 89 + 1 for i in range(ROWS)}
    (tmp_path / "p.json").write_text(json.dumps(p))
    (tmp_path / "q.json").write_text(json.dumps(q))
    big = kldiv("compare", str(path), "--format", "json")
    small = kldiv("compare", str(tmp_path / "p.json"), str(tmp_path / "q.json"), "--format", "json")
    assert big.returncode == 0, big.stderr
    assert small.returncode == 0, small.stderr
    a, b = json.loads(big.stdout)["measures"], json.loads(small.stdout)["measures"]
    # The same float64 inputs; sums may be taken in another order by SIMD: 1e-12.
    for key, value in a.items():
        assert value == pytest.approx(b[key], rel=1e-12), key


def test_two_large_files_are_aligned_by_label_in_arrow(tmp_path: Path) -> None:
    # Q has P's labels in reverse order, less its first, plus one new label: the
    # union is P's labels then the new one, and Q's values land on their labels.
    rows = big_rows()
    p_table = read_table(str(write_big(tmp_path, rows, "p.csv")))
    q_rows = [*reversed(rows[1:]), "zz,5,5\n"]
    q_table = read_table(str(write_big(tmp_path, q_rows, "q.csv")))
    from kldiv_cli.readers import align

    pair = align(p_table.column("p"), q_table.column("p"))
    assert pair.size == ROWS + 1
    assert pair.labels.take([0, ROWS - 1, ROWS]) == ["w0000000", f"w{ROWS - 1:07d}", "zz"]
    assert pair.q[0] == 0.0  # w0000000 is not in Q
    assert pair.q[ROWS] == 5.0
    np.testing.assert_array_equal(pair.q[1:ROWS], pair.p[1:ROWS])


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("row", "want"),
    [
        # a cell that is not a number: its line, column and label
        (
            "w0040000,x,1\n",
            "big.csv: line 40002, column 'p', label 'w0040000': 'x' is not a number",
        ),
        # the same label twice: both lines
        ("w0000005,1,1\n", "big.csv: line 40002: label 'w0000005' appears twice (first at line 7)"),
        # a ragged row
        ("w0040000,1\n", "big.csv: line 40002: expected 3 fields, saw 2"),
        # a stray quote
        ('w004"0000,1,1\n', "big.csv: line 40002: a quote inside the unquoted field"),
        # a NUL byte
        ("w0040000,1\x00,1\n", "big.csv: line 40002: a NUL byte (at offset"),
    ],
)
def test_an_error_in_a_large_table_is_named_exactly(tmp_path: Path, row: str, want: str) -> None:
    rows = big_rows()
    rows[40000] = row
    path = write_big(tmp_path, rows)
    line = one_error(kldiv("compare", str(path), "--p", "p", "--q", "q"), 65)
    assert line.startswith(f"{tmp_path}/{want}"), line


def test_bytes_that_are_not_utf8_in_a_large_table_are_named(tmp_path: Path) -> None:
    rows = big_rows()
    path = write_big(tmp_path, rows)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"w0040000")
    raw[at + 1] = 0xFF
    path.write_bytes(bytes(raw))
    line = one_error(kldiv("compare", str(path)), 65)
    assert line == f"{path}: line 40002: not valid UTF-8 (byte 0xff at offset {at + 1})", line


# --------------------------------------------------------------------------- the two readers


def forced(text: str, label_idx: int | None = 0) -> object:
    """The library path's table of a small input (None: it leaves the input)."""
    from kldiv_cli.readers.sources import Held

    header = text.split("\n", 1)[0].split(",")
    return columnar.csv_table("t", Held(text.encode()), ",", header, False, label_idx)


@pytest.mark.parametrize(
    "text",
    [
        'l,n\n"a",1\n',  # a quote: RFC 4180's rules are the csv module's to check
        "l,n\na,1\n\nb,2\n",  # a blank line: lines would be off by one
        "l,n\na,1\rb,2\n",  # a bare CR
        "l,n\na,9007199254740993\n",  # 2^53 + 1: only its text says it is not 2^53
        "l,n\na,1\nb\n",  # ragged
        "l,n\na,\n",  # empty
        "l,n\na,nan(1)\n",  # NaN to Arrow, not a number to kldiv's grammar
    ],
)
def test_the_library_path_leaves_what_it_cannot_name_to_the_csv_module(text: str) -> None:
    assert forced(text) is None


@pytest.mark.parametrize("cell", ["1_0", "x", "٣", "1,5"])
def test_a_cell_that_is_not_a_number_is_named_by_the_library_as_by_the_csv_module(
    cell: str,
) -> None:
    text = f"l\tn\tm\na\t1\t{cell}\nb\t2\t3\n"
    header = ["l", "n", "m"]
    from kldiv_cli.readers.sources import Held

    fast = columnar.csv_table("t", Held(text.encode()), "\t", header, False, 0)
    strict = delimited._stdlib_table("t", text.encode(), "\t", header, False, 0)
    assert fast is not None
    assert fast.labels.arrow is not None
    assert fast.problems == strict.problems
    assert fast.problem("m") == strict.problem("m")
    assert fast.columns["m"] is None
    assert fast.numeric == strict.numeric == ["n"]


def test_what_the_library_path_leaves_is_read_or_refused_as_before() -> None:
    # Through read_table on a small input (the stdlib reader): the message that the
    # fall-back of a large one gives.
    with pytest.raises(InvalidDataError, match=r"^<stdin>: line 4: expected 2 fields, saw 1$"):
        read_table("-", stdin=io.BytesIO(b"l,n\na,1\n\nb\n"))
    got = read_table("-", stdin=io.BytesIO(b"l,n\na, 1\n\nb,2\n"))
    assert got.columns["n"] is not None
    assert got.columns["n"].tolist() == [1.0, 2.0]
    assert got.line_of(1) == 4


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(
            st.characters(min_codepoint=0x21, max_codepoint=0x2FF, exclude_characters='",'),
            max_size=20,
        ),
        min_size=2,
        max_size=60,
    ),
    st.integers(1, 4),
)
def test_may_repeat_is_true_exactly_when_a_label_repeats(labels: list[str], pieces: int) -> None:
    # The oracle: Python's set. Labels of any length (the 8-byte keys and the hash of
    # longer ones), in any number of chunks (one block of the file each), in any
    # order; a false "may repeat" is allowed by the contract but must not happen for
    # so few labels (the exact check would be run for nothing).
    cut = np.array_split(np.arange(len(labels)), pieces)
    array = pa.chunked_array([pa.array([labels[i] for i in part], pa.string()) for part in cut])
    assert columnar.may_repeat(array) == (len(set(labels)) < len(labels))
    array = pa.chunked_array([pa.array(sorted(set(labels)), pa.string())])
    assert not columnar.may_repeat(array)


def test_labels_in_order_are_unique_without_a_sort() -> None:
    # Whole-number ids in numeric order (9 before 10) and byte order, up and down.
    ids = [str(i) for i in range(1, 2000)]
    for labels in (ids, sorted(ids), sorted(ids, reverse=True)):
        assert not columnar.may_repeat(pa.array(labels))
    assert columnar.may_repeat(pa.array([*ids, "5"]))
    # Same first 8 bytes, differing after: hashed keys, still told apart.
    long = [f"prefix__{i}" for i in range(1000)]
    assert not columnar.may_repeat(pa.array(long[::-1][::2] + long[::2]))
    assert columnar.may_repeat(pa.array([*long, "prefix__500"]))


# --------------------------------------------------------------------------- read from its path


@pytest.mark.parametrize("block", [5, 7, 64, 1 << 20])
@pytest.mark.parametrize(
    ("text", "width", "unusual"),
    [
        (b"a,b\r\n1,2\r\n3,4\r\n", 2, False),  # CR LF, wherever a block ends
        (b"a,b\r\n1,2\r3,4\r\n", 2, True),  # a bare CR
        (b"a,b\n1,2\n3,4\r", 2, True),  # a bare CR, last
        (b"a\n1\n\n2\n", 1, True),  # a blank line in a table of one column
        (b"a\r\n1\r\n\r\n2\r\n", 1, True),
        (b"a\n1\n2\n3\n", 1, False),
        (b'a,b\n1,"2"\n', 2, True),  # a quote
        (b"a,b\n1,2\x00\n", 2, True),  # a NUL
    ],
)
def test_a_file_is_screened_across_its_blocks_as_its_bytes_are(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    block: int,
    text: bytes,
    width: int,
    unusual: bool,
) -> None:
    # The oracle: the screen of the whole bytes at once; the file is read in blocks
    # of any size, so every pair of bytes straddles a block's end somewhere.
    assert columnar._unusual(text, width) is unusual
    path = tmp_path / "t.csv"
    path.write_bytes(text)
    monkeypatch.setattr(columnar, "_BLOCK", block)
    assert columnar._unusual_file(str(path), width) is unusual


def test_large_files_of_every_shape_read_as_small_ones(tmp_path: Path) -> None:
    # CR LF, a BOM, TSV, no labels, quoted labels: read from the path by Arrow, or
    # read whole and by the csv module; the oracle is the same text read by the csv
    # module alone (as a small input is), row by row.
    rows = big_rows()
    shapes = {
        "crlf.csv": ("label,p,q\r\n" + "".join(rows).replace("\n", "\r\n")).encode(),
        "bom.csv": b"\xef\xbb\xbf" + ("label,p,q\n" + "".join(rows)).encode(),
        "t.tsv": ("label\tp\tq\n" + "".join(rows).replace(",", "\t")).encode(),
        "bare.csv": ("p,q\n" + "".join(f"{i},{7 * i}\n" for i in range(200_000))).encode(),
        "quoted.csv": ("label,p,q\n" + "".join(f'"{r[:8]}"{r[8:]}' for r in rows)).encode(),
    }
    for name, raw in shapes.items():
        path = tmp_path / name
        path.write_bytes(raw)
        assert len(raw) >= delimited.LIBRARY_FROM
        got = read_table(str(path))
        sep = "\t" if name.endswith(".tsv") else ","
        body = raw.removeprefix(b"\xef\xbb\xbf")
        header = body.split(b"\n", 1)[0].decode().strip().split(sep)
        label_idx = 0 if header[0] == "label" else None
        want = delimited._stdlib_table(name, body, sep, header, False, label_idx)
        assert got.label_column == want.label_column, name
        for column in ("p", "q"):
            a, b = got.columns[column], want.columns[column]
            assert a is not None
            assert b is not None
            assert a.tolist() == b.tolist(), name
        last = got.labels.size - 1
        assert got.labels.take([0, 5, last]) == want.labels.take([0, 5, last]), name
        assert [got.line_of(r) for r in (0, last)] == [2, last + 2], name


def test_a_large_json_file_is_read_whole_by_the_json_reader(tmp_path: Path) -> None:
    import json

    doc = {f"w{i:07d}": i % 7 + 1 for i in range(ROWS)}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    assert path.stat().st_size >= delimited.LIBRARY_FROM
    got = read_table(str(path))
    assert got.labels.take([0, ROWS - 1]) == ["w0000000", f"w{ROWS - 1:07d}"]
    values = got.columns[""]
    assert values is not None
    assert values.tolist() == [float(i % 7 + 1) for i in range(ROWS)]


def test_a_large_compare_never_imports_pandas(tmp_path: Path) -> None:
    # Importing pandas costs 0.17 s or more: neither Arrow's to_numpy nor pa.array
    # (both ask pandas whether their input is one of its objects) may run on the path
    # of a large compare, one file or two, aligned by label.
    rows = big_rows()
    p = write_big(tmp_path, rows, "p.csv")
    q = write_big(tmp_path, [*rows[1:], "zz,1,1\n"], "q.csv")
    code = (
        "import sys; sys.modules['pandas'] = None; from kldiv_cli.cli import main; "
        f"sys.argv = ['kldiv', 'compare', {str(p)!r}, {str(q)!r}, "
        "'--p', 'p', '--q', 'p', '--top', '3']; main()"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "zz" in run.stderr  # the label only in Q, named by the warning: Labels.take


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(max_size=4), unique=True, min_size=1, max_size=30),
    st.lists(st.text(max_size=4), unique=True, min_size=1, max_size=30),
    st.booleans(),
)
def test_the_arrow_join_gives_the_union_python_gives(
    p: list[str], q: list[str], both: bool
) -> None:
    # The oracle: union_of on Python lists (a dict). Labels in Arrow on one side or
    # both: the same union in the same order, every value at its label.
    from kldiv_cli.readers import Labels, union_of

    pv = np.arange(1.0, len(p) + 1)
    qv = np.arange(1.0, len(q) + 1) * 10
    want = union_of(Labels.of(p), Labels.of(q), pv, qv)
    q_labels = Labels.of_arrow(pa.array(q, pa.string())) if both else Labels.of(q)
    got = union_of(Labels.of_arrow(pa.array(p, pa.string())), q_labels, pv, qv)
    assert got[0].values == want[0].values
    assert got[1].tolist() == want[1].tolist()
    assert got[2].tolist() == want[2].tolist()


# --------------------------------------------------------------------------- text columns


def test_a_text_column_beside_the_counts_stays_on_the_library_path(tmp_path: Path) -> None:
    # A column of names (not numbers) in a large file: Arrow reads it again as text
    # rather than leaving the whole file to the csv module (30 s at 10M rows), and
    # the column's problem is worded and placed as the csv module's reader does it.
    rows = [f"w{i:07d},n{i % 5},{i % 97 + 1},{i % 89 + 1}\n" for i in range(ROWS)]
    raw = ("label,name,p,q\n" + "".join(rows)).encode()
    path = tmp_path / "names.csv"
    path.write_bytes(raw)
    got = read_table(str(path))
    assert got.labels.arrow is not None  # read by Arrow
    want = delimited._stdlib_table("names.csv", raw, ",", ["label", "name", "p", "q"], False, 0)
    assert got.numeric == want.numeric == ["p", "q"]
    assert got.columns["name"] is None
    assert got.problems == want.problems == {"name": (0, "'n0' is not a number")}
    assert got.problem("name") == (
        f"{path}: line 2, column 'name', label 'w0000000': 'n0' is not a number"
    )


def test_a_first_column_numeric_at_first_and_text_later_holds_the_labels(tmp_path: Path) -> None:
    # The first cell reads as a number, a later one does not: the first column holds
    # the labels (the spec's rule), decided by Arrow's reading as by the csv module's.
    rows = [f"{i},{i % 97 + 1},{i % 89 + 1}\n" for i in range(ROWS)]
    rows[ROWS // 2] = f"x{ROWS // 2},1,1\n"
    path = tmp_path / "ids.csv"
    path.write_bytes(("id,p,q\n" + "".join(rows) * 2).encode())  # twice: over 1 MiB
    assert path.stat().st_size >= delimited.LIBRARY_FROM
    with pytest.raises(InvalidDataError, match=f"line {ROWS + 2}: label '0' appears twice"):
        read_table(str(path))  # read by Arrow: the exact check names both lines
    path.write_bytes(("id,p,q\n" + "".join(rows) + "".join("z" + r for r in rows)).encode())
    got = read_table(str(path))
    assert got.labels.arrow is not None
    assert got.label_column == "id"
    assert got.labels.take([0, ROWS // 2]) == ["0", f"x{ROWS // 2}"]
    assert got.numeric == ["p", "q"]


def test_a_text_column_of_numbers_arrow_refuses_goes_to_the_csv_module() -> None:
    # ' 1' is refused by neither; '+inf' by kldiv's grammar not at all: whatever
    # Arrow refuses that the grammar takes leaves the input to the csv module.
    text = "l,n\n" + "".join(f"w{i},{i}\n" for i in range(50)) + "w50,nan(1)\n"
    assert forced(text) is None


@given(
    chunks=st.lists(st.lists(st.text(max_size=3), max_size=4), min_size=1, max_size=4),
    data=st.data(),
)
def test_labels_in_arrow_chunks_are_taken_in_the_order_asked(
    chunks: list[list[str]], data: st.DataObject
) -> None:
    # Labels.take picks from each chunk of Arrow's array in turn: any rows, in any
    # order, repeated or not, give the labels of those rows, as a Python list would.
    from kldiv_cli.readers.table import Labels

    flat = [label for chunk in chunks for label in chunk]
    rows = data.draw(st.lists(st.integers(0, len(flat) - 1), max_size=8) if flat else st.just([]))
    labels = Labels.of_arrow(pa.chunked_array(chunks, type=pa.string()))
    assert labels.take(rows) == [flat[row] for row in rows]
    assert labels.take(np.array(rows, dtype=np.intp)) == [flat[row] for row in rows]
