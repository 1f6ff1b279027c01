"""``matrix``, ``pairs``, ``entropy`` and ``mi``: values against SciPy and hand
computations, through the real program."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kldiv_cli import kl_divergence
from kldiv_cli.render.text import number, number_rows
from tests.test_cli import SAMPLES, assert_error, kldiv, write

DEC_P = str(SAMPLES / "dec-P.csv")
DEC_Q = str(SAMPLES / "dec-Q.csv")


def read_csv_matrix(text: str, sep: str = ",") -> tuple[list[str], list[str], np.ndarray]:
    lines = text.splitlines()
    header = lines[0].split(sep)
    assert header[0] == ""
    names = [line.split(sep)[0] for line in lines[1:]]
    values = np.array([[float(x) for x in line.split(sep)[1:]] for line in lines[1:]])
    return names, header[1:], values


# --------------------------------------------------------------------------- number_rows


@settings(max_examples=200)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 6)),
        elements=st.one_of(
            st.floats(0, 1e308, allow_nan=False),
            st.floats(0, 1e-3),
            st.sampled_from([0.0, math.inf, 1e-4, 1e16, 5e-324, 1e-5, 9.999999999999999e-05]),
        ),
    )
)
def test_number_rows_spells_every_float_as_repr(a: np.ndarray) -> None:
    assert number_rows(a) == [",".join(map(number, row)) for row in a.tolist()]


def test_number_rows_on_many_magnitudes() -> None:
    rng = np.random.default_rng(7)
    a = rng.random((50, 40)) * 10.0 ** rng.integers(-8, 20, (50, 40))
    a[3, 4] = math.inf
    a[5] = rng.random(40)  # a row that orjson spells alone
    assert number_rows(a) == [",".join(map(number, row)) for row in a.tolist()]


# --------------------------------------------------------------------------- pairs


def test_dec_pairs_sum_is_n_times_the_kl_of_the_whole_matrices() -> None:
    """The Deep Embedded Clustering question: sum_i D(P_i||Q_i) = N * KL(P/N || Q/N)."""
    run = kldiv("pairs", DEC_P, DEC_Q, "--format", "json")
    assert run.status == 0, run.err
    doc = run.json()
    p = np.array([[0.9, 0.2], [0.1, 0.8]])  # rows clusters, columns data points
    q = np.array([[0.8, 0.3], [0.2, 0.7]])
    n = p.shape[1]
    for i, pair in enumerate(doc["pairs"]):
        assert pair["name"] == f"x{i + 1}"
        expected = scipy.stats.entropy(p[:, i], q[:, i], base=2)
        assert pair["measures"]["kl_pq"] == pytest.approx(expected, rel=1e-12)
    whole = n * float(kl_divergence(p.ravel() / n, q.ravel() / n))
    assert doc["sum"]["kl_pq"] == pytest.approx(whole, rel=1e-12)
    # by hand: 0.9 log2(9/8) + 0.1 log2(1/2) + 0.2 log2(2/3) + 0.8 log2(8/7)
    hand = (
        0.9 * math.log2(9 / 8)
        + 0.1 * math.log2(0.5)
        + 0.2 * math.log2(2 / 3)
        + 0.8 * math.log2(8 / 7)
    )
    assert doc["sum"]["kl_pq"] == pytest.approx(hand, rel=1e-12)
    assert doc["mean"]["kl_pq"] == pytest.approx(hand / 2, rel=1e-12)
    assert set(doc) == {"command", "unit", "pairs", "sum", "mean", "checks", "passed", "warnings"}
    assert doc["passed"] is True


def test_pairs_every_measure_agrees_with_scipy(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    p, q = rng.random((5, 4)), rng.random((5, 4))
    header = "label," + ",".join(f"d{j}" for j in range(4))
    rows_p = [f"l{i}," + ",".join(map(repr, p[i].tolist())) for i in range(5)]
    rows_q = [f"l{i}," + ",".join(map(repr, q[i].tolist())) for i in range(5)]
    a = write(tmp_path, "p.csv", "\n".join([header, *rows_p]) + "\n")
    b = write(tmp_path, "q.csv", "\n".join([header, *rows_q]) + "\n")
    doc = kldiv("pairs", a, b, "--format", "json", "--unit", "nats").json()
    for j, pair in enumerate(doc["pairs"]):
        pj, qj = p[:, j] / p[:, j].sum(), q[:, j] / q[:, j].sum()
        m = pair["measures"]
        assert m["kl_pq"] == pytest.approx(scipy.stats.entropy(pj, qj), rel=1e-12)
        assert m["kl_qp"] == pytest.approx(scipy.stats.entropy(qj, pj), rel=1e-12)
        assert m["entropy_p"] == pytest.approx(scipy.stats.entropy(pj), rel=1e-12)
        assert m["cross_entropy_pq"] == pytest.approx(m["entropy_p"] + m["kl_pq"], rel=1e-12)
        js = scipy.spatial.distance.jensenshannon(pj, qj)
        assert m["js_distance"] == pytest.approx(js, rel=1e-9)
    assert doc["sum"]["jsd"] == pytest.approx(sum(x["measures"]["jsd"] for x in doc["pairs"]))


def test_pairs_match_by_name_not_by_order(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "k,u,v\nx,1,3\ny,3,1\n")
    b = write(tmp_path, "b.csv", "k,v,u\nx,3,1\ny,1,3\n")  # the same columns, swapped
    doc = kldiv("pairs", a, b, "--format", "json").json()
    assert [p["name"] for p in doc["pairs"]] == ["u", "v"]
    assert all(p["measures"]["jsd"] == 0.0 for p in doc["pairs"])


def test_pairs_rows_are_matched_by_label(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "point,c1,c2\nx1,0.9,0.1\nx2,0.2,0.8\n")
    b = write(tmp_path, "b.csv", "point,c1,c2\nx2,0.3,0.7\nx1,0.8,0.2\n")
    doc = kldiv("pairs", a, b, "--rows", "--format", "json").json()
    columns = kldiv("pairs", DEC_P, DEC_Q, "--format", "json").json()
    assert [p["name"] for p in doc["pairs"]] == ["x1", "x2"]
    assert doc["sum"] == columns["sum"]


def test_an_unmatched_pair_is_65_naming_it(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "k,u,v\nx,1,3\ny,3,1\n")
    b = write(tmp_path, "b.csv", "k,u,w\nx,3,1\ny,1,3\n")
    assert_error(kldiv("pairs", a, b), 65, "a.csv", "'v'", "b.csv")


def test_pairs_align_labels_over_the_union(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "k,u\nx,1\ny,1\n")
    b = write(tmp_path, "b.csv", "k,u\ny,1\nz,1\nx,2\n")
    run = kldiv("pairs", a, b, "--format", "json")
    m = run.json()["pairs"][0]["measures"]
    assert m["kl_qp"] == "inf"
    # P = (1/2, 1/2, 0), Q = (2/4, 1/4, 1/4) over x, y, z: 0.5 log2(1) + 0.5 log2(2)
    assert m["kl_pq"] == pytest.approx(0.5, rel=1e-12)
    assert "pair 'u': D(Q||P) is infinite: p = 0 < q at label 'z'" in run.err


def test_pairs_check_fails_and_names_the_pair() -> None:
    run = kldiv("pairs", DEC_P, DEC_Q, "--max", "kl_pq=0.05")
    assert run.status == 1
    [line] = run.err.strip().splitlines()
    # The value is a BLAS dot product: OpenBLAS's AVX-512 and AVX2 kernels sum in a
    # different order and differ in the last digit (...08113 vs ...081136), so the
    # number is compared to a tolerance and the rest of the line exactly.
    found = re.fullmatch(
        r"kldiv: check failed: pair 'x1': kl_pq = (\S+) is above the limit 0\.05", line
    )
    assert found is not None, line
    # D(P1||Q1) = 0.9 log2(0.9/0.8) + 0.1 log2(0.1/0.2)
    expected = 0.9 * math.log2(0.9 / 0.8) + 0.1 * math.log2(0.1 / 0.2)
    assert float(found.group(1)) == pytest.approx(expected, rel=1e-12)
    lines = run.out.splitlines()
    assert lines[0].split("\t")[0] == "name"
    assert [line.split("\t")[0] for line in lines[1:]] == ["x1", "x2", "sum", "mean"]


def test_pairs_table_format_shows_the_sum_and_mean() -> None:
    run = kldiv("pairs", DEC_P, DEC_Q, "--format", "table")
    assert run.status == 0
    assert "sum" in run.out
    assert "mean" in run.out
    assert "unit: bits" in run.out


# --------------------------------------------------------------------------- entropy


def test_entropy_of_each_column_against_scipy() -> None:
    run = kldiv("entropy", str(SAMPLES / "dice.csv"), "--label", "face", "--format", "json")
    doc = run.json()
    assert doc["command"] == "entropy"
    assert doc["estimator"] == "plugin"
    fair = [102, 97, 99, 104, 96, 102]
    first = doc["distributions"][0]
    assert first == {
        "name": "fair",
        "n": 600.0,
        "support": 6,
        "entropy": pytest.approx(scipy.stats.entropy(fair, base=2), rel=1e-12),
    }


def test_entropy_rows_and_units(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "name,a,b,c\nuniform,1,1,1\ncertain,0,5,0\nhalf,2,2,0\n")
    run = kldiv("entropy", path, "--rows", "--unit", "nats", "--format", "csv")
    lines = [line.split(",") for line in run.out.splitlines()]
    assert lines[0] == ["name", "n", "support", "entropy"]
    assert [row[:3] for row in lines[1:]] == [
        ["uniform", "3.0", "3"],
        ["certain", "5.0", "1"],
        ["half", "4.0", "2"],
    ]
    entropies = [float(row[3]) for row in lines[1:]]
    assert entropies == pytest.approx([math.log(3), 0.0, math.log(2)], rel=1e-15)
    assert lines[2][3] == "0.0"


def test_entropy_of_inline_numbers_is_one_bit() -> None:
    run = kldiv("entropy", "0.5,0.5", "--format", "tsv")
    assert run.out == "name\tn\tsupport\tentropy\n\t1.0\t2\t1.0\n"


def test_entropy_rejects_an_all_zero_column_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, "z.csv", "k,a,b\nx,1,0\ny,2,0\n")
    assert_error(kldiv("entropy", path), 65, "z.csv", "'b'", "no positive value")


def test_a_non_numeric_column_is_65_naming_its_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "w.csv", "k,a,b\nx,1,2\ny,2,oops\n")
    assert_error(kldiv("entropy", path), 65, "w.csv", "line 3", "'b'", "oops")


def test_a_negative_value_in_rows_mode_names_line_column_and_label(tmp_path: Path) -> None:
    path = write(tmp_path, "n.csv", "k,a,b\nx,1,2\ny,2,-1\n")
    assert_error(kldiv("entropy", path, "--rows"), 65, "n.csv", "line 3", "'b'", "'y'", "negative")


# --------------------------------------------------------------------------- mi

# A contingency table worked by hand: X in {a, b}, Y in {u, v}, n = 8.
#   counts [[3, 1], [1, 3]]: p(x) = p(y) = (1/2, 1/2), so H(X) = H(Y) = 1 bit;
#   H(X,Y) = -2 (3/8) log2(3/8) - 2 (1/8) log2(1/8) = 1.811278124459133 bits;
#   I = 2 - H(X,Y) = 0.18872187554086717 bits.
CONTINGENCY = "x,u,v\na,3,1\nb,1,3\n"
RAW = "x,y\n" + "a,u\n" * 3 + "a,v\n" + "b,u\n" + "b,v\n" * 3


def test_mi_of_a_contingency_table_by_hand(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", CONTINGENCY)
    doc = kldiv("mi", path, "--format", "json").json()
    assert doc["command"] == "mi"
    assert doc["unit"] == "bits"
    assert doc["n"] == 8.0
    m = doc["measures"]
    joint = -(6 / 8) * math.log2(3 / 8) - (2 / 8) * math.log2(1 / 8)
    assert m["entropy_x"] == pytest.approx(1.0, rel=1e-15)
    assert m["joint_entropy"] == pytest.approx(joint, rel=1e-13)
    assert m["mutual_information"] == pytest.approx(2 - joint, rel=1e-12)
    assert m["variation_of_information"] == pytest.approx(2 * joint - 2, rel=1e-12)
    assert m["normalized_mutual_information"] == pytest.approx(2 - joint, rel=1e-12)
    assert list(m) == [
        "entropy_x", "entropy_y", "joint_entropy", "conditional_entropy_x_given_y",
        "conditional_entropy_y_given_x", "mutual_information", "variation_of_information",
        "normalized_mutual_information",
    ]  # fmt: skip


def test_mi_of_raw_data_equals_mi_of_its_contingency_table(tmp_path: Path) -> None:
    table = kldiv("mi", write(tmp_path, "c.csv", CONTINGENCY), "--format", "json").json()
    raw = kldiv("mi", write(tmp_path, "r.csv", RAW), "--x", "x", "--y", "y", "--format", "json")
    assert raw.status == 0, raw.err
    assert raw.json()["measures"] == table["measures"]
    assert raw.json()["n"] == 8.0


def test_mi_of_raw_json_records(tmp_path: Path) -> None:
    records = [{"x": x, "y": y} for x, y in [("a", 1), ("a", 1), ("b", 2), ("b", 2)]]
    path = write(tmp_path, "r.json", json.dumps(records))
    m = kldiv("mi", path, "--x", "x", "--y", "y", "--format", "json").json()["measures"]
    assert m["mutual_information"] == pytest.approx(1.0, rel=1e-15)


def test_mi_keeps_na_and_empty_as_categories(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "x,y\nNA,1\nNA,1\n,2\n,2\n")
    m = kldiv("mi", path, "--x", "x", "--y", "y", "--format", "json").json()["measures"]
    assert m["mutual_information"] == pytest.approx(1.0, rel=1e-15)


def test_mi_keeps_a_zero_row_of_a_contingency_table(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "x,u,v\na,3,1\nb,0,0\nc,1,3\n")
    doc = kldiv("mi", path, "--format", "json").json()
    assert doc["measures"]["entropy_x"] == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--x", "x"], "--x and --y go together"),
        (["--x", "x", "--y", "x"], "both name 'x'"),
        (["--x", "x", "--y", "nope"], "no column 'nope'"),
    ],
)
def test_mi_usage_errors(tmp_path: Path, args: list[str], fragment: str) -> None:
    assert_error(kldiv("mi", write(tmp_path, "r.csv", RAW), *args), 2, fragment)


def test_mi_table_and_csv_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", CONTINGENCY)
    assert "I(X;Y)" in kldiv("mi", path, "--format", "table").out
    lines = kldiv("mi", path, "--format", "csv").out.splitlines()
    assert lines[0] == "measure,value"
    assert lines[1] == "entropy_x,1.0"


def test_every_new_command_has_help_and_an_example() -> None:
    for command in ("matrix", "pairs", "entropy", "mi"):
        run = kldiv(command, "--help")
        assert run.status == 0
        assert "Example" in run.out


# --------------------------------------------------------------------------- matrix

LETTERS = str(SAMPLES / "letters-europe.csv")


def test_matrix_jsd_against_scipy_pdist() -> None:
    run = kldiv("matrix", LETTERS, "--format", "csv")
    assert run.status == 0, run.err
    rows, columns, values = read_csv_matrix(run.out)
    assert rows == columns == ["english", "french", "german", "spanish", "portuguese",
                               "italian", "swedish", "polish", "dutch", "danish", "finnish",
                               "czech"]  # fmt: skip
    data = np.loadtxt(LETTERS, delimiter=",", skiprows=1, usecols=range(1, 13)).T
    # pdist's C kernel takes no base: nats, then bits
    expected = scipy.spatial.distance.squareform(
        scipy.spatial.distance.pdist(data, "jensenshannon") ** 2 / math.log(2)
    )
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=0)
    assert (np.diag(values) == 0).all()
    assert (values == values.T).all()


def test_matrix_kl_is_row_against_column_with_inf_where_the_column_lacks_a_label(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "t.csv", "k,a,b,c\nx,1,1,2\ny,1,0,1\nz,0,0,1\n")
    run = kldiv("matrix", path, "--measure", "kl", "--format", "json")
    doc = run.json()
    assert set(doc) >= {"command", "measure", "unit", "rows", "columns", "matrix"}
    assert doc["command"] == "matrix"
    assert doc["measure"] == "kl"
    assert doc["unit"] == "bits"
    a, b, c = np.array([1, 1, 0]) / 2, np.array([1, 0, 0]), np.array([2, 1, 1]) / 4
    m = doc["matrix"]
    assert m[0][1] == "inf"  # D(a||b): b = 0 < a at y
    assert m[1][0] == pytest.approx(scipy.stats.entropy(b, a, base=2), rel=1e-12)
    assert m[0][2] == pytest.approx(scipy.stats.entropy(a, c, base=2), rel=1e-12)
    assert m[2][0] == "inf"
    assert m[2][1] == "inf"
    assert [m[i][i] for i in range(3)] == [0.0, 0.0, 0.0]
    assert "3 of 9 entries are infinite" in run.err


def test_matrix_cross_entropy_is_entropy_plus_kl(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    data = rng.random((6, 4))
    path = write(
        tmp_path,
        "r.csv",
        "k,a,b,c,d\n"
        + "".join(
            f"r{i}," + ",".join(map(repr, row)) + "\n" for i, row in enumerate(data.tolist())
        ),
    )
    ce = read_csv_matrix(kldiv("matrix", path, "--rows", "--measure", "cross_entropy").out, "\t")
    kl = read_csv_matrix(kldiv("matrix", path, "--rows", "--measure", "kl").out, "\t")
    h = kldiv("entropy", path, "--rows", "--format", "json").json()["distributions"]
    entropies = np.array([d["entropy"] for d in h])
    np.testing.assert_allclose(ce[2], entropies[:, None] + kl[2], rtol=1e-12)
    assert ce[0] == [f"r{i}" for i in range(6)]


def test_matrix_of_two_tables_aligns_labels_over_their_union() -> None:
    en, fr = str(SAMPLES / "letters-en.csv"), str(SAMPLES / "letters-fr.csv")
    run = kldiv("matrix", en, fr, "--measure", "jsd", "--format", "json")
    compare = kldiv("compare", en, fr, "--value", "jsd")
    assert run.json()["matrix"][0][0] == pytest.approx(float(compare.out), rel=1e-12)
    kl = kldiv("matrix", fr, en, "--measure", "kl", "--format", "json").json()["matrix"]
    assert kl == [["inf"]]  # French has letters English lacks


def test_matrix_long_format_and_js_distance() -> None:
    run = kldiv("matrix", DEC_P, "--measure", "js_distance", "--long", "--format", "csv")
    lines = run.out.splitlines()
    assert lines[0] == "row,column,value"
    assert [line.rsplit(",", 1)[0] for line in lines[1:]] == ["x1,x1", "x1,x2", "x2,x1", "x2,x2"]
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    expected = scipy.spatial.distance.jensenshannon(p[0], p[1], base=2)
    assert float(lines[2].rsplit(",", 1)[1]) == pytest.approx(expected, rel=1e-12)
    assert lines[1].endswith(",0.0")


def test_matrix_pseudocount_smooths_the_infinities(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "k,a,b\nx,1,0\ny,1,1\n")
    m = kldiv("matrix", path, "--measure", "kl", "--pseudocount", "1", "--format", "json")
    a, b = np.array([2, 1]) / 3, np.array([2, 2]) / 4
    assert m.json()["matrix"][0][1] == pytest.approx(scipy.stats.entropy(b, a, base=2))


def test_matrix_table_is_cut_with_a_note() -> None:
    from kldiv_cli import render
    from kldiv_cli.commands import matrix as batch
    from kldiv_cli.readers.tables import read_table

    result = batch.matrix([read_table(LETTERS)])
    text = render.to_table(result, width=60, color=False)
    assert "showing 3 of 12 columns; --format csv prints them all" in text
    assert "english" in text
    assert "czech" in text


def test_matrix_names_with_separators_are_quoted(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", 'k,"a,b","say ""hi"""\nx,1,2\ny,2,1\n')
    lines = kldiv("matrix", path, "--format", "csv").out.splitlines()
    assert lines[0] == ',"a,b","say ""hi"""'
    assert lines[1].startswith('"a,b",0.0,')


