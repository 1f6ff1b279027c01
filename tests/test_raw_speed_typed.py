"""The engine's fast path for CSV numbers (kldiv_cli.readers.raw._typed_columns):
DuckDB's own parser reads a column as DOUBLE when the grammar would take every field
of it, and the counts are the same as by the text path, on hostile spellings too.

What the fast path rests on is checked against this DuckDB here: every text of the
grammar parses to float(text), and the parser takes nothing else but digits grouped
by underscores and a doubled sign (``+-1``), which the engine looks for first. No
timing here: speed lives in benchmarks/drift.py.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.readers import ColumnCounts, RawOptions, count_columns, open_raw, raw

#: Past the head that decides which columns are read as numbers.
AFTER_HEAD = raw._HEAD_ROWS + 50


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def column_csv(path: Path, values: list[str]) -> str:
    return write_csv(path, ["x"], [[v] for v in values])


def count(
    ref: str, cur: str | None, options: RawOptions | None = None, columns: tuple[str, ...] = ("x",)
) -> list[ColumnCounts]:
    options = options or RawOptions()
    c = None if cur is None else open_raw(cur, options)
    return count_columns(open_raw(ref, options), c, list(columns), options)


def as_plain(cc: list[ColumnCounts]) -> list[Any]:
    return [
        (c.column, c.kind, c.edges, c.labels, c.reference.tolist(), c.current.tolist(), c.missing)
        for c in cc
    ]


class Spy:
    """Records, for each side loaded, the columns DuckDB's parser read as numbers (the
    fast path taken and not fallen back from); ``off``: the text path alone."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, off: bool = False) -> None:
        self.typed: list[frozenset[int]] = []
        load = raw._load

        def spy(*args: Any) -> Any:
            side = load(*args)
            self.typed.append(side.untexted)
            return side

        monkeypatch.setattr(raw, "_load", spy)
        if off:
            monkeypatch.setattr(raw, "_typed_columns", lambda con, side: frozenset())


def outcome(ref: str, cur: str | None, **kw: Any) -> Any:
    """The counts, or the message of the InvalidDataError that refused them."""
    try:
        return as_plain(count(ref, cur, **kw))
    except InvalidDataError as e:
        return str(e)


def both_ways(
    monkeypatch: pytest.MonkeyPatch, ref: str, cur: str | None, **kw: Any
) -> tuple[Any, list[frozenset[int]]]:
    """The counts by the engine as it is, and by the text path alone: they must agree
    (or both refuse, alike). Returns them and the typed columns of each side."""
    with monkeypatch.context() as m:
        spy = Spy(m)
        fast = outcome(ref, cur, **kw)
    with monkeypatch.context() as m:
        Spy(m, off=True)
        slow = outcome(ref, cur, **kw)
    assert fast == slow
    return fast, spy.typed


# --- what the fast path rests on: DuckDB's CSV parser against the grammar ---------------

GRAMMAR = re.compile(raw.NUMBER_RE2, re.ASCII)
PIECES = st.sampled_from(
    ["0", "1", "7", "9", "00", ".", "e", "E", "+", "-", "_", " ", "\t", "\v", "\f", "\r", "x",
     "nan", "NaN", "inf", "Infinity", "iNf", "d", "f", "p", ",", "\u00a0", "\u0661", "5e3"]
)  # fmt: skip


def parsed_by_duckdb(tmp_path: Path, texts: list[str]) -> dict[int, float]:
    """Which of ``texts`` DuckDB's CSV parser reads as DOUBLE (row index: value), as
    the engine's typed scan reads them (each field quoted, so blanks are kept)."""
    import duckdb

    path = write_csv(tmp_path / "p.csv", ["i", "x"], [[str(i), t] for i, t in enumerate(texts)])
    sql = (
        f"SELECT i, x FROM read_csv('{path}', columns = {{'i': 'BIGINT', 'x': 'DOUBLE'}}, "
        "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        # A row whose x does not convert is left out (the file is well formed).
        "strict_mode = true, nullstr = [''], ignore_errors = true)"
    )
    return {int(i): float(x) for i, x in duckdb.connect().execute(sql).fetchall()}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(st.lists(PIECES, min_size=1, max_size=5).map("".join), min_size=1, max_size=8)
)
def test_duckdb_parses_the_grammar_and_beyond_it_only_underscores_and_doubled_signs(
    tmp_path: Path, texts: list[str]
) -> None:
    texts = [t for t in texts if t.strip(" \t\r\n\f\v") and "\n" not in t and "\r" not in t]
    parsed = parsed_by_duckdb(tmp_path, texts)
    for i, text in enumerate(texts):
        if GRAMMAR.fullmatch(text):
            # Every number of the grammar parses, to Python's float of it (both round
            # correctly; NaN is missing either way).
            assert i in parsed, text
            want = float(text)
            got = parsed[i]
            assert (math.isnan(got) and math.isnan(want)) or (
                got == want and math.copysign(1, got) == math.copysign(1, want)
            ), text
        elif i in parsed:
            assert any(b.decode() in text for b in raw._NOT_GRAMMAR), text


