"""More hostile raw inputs (issue 11): rows of gigabytes, gzip files whose names do not
say so, and the cases of the issue's list that tests/test_raw_hostile.py and
tests/test_raw_engine.py leave out. Every refusal is one line on stderr, exit 65,
naming the file and the line; every count is checked against a figure derived by
hand; the long rows are checked in bounded memory, measured."""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.readers import RawOptions, count_columns, open_raw, raw_files
from kldiv_cli.readers.raw_files import MAX_ROW_BYTES
from tests.cli_run import kldiv

#: A line of 2 GiB: past every 32-bit length, and far past the row limit.
TWO_GIB = 1 << 31
#: Written this many bytes at a time, so the test itself stays small in memory.
WRITE_CHUNK = 64 << 20
#: The most a refusal of a huge row may cost, in peak resident memory (the brief's
#: bound; measured at about 50 MB).
BOUND = 1 << 30


def message(name: str, line: int) -> str:
    return (
        f"{name}: line {line}: a row longer than {MAX_ROW_BYTES:,} bytes, "
        "the most kldiv reads in one row"
    )


def too_long(name: str, line: int) -> str:
    """What stderr holds when the program refuses such a row."""
    return f"kldiv: error: {message(name, line)}\n"


#: Runs the program as ``python -m kldiv_cli`` does, and writes its peak resident
#: memory (VmHWM of /proc/self/status, in kB) to the file named by its first argument
#: as it exits. Not ru_maxrss from wait4: a child's high-water mark starts at its
#: parent's resident size when forked, and pytest's can be large.
MEASURED = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as f, open(out, "w") as o:
        o.write(next(line.split()[1] for line in f if line.startswith("VmHWM")))
atexit.register(peak)
sys.argv[0] = "kldiv"
runpy.run_module("kldiv_cli", run_name="__main__", alter_sys=True)
"""


def run_measured(*args: str, cwd: Path) -> tuple[int, str, str, int, float]:
    """The real program in a child process: (status, stdout, stderr, its peak
    resident memory in bytes, seconds)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("the peak memory is read from /proc/self/status")
    out, err, hwm = cwd / "stdout.txt", cwd / "stderr.txt", cwd / "peak.txt"
    start = time.monotonic()
    with open(out, "wb") as o, open(err, "wb") as e:
        status = subprocess.run(
            [sys.executable, "-c", MEASURED, str(hwm), *args],
            stdout=o,
            stderr=e,
            cwd=cwd,
            check=False,
        ).returncode
    seconds = time.monotonic() - start
    return status, out.read_text(), err.read_text(), int(hwm.read_text()) * 1024, seconds


def sparse_line_file(path: Path, head: bytes, length: int, tail: bytes) -> None:
    """``head``, then ``length`` NUL bytes written as a hole (no disk, no time), then
    ``tail``: a line of ``length`` bytes."""
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(len(head) + length)
        f.seek(len(head) + length)
        f.write(tail)


def refusal_peak(action: Callable[[], object]) -> tuple[str, int]:
    """(the InvalidDataError that ``action()`` raises, the peak of Python's
    allocations in bytes while it ran)."""
    tracemalloc.start()
    try:
        with pytest.raises(InvalidDataError) as e:
            action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return str(e.value), peak


# --------------------------------------------------------------- a 2 GB line