def test_matrix_rejects_an_unknown_measure_and_a_labelless_pair(tmp_path: Path) -> None:
    assert_error(kldiv("matrix", DEC_P, "--measure", "euclid"), 2, "euclid")
    bare = write(tmp_path, "bare.csv", "a,b\n1,2\n3,4\n")
    assert_error(kldiv("matrix", DEC_P, bare), 65, "no labels")


def test_pairs_name_at_most_five_infinite_pairs_then_count_the_rest(tmp_path: Path) -> None:
    names = [f"c{i}" for i in range(8)]
    a = write(tmp_path, "a.csv", "k," + ",".join(names) + "\nx," + ",".join(["1"] * 8) + "\n")
    b = write(tmp_path, "b.csv", "k," + ",".join(names) + "\ny," + ",".join(["1"] * 8) + "\n")
    run = kldiv("pairs", a, b, "--format", "json")
    doc = run.json()
    assert all(pair["measures"]["kl_pq"] == "inf" for pair in doc["pairs"])
    assert all(pair["measures"]["jsd"] == 1.0 for pair in doc["pairs"])  # disjoint: 1 bit
    assert "pair 'c4': D(P||Q) is infinite: q = 0 < p at label 'x'" in doc["warnings"]
    assert "D(P||Q) is infinite in 3 more pairs" in doc["warnings"]
    assert "D(Q||P) is infinite in 3 more pairs" in doc["warnings"]
    assert len(doc["warnings"]) == 12
