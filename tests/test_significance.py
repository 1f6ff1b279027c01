"""The G-tests against SciPy, by hand, and through the command line."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from kldiv_cli.maths.significance import (
    chi2_upper_tail,
    g_goodness_of_fit,
    g_homogeneity,
    g_independence,
)
from tests.test_cli import assert_error, kldiv


def oracle_contingency(table: np.ndarray) -> tuple[float, int, float]:
    """SciPy's G-test of independence on the non-empty rows and columns."""
    t = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r = scipy.stats.chi2_contingency(t, lambda_="log-likelihood", correction=False)
    return float(r.statistic), int(r.dof), float(r.pvalue)


counts = st.integers(0, 400)


def assert_p(got: float, statistic: float, p_value: float) -> None:
    """``got`` is SciPy's p-value, except where G is rounding residue: near G = 0 the
    tail is steep (1 - sqrt(2G / pi) for df = 1) and SciPy's G carries ~1e-14 of
    rounding, even below 0 (its p is then NaN), so only p ~ 1 can be asked there."""
    if statistic > 1e-9:
        assert got == pytest.approx(p_value, rel=1e-7, abs=1e-300)
    else:
        assert 1.0 - 1e-6 <= got <= 1.0


@settings(max_examples=200, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda r: st.integers(2, 6).flatmap(
            lambda c: st.lists(st.lists(counts, min_size=c, max_size=c), min_size=r, max_size=r)
        )
    )
)
def test_independence_is_scipys_g_test(rows: list[list[int]]) -> None:
    table = np.array(rows, dtype=float)
    t = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return  # SciPy needs two non-empty rows and columns
    statistic, df, p = oracle_contingency(table)
    got = g_independence(table)
    assert got.kind == "independence"
    assert got.df == df
    assert got.statistic == pytest.approx(statistic, rel=1e-9, abs=1e-9)
    assert_p(got.p_value, statistic, p)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 12).flatmap(lambda k: st.tuples(*[st.tuples(counts, counts)] * k)))
def test_homogeneity_is_the_2_by_k_independence_test(cells: tuple[tuple[int, int], ...]) -> None:
    p = np.array([a for a, _ in cells], dtype=float)
    q = np.array([b for _, b in cells], dtype=float)
    if p.sum() == 0 or q.sum() == 0 or np.count_nonzero(p + q) < 2:
        return
    statistic, df, pvalue = oracle_contingency(np.vstack([p, q]))
    got = g_homogeneity(p, q)
    assert (got.kind, got.df) == ("homogeneity", df)
    assert got.df == np.count_nonzero(p + q) - 1  # the labels whose total is not 0
    assert got.statistic == pytest.approx(statistic, rel=1e-9, abs=1e-9)
    assert_p(got.p_value, statistic, pvalue)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(2, 12).flatmap(
        lambda k: st.tuples(
            st.lists(counts, min_size=k, max_size=k),
            st.lists(st.floats(0.01, 10.0), min_size=k, max_size=k),
        )
    )
)
def test_goodness_of_fit_is_scipys_power_divergence(pair: tuple[list[int], list[float]]) -> None:
    observed = np.array(pair[0], dtype=float)
    if observed.sum() == 0:
        return
    model = np.array(pair[1])
    expected = observed.sum() * model / model.sum()
    r = scipy.stats.power_divergence(observed, expected, lambda_="log-likelihood")
    got = g_goodness_of_fit(observed, model)
    assert (got.kind, got.df) == ("goodness-of-fit", observed.size - 1)
    assert got.statistic == pytest.approx(float(r.statistic), rel=1e-9, abs=1e-9)
    assert_p(got.p_value, float(r.statistic), float(r.pvalue))


def test_goodness_of_fit_by_hand() -> None:
    # 10 heads in 10 tosses of a fair coin: G = 2 * 10 * ln(10 / 5) = 20 ln 2, df = 1.
    got = g_goodness_of_fit([10, 0], [0.5, 0.5])
    assert got.statistic == pytest.approx(20 * math.log(2), rel=1e-15)
    assert got.df == 1
    # chi-squared(1) tail: P(Z^2 >= x) = erfc(sqrt(x / 2))
    assert got.p_value == pytest.approx(math.erfc(math.sqrt(10 * math.log(2))), rel=1e-12)


def test_an_observation_the_model_rules_out_gives_g_inf_and_p_0() -> None:
    got = g_goodness_of_fit([3, 1, 2], [0.5, 0.0, 0.5])
    assert (got.statistic, got.df, got.p_value) == (math.inf, 1, 0.0)


def test_labels_the_model_rules_out_hold_no_degree_of_freedom() -> None:
    got = g_goodness_of_fit([3, 0, 2], [0.5, 0.0, 0.5])
    ref = g_goodness_of_fit([3, 2], [0.5, 0.5])
    assert (got.statistic, got.df, got.p_value) == (ref.statistic, ref.df, ref.p_value)


