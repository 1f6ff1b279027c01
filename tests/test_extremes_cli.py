"""Extreme magnitudes through the real program: values 1e600 apart in one distribution,
huge and tiny pseudocounts and models whose totals overflow under ``--ci``."""

from __future__ import annotations

import math
from decimal import Context
from pathlib import Path

import pytest

from kldiv_cli.maths.core import MEASURES
from tests.test_cli import assert_error, kldiv

_D = Context(prec=50)

CI = ("--ci", "0.95", "--resamples", "200", "--seed", "1")


def _kl_bits(p: list[float], q: list[float]) -> float:
    """D(P || Q) in bits, in 50-digit decimals (normalized there, so nothing underflows)."""
    dp, dq = [_D.create_decimal(x) for x in p], [_D.create_decimal(x) for x in q]
    tp, tq = sum(dp), sum(dq)
    total = sum(((a / tp) * ((a / tp) / (b / tq)).ln(_D) for a, b in zip(dp, dq, strict=True)), 0)
    return float(total / _D.create_decimal(2).ln(_D))


def test_compare_mixing_1e_minus_300_and_1e300_is_finite_without_a_warning() -> None:
    run = kldiv("compare", "0.5,0.5", "1e-300,1e300", "--format", "json")
    assert run.status == 0, run.err
    assert run.err == ""
    doc = run.json()
    assert doc["warnings"] == []
    assert doc["support"] == {"size": 2, "only_p": [], "only_q": []}
    want = _kl_bits([0.5, 0.5], [1e-300, 1e300])  # 995.578... bits
    # 1e-13: the log of the entry that underflows is a sum of two ~700-nat terms.
    assert doc["measures"]["kl_pq"] == pytest.approx(want, rel=1e-13)
    assert doc["measures"]["kl_qp"] == pytest.approx(_kl_bits([1e-300, 1e300], [0.5, 0.5]))
    assert 0.0 <= doc["measures"]["jsd"] <= 1.0


