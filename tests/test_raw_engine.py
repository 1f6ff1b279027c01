"""The counting engine of raw rows (kldiv_cli.readers.raw): each rule of the spec's
"What a column's distribution is", by hand-derived examples, and the binning against
a second, plain implementation under hypothesis.
"""

from __future__ import annotations

import bisect
import gzip
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.readers import (
    DEFAULT_NA,
    MISSING,
    ColumnCounts,
    RawOptions,
    bin_labels,
    count_columns,
    number_label,
    open_raw,
)


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def csv_of(path: Path, column: str, values: list[str]) -> str:
    return write(path, column + "\n" + "".join(v + "\n" for v in values))


def counts(
    tmp_path: Path,
    ref: list[str],
    cur: list[str] | None,
    options: RawOptions | None = None,
) -> ColumnCounts:
    """The counts of one column ``x`` of two CSV files holding ``ref`` and ``cur``."""
    options = options or RawOptions()
    r = open_raw(csv_of(tmp_path / "ref.csv", "x", ref), options)
    c = None if cur is None else open_raw(csv_of(tmp_path / "cur.csv", "x", cur), options)
    (result,) = count_columns(r, c, ["x"], options)
    return result


def as_dict(cc: ColumnCounts) -> dict[str, tuple[int, int]]:
    return {
        label: (int(r), int(c))
        for label, r, c in zip(cc.labels, cc.reference, cc.current, strict=True)
    }


# --- the kinds -------------------------------------------------------------------


def test_a_text_value_on_either_side_makes_the_column_categorical(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["1", "2", "3", "2"], ["1", "a"])
    assert cc.kind == "categorical"
    # Values as written, in code-point order; a label of one side only is counted 0
    # on the other.
    assert as_dict(cc) == {"1": (1, 1), "2": (2, 0), "3": (1, 0), "a": (0, 1)}
    assert cc.labels == ["1", "2", "3", "a"]
    assert cc.rows == (4, 2)


def test_categorical_values_are_kept_as_written(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["1", "1.0", " 1", "b"], ["1"])
    assert cc.labels == [" 1", "1", "1.0", "b"]  # code points: ' ' < '1' < '1.0' < 'b'
    assert cc.reference.tolist() == [1, 1, 1, 1]


def test_categorical_option_keeps_numbers_as_text(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["2", "2.0", "10"], ["2"], RawOptions(categorical=frozenset({"x"})))
    assert cc.kind == "categorical"
    assert cc.labels == ["10", "2", "2.0"]  # text order, not numeric
    assert cc.current.tolist() == [0, 1, 0]


def test_numeric_with_few_values_is_labelled_by_the_shortest_float_text(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["2.0", "2", "0.5", "1e20", "-0", "0"], ["2e0", "3"])
    assert cc.kind == "numeric"
    # 2.0, 2 and 2e0 are one value, 2; -0 and 0 one value, 0; labels by value; a
    # value of CUR only (3) is a label of its own with no reference mass.
    assert as_dict(cc) == {"0": (2, 0), "0.5": (1, 0), "2": (2, 1), "3": (0, 1), "1e+20": (1, 0)}
    assert cc.labels == ["0", "0.5", "2", "3", "1e+20"]
    assert cc.edges is None


def test_number_label_is_repr_without_a_trailing_point_zero() -> None:
    assert number_label(2.0) == "2"
    assert number_label(-0.0) == "0"
    assert number_label(0.1) == "0.1"
    assert number_label(1e16) == "1e+16"  # repr: '1e+16', no '.0' to drop
    assert number_label(123456789012345.0) == "123456789012345"
    assert number_label(-math.inf) == "-inf"
    assert bin_labels([0.5, 2.0, 1e20]) == ["<0.5", "[0.5, 2)", "[2, 1e+20)", ">=1e+20"]