def test_identical_samples_give_g_0_and_p_1() -> None:
    got = g_homogeneity([5, 7, 9], [10, 14, 18])
    assert got.statistic == 0.0
    assert not math.copysign(1.0, got.statistic) < 0  # never -0.0
    assert got.p_value == pytest.approx(1.0, abs=1e-12)


def test_one_label_has_no_degree_of_freedom() -> None:
    got = g_homogeneity([5, 0], [7, 0])
    assert (got.statistic, got.df, got.p_value) == (0.0, 0, 1.0)


def test_chi2_tail_by_hand() -> None:
    # chi-squared(2) is exponential with mean 2: P(X >= x) = exp(-x / 2).
    assert chi2_upper_tail(3.0, 2) == pytest.approx(math.exp(-1.5), rel=1e-14)
    assert chi2_upper_tail(math.inf, 3) == 0.0


# --------------------------------------------------------------------------- command line


def test_compare_test_of_two_count_columns_is_homogeneity() -> None:
    run = kldiv("compare", "samples/dice.csv", "--label", "face", "--test", "--format", "json")
    assert run.status == 0, run.err
    doc = json.loads(run.out)
    table = np.loadtxt("samples/dice.csv", delimiter=",", skiprows=1, usecols=(1, 2)).T
    statistic, df, p = oracle_contingency(table)
    assert doc["test"]["name"] == "g-test"
    assert doc["test"]["kind"] == "homogeneity"
    assert doc["test"]["df"] == df == 5
    assert doc["test"]["statistic"] == pytest.approx(statistic, rel=1e-12)
    assert doc["test"]["p_value"] == pytest.approx(p, rel=1e-7)
    assert set(doc["measures"]) == {
        "entropy_p",
        "entropy_q",
        "cross_entropy_pq",
        "cross_entropy_qp",
        "kl_pq",
        "kl_qp",
        "jsd",
        "js_distance",
    }


def test_compare_test_against_a_model_is_goodness_of_fit() -> None:
    run = kldiv("compare", "10,0", "0.5,0.5", "--test", "--format", "csv")
    assert run.status == 0, run.err
    rows = dict(line.split(",") for line in run.out.splitlines()[1:])
    assert float(rows["g_statistic"]) == pytest.approx(20 * math.log(2), rel=1e-15)
    assert rows["g_df"] == "1"
    assert float(rows["g_p_value"]) == pytest.approx(
        math.erfc(math.sqrt(10 * math.log(2))), rel=1e-12
    )


def test_compare_test_shows_under_the_table() -> None:
    run = kldiv("compare", "10,0", "0.5,0.5", "--test", "--format", "table")
    assert run.status == 0, run.err
    assert "G-test of goodness of fit: G = 13.8629, df = 1, p-value = 0.000196" in run.out


def test_compare_test_of_rates_is_65_naming_the_value() -> None:
    assert_error(
        kldiv("compare", "0.5,0.5", "1,3", "--test"),
        65,
        "0.5,0.5",
        "position 1",
        "--test needs counts",
        "0.5",
    )


def test_mi_test_is_the_independence_test_of_the_table() -> None:
    run = kldiv("mi", "samples/hair-eye.csv", "--test", "--format", "json")
    assert run.status == 0, run.err
    doc = json.loads(run.out)
    table = np.loadtxt("samples/hair-eye.csv", delimiter=",", skiprows=1, usecols=(1, 2, 3, 4))
    statistic, df, p = oracle_contingency(table)
    assert doc["test"]["kind"] == "independence"
    assert doc["test"]["df"] == df == 9
    assert doc["test"]["statistic"] == pytest.approx(statistic, rel=1e-12)
    assert doc["test"]["p_value"] == pytest.approx(p, rel=1e-7)
    # G = 2 N I in nats: the same I that the command reports in bits
    i_bits = doc["measures"]["mutual_information"]
    assert doc["test"]["statistic"] == pytest.approx(2 * doc["n"] * i_bits * math.log(2))


def test_mi_test_of_raw_data_counts_its_cross_table(tmp_path: object) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "raw.csv"
    rows = [("a", "x")] * 30 + [("a", "y")] * 10 + [("b", "x")] * 5 + [("b", "y")] * 25
    path.write_text("s,t\n" + "".join(f"{s},{t}\n" for s, t in rows))
    run = kldiv("mi", str(path), "--x", "s", "--y", "t", "--test", "--format", "json")
    assert run.status == 0, run.err
    statistic, df, p = oracle_contingency(np.array([[30.0, 10.0], [5.0, 25.0]]))
    test = json.loads(run.out)["test"]
    assert test["statistic"] == pytest.approx(statistic, rel=1e-12)
    assert (test["df"], test["p_value"]) == (df, pytest.approx(p, rel=1e-7))


def test_mi_test_of_rates_is_65_naming_the_cell(tmp_path: object) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "rates.csv"
    path.write_text("x,u,v\na,3,4\nb,2,0.5\n")
    assert_error(kldiv("mi", str(path), "--test"), 65, "rates.csv", "line 3", "'b'", "'v'", "0.5")
