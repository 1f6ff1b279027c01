"""Tests of kldiv_cli.maths.information: hand-derived values, identities, and oracles.

No expected value here is copied from the module's own output: each is derived by hand
(with ``math``), follows from an identity, comes from :func:`scipy.stats.entropy`, or
from a plain loop over the cells written here as a second implementation.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths.information import MI_MEASURES, mutual_information

LN2 = math.log(2.0)
LN10 = math.log(10.0)
LOG2_3 = math.log2(3.0)
#: Each unit and the log base SciPy needs for it.
BASES = {"bits": 2.0, "nats": math.e, "bans": 10.0}
#: The measures that are information quantities; NMI is a unitless ratio.
INFORMATION = tuple(key for key in MI_MEASURES if key != "normalized_mutual_information")


def assert_clean(m: dict[str, float]) -> None:
    """Plain floats, keys in order, no NaN or inf, nothing below 0, no -0.0."""
    assert tuple(m) == MI_MEASURES
    for key, value in m.items():
        assert type(value) is float, key
        assert math.isfinite(value), (key, value)
        assert value >= 0.0, (key, value)
        assert math.copysign(1.0, value) == 1.0, (key, value)  # catches -0.0
    assert m["normalized_mutual_information"] <= 1.0


def loop_mi(counts: np.ndarray, base: float = 2.0) -> float:
    """I(X; Y) the textbook way: a Python loop over the cells, with ``math.log``."""
    n = float(counts.sum())
    rows, cols = counts.shape
    px = [float(counts[i, :].sum()) / n for i in range(rows)]
    py = [float(counts[:, j].sum()) / n for j in range(cols)]
    terms = []
    for i in range(rows):
        for j in range(cols):
            pxy = float(counts[i, j]) / n
            if pxy > 0:
                terms.append(pxy * math.log(pxy / (px[i] * py[j]), base))
    return math.fsum(terms)


# --------------------------------------------------------------------------- 1. hand values


def test_a_copy_shares_all_its_information() -> None:
    # Y = X for a fair coin: p = diag(1/2, 1/2), every entropy is 1 bit, nothing is left
    # once either is known, and I = 2 * (1/2) log2((1/2) / (1/4)) = 1 bit.
    m = mutual_information([[1, 0], [0, 1]])
    assert_clean(m)
    assert m == {
        "entropy_x": 1.0,
        "entropy_y": 1.0,
        "joint_entropy": 1.0,
        "conditional_entropy_x_given_y": 0.0,
        "conditional_entropy_y_given_x": 0.0,
        "mutual_information": 1.0,
        "variation_of_information": 0.0,
        "normalized_mutual_information": 1.0,
    }


def test_a_permutation_of_eight_values_with_uneven_counts() -> None:
    # Y is a relabelling of X, so H(X|Y) = H(Y|X) = 0 exactly (every p(x|y) is 1), and
    # I = H(X) = H(Y) = H(X, Y) = the entropy of the counts.
    counts = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=float)
    table = np.zeros((8, 8))
    table[np.arange(8), [2, 7, 0, 5, 1, 3, 6, 4]] = counts
    m = mutual_information(table)
    assert_clean(m)
    h = scipy.stats.entropy(counts, base=2)
    for key in ("entropy_x", "entropy_y", "joint_entropy", "mutual_information"):
        assert m[key] == pytest.approx(h, rel=1e-14), key
    assert m["conditional_entropy_x_given_y"] == 0.0
    assert m["conditional_entropy_y_given_x"] == 0.0
    assert m["variation_of_information"] == 0.0
    assert m["normalized_mutual_information"] == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize(
    ("px", "py"),
    [([1, 1], [1, 1]), ([1, 2, 3], [4, 5, 6, 7]), ([0.5, 0.25, 0.25], [0.1, 0.9]), ([7], [1, 3])],
)
def test_independent_table_has_no_mutual_information(px: list[float], py: list[float]) -> None:
    table = np.outer(px, py)
    m = mutual_information(table)
    assert_clean(m)
    assert m["mutual_information"] == pytest.approx(0.0, abs=1e-15)
    assert m["normalized_mutual_information"] == pytest.approx(0.0, abs=1e-15)
    assert m["entropy_x"] == pytest.approx(scipy.stats.entropy(px, base=2), rel=1e-14, abs=0)
    assert m["entropy_y"] == pytest.approx(scipy.stats.entropy(py, base=2), rel=1e-14)
    # Knowing one tells nothing of the other: H(X|Y) = H(X), H(X, Y) = H(X) + H(Y).
    assert m["conditional_entropy_x_given_y"] == pytest.approx(m["entropy_x"], rel=1e-14, abs=0)
    assert m["conditional_entropy_y_given_x"] == pytest.approx(m["entropy_y"], rel=1e-14)
    assert m["joint_entropy"] == pytest.approx(m["entropy_x"] + m["entropy_y"], rel=1e-14)


def test_two_by_three_by_hand() -> None:
    # counts [[2, 1, 1], [0, 2, 2]], N = 8:
    #   p(x, y) = [[1/4, 1/8, 1/8], [0, 1/4, 1/4]],  p(x) = (1/2, 1/2),
    #   p(y) = (1/4, 3/8, 3/8).
    # H(X)    = 1
    # H(Y)    = (1/4) log2 4 + 2 (3/8) log2(8/3) = 1/2 + (3/4)(3 - log2 3)
    #         = 11/4 - (3/4) log2 3
    # H(X, Y) = 3 (1/4) log2 4 + 2 (1/8) log2 8 = 3/2 + 3/4 = 9/4
    # H(Y|X)  = (1/2) H(1/2, 1/4, 1/4) + (1/2) H(0, 1/2, 1/2) = (1/2)(3/2) + (1/2)(1) = 5/4
    # H(X|Y)  = H(X, Y) - H(Y) = (3/4) log2 3 - 1/2
    # I, cell by cell, p log2(p / (p(x) p(y))):
    #   (1/4) log2(2) + 2 (1/8) log2(2/3) + 2 (1/4) log2(4/3)
    #   = 1/4 + (1/4)(1 - log2 3) + (1/2)(2 - log2 3) = 3/2 - (3/4) log2 3
    #   and H(X) + H(Y) - H(X, Y) = 1 + 11/4 - 9/4 - (3/4) log2 3: the same.
    # VI      = H(X|Y) + H(Y|X) = 3/4 + (3/4) log2 3
    # NMI     = I / sqrt(H(X) H(Y)) = (3/2 - (3/4) log2 3) / sqrt(11/4 - (3/4) log2 3)
    m = mutual_information([[2, 1, 1], [0, 2, 2]])
    assert_clean(m)
    h_y = 11 / 4 - 0.75 * LOG2_3
    mi = 1.5 - 0.75 * LOG2_3
    expected = {
        "entropy_x": 1.0,
        "entropy_y": h_y,
        "joint_entropy": 9 / 4,
        "conditional_entropy_x_given_y": 0.75 * LOG2_3 - 0.5,
        "conditional_entropy_y_given_x": 5 / 4,
        "mutual_information": mi,
        "variation_of_information": 0.75 + 0.75 * LOG2_3,
        "normalized_mutual_information": mi / math.sqrt(h_y),
    }
    for key in MI_MEASURES:
        assert m[key] == pytest.approx(expected[key], rel=1e-14), key
    # Fractions of a total, or the transposed table read the other way round.
    assert mutual_information(np.array([[2, 1, 1], [0, 2, 2]]) / 8) == pytest.approx(m, rel=1e-14)
    t = mutual_information([[2, 0], [1, 2], [1, 2]])
    assert t["entropy_y"] == pytest.approx(1.0, rel=1e-14)
    assert t["conditional_entropy_x_given_y"] == pytest.approx(5 / 4, rel=1e-14)
    assert t["mutual_information"] == pytest.approx(mi, rel=1e-14)


@pytest.mark.parametrize("table", [[[3, 1, 4]], [[0, 5, 0, 2]], [[2], [7], [1]]])
def test_a_constant_shares_nothing(table: list[list[float]]) -> None:
    # One row (or column): X (or Y) is constant, so H = 0, I = 0, and NMI is 0 by
    # convention rather than 0 / 0.
    m = mutual_information(table)
    assert_clean(m)
    constant, other = ("x", "y") if len(table) == 1 else ("y", "x")
    values = np.ravel(table)
    h = scipy.stats.entropy(values, base=2)
    assert m[f"entropy_{constant}"] == 0.0
    assert m[f"entropy_{other}"] == pytest.approx(h, rel=1e-14)
    assert m["joint_entropy"] == pytest.approx(h, rel=1e-14)
    assert m["mutual_information"] == 0.0
    assert m["normalized_mutual_information"] == 0.0
    assert m[f"conditional_entropy_{constant}_given_{other}"] == 0.0
    assert m[f"conditional_entropy_{other}_given_{constant}"] == pytest.approx(h, rel=1e-14)
    assert m["variation_of_information"] == pytest.approx(h, rel=1e-14)


def test_a_single_cell_is_all_zeros() -> None:
    m = mutual_information([[5]])
    assert_clean(m)
    assert all(value == 0.0 for value in m.values())


def test_all_zero_rows_and_columns_change_nothing() -> None:
    # A value that never occurs has p = 0 and contributes 0 log 0 = 0 everywhere.
    base = np.array([[2.0, 1.0, 1.0], [0.0, 2.0, 2.0]])
    padded = np.zeros((4, 5))
    padded[np.ix_([0, 2], [1, 2, 4])] = base
    assert mutual_information(padded) == pytest.approx(mutual_information(base), rel=1e-14)
    assert_clean(mutual_information(padded))


# --------------------------------------------------------------------------- 2. units


@pytest.mark.parametrize("table", [[[2, 1, 1], [0, 2, 2]], [[1, 0], [0, 1]], [[5, 1], [2, 7]]])
def test_units_convert_by_ln2_and_ln10_and_nmi_has_none(table: list[list[float]]) -> None:
    bits, nats, bans = (mutual_information(table, unit=u) for u in ("bits", "nats", "bans"))
    assert mutual_information(table) == bits  # bits is the default
    for key in INFORMATION:
        assert nats[key] == pytest.approx(bits[key] * LN2, rel=1e-14, abs=1e-300), key
        assert nats[key] == pytest.approx(bans[key] * LN10, rel=1e-14, abs=1e-300), key
    key = "normalized_mutual_information"
    assert bits[key] == nats[key] == bans[key]


def test_fair_coin_copy_in_each_unit() -> None:
    for unit, value in (("bits", 1.0), ("nats", LN2), ("bans", math.log10(2.0))):
        m = mutual_information([[1, 0], [0, 1]], unit=unit)
        assert m["mutual_information"] == pytest.approx(value, rel=1e-15), unit
        assert m["normalized_mutual_information"] == 1.0


# --------------------------------------------------------------------------- 3. oracles

SEEDED = [
    np.random.default_rng(seed).integers(0, rng_max, size=shape)
    for seed, rng_max, shape in [
        (1, 5, (3, 4)),
        (2, 100, (6, 2)),
        (3, 2, (8, 8)),
        (4, 1000, (5, 7)),
    ]
]


@pytest.mark.parametrize("table", SEEDED)
@pytest.mark.parametrize("unit", list(BASES))
def test_entropies_match_scipy(table: np.ndarray, unit: str) -> None:
    base = BASES[unit]
    m = mutual_information(table, unit=unit)
    assert_clean(m)
    h_x = scipy.stats.entropy(table.sum(axis=1), base=base)
    h_y = scipy.stats.entropy(table.sum(axis=0), base=base)
    h_xy = scipy.stats.entropy(table.ravel(), base=base)
    assert m["entropy_x"] == pytest.approx(h_x, rel=1e-13)
    assert m["entropy_y"] == pytest.approx(h_y, rel=1e-13)
    assert m["joint_entropy"] == pytest.approx(h_xy, rel=1e-13)
    assert m["conditional_entropy_x_given_y"] == pytest.approx(h_xy - h_y, rel=1e-12, abs=1e-14)
    assert m["conditional_entropy_y_given_x"] == pytest.approx(h_xy - h_x, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("table", SEEDED)
@pytest.mark.parametrize("unit", list(BASES))
def test_mutual_information_matches_a_loop_over_cells(table: np.ndarray, unit: str) -> None:
    m = mutual_information(table, unit=unit)
    mi = loop_mi(table, BASES[unit])
    assert m["mutual_information"] == pytest.approx(mi, rel=1e-12, abs=1e-15)
    h_x = scipy.stats.entropy(table.sum(axis=1), base=2)
    h_y = scipy.stats.entropy(table.sum(axis=0), base=2)
    nmi = loop_mi(table) / math.sqrt(h_x * h_y)
    assert m["normalized_mutual_information"] == pytest.approx(nmi, rel=1e-12, abs=1e-15)


def test_nearly_independent_pair_keeps_its_digits() -> None:
    # p(x, y) = p(x) p(y) (1 + e d(x, y)) with e = 2**-20, p(x) = (1/4, 3/4),
    # p(y) = (1/2, 1/4, 1/4) and d = [[3, -6, 0], [-1, 2, 0]], whose weighted row and
    # column sums are 0, so the marginals stay p(x) and p(y). Every cell is a dyadic
    # fraction, exact in binary. With q = p(x) p(y) and S_k = sum q d^k (S_1 = 0),
    #   I = sum q (1 + e d) ln(1 + e d) = sum_{k >= 2} (-1)^k e^k S_k / (k (k - 1)),
    # the Taylor series of the log: about e^2 S_2 / 2 = 2.0e-12 nats. As
    # H(X) + H(Y) - H(X, Y), entropies of about 0.56 + 1.04 nats each rounded to ~1e-16,
    # it keeps only 6 digits or so; summed term by term, it keeps 10.
    e = Fraction(2**-20)
    px, py = [Fraction(1, 4), Fraction(3, 4)], [Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)]
    d = [[3, -6, 0], [-1, 2, 0]]
    q = [[px[i] * py[j] for j in range(3)] for i in range(2)]
    p = [[q[i][j] * (1 + e * d[i][j]) for j in range(3)] for i in range(2)]
    table = np.array([[float(cell) for cell in row] for row in p])
    assert all(Fraction(table[i, j]) == p[i][j] for i in range(2) for j in range(3))

    def s(k: int) -> Fraction:
        return sum((q[i][j] * d[i][j] ** k for i in range(2) for j in range(3)), Fraction(0))

    assert s(1) == 0
    series = float(sum((-1) ** k * e**k * s(k) / (k * (k - 1)) for k in range(2, 12)))
    m = mutual_information(table, unit="nats")
    assert m["mutual_information"] == pytest.approx(series, rel=1e-9)
    assert m["mutual_information"] == pytest.approx(loop_mi(table, math.e), rel=1e-9)
    h_x = scipy.stats.entropy([float(x) for x in px])
    h_y = scipy.stats.entropy([float(y) for y in py])
    nmi = series / math.sqrt(h_x * h_y)
    assert m["normalized_mutual_information"] == pytest.approx(nmi, rel=1e-9)
    # The symmetric 2 x 2 case: p(x, y) / (p(x) p(y)) = 1 +- e exactly.
    f = 2.0**-20
    m = mutual_information([[1 + f, 1 - f], [1 - f, 1 + f]], unit="nats")
    series = math.fsum(f ** (2 * k) / (2 * k * (2 * k - 1)) for k in range(1, 6))
    assert m["mutual_information"] == pytest.approx(series, rel=1e-9)
    assert m["variation_of_information"] == pytest.approx(2 * LN2 - series, rel=1e-14)


def test_tiny_and_huge_cells() -> None:
    # p(0, 0) = 1e-200: X and Y agree, so I = H(X) = H(Y) = H(X, Y), all about
    # 1e-200 ln(1e200) = 4.6e-198 nats; p(x) p(y) = 1e-400 underflows but I does not.
    m = mutual_information([[1e-200, 0.0], [0.0, 1.0]], unit="nats")
    assert_clean(m)
    h = 1e-200 * 200 * LN10
    for key in ("entropy_x", "entropy_y", "joint_entropy", "mutual_information"):
        assert m[key] == pytest.approx(h, rel=1e-12), key
    assert m["variation_of_information"] == 0.0
    assert m["normalized_mutual_information"] == pytest.approx(1.0, rel=1e-12)
    # Cells whose sum overflows are rescaled: a uniform 2 x 2 table.
    m = mutual_information([[1e308, 1e308], [1e308, 1e308]])
    assert_clean(m)
    assert m["entropy_x"] == m["entropy_y"] == 1.0
    assert m["joint_entropy"] == 2.0
    assert m["mutual_information"] == 0.0


# --------------------------------------------------------------------------- 4. properties

#: Random count tables, 1..8 x 1..8, with at least one positive cell.
TABLES = hnp.arrays(
    np.int64,
    st.tuples(st.integers(1, 8), st.integers(1, 8)),
    elements=st.integers(min_value=0, max_value=1000),
).filter(lambda a: bool((a > 0).any()))

#: Float tables with cells in [0, 1e300], subnormals included, at least one positive.
FLOAT_TABLES = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 8), st.integers(1, 8)),
    elements=st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=1e300)),
).filter(lambda a: bool((a > 0).any()))

PROPERTY = settings(max_examples=200, deadline=None)
#: The tolerance of identities that hold up to rounding.
REL, ABS = 1e-9, 1e-12


@PROPERTY
@given(TABLES)
def test_identities_and_bounds(table: np.ndarray) -> None:
    m = mutual_information(table)
    assert_clean(m)
    h_x, h_y, h_xy = m["entropy_x"], m["entropy_y"], m["joint_entropy"]
    mi, vi = m["mutual_information"], m["variation_of_information"]
    h_x_y, h_y_x = m["conditional_entropy_x_given_y"], m["conditional_entropy_y_given_x"]
    assert mi == pytest.approx(h_x + h_y - h_xy, rel=REL, abs=ABS)
    assert mi == pytest.approx(h_x - h_x_y, rel=REL, abs=ABS)
    assert mi == pytest.approx(h_y - h_y_x, rel=REL, abs=ABS)
    assert vi == pytest.approx(h_xy - mi, rel=REL, abs=ABS)
    assert vi == pytest.approx(h_x_y + h_y_x, rel=REL, abs=ABS)
    assert 0.0 <= mi <= min(h_x, h_y)
    assert h_x_y <= h_x
    assert h_y_x <= h_y
    assert max(h_x, h_y) <= h_xy + 1e-12
    assert h_xy <= h_x + h_y + 1e-12
    assert 0.0 <= m["normalized_mutual_information"] <= 1.0
    if h_x == 0.0 or h_y == 0.0:
        assert m["normalized_mutual_information"] == 0.0
    else:
        nmi = mi / math.sqrt(h_x * h_y)
        assert m["normalized_mutual_information"] == pytest.approx(nmi, rel=1e-12)
    assert mi == pytest.approx(loop_mi(table), rel=1e-9, abs=1e-12)


@PROPERTY
@given(TABLES)
def test_transposing_swaps_x_and_y(table: np.ndarray) -> None:
    m, t = mutual_information(table), mutual_information(table.T)
    swapped = {
        "entropy_x": "entropy_y",
        "entropy_y": "entropy_x",
        "conditional_entropy_x_given_y": "conditional_entropy_y_given_x",
        "conditional_entropy_y_given_x": "conditional_entropy_x_given_y",
    }
    for key in MI_MEASURES:
        assert t[swapped.get(key, key)] == pytest.approx(m[key], rel=REL, abs=ABS), key


@PROPERTY
@given(TABLES, st.integers(min_value=-30, max_value=30))
def test_scaling_by_a_power_of_two_changes_nothing(table: np.ndarray, k: int) -> None:
    # Scaling by 2**k is exact, so the normalized table is bit-identical.
    assert mutual_information(table * 2.0**k) == mutual_information(table)


@PROPERTY
@given(TABLES, st.floats(min_value=1e-3, max_value=1e3))
def test_scaling_by_a_positive_constant_changes_nothing(table: np.ndarray, c: float) -> None:
    m, scaled = mutual_information(table), mutual_information(table * c)
    for key in MI_MEASURES:
        assert scaled[key] == pytest.approx(m[key], rel=REL, abs=ABS), key


@PROPERTY
@given(TABLES)
def test_every_unit_is_clean_and_consistent(table: np.ndarray) -> None:
    bits = mutual_information(table)
    for unit, scale in (("nats", LN2), ("bans", LN2 / LN10)):
        other = mutual_information(table, unit=unit)
        assert_clean(other)
        for key in INFORMATION:
            assert other[key] == pytest.approx(bits[key] * scale, rel=1e-14, abs=1e-300), key
        key = "normalized_mutual_information"
        assert other[key] == bits[key]


@PROPERTY
@given(FLOAT_TABLES)
def test_float_tables_of_any_magnitude_stay_clean_and_bounded(table: np.ndarray) -> None:
    for unit in BASES:
        m = mutual_information(table, unit=unit)
        assert_clean(m)
        assert m["mutual_information"] <= min(m["entropy_x"], m["entropy_y"])
        assert m["conditional_entropy_x_given_y"] <= m["entropy_x"]
        assert m["conditional_entropy_y_given_x"] <= m["entropy_y"]


# --------------------------------------------------------------------------- 5. errors


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([[1, -1], [2, 3]], "negative"),
        ([[1, math.nan], [2, 3]], "NaN"),
        ([[1, math.inf], [2, 3]], "infinite"),
        ([[0, 0], [0, 0]], "no positive value"),
        ([[0.0]], "no positive value"),
        ([1, 2, 3], "2-D"),
        ([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], "2-D"),
        (7, "2-D"),
        (np.zeros((0, 3)), "empty"),
        (np.zeros((3, 0)), "empty"),
        ([[1, 2], [3]], "table of numbers"),
        ([["a", "b"]], "table of numbers"),
    ],
)
def test_invalid_tables_are_invalid_data(counts: object, message: str) -> None:
    with pytest.raises(InvalidDataError, match=message) as caught:
        mutual_information(counts)  # type: ignore[arg-type]
    assert caught.value.exit_status == 65


@pytest.mark.parametrize("unit", ["bit", "nat", "BITS", "", "hartleys"])
def test_unknown_unit_is_a_usage_error(unit: str) -> None:
    with pytest.raises(UsageError, match="unknown unit") as caught:
        mutual_information([[1, 2], [3, 4]], unit=unit)
    assert caught.value.exit_status == 2
