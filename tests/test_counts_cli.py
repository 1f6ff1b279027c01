"""The counts statistics through the real program: entropy --estimator, compare --ci."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from kldiv_cli.maths.core import MEASURES
from kldiv_cli.maths.estimators import ESTIMATORS, estimate_entropy
from tests.test_cli import assert_error, kldiv

TALE = "samples/tale-letters.csv"
DICE_CI = ("compare", "samples/dice.csv", "--label", "face", "--ci", "0.95", "--seed", "1")


def tale_counts() -> np.ndarray:
    return np.loadtxt(TALE, delimiter=",", skiprows=1, usecols=(1, 2, 3)).T


# --------------------------------------------------------------------------- entropy


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_entropy_estimator_json_has_the_estimate_in_the_unit(estimator: str) -> None:
    run = kldiv("entropy", TALE, "--estimator", estimator, "--unit", "nats", "--format", "json")
    assert run.status == 0, run.err
    doc = json.loads(run.out)
    assert (doc["command"], doc["estimator"], doc["unit"], doc["bins"]) == (
        "entropy",
        estimator,
        "nats",
        26,
    )
    expected = estimate_entropy(tale_counts(), estimator)
    rows = doc["distributions"]
    assert [r["name"] for r in rows] == ["first60", "first120", "sentence"]
    assert [r["n"] for r in rows] == [60.0, 120.0, 319.0]
    assert [r["support"] for r in rows] == [14, 18, 22]
    assert [r["entropy"] for r in rows] == pytest.approx(expected.entropy.tolist(), rel=1e-15)
    extra = {"nsb": "std", "shrink": "lambda"}.get(estimator)
    for i, r in enumerate(rows):
        assert set(r) == {"name", "n", "support", "entropy"} | ({extra} if extra else set())
        if estimator == "nsb":
            assert expected.std is not None
            assert r["std"] == pytest.approx(float(expected.std[i]), rel=1e-15)
        if estimator == "shrink":
            assert expected.lam is not None
            assert r["lambda"] == pytest.approx(float(expected.lam[i]), rel=1e-15)


@pytest.mark.parametrize("estimator", ["miller-madow", "nsb", "shrink"])
def test_entropy_estimates_convert_by_ln_2(estimator: str) -> None:
    docs = [
        json.loads(
            kldiv("entropy", TALE, "--estimator", estimator, "--unit", u, "--format", "json").out
        )
        for u in ("nats", "bits")
    ]
    for nats, bits in zip(docs[0]["distributions"], docs[1]["distributions"], strict=True):
        assert bits["entropy"] == pytest.approx(nats["entropy"] / math.log(2), rel=1e-15)
        if "std" in nats:
            assert bits["std"] == pytest.approx(nats["std"] / math.log(2), rel=1e-15)
        if "lambda" in nats:  # a proportion: no unit
            assert bits["lambda"] == nats["lambda"]


def test_miller_madow_by_hand_through_the_cli() -> None:
    # counts 2, 1, 1: plug-in 1.5 bits; + (3 - 1) / (2 * 4) nats = 0.25 nats
    run = kldiv("entropy", "2,1,1", "--estimator", "miller-madow", "--format", "csv")
    assert run.status == 0, run.err
    value = float(run.out.splitlines()[1].split(",")[3])
    assert value == pytest.approx(1.5 + 0.25 / math.log(2), rel=1e-15)


def test_bins_declares_unseen_letters() -> None:
    # the laplace estimate on 3 bins of (2, 1, 1) plus 2 declared empty bins:
    # (y + 1) / (4 + 5) = (3, 2, 2, 1, 1) / 9
    run = kldiv("entropy", "2,1,1", "--estimator", "laplace", "--bins", "5", "--format", "json")
    assert run.status == 0, run.err
    doc = json.loads(run.out)
    p = np.array([3, 2, 2, 1, 1]) / 9
    assert doc["bins"] == 5
    assert doc["distributions"][0]["entropy"] == pytest.approx(-(p * np.log2(p)).sum(), rel=1e-14)


def test_bins_fewer_than_the_table_has_is_a_usage_error() -> None:
    assert_error(kldiv("entropy", "2,1,1", "--estimator", "nsb", "--bins", "2"), 2, "--bins 2", "3")


def test_an_estimator_for_counts_refuses_rates_naming_the_value(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("x,a\nu,3\nv,0.25\n")
    assert_error(
        kldiv("entropy", str(path), "--estimator", "chao-shen"),
        65,
        "r.csv",
        "line 3",
        "'v'",
        "--estimator chao-shen needs counts",
        "0.25",
    )


def test_plugin_takes_rates() -> None:
    run = kldiv("entropy", "0.5,0.25,0.25", "--format", "csv")
    assert run.status == 0, run.err
    assert float(run.out.splitlines()[1].split(",")[3]) == 1.5


def test_entropy_table_shows_the_std_column() -> None:
    run = kldiv("entropy", TALE, "--estimator", "nsb", "--format", "table")
    assert run.status == 0, run.err
    assert "estimator: nsb" in run.out
    assert "std" in run.out


# --------------------------------------------------------------------------- compare --ci


def ci_doc(*args: str) -> dict[str, object]:
    run = kldiv("compare", *args, "--format", "json")
    assert run.status == 0, run.err
    doc: dict[str, object] = json.loads(run.out)
    return doc


def test_ci_json_has_an_interval_per_measure_and_the_draw_settings() -> None:
    doc = ci_doc(
        "samples/dice.csv", "--label", "face", "--ci", "0.9", "--resamples", "500", "--seed", "7"
    )
    intervals = doc["intervals"]
    assert isinstance(intervals, dict)
    assert list(intervals) == list(MEASURES)
    assert (doc["level"], doc["resamples"], doc["seed"]) == (0.9, 500, 7)
    measures = doc["measures"]
    assert isinstance(measures, dict)
    for key, (lo, hi) in intervals.items():
        assert lo <= hi
        assert lo <= measures[key] * 1.5 + 0.05  # near the estimate, not elsewhere
        assert hi >= measures[key] * 0.5 - 0.05


def test_the_same_seed_gives_the_same_intervals() -> None:
    args = ("samples/dice.csv", "--label", "face", "--ci", "0.95", "--resamples", "300")
    first = ci_doc(*args, "--seed", "11")
    assert ci_doc(*args, "--seed", "11")["intervals"] == first["intervals"]
    assert ci_doc(*args, "--seed", "12")["intervals"] != first["intervals"]


def test_without_a_seed_the_reported_seed_reproduces_the_run() -> None:
    args = ("samples/dice.csv", "--label", "face", "--ci", "0.95", "--resamples", "300")
    first = ci_doc(*args)
    seed = first["seed"]
    assert isinstance(seed, int)
    assert ci_doc(*args, "--seed", str(seed))["intervals"] == first["intervals"]


def test_a_model_q_stays_fixed() -> None:
    doc = ci_doc(TALE, "samples/letters-en.csv", "--p", "sentence", "--ci", "0.95", "--seed", "3")
    intervals, measures = doc["intervals"], doc["measures"]
    assert isinstance(intervals, dict)
    assert isinstance(measures, dict)
    assert intervals["entropy_q"] == [measures["entropy_q"]] * 2
    lo, hi = intervals["entropy_p"]
    assert lo < hi


def test_ci_csv_adds_lower_and_upper_columns() -> None:
    run = kldiv(*DICE_CI, "--test", "--format", "csv")
    assert run.status == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "measure,value,lower,upper"
    assert [line.split(",")[0] for line in lines[1:]] == [
        *MEASURES,
        "g_statistic",
        "g_df",
        "g_p_value",
    ]
    assert all(len(line.split(",")) == 4 for line in lines)


def test_ci_table_shows_each_interval_beside_its_value() -> None:
    run = kldiv(*DICE_CI, "--format", "table")
    assert run.status == 0, run.err
    assert "0.95 interval" in run.out
    assert "percentile bootstrap, 2000 resamples, seed 1" in run.out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--ci", "1.5"), "--ci 1.5"),
        (("--ci", "0"), "--ci 0.0"),
        (("--ci", "0.9", "--resamples", "0"), "--resamples 0"),
        (("--resamples", "100"), "--resamples and --seed set up --ci"),
        (("--seed", "1"), "--resamples and --seed set up --ci"),
    ],
)
def test_bad_ci_options_are_usage_errors(args: tuple[str, ...], fragment: str) -> None:
    assert_error(kldiv("compare", "3,1", "2,2", *args), 2, fragment)


def test_ci_of_two_rates_is_65() -> None:
    assert_error(kldiv("compare", "0.5,0.5", "0.9,0.1", "--ci", "0.95"), 65, "--ci needs counts")


def test_an_infinite_interval_is_drawn_not_taken_for_markup() -> None:
    # p = 0 < q at j, q, x, z: D(Q||P) and H(Q,P) are inf in every resample
    run = kldiv(
        "compare",
        TALE,
        "samples/letters-en.csv",
        "--p",
        "sentence",
        "--ci",
        "0.9",
        "--seed",
        "2",
        "--format",
        "table",
        "--quiet",
    )
    assert run.status == 0, run.err
    assert run.out.count("[inf, inf]") == 2


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("compare", "1e308,1e308", "1,1", "--test"), ("1e308,1e308", "--test", "2^53", "inf")),
        (("compare", "3,4", "1e20,1", "--test"), ("1e20,1", "--test", "2^53", "1e+20")),
        (("compare", "1e300,1", "3,4", "--ci", "0.9"), ("1e300,1", "--ci", "2^53")),
        (("entropy", "9007199254740992,2", "--estimator", "nsb"), ("--estimator nsb", "2^53")),
    ],
)
def test_counts_beyond_2_to_the_53_are_65_naming_the_source(
    args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    """Past 2^53 whole numbers are no longer exact in float64: refused, not miscounted."""
    assert_error(kldiv(*args), 65, *fragments)


def test_mi_test_limits_the_total_of_the_whole_table(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("x,a,b\nu,5000000000000000,1\nv,5000000000000000,4\n")
    assert_error(kldiv("mi", str(path), "--test"), 65, "big.csv", "--test", "2^53")


def test_counts_up_to_2_to_the_53_are_accepted() -> None:
    run = kldiv("entropy", "9007199254740990,2", "--estimator", "miller-madow", "--format", "csv")
    assert run.status == 0, run.err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--resamples", "2000"), "--resamples and --seed set up --ci"),
        (("--ci", "0.9", "--resamples", "1000000000"), "--resamples 1000000000"),
    ],
)
def test_resamples_without_ci_or_beyond_the_cap_are_usage_errors(
    args: tuple[str, ...], fragment: str
) -> None:
    assert_error(kldiv("compare", "3,4", "5,6", *args), 2, fragment)


def test_the_cli_offers_exactly_the_estimators_the_module_has() -> None:
    from kldiv_cli.cli import Estimator

    assert [e.value for e in Estimator] == list(ESTIMATORS)