def test_the_known_outliers_are_taken_by_duckdb(tmp_path: Path) -> None:
    # The reason the engine looks for them: if DuckDB stops taking them, the search
    # may go; if it takes new ones, the property test above fails.
    parsed = parsed_by_duckdb(tmp_path, ["1_000", "+-1", "1e5", "abc"])
    assert parsed == {0: 1000.0, 1: -1.0, 2: 1e5}


# --- the counts: the same as by text, and the fast path taken where it may be ------------


def test_plain_numbers_are_read_by_the_parser_with_the_same_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = [str(v) for v in range(100)] + ["", "NA", " 7 ", "1e1", "-0", "+3.", ".5"]
    ref = column_csv(tmp_path / "r.csv", values)
    cur = column_csv(tmp_path / "c.csv", [*values[::-1], "nan", "inf"])
    counted, typed = both_ways(monkeypatch, ref, cur)
    assert typed == [frozenset({0}), frozenset({0})]
    (_, kind, edges, _, reference, _, missing) = counted[0]
    assert kind == "binned"
    assert missing == (2, 3)  # "", "NA"; and "nan" on the current side
    assert sum(reference) == len(values)
    # n = 105 values: 0..99 and five at or below 10 (7, 10, 0, 3, 0.5); the k-th
    # smallest, k = ceil(10.5 j): 11th is 7, then v + 6 >= k for v >= 10.
    assert edges == [7.0, 15.0, 26.0, 36.0, 47.0, 57.0, 68.0, 78.0, 89.0]


@pytest.mark.parametrize("outlier", ["1_000", "+-1", "2_5.5"])
def test_an_outlier_after_the_head_makes_the_column_categorical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outlier: str
) -> None:
    # The parser would read it as a number; the grammar does not: the bytes are
    # searched for it, the column read as text.
    values = [str(v % 50) for v in range(AFTER_HEAD)] + [outlier]
    ref = column_csv(tmp_path / "r.csv", values)
    counted, typed = both_ways(monkeypatch, ref, None)
    assert typed == [frozenset()]
    assert counted[0][1] == "categorical"
    assert outlier in counted[0][3]


def test_an_outlier_in_another_column_or_the_header_keeps_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [[f"new_{v % 3}", str(v)] for v in range(AFTER_HEAD)]
    ref = write_csv(tmp_path / "r.csv", ["city_name", "x"], rows)
    counted, typed = both_ways(monkeypatch, ref, None, columns=("city_name", "x"))
    assert typed == [frozenset({1})]
    assert [c[1] for c in counted] == ["categorical", "binned"]
    assert counted[0][3] == ["new_0", "new_1", "new_2"]


def test_text_after_the_head_falls_back_to_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = [str(v) for v in range(AFTER_HEAD)] + ["abc", "NA", "N/A"]
    ref = column_csv(tmp_path / "r.csv", values)
    counted, typed = both_ways(monkeypatch, ref, None)
    assert typed == [frozenset()]  # tried, failed at "abc", read again as text
    (_, kind, _, labels, reference, _, missing) = counted[0]
    assert kind == "categorical"
    assert "abc" in labels
    assert missing == (2, 0)
    assert sum(reference) == len(values)


def test_na_tokens_after_the_head_are_missing_on_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = [str(v) for v in range(AFTER_HEAD)] + ["NA", '"null"', "None", "", "NaN"]
    path = tmp_path / "r.csv"  # written by hand: "null" quoted is a token too
    path.write_text("x\n" + "".join(f"{v}\n" for v in values))
    ref = str(path)
    counted, typed = both_ways(monkeypatch, ref, None)
    assert typed == [frozenset({0})]
    assert counted[0][1] == "binned"
    assert counted[0][6] == (5, 0)
    # --na replaces the list: "NA" is then text, the column categorical.
    counted, _ = both_ways(monkeypatch, ref, None, options=RawOptions(na=("None",)))
    assert counted[0][1] == "categorical"
    assert counted[0][6] == (3, 0)  # None, the empty field, NaN (a number that is NaN)


def test_a_numeric_side_is_read_again_as_text_when_the_other_has_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # REF is all numbers (read by the parser, its text not kept); CUR has a word: the
    # column is categorical, and REF's labels are its values as written.
    ref = column_csv(tmp_path / "r.csv", ["1.50", "01", "2", "2.0", " 2", "", "1.50"])
    cur = column_csv(tmp_path / "c.csv", ["a", "2", "01"])
    counted, typed = both_ways(monkeypatch, ref, cur)
    assert typed == [frozenset({0}), frozenset()]
    (_, kind, _, labels, reference, current, missing) = counted[0]
    assert kind == "categorical"
    assert labels == [" 2", "01", "1.50", "2", "2.0", "a", "(missing)"]
    assert reference == [1, 1, 2, 1, 1, 0, 1]
    assert current == [0, 1, 0, 1, 0, 1, 0]
    assert missing == (1, 0)


def test_categorical_option_is_never_read_as_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = column_csv(tmp_path / "r.csv", ["2", "2.0", "10"])
    counted, typed = both_ways(
        monkeypatch, ref, None, options=RawOptions(categorical=frozenset({"x"}))
    )
    assert typed == [frozenset()]
    assert counted[0][3] == ["10", "2", "2.0"]