def test_pairs_and_matrix_mixing_1e_minus_300_and_1e300_are_finite(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("label,a,b\nx,0.5,1e-300\ny,0.5,1e300\n", encoding="utf-8")
    run = kldiv("matrix", str(table), "--measure", "kl", "--format", "json")
    assert run.status == 0, run.err
    text = run.out
    assert "inf" not in text, text
    assert "NaN" not in text, text
    want = _kl_bits([0.5, 0.5], [1e-300, 1e300])
    assert str(want)[:12] in text
    run = kldiv("pairs", str(table), str(table), "--format", "json")
    assert run.status == 0, run.err
    assert "NaN" not in run.out


def _intervals(*args: str) -> tuple[dict[str, float], dict[str, list[float]]]:
    """The point estimates and bounds of ``compare --ci --format json``, ``inf`` read as a
    float; each bound a number, ``lo <= hi``."""
    run = kldiv("compare", *args, *CI, "--format", "json")
    assert run.status == 0, run.err
    doc = run.json()  # valid JSON: no NaN literal

    def number(x: float | str) -> float:
        assert x == "inf" or isinstance(x, float), x
        return math.inf if x == "inf" else float(x)

    measures = {key: number(v) for key, v in doc["measures"].items()}
    bounds = {key: [number(b) for b in v] for key, v in doc["intervals"].items()}
    for key in MEASURES:
        lo, hi = bounds[key]
        assert lo <= hi, (key, lo, hi)
    return measures, bounds


def test_ci_with_a_pseudocount_of_1e308_is_the_uniform_pair() -> None:
    # x + 1e308 is 1e308 for every count x: every resample is the uniform pair, whose
    # entropies are log2(3) and divergences 0. The totals (3e308) overflow.
    for a in ("1e308", "1.7e308"):
        measures, bounds = _intervals("3,5,2", "4,4,2", "--pseudocount", a)
        for key in ("entropy_p", "entropy_q", "cross_entropy_pq", "cross_entropy_qp"):
            assert measures[key] == pytest.approx(math.log2(3), rel=1e-12)
            assert bounds[key] == pytest.approx([math.log2(3)] * 2, rel=1e-12)
        for key in ("kl_pq", "kl_qp", "jsd", "js_distance"):
            assert bounds[key] == pytest.approx([0.0, 0.0], abs=1e-12)
    run = kldiv("compare", "3,5,2", "4,4,2", "--pseudocount", "1e308", *CI)
    assert run.status == 0, run.err
    assert "nan" not in run.out.lower()


def test_ci_of_a_model_whose_total_overflows_is_that_of_the_model_scaled_down() -> None:
    # Scaling a model by a power of 2 changes none of its probabilities (1e-12: the
    # overflowing total is rescaled by its maximum first, another rounding).
    for p in ("3,5,2", "3,0,2"):
        m_big, b_big = _intervals(p, "0.5,1e308,1e308")
        m_small, b_small = _intervals(p, f"{0.5 * 2**-20!r},{1e308 * 2**-20!r},{1e308 * 2**-20!r}")
        for key in MEASURES:
            assert m_big[key] == pytest.approx(m_small[key], rel=1e-12), key
            assert b_big[key] == pytest.approx(b_small[key], rel=1e-12), key


@pytest.mark.parametrize(
    ("p", "q", "a"),
    [
        ("3,0,2", "4,4,0", "5e-324"),
        ("3000000,0,2", "4,4,0", "1e-320"),
        ("3,5,2", "4,4,2", "5e-324"),
    ],
)
def test_ci_with_a_subnormal_pseudocount_has_no_nan(p: str, q: str, a: str) -> None:
    # x + a for a count of 0 is the subnormal a, whose p underflows: it is still > 0.
    measures, _ = _intervals(p, q, "--pseudocount", a)
    for key in ("kl_pq", "kl_qp", "cross_entropy_pq", "cross_entropy_qp"):
        assert math.isfinite(measures[key]), key


# --------------------------------------------------------------------------- 2^53 + 1


@pytest.mark.parametrize(
    "args",
    [
        ("entropy", "9007199254740992,1", "--estimator", "nsb"),
        ("entropy", "1,9007199254740992", "--estimator", "miller-madow"),
        ("compare", "9007199254740992,1", "1,1", "--test"),
        ("compare", "9007199254740992,1", "0.5,0.5", "--ci", "0.9"),
        ("compare", "1,1", "9007199254740992,1", "--ci", "0.9"),
    ],
)
def test_a_total_of_2_to_the_53_plus_1_is_65_with_its_exact_value(args: tuple[str, ...]) -> None:
    # The float sum of 2^53 and 1 is 2^53, within the limit: the total is recounted.
    source = next(a for a in args if "9007199254740992" in a)
    option = "--estimator" if args[0] == "entropy" else args[3]
    assert_error(kldiv(*args), 65, source, option, "2^53", "9007199254740993")


def test_a_table_of_counts_totalling_2_to_the_53_plus_1_is_65(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("x,a,b\nu,9007199254740990,2\nv,1,0\n", encoding="utf-8")
    assert_error(kldiv("mi", str(path), "--test"), 65, "big.csv", "--test", "9007199254740993")
    path.write_text("name,a,b\nx,9007199254740992,2\ny,1,0\n", encoding="utf-8")
    run = kldiv("entropy", str(path), "--estimator", "nsb")
    assert_error(run, 65, "big.csv", "'a'", "--estimator nsb", "9007199254740993")


def test_a_total_of_exactly_2_to_the_53_is_accepted() -> None:
    run = kldiv("entropy", "9007199254740990,1,1", "--estimator", "nsb", "--format", "json")
    assert run.status == 0, run.err
    assert run.json()["distributions"][0]["n"] == 2.0**53


@pytest.mark.parametrize("extra", [(), ("--ci", "0.9"), ("--format", "json")])
def test_a_pseudocount_that_overflows_a_value_is_one_error_line(extra: tuple[str, ...]) -> None:
    # 1e308 + 1e308 has no float: 65 naming the source, not a NumPy warning and an
    # unnamed "q has an infinite value".
    run = kldiv("compare", "3,5,2", "0.5,1e308,1e308", "--pseudocount", "1e308", *extra)
    assert_error(run, 65, "0.5,1e308,1e308", "--pseudocount", "float range")