def test_infinities_are_values_and_labels(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["inf", "-Infinity", "1", "INF"], ["-inf"])
    assert cc.kind == "numeric"
    assert as_dict(cc) == {"-inf": (1, 1), "1": (1, 0), "inf": (2, 0)}


# --- binning -----------------------------------------------------------------------


def test_edges_are_reference_values_by_the_inverted_cdf(tmp_path: Path) -> None:
    ref = [str(v) for v in range(1, 12)]  # 1..11: n = 11 > N = 10 distinct values
    cc = counts(tmp_path, ref, ["0", "11", "5.5"])
    assert cc.kind == "binned"
    # k_j = ceil(11 j / 10) = 2, 3, ..., 10: the values 2..10 (1, the minimum, is no edge).
    assert cc.edges == [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert cc.labels[:2] == ["<2", "[2, 3)"]
    assert cc.labels[-1] == ">=10"
    assert cc.reference.tolist() == [1, 1, 1, 1, 1, 1, 1, 1, 1, 2]
    assert as_dict(cc)["<2"] == (1, 1)  # 0 falls in the first bin
    assert as_dict(cc)["[5, 6)"] == (1, 1)  # 5.5: closed on the left
    assert as_dict(cc)[">=10"] == (2, 1)  # 11


def test_edge_ranks_are_exact_where_floats_would_round_up(tmp_path: Path) -> None:
    # n = 10, N = 5: j/N * n = 0.6 * 10 = 6.000000000000001 in floats, whose ceiling
    # 7 would pick 7; the integer rank ceil(3 * 10 / 5) = 6 picks 6.
    cc = counts(tmp_path, [str(v) for v in range(1, 11)], ["1"], RawOptions(bins=5))
    assert cc.edges == [2.0, 4.0, 6.0, 8.0]
    assert cc.reference.tolist() == [1, 2, 2, 2, 3]


def test_an_edge_equal_to_the_minimum_is_left_out(tmp_path: Path) -> None:
    # n = 7, N = 3: k = ceil(7/3) = 3 -> 0, the minimum (dropped); ceil(14/3) = 5 -> 2.
    cc = counts(tmp_path, ["0", "0", "0", "1", "2", "3", "4"], ["-1"], RawOptions(bins=3))
    assert cc.edges == [2.0]
    assert as_dict(cc) == {"<2": (4, 1), ">=2": (3, 0)}


def test_edges_all_on_the_minimum_leave_one_bin(tmp_path: Path) -> None:
    ref = ["0"] * 20 + ["1", "2", "3"]  # every quantile at j/2 is 0, the minimum
    cc = counts(tmp_path, ref, ["5"], RawOptions(bins=2))
    assert cc.kind == "binned"
    assert cc.edges == []
    assert as_dict(cc) == {"(-inf, inf)": (23, 1)}


def test_infinities_fall_in_the_end_bins(tmp_path: Path) -> None:
    ref = [str(v) for v in range(1, 12)] + ["inf", "-inf"]
    cc = counts(tmp_path, ref, ["inf", "-inf", "-inf"], RawOptions(bins=4))
    # n = 13: k = ceil(13/4) = 4 -> 3; ceil(26/4) = 7 -> 6; ceil(39/4) = 10 -> 9
    # (sorted: -inf, 1, 2, ...): edges 3, 6, 9.
    assert cc.edges == [3.0, 6.0, 9.0]
    assert as_dict(cc) == {"<3": (3, 2), "[3, 6)": (3, 0), "[6, 9)": (3, 0), ">=9": (4, 1)}


def test_edges_option_fixes_the_bins(tmp_path: Path) -> None:
    options = RawOptions(edges={"x": (0.0, 10.0)})
    cc = counts(tmp_path, ["-5", "0", "3", "10", "12", "NA"], ["1"], options)
    assert cc.kind == "binned"  # even with few values
    assert cc.edges == [0.0, 10.0]
    assert as_dict(cc) == {"<0": (1, 0), "[0, 10)": (2, 1), ">=10": (2, 0), MISSING: (1, 0)}


def test_edges_on_a_categorical_column_are_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--edges x"):
        counts(tmp_path, ["a"], ["1"], RawOptions(edges={"x": (1.0,)}))


def test_a_numeric_column_without_a_finite_reference_value_is_65(tmp_path: Path) -> None:
    with pytest.raises(InvalidDataError, match=r"'x'.*no finite value") as e:
        counts(tmp_path, ["inf", "-inf", "NA"], ["1"])
    assert e.value.exit_status == 65
    with pytest.raises(InvalidDataError, match=r"'x'.*no finite value"):
        counts(tmp_path, ["", "NA"], ["1", "2"])


def test_options_are_checked() -> None:
    with pytest.raises(UsageError, match="--bins 1"):
        RawOptions(bins=1)
    with pytest.raises(UsageError, match="strictly increasing"):
        RawOptions(edges={"x": (1.0, 1.0)})
    with pytest.raises(UsageError, match="finite"):
        RawOptions(edges={"x": (1.0, math.inf)})
    with pytest.raises(UsageError, match="both --categorical and --edges"):
        RawOptions(categorical=frozenset({"x"}), edges={"x": (1.0,)})


# --- missing values ------------------------------------------------------------------


def test_missing_values_are_a_label_of_their_own_last(tmp_path: Path) -> None:
    ref = ["a", "", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", '""']
    cc = counts(tmp_path, ref, ["a", "b"])
    assert set(DEFAULT_NA) <= set(ref)
    assert cc.labels == ["a", "b", MISSING]
    assert as_dict(cc) == {"a": (1, 1), "b": (0, 1), MISSING: (9, 0)}
    assert cc.missing == (9, 0)


def test_na_replaces_the_list(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["NA", "-", "", "a"], ["null"], RawOptions(na=("-",)))
    # NA and null are categories now; '-' and the empty field are missing.
    assert as_dict(cc) == {"NA": (1, 0), "a": (1, 0), "null": (0, 1), MISSING: (2, 0)}


def test_na_empty_keeps_only_the_empty_field_and_nan_stays_missing(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["1", "", "nan", "NaN", "2"], ["1"], RawOptions(na=("",)))
    # nan is a number by the grammar, NaN: missing in a numeric column whatever --na.
    assert cc.kind == "numeric"
    assert as_dict(cc) == {"1": (1, 1), "2": (1, 0), MISSING: (3, 0)}


def test_drop_missing_leaves_the_label_out_and_still_reports(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["a", "", "NA"], ["a", "NA"], RawOptions(drop_missing=True))
    assert cc.labels == ["a"]
    assert cc.reference.tolist() == [1]
    assert cc.current.tolist() == [1]
    assert cc.missing == (2, 1)
    assert cc.rows == (3, 2)


def test_no_missing_label_when_no_side_has_one(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["a"], ["b"])
    assert MISSING not in cc.labels


def test_a_category_spelled_like_the_missing_label_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidDataError, match="spelled '\\(missing\\)'"):
        counts(tmp_path, ["(missing)", "NA"], ["a"])
    cc = counts(tmp_path, ["(missing)", "a"], ["a"])  # no missing value: no clash
    assert cc.labels == ["(missing)", "a"]


def test_all_missing_column(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["", "NA"], ["NA", "", "null"])
    assert cc.kind == "numeric"  # no value that is not a number, and none at all
    assert as_dict(cc) == {MISSING: (2, 3)}


def test_one_side(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["b", "a", "b", ""], None)
    assert as_dict(cc) == {"a": (1, 0), "b": (2, 0), MISSING: (1, 0)}
    assert cc.rows == (4, 0)
    assert cc.missing == (1, 0)


def test_one_row(tmp_path: Path) -> None:
    cc = counts(tmp_path, ["5"], ["5"])
    assert as_dict(cc) == {"5": (1, 1)}


# --- JSON ----------------------------------------------------------------------------


def test_json_values_keep_their_spelling(tmp_path: Path) -> None:
    lines = [{"v": 1}, {"v": "1"}, {"v": 1.0}, {"v": None}, {"v": True}, {"v": "a"}]
    path = write(tmp_path / "r.jsonl", "".join(json.dumps(r) + "\n" for r in lines))
    options = RawOptions()
    raw = open_raw(path, options)
    assert raw.format == "jsonl"
    (cc,) = count_columns(raw, None, ["v"], options)
    # 1 and "1" differ ("1" is spelled with its quotes: it reads as JSON); the
    # number 1.0 is kept as written; null is missing.
    assert cc.kind == "categorical"
    assert as_dict(cc) == {
        '"1"': (1, 0),
        "1": (1, 0),
        "1.0": (1, 0),
        "a": (1, 0),
        "true": (1, 0),
        MISSING: (1, 0),
    }


def test_json_numbers_are_numeric(tmp_path: Path) -> None:
    ref = write(tmp_path / "r.json", json.dumps([{"v": 2}, {"v": 2.0}, {"v": 0.5}, {"v": None}]))
    cur = write(tmp_path / "c.json", json.dumps([{"v": 3}]))
    options = RawOptions()
    (cc,) = count_columns(open_raw(ref, options), open_raw(cur, options), ["v"], options)
    assert cc.kind == "numeric"
    assert as_dict(cc) == {"0.5": (1, 0), "2": (2, 0), "3": (0, 1), MISSING: (1, 0)}


def test_json_strictness(tmp_path: Path) -> None:
    options = RawOptions()
    bad = write(tmp_path / "d.json", '[{"v": 1, "v": 2}]')
    with pytest.raises(InvalidDataError, match="twice"):
        open_raw(bad, options)
    lines = write(tmp_path / "l.jsonl", '{"v": 1}\n{"v": }\n')
    with pytest.raises(InvalidDataError, match="line 2"):
        open_raw(lines, options)
    keys = write(tmp_path / "k.jsonl", '{"v": 1}\n{"w": 2}\n')
    with pytest.raises(InvalidDataError, match=r"line 2.*keys"):
        open_raw(keys, options)
    nan = write(tmp_path / "n.jsonl", '{"v": NaN}\n')
    with pytest.raises(InvalidDataError, match="line 1"):
        open_raw(nan, options)


# --- sources -----------------------------------------------------------------------------


def test_glob_and_folder_of_csv_files_are_one_table(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    write(folder / "a.csv", "x\n1\n2\n")
    write(folder / "b.csv", "x\n2\n3\n")
    options = RawOptions()
    for source in (str(folder / "*.csv"), str(folder)):
        raw = open_raw(source, options)
        assert raw.rows == 4
        (cc,) = count_columns(raw, None, ["x"], options)
        assert as_dict(cc) == {"1": (1, 0), "2": (2, 0), "3": (1, 0)}


def test_gzip_csv_and_tsv(tmp_path: Path) -> None:
    path = tmp_path / "r.csv.gz"
    path.write_bytes(gzip.compress(b"x,y\n1,a\n2,b\n2,a\n"))
    tsv = tmp_path / "r.tsv.gz"
    tsv.write_bytes(gzip.compress(b"x\ty\n1\ta,b\n"))
    options = RawOptions()
    ref, cur = open_raw(str(path), options), open_raw(str(tsv), options)
    assert cur.delimiter == "\t"
    x, y = count_columns(ref, cur, ["x", "y"], options)
    assert as_dict(x) == {"1": (1, 1), "2": (2, 0)}
    assert as_dict(y) == {"a": (2, 0), "a,b": (0, 1), "b": (1, 0)}


def test_parquet_written_by_pyarrow(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "i": pa.array([1, 2, 2, None], pa.int64()),
            "f": pa.array([0.5, float("nan"), None, 0.5], pa.float64()),
            "s": pa.array(["a", "", "NA", "1"], pa.string()),
        }
    )
    path = tmp_path / "r.parquet"
    pq.write_table(table, path)
    options = RawOptions()
    raw = open_raw(str(path), options)
    assert raw.columns == ["i", "f", "s"]
    assert raw.rows == 4
    i, f, s = count_columns(raw, None, ["i", "f", "s"], options)
    assert (i.kind, as_dict(i)) == ("numeric", {"1": (1, 0), "2": (2, 0), MISSING: (1, 0)})
    assert (f.kind, as_dict(f)) == ("numeric", {"0.5": (2, 0), MISSING: (2, 0)})
    assert (s.kind, as_dict(s)) == ("categorical", {"1": (1, 0), "a": (1, 0), MISSING: (2, 0)})


def test_stdin_is_spilled_and_sniffed(tmp_path: Path) -> None:
    options = RawOptions()
    raw = open_raw("-", options, stdin=io.BytesIO(gzip.compress(b"x\ta\n1\tb\n")))
    assert (raw.name, raw.format, raw.columns) == ("<stdin>", "tsv", ["x", "a"])
    (cc,) = count_columns(raw, None, ["a"], options)
    assert as_dict(cc) == {"b": (1, 0)}


def test_a_column_a_side_lacks_is_a_usage_error(tmp_path: Path) -> None:
    options = RawOptions()
    raw = open_raw(write(tmp_path / "r.csv", "x\n1\n"), options)
    with pytest.raises(UsageError, match="no column 'y'"):
        count_columns(raw, None, ["y"], options)


def test_duckdb_is_not_imported_by_the_cli() -> None:
    code = "import sys, kldiv_cli.cli, kldiv_cli.readers; print('duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- the binning against a plain implementation ------------------------------------------

TOKENS = ["", "NA", "NaN", "inf", "-inf"]
values = st.one_of(
    st.integers(-3, 3).map(str),  # ties
    st.sampled_from(["0.5", "-0.25", "1e3", "2.0"]),
    st.floats(-100, 100, allow_nan=False).map(repr),
    st.sampled_from(TOKENS),
)


def plain(ref: list[str], cur: list[str], bins: int) -> tuple[str, list[float] | None, dict]:
    """The spec's rules, plainly: floats, a sort, integer ranks, bisect."""

    def value(text: str) -> float | None:
        if text in ("", *DEFAULT_NA):
            return None
        x = float(text)
        return None if math.isnan(x) else x + 0.0

    r = [value(t) for t in ref]
    c = [value(t) for t in cur]
    present = sorted(x for x in r if x is not None)
    table: dict[str, list[int]] = {}

    def add(label: str, side: int) -> None:
        table.setdefault(label, [0, 0])[side] += 1

    if len(set(present)) <= bins:
        for side, xs in enumerate((r, c)):
            for x in xs:
                add(MISSING if x is None else number_label(x), side)
        return "numeric", None, {k: tuple(v) for k, v in table.items()}
    n = len(present)
    chosen = [present[-(-j * n // bins) - 1] for j in range(1, bins)]
    edges = sorted(set(chosen) - {present[0]})
    names = bin_labels(edges)
    for side, xs in enumerate((r, c)):
        for x in xs:
            add(MISSING if x is None else names[bisect.bisect_right(edges, x)], side)
    return "binned", edges, {k: tuple(v) for k, v in table.items()}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    ref=st.lists(values, min_size=1, max_size=40),
    cur=st.lists(values, min_size=1, max_size=15),
    bins=st.integers(2, 6),
)
def test_binning_matches_a_plain_implementation(
    tmp_path: Path, ref: list[str], cur: list[str], bins: int
) -> None:
    finite = [t for t in ref if t not in TOKENS]
    present = [t for t in ref if t not in ("", "NA", "NaN")]
    if not finite and (present or len(cur) > sum(t in ("", "NA", "NaN") for t in cur)):
        return  # no finite reference value: 65, tested by hand above
    cc = counts(tmp_path, ref, cur, RawOptions(bins=bins))
    kind, edges, expected = plain(ref, cur, bins)
    assert (cc.kind, cc.edges) == (kind, edges)
    assert as_dict(cc) == expected
    # Counts add up to the rows; every label is counted on a side.
    assert cc.reference.sum() == len(ref)
    assert cc.current.sum() == len(cur)
    if kind == "binned":
        assert edges is not None
        values_ = {float(t) + 0.0 for t in present}
        assert set(edges) <= values_  # edges are reference values
        assert all(cc.reference[:-1] > 0) if MISSING in cc.labels else all(cc.reference > 0)
        # NumPy's inverted CDF gives the same edges (floats: the ranks agree here
        # because n is small; the engine's ranks are exact integers).
        xs = np.sort(np.array([float(t) for t in present], dtype=np.float64))
        q = np.quantile(xs, np.arange(1, bins) / bins, method="inverted_cdf")
        assert sorted(set(q.tolist()) - {xs[0]}) == edges


@settings(max_examples=40, deadline=None)
@given(
    xs=st.lists(st.integers(-5, 5).map(float) | st.floats(-1e3, 1e3), min_size=1, max_size=60),
    bins=st.integers(2, 12),
)
def test_both_ways_to_the_edges_give_the_inverted_cdf(xs: list[float], bins: int) -> None:
    # quantile_disc checked by counts, and the running sum over grouped values (the
    # way taken when a candidate is off or memory runs out): the same exact ranks.
    from kldiv_cli.readers import raw

    n = len(xs)
    ordered = sorted(x + 0.0 for x in xs)
    expected = [ordered[-(-j * n // bins) - 1] for j in range(1, bins)]
    with raw._connection() as con:
        con.execute("CREATE TABLE t (v DOUBLE)")
        con.executemany("INSERT INTO t VALUES (?)", [[x] for x in xs])
        for fast in (True, False):
            assert raw._edges(con, "v", "FROM t WHERE true", n, bins, fast) == expected


@pytest.mark.parametrize("bins", [10, 70])  # 70: counted by count(DISTINCT), not stepping
def test_at_most_bins_distinct_values_are_labels_one_more_is_binned(
    tmp_path: Path, bins: int
) -> None:
    values = [str(v) for v in range(bins)] + ["0"]  # bins distinct values, one twice
    cc = counts(tmp_path, values, ["1"], RawOptions(bins=bins))
    assert cc.kind == "numeric"
    assert len(cc.labels) == bins
    cc = counts(tmp_path, [*values, str(bins)], ["1"], RawOptions(bins=bins))
    assert cc.kind == "binned"
    # n = bins + 2 values (0 twice): the k_j-th smallest, k_j = ceil(j n / bins).
    n = bins + 2
    ordered = sorted([*range(bins), 0, bins])
    expected = sorted({float(ordered[-(-j * n // bins) - 1]) for j in range(1, bins)} - {0.0})
    assert cc.edges == expected
    assert cc.reference.sum() == n
    assert all(cc.reference > 0)


def test_categorical_labels_are_in_code_point_order(tmp_path: Path) -> None:
    # DuckDB orders text by its UTF-8 bytes, which is code-point order: Python's.
    ref = ["z", "Z", "é", "a", "€", "\U0001d11e", "ß", "10", "9"]
    cur = ["ÿ", "a", "\uffff", "\U0001d11e"]
    cc = counts(tmp_path, ref, cur)
    assert cc.labels == sorted(set(ref) | set(cur))
    assert as_dict(cc)["\U0001d11e"] == (1, 1)
    assert as_dict(cc)["\uffff"] == (0, 1)