def test_a_gzip_file_is_read_as_text_with_the_same_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "x\n" + "".join(f"{v}\n" for v in range(300))
    path = tmp_path / "r.csv.gz"
    path.write_bytes(gzip.compress(body.encode()))
    plain = column_csv(tmp_path / "p.csv", [str(v) for v in range(300)])
    zipped, typed = both_ways(monkeypatch, str(path), None)
    assert typed == [frozenset()]  # its bytes cannot be searched cheaply
    assert zipped == as_plain(count(plain, None))


def test_a_ragged_row_after_the_head_is_reported_with_its_line(tmp_path: Path) -> None:
    values = [str(v) for v in range(AFTER_HEAD)]
    path = tmp_path / "r.csv"
    path.write_text("x\n" + "".join(f"{v}\n" for v in values) + "1,2\n")
    with pytest.raises(InvalidDataError, match=rf"line {AFTER_HEAD + 2}: 2 fields"):
        count(str(path), None)


def test_parquet_minus_zero_keeps_its_text_when_categorical(tmp_path: Path) -> None:
    # Typed Parquet values are grouped by value; DuckDB groups -0.0 with 0.0, whose
    # texts differ when the column is categorical (the other side has text).
    import pyarrow as pa
    import pyarrow.parquet as pq

    ref = tmp_path / "r.parquet"
    pq.write_table(pa.table({"x": pa.array([0.0, -0.0, -0.0, 1.5])}), ref)
    cur = column_csv(tmp_path / "c.csv", ["a", "0.0"])
    (cc,) = count(str(ref), cur)
    assert cc.kind == "categorical"
    assert dict(zip(cc.labels, cc.reference.tolist(), strict=True)) == {
        "-0.0": 2, "0.0": 1, "1.5": 1, "a": 0,
    }  # fmt: skip


NUMBERISH = st.one_of(
    st.integers(-30, 30).map(str),
    st.floats(-100, 100, allow_nan=False).map(repr),
    st.sampled_from(["", "NA", "nan", "inf", "-inf", " 4 ", "1e2", "-0", "+.5", "7."]),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ref=st.lists(NUMBERISH, min_size=1, max_size=40),
    cur=st.lists(NUMBERISH | st.sampled_from(["a", "1_0", "+-2"]), min_size=1, max_size=40),
    bins=st.integers(2, 6),
)
def test_fast_and_text_paths_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ref: list[str], cur: list[str], bins: int
) -> None:
    r = column_csv(tmp_path / "r.csv", ref)
    c = column_csv(tmp_path / "c.csv", cur)
    # The same counts, or the same refusal (no finite reference value).
    both_ways(monkeypatch, r, c, options=RawOptions(bins=bins))


def test_a_doubled_sign_after_many_exponents_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every number has a "+" (1e+05): the search for "+-" goes past 64 false starts.
    values = ["1e+05", "2.5e+03"] * AFTER_HEAD + ["+-1"]
    ref = column_csv(tmp_path / "r.csv", values)
    counted, typed = both_ways(monkeypatch, ref, None)
    assert typed == [frozenset()]
    assert counted[0][1] == "categorical"
    assert counted[0][3] == ["+-1", "1e+05", "2.5e+03"]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(-4, 4).map(float) | st.floats(-1e3, 1e3), st.integers(1, 5)),
        min_size=1,
        max_size=30,
    ),
    bins=st.integers(2, 12),
)
def test_weighted_edges_are_the_inverted_cdf_of_the_rows_repeated(
    rows: list[tuple[float, int]], bins: int
) -> None:
    # The engine's grouped rows: a value with its count, and one value may be on
    # several rows (1 and 1.0 are two texts). Both ways (quantile_disc checked, and
    # the running sum) give the k-th smallest of the values repeated by their counts.
    repeated = sorted(v + 0.0 for v, m in rows for _ in range(m))
    n = len(repeated)
    expected = [repeated[-(-j * n // bins) - 1] for j in range(1, bins)]
    with raw._connection() as con:
        con.execute("CREATE TABLE t (v DOUBLE, m BIGINT)")
        con.executemany("INSERT INTO t VALUES (?, ?)", [list(r) for r in rows])
        for fast in (True, False):
            got = raw._edges(con, "v", "FROM t WHERE true", n, bins, fast, weight="m")
            assert got == expected


def test_an_interrupt_of_the_typed_scan_is_not_taken_for_bad_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only DuckDB's errors about the data send the scan the text way again; Ctrl-C
    # (DuckDB's InterruptException) stops the count at once.
    import duckdb

    group = raw._group

    def interrupted(con: Any, side: Any, indices: Any, typed: Any, table: str) -> None:
        if typed:
            raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
        group(con, side, indices, typed, table)

    monkeypatch.setattr(raw, "_group", interrupted)
    ref = column_csv(tmp_path / "r.csv", ["1", "2", "3"])
    with pytest.raises(duckdb.InterruptException):
        count(ref, None)