@pytest.mark.slow
def test_a_2gb_line_of_text_is_65_naming_the_line_in_bounded_memory(tmp_path: Path) -> None:
    # Before: exit 70 (DuckDB's "Parallel CSV Reader ... does not support a full
    # read", a traceback's summary), after 17 s and 4.2 GB of peak memory (the quote
    # check gathered the line in one growing bytes object). Now: refused by the quote
    # check once the row passes the limit, in one chunk: 0.25 s, 50 MB.
    big = tmp_path / "big.csv"
    block = b"a" * WRITE_CHUNK
    try:
        with open(big, "wb") as f:
            f.write(b"x\n")
            for _ in range(TWO_GIB // WRITE_CHUNK):
                f.write(block)
            f.write(b"\nb\nc\n")
        del block
        status, out, err, peak, seconds = run_measured(
            "entropy", "big.csv", "--count", "x", cwd=tmp_path
        )
    finally:
        big.unlink(missing_ok=True)
    assert (status, out) == (65, "")
    assert err == too_long("big.csv", 2)
    assert peak < BOUND, peak
    assert seconds < 60, seconds


def test_a_sparse_2gb_line_is_refused_at_once(tmp_path: Path) -> None:
    # The same line as above, of NUL bytes, written as a hole: the program reads a
    # chunk past the limit and stops, so this runs in a fraction of a second.
    sparse_line_file(tmp_path / "big.csv", b"x\n", TWO_GIB, b"\nb\nc\n")
    status, out, err, peak, _ = run_measured("entropy", "big.csv", "--count", "x", cwd=tmp_path)
    assert (status, out) == (65, "")
    assert err == too_long("big.csv", 2)
    assert peak < BOUND, peak


@pytest.mark.parametrize(
    ("head", "tail", "line"),
    [
        (b"x\n1\n", b"\n2\n", 3),  # a plain line
        (b'x\n1\n"', b'"\n2\n', 3),  # one quoted field
        (b"x\n1\n", b"", 3),  # the last line, with no line end
        (b"", b"\nx\n1\n", 1),  # the header
    ],
)
def test_the_quote_check_reads_a_2gb_line_in_bounded_memory(
    tmp_path: Path, head: bytes, tail: bytes, line: int
) -> None:
    path = tmp_path / "big.csv"
    sparse_line_file(path, head, TWO_GIB, tail)
    # The quote check alone, then the whole opening (header, quotes) of the source.
    error, peak = refusal_peak(lambda: raw_files.check_quotes("big.csv", str(path), ","))
    assert error == message("big.csv", line)
    assert peak < 4 * raw_files._CHUNK, peak  # a chunk and a row, copied once or twice
    error, peak = refusal_peak(lambda: open_raw(str(path), RawOptions()))
    assert error == message(str(path), line)
    assert peak < 4 * raw_files._CHUNK, peak


def test_a_long_line_inside_gzip_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    # 64 MiB of one line, compressed to 64 KB: streamed through gzip, never whole.
    path = tmp_path / "big.csv.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(b"x\n1\n")
        block = b"a" * (1 << 20)
        for _ in range(64):
            f.write(block)
        f.write(b"\n2\n")
    error, peak = refusal_peak(lambda: open_raw(str(path), RawOptions()))
    assert error == message(str(path), 3)
    assert peak < 4 * raw_files._CHUNK, peak


def test_a_2gb_json_line_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    sparse_line_file(path, b'{"x": "a"}\n{"x": "', TWO_GIB, b'"}\n')
    error, peak = refusal_peak(lambda: open_raw(str(path), RawOptions()))
    assert error == message(str(path), 2)
    assert peak < 4 * MAX_ROW_BYTES, peak


M = MAX_ROW_BYTES
HALF = b"a" * (M // 2) + b"\n"


@pytest.mark.parametrize(
    ("name", "body", "refused_at"),
    [
        # Line 3 is exactly the limit long (its line end left out): read; one more: not.
        ("plain", b"x,y\n1,2\n" + b"a" * (M - 2) + b",b\n3,4\n", None),
        ("plain+1", b"x,y\n1,2\n" + b"a" * (M - 1) + b",b\n3,4\n", 3),
        # A line end is LF, CRLF or CR.
        ("crlf", b"x,y\r\n1,2\r\n" + b"a" * (M - 2) + b",b\r\n3,4\r\n", None),
        ("crlf+1", b"x,y\r\n1,2\r\n" + b"a" * (M - 1) + b",b\r\n3,4\r\n", 3),
        ("cr", b"x,y\r1,2\r" + b"a" * (M - 2) + b",b\r3,4\r", None),
        ("cr+1", b"x,y\r1,2\r" + b"a" * (M - 1) + b",b\r3,4\r", 3),
        # A quoted field with a line end: the row is lines 3 and 4 together.
        ("quoted", b'x,y\n1,2\n"' + HALF + b"a" * (M // 2 - 5) + b'",b\n3,4\n', None),
        ("quoted+1", b'x,y\n1,2\n"' + HALF + b"a" * (M // 2 - 4) + b'",b\n3,4\n', 3),
        # The last row, with no line end.
        ("last", b"x,y\n1,2\n3,4\n" + b"a" * (M - 2) + b",b", None),
        ("last+1", b"x,y\n1,2\n3,4\n" + b"a" * (M - 1) + b",b", 4),
    ],
)  # fmt: skip
def test_a_row_of_the_limit_is_counted_and_one_byte_more_is_refused(
    tmp_path: Path, name: str, body: bytes, refused_at: int | None
) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(body)
    run = kldiv("entropy", str(path), "--count", "y", "--format", "json")
    if refused_at is None:
        # y is 2, b, 4 (three values once each): log2 3 bits; DuckDB reads the row too
        # (kldiv tells it a limit above its own).
        assert run.err == ""
        (column,) = run.json()["distributions"]
        assert column["n"] == 3
        assert column["entropy"] == pytest.approx(math.log2(3), rel=1e-12)
    else:
        assert (run.status, run.out) == (65, "")
        assert run.err == too_long(str(path), refused_at)


def test_duckdbs_own_refusal_of_a_long_line_reads_as_kldivs() -> None:
    # The net under the quote check: should DuckDB refuse a line after all (it counts
    # a byte or two more than kldiv), its message becomes the same one line. Before,
    # it was "line 3: CSV Error on Line: 3". (DuckDB's text, as 2.0.1 writes it.)
    from kldiv_cli.readers.raw import _data_problem

    text = (
        "Invalid Input Error: CSV Error on Line: 3\nOriginal Line: aaaa\n"
        "Maximum line size of 2065536 bytes exceeded. Actual Size:2065537 bytes.\n\n"
        "  file = d/r.csv\n  delimiter = , (Set By User)\n"
    )
    source = raw_files.RawSource("d", "csv", ["d/r.csv"], ["x"], ",")
    assert _data_problem(source, text) == message("d/r.csv", 3)


def test_a_file_of_cr_line_ends_is_many_rows_not_one(tmp_path: Path) -> None:
    # DuckDB reads CR alone as a line end: 10^6 rows of 4 bytes are not one row of
    # 4 MB (refused by the first version of the row limit, which knew only LF).
    path = tmp_path / "cr.csv"
    path.write_bytes(b"x,y\r" + b"".join(b"%d,a\r" % (i % 4) for i in range(1_000_000)))
    run = kldiv("entropy", str(path), "--count", "x", "--format", "json")
    (column,) = run.json()["distributions"]
    # 0, 1, 2, 3 equally often: 2 bits.
    assert (column["n"], column["entropy"]) == (1_000_000, pytest.approx(2.0, rel=1e-12))


def test_a_header_longer_than_64_kib_is_read_whole(tmp_path: Path) -> None:
    # Before: only the first 64 KiB of the header were read, so 'c09999' was "no
    # column" (exit 2) in a file that has it.
    names = [f"c{i:05d}" for i in range(10_000)]  # 70,000 bytes of header
    rows = [",".join(str(i % k) for i in range(10_000)) for k in (2, 3, 3)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + "\n".join(rows) + "\n")
    run = kldiv("entropy", str(path), "--count", "c09999", "--format", "json")
    # 9999 % 2 = 1, 9999 % 3 = 0 twice: counts 1, 2: H = log2 3 - 2/3 bits
    (column,) = run.json()["distributions"]
    assert column["entropy"] == pytest.approx(math.log2(3) - 2 / 3, rel=1e-12)


def test_a_header_longer_than_the_limit_is_line_1(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i:07d}" for i in range(M // 9 + 1)) + "\n1\n")
    run = kldiv("entropy", str(path), "--count", "c0000000")
    assert (run.status, run.out) == (65, "")
    assert run.err == too_long(str(path), 1)


def test_a_blank_first_line_is_refused_not_read_as_a_row(tmp_path: Path) -> None:
    # Before: the header was found on line 2, DuckDB skipped line 1 as the header and
    # counted 'x' as a value of x: 3 values, log2 3 bits, where the file has 2.
    path = tmp_path / "blank.csv"
    path.write_text("\nx,y\na,1\nb,2\n")
    run = kldiv("entropy", str(path), "--count", "x")
    assert (run.status, run.out) == (65, "")
    assert run.err == f"kldiv: error: {path}: line 1: the header line is empty\n"


def rows_reference(text: str, limit: int) -> list[tuple[int, str]]:
    """Every problem of ``text``, reading it a character at a time: RFC 4180's
    quotes, and rows longer than ``limit`` bytes (a row runs from a line start to
    the next CR or LF outside quotes, left out). Lines from 1, a line end being LF,
    CRLF or CR."""
    problems = []
    state = "start"  # start of a field, unquoted, inside quotes, a quote inside
    row_start, line, row_line, opened_line = 0, 1, 1, 1
    for i, ch in enumerate(text):
        lead = ch in ",\r\n"
        if state == "start":
            if ch == '"':
                state, opened_line = "inside", line
            else:
                state = "start" if lead else "plain"
        elif state == "plain":
            if ch == '"':
                problems.append((line, "a quote inside an unquoted field"))
            state = "start" if lead else "plain"
        elif state == "inside":
            state = "quote" if ch == '"' else "inside"
        elif ch == '"':
            state = "inside"
        elif lead:
            state = "start"
        else:
            problems.append((line, "text after the closing quote"))
            state = "plain"
        ends_line = ch == "\n" or (ch == "\r" and text[i + 1 : i + 2] != "\n")
        if ends_line:
            line += 1
        if ch in "\r\n" and state == "start":
            if i - row_start > limit:
                problems.append((row_line, "a row longer than"))
            row_start, row_line = i + 1, line
    if state == "inside":
        problems.append((opened_line, "a quoted field is never closed"))
    if len(text) - row_start > limit:
        problems.append((row_line, "a row longer than"))
    return problems


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(alphabet='ab,"\n\r', max_size=60),
    chunk=st.integers(1, 16),
    limit=st.integers(1, 12),
)
def test_the_row_limit_matches_a_character_by_character_reading(
    tmp_path_factory: pytest.TempPathFactory, text: str, chunk: int, limit: int
) -> None:
    path = tmp_path_factory.mktemp("q") / "q.csv"
    path.write_bytes(text.encode())
    problems = rows_reference(text, limit)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(raw_files, "_CHUNK", chunk)
        mp.setattr(raw_files, "MAX_ROW_BYTES", limit)
        if not problems:
            raw_files.check_quotes("q.csv", str(path), ",")
            return
        with pytest.raises(InvalidDataError) as e:
            raw_files.check_quotes("q.csv", str(path), ",")
    # Which problem comes first depends on the chunks (quotes are checked before
    # lengths in each); it must be one of them, at its line.
    message = str(e.value)
    assert any(message.startswith(f"q.csv: line {n}: {what}") for n, what in problems), (
        message,
        problems,
    )


# ----------------------------------------------------- gzip without a .gz name


def gz(path: Path, text: str) -> str:
    path.write_bytes(gzip.compress(text.encode()))
    return str(path)


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        ("data.csv", "x,y\na,1\nb,2\na,3\n", None),
        ("data.tsv", "x\ty\na\t1\nb\t2\na\t3\n", None),
        ("data.json", '[{"x": "a"}, {"x": "b"}, {"x": "a"}]', None),
        ("data.jsonl", '{"x": "a"}\n{"x": "b"}\n{"x": "a"}\n', None),
        ("data", "x,y\na,1\nb,2\na,3\n", None),  # no suffix: CSV by content
        ("data", "x\ty\na\t1\nb\t2\na\t3\n", None),  # TSV by content
        ("data", '[{"x": "a"}, {"x": "b"}, {"x": "a"}]', None),  # JSON by content
        ("data", '{"x": "a"}\n{"x": "b"}\n{"x": "a"}\n', None),  # JSON lines by content
        ("data.txt", "x;y\na;1\nb;2\na;3\n", "csv"),  # named by --input-format
    ],
)
def test_gzip_content_is_read_whatever_the_name(
    tmp_path: Path, name: str, text: str, fmt: str | None
) -> None:
    # Before: CSV and TSV gave "no rows" (DuckDB went by the name, and read the
    # compressed bytes as text), JSON worked.
    path = gz(tmp_path / name, text)
    args = ["entropy", path, "--count", "x", "--format", "json"]
    if fmt is not None:
        args += ["--input-format", fmt, "--delimiter", ";"]
    run = kldiv(*args)
    assert run.err == ""
    (column,) = run.json()["distributions"]
    # a, b, a: 2/3, 1/3: log2 3 - 2/3 bits
    assert column["n"] == 3
    assert column["entropy"] == pytest.approx(math.log2(3) - 2 / 3, rel=1e-12)


@pytest.mark.parametrize("name", ["data.csv", "data"])
def test_the_quote_check_and_ragged_rows_see_through_gzip_without_gz(
    tmp_path: Path, name: str
) -> None:
    stray = gz(tmp_path / name, 'x,y\na,1\nb,2"\n')
    run = kldiv("entropy", stray, "--count", "x")
    assert (run.status, run.out) == (65, "")
    assert run.err.startswith(f"kldiv: error: {stray}: line 3: a quote inside an unquoted field")
    assert run.err.count("\n") == 1
    ragged = gz(tmp_path / name, "x,y\na,1\nb,2,3\n")
    run = kldiv("entropy", ragged, "--count", "x")
    assert (run.status, run.out) == (65, "")
    assert run.err == f"kldiv: error: {ragged}: line 3: 3 fields, where the header has 2\n"


def test_a_plain_file_named_gz_is_read_as_plain(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    path.write_text("x\na\nb\n")
    run = kldiv("entropy", str(path), "--count", "x", "--format", "json")
    assert run.json()["distributions"][0]["entropy"] == pytest.approx(1.0, rel=1e-12)


def test_a_folder_of_gzip_and_plain_files(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    gz(folder / "a.csv.gz", "x\na\na\n")
    (folder / "b.csv").write_text("x\nb\n")
    options = RawOptions()
    (cc,) = count_columns(open_raw(str(folder), options), None, ["x"], options)
    assert (cc.labels, cc.reference.tolist()) == (["a", "b"], [2.0, 1.0])
    # Every file gzip, whatever their names: one table.
    gz(folder / "b.csv", "x\nb\n")
    (cc,) = count_columns(open_raw(str(folder), options), None, ["x"], options)
    assert (cc.labels, cc.reference.tolist()) == (["a", "b"], [2.0, 1.0])
    # Some gzip, some not, and a name that says otherwise: DuckDB cannot be told
    # per file, so the file is named.
    (folder / "a.csv.gz").unlink()
    gz(folder / "a.csv", "x\na\na\n")
    (folder / "b.csv").write_text("x\nb\n")
    with pytest.raises(InvalidDataError) as e:
        open_raw(str(folder), options)
    assert str(e.value).startswith(f"{folder / 'a.csv'}: is gzip but not named .gz")


def test_gzip_on_standard_input_is_still_read(tmp_path: Path) -> None:
    run = kldiv(
        "entropy", "-", "--count", "x", "--format", "json", stdin=gzip.compress(b"x\na\nb\n")
    )
    assert run.json()["distributions"][0]["entropy"] == pytest.approx(1.0, rel=1e-12)


# ----------------------------------------------------- the rest of the list


def test_a_ragged_tsv_row_is_named(tmp_path: Path) -> None:
    path = tmp_path / "r.tsv"
    path.write_text("x\ty\na\t1\nb\n")
    run = kldiv("entropy", str(path), "--count", "x")
    assert (run.status, run.out) == (65, "")
    assert run.err == f"kldiv: error: {path}: line 3: 1 field, where the header has 2\n"


def test_a_numeric_parquet_reference_and_a_text_csv_current(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ref = tmp_path / "ref.parquet"
    pq.write_table(pa.table({"x": pa.array([1, 2, 2, 3], pa.int64())}), ref)
    cur = tmp_path / "cur.csv"
    cur.write_text("x\n2\nthree\n")
    run = kldiv("compare", str(cur), str(ref), "--count", "x", "--format", "json")
    result = run.json()
    # The text 'three' makes x categorical on both sides; the typed integers are
    # spelled as written, so '2' is one label on both sides: P (1/2 '2', 1/2 'three'),
    # Q (1/4 '1', 1/2 '2', 1/4 '3').
    assert result["support"] == {"size": 4, "only_p": ["three"], "only_q": ["1", "3"]}
    m = result["measures"]
    assert m["kl_pq"] == "inf"
    # JSD: M = (1/8, 1/2, 1/8, 1/4); D(P||M) = 1/2 log2(1/2 / 1/2) + 1/2 log2(1/2 / 1/4)
    # = 1/2; D(Q||M) = 2 * 1/4 log2(1/4 / 1/8) = 1/2; JSD = 1/2 bit.
    assert m["jsd"] == pytest.approx(0.5, rel=1e-12)


def test_parquet_files_of_one_table_with_different_column_types(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "t"
    folder.mkdir()
    pq.write_table(pa.table({"x": pa.array([1, 2, 2], pa.int64())}), folder / "a.parquet")
    pq.write_table(pa.table({"x": pa.array([1.5, 2.0], pa.float64())}), folder / "b.parquet")
    options = RawOptions()
    (cc,) = count_columns(open_raw(str(folder), options), None, ["x"], options)
    # Before: 1.5 was cast to the first file's BIGINT, and rounded to 2: 1 once, 2
    # four times. Now as numbers: 1, 1.5 once each, 2 three times.
    assert cc.kind == "numeric"
    assert (cc.labels, cc.reference.tolist()) == (["1", "1.5", "2"], [1.0, 1.0, 3.0])
    # With text in a third file the column is text in every file, each value spelled
    # by DuckDB's cast to text (2.0 as a DOUBLE is '2.0'; 2 as a BIGINT is '2').
    pq.write_table(pa.table({"x": pa.array(["b"])}), folder / "c.parquet")
    (cc,) = count_columns(open_raw(str(folder), options), None, ["x"], options)
    assert cc.kind == "categorical"
    assert dict(zip(cc.labels, cc.reference.tolist(), strict=True)) == {
        "1": 1.0,
        "1.5": 1.0,
        "2": 2.0,
        "2.0": 1.0,
        "b": 1.0,
    }


def test_all_missing_columns_of_every_format(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"x": pa.array([None, None, None], pa.float64()), "z": pa.nulls(3)}),
        tmp_path / "r.parquet",
    )
    (tmp_path / "r.jsonl").write_text('{"x": null, "z": null}\n' * 2)
    (tmp_path / "r.csv").write_text("x,z\n,NA\nnull,\n")
    for name, n in (("r.parquet", 3), ("r.jsonl", 2), ("r.csv", 2)):
        for column in ("x", "z"):
            run = kldiv("entropy", str(tmp_path / name), "--count", column, "--format", "json")
            (dist,) = run.json()["distributions"]
            # One label, (missing): n values, 0 bits, and a warning naming them.
            assert (dist["n"], dist["support"], dist["entropy"]) == (n, 1, 0.0), name
            assert f"{n} missing values" in run.err, name
            path = tmp_path / name
            run = kldiv("entropy", str(path), "--count", column, "--drop-missing")
            assert (run.status, run.out) == (65, ""), name
            assert run.err == (
                f"kldiv: error: {path}, column {column!r}: no values (all {n} are missing, "
                "left out by --drop-missing)\n"
            )


def test_one_row_under_every_estimator(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("x\na\n")
    for estimator in (
        "plugin",
        "miller-madow",
        "chao-shen",
        "shrink",
        "jeffreys",
        "laplace",
        "sg",
        "minimax",
        "nsb",
    ):
        run = kldiv(
            "entropy", str(path), "--count", "x", "--estimator", estimator, "--format", "json"
        )
        (dist,) = run.json()["distributions"]
        # One label: every estimator that spreads mass over the observed labels
        # only has nothing to spread it over: 0 bits.
        assert (dist["n"], dist["support"]) == (1, 1), estimator
        assert dist["entropy"] == 0.0, estimator


def test_one_row_against_one_other_row(tmp_path: Path) -> None:
    p, q = tmp_path / "p.csv", tmp_path / "q.csv"
    p.write_text("x\na\n")
    q.write_text("x\nb\n")
    run = kldiv("compare", str(p), str(q), "--count", "x", "--test", "--format", "json")
    result = run.json()
    # Disjoint: JSD is 1 bit; the G-test of [[1, 0], [0, 1]], every expected count 1/2:
    # G = 2 (1 ln 2 + 1 ln 2) = 4 ln 2, one degree of freedom.
    assert result["measures"]["jsd"] == pytest.approx(1.0, rel=1e-12)
    assert result["test"]["statistic"] == pytest.approx(4 * math.log(2), rel=1e-12)
    assert result["test"]["df"] == 1


@pytest.mark.slow
def test_a_million_distinct_labels(tmp_path: Path) -> None:
    # Measured: entropy 1.0 s and 350 MB; compare 1.5 s and 530 MB.
    (tmp_path / "p.csv").write_text("id\n" + "".join(f"u{i:07d}\n" for i in range(1_000_000)))
    (tmp_path / "q.csv").write_text(
        "id\n" + "".join(f"u{i:07d}\n" for i in range(500_000, 1_500_000))
    )
    status, out, err, peak, _ = run_measured(
        "entropy", "p.csv", "--count", "id", "--format", "json", cwd=tmp_path
    )
    assert (status, err) == (0, "")
    (dist,) = json.loads(out)["distributions"]
    # Uniform over 10^6 labels: log2 10^6 bits.
    assert (dist["n"], dist["support"]) == (1_000_000, 1_000_000)
    assert dist["entropy"] == pytest.approx(6 * math.log2(10), rel=1e-12)
    assert peak < BOUND, peak
    status, out, err, peak, _ = run_measured(
        "compare", "p.csv", "q.csv", "--count", "id", "--value", "jsd", cwd=tmp_path
    )
    assert status == 0
    # Half the labels shared with equal mass, half on one side only: each label of
    # one side only adds its mass p log2(p / (p/2)) / 2 = p/2, from each side: 1/2 bit.
    assert float(out) == pytest.approx(0.5, rel=1e-12)
    assert err.startswith("kldiv: warning: D(P||Q) is infinite")
    assert peak < BOUND, peak
