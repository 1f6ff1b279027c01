"""Tests of kldiv_cli.maths.core: hand-derived values, identities, and SciPy as an oracle.

No expected value here is copied from the module's own output: each is derived by hand
(with ``math``), is a published reference value, follows from an identity, or comes from
:mod:`scipy.stats` / :mod:`scipy.spatial.distance`.
"""

from __future__ import annotations

import math
import warnings
from decimal import Context, Decimal

import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import jensenshannon

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths.core import (
    DOT_BLOCK,
    MEASURES,
    UNITS,
    _dot,
    _infinite,
    _log,
    contributions,
    cross_entropy,
    entropy,
    js_distance,
    js_divergence,
    kl_divergence,
    measures,
    normalize,
    unit_scale,
)

LN2 = math.log(2.0)
LN10 = math.log(10.0)
#: Each unit and the log base SciPy needs for it.
BASES = {"bits": 2.0, "nats": math.e, "bans": 10.0}
PAIR_FUNCTIONS = {
    "cross_entropy": cross_entropy,
    "kl_divergence": kl_divergence,
    "js_divergence": js_divergence,
    "js_distance": js_distance,
}


def assert_clean(value: object) -> None:
    """No NaN, nothing below 0, and no -0.0 anywhere in ``value``."""
    a = np.asarray(value, dtype=np.float64)
    assert not np.isnan(a).any(), a
    assert (a >= 0.0).all(), a
    assert not np.signbit(a).any(), a  # catches -0.0, which compares equal to 0.0


# --------------------------------------------------------------------------- 1. hand values


def test_black_swan_kl_is_log2_100_bits() -> None:
    # p = (0, 1): only the 1% outcome is seen, so D = 1 * log2(1 / 0.01).
    assert kl_divergence([0, 1], [0.99, 0.01]) == pytest.approx(math.log2(100), rel=1e-12)
    assert kl_divergence([0, 1], [0.99, 0.01], unit="nats") == pytest.approx(
        math.log(100), rel=1e-12
    )
    assert kl_divergence([0, 1], [0.99, 0.01], unit="bans") == pytest.approx(2.0, rel=1e-12)


def test_certain_outcome_against_fair_coin_is_one_bit() -> None:
    assert kl_divergence([0, 1], [0.5, 0.5]) == pytest.approx(1.0, rel=1e-12)
    # The reverse direction puts mass where p has none: infinite.
    assert kl_divergence([0.5, 0.5], [0, 1]) == math.inf


@pytest.mark.parametrize(
    ("p", "q"),
    [([1, 0], [0, 1]), ([0, 3], [2, 0]), ([1, 1, 1, 0], [0, 0, 0, 1]), ([0.1, 0.2, 0], [0, 0, 1])],
)
def test_jsd_of_disjoint_supports_is_exactly_one_bit(p: list[float], q: list[float]) -> None:
    assert js_divergence(p, q) == 1.0
    assert js_divergence(q, p) == 1.0
    assert js_divergence(p, q, unit="nats") == pytest.approx(LN2, rel=1e-15)
    assert js_divergence(p, q, unit="bans") == pytest.approx(math.log10(2), rel=1e-15)
    assert js_distance(p, q) == 1.0
    assert measures(p, q)["jsd"] == 1.0


@pytest.mark.parametrize(("p", "q"), [([1, 6, 0], [0, 0, 1]), ([0.1, 0.2, 0.7, 0], [0, 0, 0, 1])])
def test_jsd_of_disjoint_supports_is_exactly_one_bit_uneven(p: list[float], q: list[float]) -> None:
    assert js_divergence(p, q) == 1.0


@pytest.mark.parametrize("k", [1, 2, 3, 7, 8, 100, 1024, 10_000])
def test_entropy_of_uniform_is_log_k(k: int) -> None:
    assert entropy(np.ones(k)) == pytest.approx(math.log2(k), rel=1e-12, abs=1e-15)
    assert entropy(np.full(k, 7.5), unit="nats") == pytest.approx(math.log(k), rel=1e-12, abs=0)
    assert entropy(np.ones(k) / k, unit="bans") == pytest.approx(math.log10(k), rel=1e-12, abs=0)


@pytest.mark.parametrize("p", [[1.0], [5], [0, 0, 3, 0], [1e-300], [1e308]])
@pytest.mark.parametrize("unit", list(BASES))
def test_single_bin_entropy_is_positive_zero(p: list[float], unit: str) -> None:
    h = entropy(p, unit=unit)  # type: ignore[arg-type]
    assert h == 0.0
    assert math.copysign(1.0, h) == 1.0  # +0.0, never -0.0


@pytest.mark.parametrize(
    "p", [[1.0], [0.5, 0.5], [0.1, 0, 0.9], [3, 1, 4, 1, 5, 9, 2, 6], [1e-300, 1, 0]]
)
def test_kl_of_a_distribution_with_itself_is_zero(p: list[float]) -> None:
    for unit in BASES:
        d = kl_divergence(p, p, unit=unit)  # type: ignore[arg-type]
        assert d == 0.0
        assert math.copysign(1.0, d) == 1.0
        assert js_divergence(p, p, unit=unit) == 0.0  # type: ignore[arg-type]
    # Counts and their probabilities are the same distribution.
    assert kl_divergence(p, np.asarray(p) / np.sum(p)) == pytest.approx(0.0, abs=1e-15)
    assert cross_entropy(p, p) == pytest.approx(entropy(p), rel=1e-12, abs=1e-15)


def test_great_expectations_reference_values_in_nats() -> None:
    # Published reference values (Great Expectations docs), q given as counts.
    p, q = [0.5, 0.3, 0.2], [1, 1, 1]
    assert kl_divergence(p, q, unit="nats") == pytest.approx(0.06895927460353624, rel=1e-12)
    assert kl_divergence(q, p, unit="nats") == pytest.approx(0.07024034377188414, rel=1e-12)
    assert js_divergence(p, q, unit="nats") == pytest.approx(0.017250981160694307, rel=1e-12)
    m = measures(p, q, unit="nats")
    assert m["kl_pq"] == pytest.approx(0.06895927460353624, rel=1e-12)
    assert m["kl_qp"] == pytest.approx(0.07024034377188414, rel=1e-12)
    assert m["jsd"] == pytest.approx(0.017250981160694307, rel=1e-12)
    # Hand: H(q) = ln 3 and H(p, q) = ln 3 too (q is uniform).
    assert m["entropy_q"] == pytest.approx(math.log(3), rel=1e-12)
    assert m["cross_entropy_pq"] == pytest.approx(math.log(3), rel=1e-12)
    h_p = -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2))
    assert m["entropy_p"] == pytest.approx(h_p, rel=1e-12)


def test_hand_values_fair_vs_biased_coin() -> None:
    p, q = [0.5, 0.5], [0.9, 0.1]
    kl_pq = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    kl_qp = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    m_ = [0.7, 0.3]
    jsd = 0.5 * sum(a * math.log(a / b) for a, b in zip(p, m_, strict=True)) + 0.5 * sum(
        a * math.log(a / b) for a, b in zip(q, m_, strict=True)
    )
    m = measures(p, q, unit="nats")
    assert m["kl_pq"] == pytest.approx(kl_pq, rel=1e-12)
    assert m["kl_qp"] == pytest.approx(kl_qp, rel=1e-12)
    assert m["jsd"] == pytest.approx(jsd, rel=1e-12)
    assert m["js_distance"] == pytest.approx(math.sqrt(jsd), rel=1e-12)
    assert m["cross_entropy_pq"] == pytest.approx(
        -(0.5 * math.log(0.9) + 0.5 * math.log(0.1)), rel=1e-12
    )
    assert m["cross_entropy_qp"] == pytest.approx(math.log(2), rel=1e-12)
    assert entropy([0.5, 0.5]) == 1.0


def test_unit_scale_and_units_table() -> None:
    assert set(UNITS) == {"bits", "nats", "bans"}
    assert unit_scale("bits") == pytest.approx(LN2, rel=1e-15)
    assert unit_scale("nats") == 1.0
    assert unit_scale("bans") == pytest.approx(LN10, rel=1e-15)


def test_a_single_distribution_gives_a_scalar_and_a_stack_gives_an_array() -> None:
    assert np.ndim(entropy([1, 2, 3])) == 0
    assert np.ndim(kl_divergence([1, 2], [2, 1])) == 0
    assert np.shape(entropy(np.ones((4, 3)))) == (4,)
    assert np.shape(measures(np.ones((4, 3)), np.ones((4, 3)))["jsd"]) == (4,)


# --------------------------------------------------------------------------- 2. SciPy oracle

SIZES = (1, 2, 3, 10, 257, 10_000)
ZERO_MODES = ("none", "p", "q", "both", "shared")


def _zero_some(rng: np.random.Generator, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Zero ``x`` where ``mask``, but always leave at least one positive value."""
    out = np.where(mask, 0.0, x)
    if not (out > 0).any():
        out[rng.integers(out.size)] = x.max()
    return out


def random_pair(n: int, zeros: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two random count vectors of length ``n``, zeros placed as ``zeros`` says."""
    rng = np.random.default_rng([n, ZERO_MODES.index(zeros), seed])
    # Skewed, over several orders of magnitude: probabilities from 1e-4 to 1 of the mass.
    p = rng.random(n) ** 3 * 10.0 ** rng.uniform(0, 4)
    q = rng.exponential(size=n) * 10.0 ** rng.uniform(-3, 3)
    if n >= 2 and zeros != "none":
        mask_p = rng.random(n) < 0.3
        mask_q = mask_p.copy() if zeros == "shared" else rng.random(n) < 0.3
        # Make sure each requested kind of zero is really there.
        mask_p[0] = zeros in ("p", "both", "shared")
        mask_q[0] = zeros in ("q", "both", "shared")
        if zeros == "p":
            mask_q[:] = False
        elif zeros == "q":
            mask_p[:] = False
        p = _zero_some(rng, p, mask_p)
        q = _zero_some(rng, q, mask_q)
    return p, q


@pytest.mark.parametrize("zeros", ZERO_MODES)
@pytest.mark.parametrize("unit", list(BASES))
@pytest.mark.parametrize("n", SIZES)
def test_matches_scipy(n: int, unit: str, zeros: str) -> None:
    base = BASES[unit]
    for seed in range(3):
        p, q = random_pair(n, zeros, seed)
        h_p = scipy.stats.entropy(p, base=base)
        h_q = scipy.stats.entropy(q, base=base)
        kl_pq = scipy.stats.entropy(p, q, base=base)  # inf where q = 0 < p
        kl_qp = scipy.stats.entropy(q, p, base=base)
        dist = jensenshannon(p, q, base=base)
        expected = {
            "entropy_p": h_p,
            "entropy_q": h_q,
            "cross_entropy_pq": h_p + kl_pq,
            "cross_entropy_qp": h_q + kl_qp,
            "kl_pq": kl_pq,
            "kl_qp": kl_qp,
            "jsd": dist**2,
            "js_distance": dist,
        }
        rtol = {"cross_entropy_pq": 1e-10, "cross_entropy_qp": 1e-10}
        got = measures(p, q, unit=unit)  # type: ignore[arg-type]
        single = {
            "entropy_p": entropy(p, unit=unit),  # type: ignore[arg-type]
            "entropy_q": entropy(q, unit=unit),  # type: ignore[arg-type]
            "cross_entropy_pq": cross_entropy(p, q, unit=unit),  # type: ignore[arg-type]
            "cross_entropy_qp": cross_entropy(q, p, unit=unit),  # type: ignore[arg-type]
            "kl_pq": kl_divergence(p, q, unit=unit),  # type: ignore[arg-type]
            "kl_qp": kl_divergence(q, p, unit=unit),  # type: ignore[arg-type]
            "jsd": js_divergence(p, q, unit=unit),  # type: ignore[arg-type]
            "js_distance": js_distance(p, q, unit=unit),  # type: ignore[arg-type]
        }
        for key, want in expected.items():
            tol = rtol.get(key, 1e-12)
            np.testing.assert_allclose(got[key], want, rtol=tol, atol=0, err_msg=key)
            np.testing.assert_allclose(single[key], want, rtol=tol, atol=0, err_msg=key)
            assert_clean(got[key])
            assert_clean(single[key])
        # Infinities exactly where a zero of q (of p) meets mass of p (of q).
        assert np.isinf(got["kl_pq"]) == bool(((p > 0) & (q == 0)).any())
        assert np.isinf(got["kl_qp"]) == bool(((q > 0) & (p == 0)).any())
        assert np.isfinite(got["jsd"])


def _stack(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.random((5, 7)) * 10
    q = rng.random((5, 7))
    p[1, 2] = 0.0  # p-only zero: kl_qp inf in row 1
    q[2, 3] = 0.0  # q-only zero: kl_pq inf in row 2
    p[3, :3] = q[3, :3] = 0.0  # shared zeros: finite
    p[4] = [0, 0, 0, 1, 2, 3, 4]  # disjoint supports in row 4
    q[4] = [5, 6, 7, 0, 0, 0, 0]
    return p, q


def test_batched_matches_row_by_row_and_transpose() -> None:
    p, q = _stack(0)
    for unit in BASES:
        batched = measures(p, q, unit=unit)  # type: ignore[arg-type]
        transposed = measures(p.T, q.T, unit=unit, axis=0)  # type: ignore[arg-type]
        rows = [measures(p[i], q[i], unit=unit) for i in range(5)]  # type: ignore[arg-type]
        for key in MEASURES:
            by_row = np.array([r[key] for r in rows])
            assert batched[key].shape == (5,)
            np.testing.assert_allclose(batched[key], by_row, rtol=1e-14, atol=0, err_msg=key)
            np.testing.assert_allclose(transposed[key], by_row, rtol=1e-14, atol=0, err_msg=key)
        # The individual functions, too, and SciPy on each row.
        base = BASES[unit]
        for func, want in [
            (kl_divergence, [scipy.stats.entropy(p[i], q[i], base=base) for i in range(5)]),
            (js_distance, [jensenshannon(p[i], q[i], base=base) for i in range(5)]),
        ]:
            np.testing.assert_allclose(func(p, q, unit=unit), want, rtol=1e-12, atol=0)
            np.testing.assert_allclose(func(p.T, q.T, unit=unit, axis=0), want, rtol=1e-12, atol=0)
        want_h = [scipy.stats.entropy(p[i], base=base) for i in range(5)]
        np.testing.assert_allclose(entropy(p, unit=unit), want_h, rtol=1e-12, atol=0)
        np.testing.assert_allclose(entropy(p.T, unit=unit, axis=0), want_h, rtol=1e-12, atol=0)
        np.testing.assert_allclose(
            cross_entropy(p.T, q.T, unit=unit, axis=0),
            [cross_entropy(p[i], q[i], unit=unit) for i in range(5)],
            rtol=1e-14,
            atol=0,
        )
        np.testing.assert_allclose(
            js_divergence(p.T, q.T, unit=unit, axis=0),
            [js_divergence(p[i], q[i], unit=unit) for i in range(5)],
            rtol=1e-14,
            atol=0,
        )
    assert np.isinf(measures(p, q)["kl_qp"]).tolist() == [False, True, False, False, True]
    assert np.isinf(measures(p, q)["kl_pq"]).tolist() == [False, False, True, False, True]
    # Disjoint supports: exactly 1 bit.
    assert js_divergence(p, q)[4] == 1.0


def test_batched_contributions_and_normalize_along_axis_0() -> None:
    p, q = _stack(1)
    c = contributions(p, q)
    ct = contributions(p.T, q.T, axis=0)
    for key in ("p", "q", "kl_pq", "kl_qp", "jsd"):
        assert c[key].shape == (5, 7)
        np.testing.assert_allclose(ct[key].T, c[key], rtol=1e-14, atol=0, err_msg=key)
        for i in range(5):
            np.testing.assert_allclose(
                c[key][i], contributions(p[i], q[i])[key], rtol=1e-14, atol=0
            )
    np.testing.assert_allclose(normalize(p.T, axis=0).T, p / p.sum(axis=1, keepdims=True))


# --------------------------------------------------------------------------- 3. measures()


@pytest.mark.parametrize("unit", list(BASES))
@pytest.mark.parametrize("zeros", ZERO_MODES)
def test_measures_agree_with_the_individual_functions(unit: str, zeros: str) -> None:
    p, q = random_pair(10, zeros, 7)
    m = measures(p, q, unit=unit)  # type: ignore[arg-type]
    assert tuple(m) == MEASURES
    assert set(m) == set(MEASURES)
    expected = {
        "entropy_p": entropy(p, unit=unit),  # type: ignore[arg-type]
        "entropy_q": entropy(q, unit=unit),  # type: ignore[arg-type]
        "cross_entropy_pq": cross_entropy(p, q, unit=unit),  # type: ignore[arg-type]
        "cross_entropy_qp": cross_entropy(q, p, unit=unit),  # type: ignore[arg-type]
        "kl_pq": kl_divergence(p, q, unit=unit),  # type: ignore[arg-type]
        "kl_qp": kl_divergence(q, p, unit=unit),  # type: ignore[arg-type]
        "jsd": js_divergence(p, q, unit=unit),  # type: ignore[arg-type]
        "js_distance": js_distance(p, q, unit=unit),  # type: ignore[arg-type]
    }
    for key in MEASURES:
        assert m[key] == pytest.approx(expected[key], rel=1e-13, abs=1e-15), key
    assert m["js_distance"] == pytest.approx(math.sqrt(m["jsd"]), rel=1e-15, abs=0)
    # JSD is symmetric; the measures of (q, p) swap the directed ones.
    swapped = measures(q, p, unit=unit)  # type: ignore[arg-type]
    for a, b in [("entropy_p", "entropy_q"), ("kl_pq", "kl_qp")]:
        assert swapped[a] == pytest.approx(m[b], rel=1e-13, abs=1e-15)
        assert swapped[b] == pytest.approx(m[a], rel=1e-13, abs=1e-15)
    assert swapped["jsd"] == pytest.approx(m["jsd"], rel=1e-13, abs=1e-15)


# --------------------------------------------------------------------------- 4. contributions()


@pytest.mark.parametrize("unit", list(BASES))
@pytest.mark.parametrize("zeros", ZERO_MODES)
@pytest.mark.parametrize("n", [1, 2, 10, 257])
def test_contributions_sum_to_the_measures(n: int, zeros: str, unit: str) -> None:
    p, q = random_pair(n, zeros, 11)
    c = contributions(p, q, unit=unit)  # type: ignore[arg-type]
    assert set(c) == {"p", "q", "kl_pq", "kl_qp", "jsd"}
    np.testing.assert_allclose(c["p"], p / p.sum(), rtol=1e-15)
    np.testing.assert_allclose(c["q"], q / q.sum(), rtol=1e-15)
    for key in c:
        assert c[key].shape == (n,)
        assert not np.isnan(c[key]).any()
    assert_clean(c["jsd"])
    assert math.fsum(c["jsd"]) == pytest.approx(
        js_divergence(p, q, unit=unit),  # type: ignore[arg-type]
        rel=1e-12,
        abs=1e-15,
    )
    # A KL term is inf exactly where its q is 0 < p; elsewhere it is finite.
    np.testing.assert_array_equal(np.isinf(c["kl_pq"]), (p > 0) & (q == 0))
    np.testing.assert_array_equal(np.isinf(c["kl_qp"]), (q > 0) & (p == 0))
    assert (c["kl_pq"][np.isinf(c["kl_pq"])] > 0).all()
    for key, direct in [
        ("kl_pq", kl_divergence(p, q, unit=unit)),  # type: ignore[arg-type]
        ("kl_qp", kl_divergence(q, p, unit=unit)),  # type: ignore[arg-type]
    ]:
        if np.isfinite(direct):
            assert math.fsum(c[key]) == pytest.approx(direct, rel=1e-12, abs=1e-15)
        else:
            assert np.isinf(c[key]).any()
    # Zero-mass bins contribute exactly nothing.
    both_zero = (p == 0) & (q == 0)
    for key in ("kl_pq", "kl_qp", "jsd"):
        assert (c[key][both_zero] == 0).all()


def test_contributions_hand_values() -> None:
    c = contributions([0, 1], [0.99, 0.01])
    assert c["kl_pq"][0] == 0.0
    assert c["kl_pq"][1] == pytest.approx(math.log2(100), rel=1e-12)
    assert c["kl_qp"][0] == math.inf
    assert c["kl_qp"][1] == pytest.approx(0.01 * math.log2(0.01), rel=1e-12)  # negative term
    # JSD terms of disjoint bins: each p_i / 2 (resp. q_i / 2) bits.
    c = contributions([1, 3, 0], [0, 0, 1])
    np.testing.assert_allclose(c["jsd"], [0.125, 0.375, 0.5], rtol=1e-15)


def test_contributions_take_the_jsd_terms_that_measures_adds() -> None:
    """contributions() runs measures()' kernels entry by entry, so its JSD terms are
    the ones measures() sums: their exact sum (fsum) is js_divergence to the rounding
    of a few additions (4 u here, n <= 5), not the ~10 u that the terms of another
    formula gave. Not to the bit: the sums round in another order.

    The KL terms are p ln(p/q), ln(p/q) as measures() takes it; their sum is the KL
    only up to the rounding of the totals (sum p - sum q, a few u absolute), which
    measures() avoids with terms that do not cancel (_kl_terms): a KL of 1e-4 is then
    good to ~1e-12 relative only."""
    u = 2.0**-53
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(2, 6))
        p = rng.random(n)
        q = p * rng.uniform(0.05, 20.0, n)  # |p - q| / (p + q) up to 0.9: every JSD form
        c = contributions(p, q, unit="nats")
        jsd = float(js_divergence(p, q, unit="nats"))
        assert math.fsum(c["jsd"]) == pytest.approx(jsd, rel=4 * u, abs=0.0), (p, q)
        m = measures(p, q, unit="nats")
        for key in ("kl_pq", "kl_qp"):
            # sum p ln(p/q) = KL + (sum p - sum q): the totals' rounding (~n u, absolute)
            # and the terms' own (~u each, of the size of what the sum cancels).
            scale = 1.0 + math.fsum(np.abs(c[key]))
            assert math.fsum(c[key]) == pytest.approx(float(m[key]), rel=0.0, abs=8 * u * scale)


# --------------------------------------------------------------------------- 5. properties

#: Counts in [0, 1e6], subnormals included.
COUNT = st.floats(min_value=0.0, max_value=1e6)
#: The same but without values so small that their normalized probability is subnormal
#: (a subnormal quotient keeps only a few digits, so a rescaled input may round it apart).
NORMAL_COUNT = st.one_of(st.just(0.0), st.floats(min_value=1e-200, max_value=1e6))


@st.composite
def pairs(draw: st.DrawFn, elements: st.SearchStrategy[float] = COUNT) -> tuple:
    n = draw(st.integers(min_value=1, max_value=12))
    vector = hnp.arrays(np.float64, n, elements=elements).filter(lambda a: bool((a > 0).any()))
    return draw(vector), draw(vector)


PROPERTY = settings(max_examples=50, deadline=None)


@PROPERTY
@given(pairs())
def test_kl_is_non_negative_and_zero_on_itself(pq: tuple) -> None:
    p, q = pq
    d = kl_divergence(p, q)
    assert_clean(d)
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert kl_divergence(q, q) == pytest.approx(0.0, abs=1e-12)
    assert_clean(kl_divergence(p, p))


@PROPERTY
@given(pairs())
def test_cross_entropy_is_entropy_plus_kl(pq: tuple) -> None:
    p, q = pq
    h_pq = cross_entropy(p, q, unit="nats")
    kl = kl_divergence(p, q, unit="nats")
    assert np.isinf(h_pq) == np.isinf(kl)
    assume(np.isfinite(h_pq))
    assert h_pq == pytest.approx(entropy(p, unit="nats") + kl, rel=1e-9, abs=1e-12)
    assert h_pq >= entropy(p, unit="nats") - 1e-12  # Gibbs' inequality


@PROPERTY
@given(pairs())
def test_jsd_is_bounded_symmetric_and_finite(pq: tuple) -> None:
    p, q = pq
    jsd = js_divergence(p, q)
    assert np.isfinite(jsd)
    assert 0.0 <= jsd <= 1.0
    assert_clean(jsd)
    assert js_divergence(q, p) == pytest.approx(jsd, rel=1e-9, abs=1e-12)
    assert 0.0 <= js_divergence(p, q, unit="nats") <= LN2
    assert js_distance(p, q) == pytest.approx(math.sqrt(jsd), rel=1e-15, abs=0)
    # Convexity: D(P||M) <= D(P||Q) / 2, so JSD <= (D(P||Q) + D(Q||P)) / 4.
    bound = (kl_divergence(p, q) + kl_divergence(q, p)) / 4
    assert jsd <= bound * (1 + 1e-9) + 1e-12


@PROPERTY
@given(pairs())
def test_units_convert_by_ln2_and_ln10(pq: tuple) -> None:
    p, q = pq
    bits, nats, bans = (measures(p, q, unit=u) for u in ("bits", "nats", "bans"))
    # abs=1e-300: a subnormal result (entropy 2e-312 of [1, 1e-310]) has too few
    # significant bits for a relative tolerance to mean anything.
    for key in ("entropy_p", "cross_entropy_pq", "kl_pq", "kl_qp", "jsd"):
        assert nats[key] == pytest.approx(bits[key] * LN2, rel=1e-12, abs=1e-300), key
        assert nats[key] == pytest.approx(bans[key] * LN10, rel=1e-12, abs=1e-300), key
    # js_distance is the root of jsd in each unit.
    assert nats["js_distance"] == pytest.approx(bits["js_distance"] * math.sqrt(LN2), rel=1e-12)
    assert entropy(p, unit="nats") == pytest.approx(entropy(p) * LN2, rel=1e-12, abs=1e-300)


@PROPERTY
@given(pairs())
def test_nothing_is_ever_nan_or_negative(pq: tuple) -> None:
    p, q = pq
    for unit in BASES:
        for key, value in measures(p, q, unit=unit).items():  # type: ignore[arg-type]
            assert not np.isnan(value), key
            assert_clean(value)
        c = contributions(p, q, unit=unit)  # type: ignore[arg-type]
        for key, value in c.items():
            assert not np.isnan(value).any(), key
        assert_clean(c["jsd"])
        assert_clean(entropy(p, unit=unit))  # type: ignore[arg-type]
        for func in PAIR_FUNCTIONS.values():
            assert_clean(func(p, q, unit=unit))


@PROPERTY
@given(pairs(), st.integers(min_value=0, max_value=20), st.integers(min_value=0, max_value=20))
def test_scaling_by_a_power_of_two_changes_nothing(pq: tuple, i: int, j: int) -> None:
    # Scaling by 2**k is exact, so normalization gives bit-identical probabilities.
    p, q = pq
    a, b = measures(p, q), measures(p * 2.0**i, q * 2.0**j)
    for key in MEASURES:
        assert a[key] == b[key], key


@PROPERTY
@given(
    pairs(NORMAL_COUNT),
    st.floats(min_value=1e-3, max_value=1e3),
    st.floats(min_value=1e-3, max_value=1e3),
)
def test_scaling_by_a_positive_constant_changes_nothing(pq: tuple, c1: float, c2: float) -> None:
    p, q = pq
    a, b = measures(p, q), measures(p * c1, q * c2)
    for key in MEASURES:
        # Rescaling moves a normalized value by an ulp, so p = q may give a JSD (or KL) of
        # 1e-16 instead of 0; js_distance is its square root, hence the wider abs.
        tol = 1e-7 if key == "js_distance" else 1e-12
        assert b[key] == pytest.approx(a[key], rel=1e-9, abs=tol), key
    np.testing.assert_allclose(normalize(p * c1), normalize(p), rtol=1e-13, atol=0)
    assert entropy(p * c1) == pytest.approx(entropy(p), rel=1e-9, abs=1e-12)


@PROPERTY
@given(pairs())
def test_normalize_sums_to_one(pq: tuple) -> None:
    p, _ = pq
    x = normalize(p)
    assert x.dtype == np.float64
    assert (x >= 0).all()
    assert math.fsum(x) == pytest.approx(1.0, rel=1e-12)
    assert (x[p == 0] == 0).all()
    # Division by one total keeps the order, but two values an ulp apart may round to
    # the same quotient (1e6 and its neighbour): the largest value stays the largest.
    assert x[p.argmax()] == x.max()


# --------------------------------------------------------------------------- 6. robustness


def test_tiny_values_near_1e_minus_300() -> None:
    p = np.array([1e-300, 2e-300, 0.0, 5e-301, 3e-300])
    q = np.array([3e-300, 1e-300, 1e-300, 0.0, 7e-301])
    m = measures(p, q)
    for key in MEASURES:
        assert_clean(m[key])
    for key in ("entropy_p", "entropy_q", "jsd", "js_distance"):
        assert np.isfinite(m[key])
    assert np.isinf(m["kl_pq"])  # p[3] > 0 = q[3]
    assert np.isinf(m["kl_qp"])  # q[2] > 0 = p[2]
    # The same shape of distribution as the rescaled counts.
    big = measures(p * 1e300, q * 1e300)
    for key in MEASURES:
        assert m[key] == pytest.approx(big[key], rel=1e-12), key
    assert m["entropy_p"] == pytest.approx(scipy.stats.entropy(p, base=2), rel=1e-12)
    assert m["jsd"] == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-12)
    # Finite KL with only tiny values.
    assert kl_divergence(p[:2], q[:2]) == pytest.approx(
        scipy.stats.entropy(p[:2], q[:2], base=2), rel=1e-12
    )


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_huge_values_whose_sum_overflows() -> None:
    p = np.array([1e300, 1e308, 1e308, 5e307])
    q = np.array([1e308, 1e308, 3e307, 1e308])
    assert not np.isfinite(p.sum())
    m = measures(p, q)
    for key in MEASURES:
        assert np.isfinite(m[key]), key
        assert_clean(m[key])
    small = measures(p / 1e300, q / 1e300)
    for key in MEASURES:
        assert m[key] == pytest.approx(small[key], rel=1e-12), key
    assert entropy([1e308, 1e308]) == pytest.approx(1.0, rel=1e-15)
    assert entropy([1e308, 1e308, 1e308]) == pytest.approx(math.log2(3), rel=1e-15)
    assert js_divergence([1e308, 1e308, 0], [0, 0, 1e308]) == 1.0
    np.testing.assert_allclose(normalize([1e308, 1e308]), [0.5, 0.5], rtol=1e-15)
    c = contributions(p, q)
    assert math.fsum(c["jsd"]) == pytest.approx(m["jsd"], rel=1e-12)


def test_huge_values_raise_no_runtime_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        entropy([1e308, 1e308])


def test_subnormal_q_gives_a_finite_kl_matching_a_hand_computation() -> None:
    p, q = [1e-10, 1.0], [5e-324, 1.0]
    p0, p1 = 1e-10 / (1 + 1e-10), 1 / (1 + 1e-10)
    # p0 / q0 overflows a float, so compute the term as a difference of logs.
    hand = p0 * (math.log(p0) - math.log(5e-324)) + p1 * math.log(p1)
    d = kl_divergence(p, q, unit="nats")
    assert np.isfinite(d)
    assert d == pytest.approx(hand, rel=1e-12)
    assert kl_divergence(p, q) == pytest.approx(hand / LN2, rel=1e-12)
    # Reverse: 5e-324 * ln(5e-324 / p0) is about -3.6e-321, so D(Q||P) is ln(1 / p1) + that.
    hand_qp = 5e-324 * (math.log(5e-324) - math.log(p0)) + 1.0 * math.log(1.0 / p1)
    assert kl_divergence(q, p, unit="nats") == pytest.approx(hand_qp, rel=1e-9)
    assert_clean(measures(p, q)["jsd"])


def test_normalize_false_uses_values_as_given() -> None:
    # H = -(0.5 ln 0.5 + 0.25 ln 0.25), not the entropy of (2/3, 1/3).
    h = -(0.5 * math.log(0.5) + 0.25 * math.log(0.25))
    assert entropy([0.5, 0.25], unit="nats", normalize=False) == pytest.approx(h, rel=1e-12)
    assert entropy([0.5, 0.25], unit="nats") == pytest.approx(
        -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)), rel=1e-12
    )
    # Same shape, different mass: normalized they are equal, as given they are not.
    p, q = [0.5, 0.5], [0.25, 0.25]
    assert kl_divergence(p, q) == 0.0
    assert kl_divergence(p, q, normalize=False) == pytest.approx(1.0, rel=1e-12)  # log2(2)
    assert cross_entropy([0.5], [0.25], normalize=False) == pytest.approx(1.0, rel=1e-12)
    assert cross_entropy([1, 3], [1, 1], normalize=False) == 0.0  # ln 1 = 0 each
    m = measures(p, q, unit="nats", normalize=False)
    assert m["kl_pq"] == pytest.approx(math.log(2), rel=1e-12)
    assert m["entropy_q"] == pytest.approx(-0.5 * math.log(0.25), rel=1e-12)
    c = contributions([2, 6], [1, 1], normalize=False)
    np.testing.assert_array_equal(c["p"], [2.0, 6.0])
    np.testing.assert_allclose(c["kl_pq"], [2.0, 6 * math.log2(6)], rtol=1e-12)
    # Validation still applies.
    with pytest.raises(InvalidDataError, match="negative"):
        entropy([0.5, -0.1], normalize=False)


# --------------------------------------------------------------------------- 7. errors

GOOD = [0.25, 0.75]
BAD_INPUTS = [
    pytest.param([0.5, -0.5], "negative", id="negative"),
    pytest.param([0.5, -math.inf], "infinite", id="minus-inf"),
    pytest.param([0.5, math.nan], "NaN", id="nan"),
    pytest.param([math.nan, -1.0], "NaN", id="nan-and-negative"),
    pytest.param([0.5, math.inf], "infinite", id="inf"),
    pytest.param([0.0, 0.0], "positive", id="all-zero"),
    pytest.param([[1.0, 2.0], [0.0, 0.0]], "positive", id="a-zero-row"),
    pytest.param([], "empty", id="empty"),
    pytest.param(np.empty((3, 0)), "empty", id="empty-rows"),
    pytest.param(0.5, "single", id="scalar"),
]


@pytest.mark.parametrize(("bad", "word"), BAD_INPUTS)
def test_invalid_input_raises_invalid_data_error(bad: object, word: str) -> None:
    with pytest.raises(InvalidDataError, match=word):
        entropy(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidDataError, match=word):
        normalize(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidDataError, match=word):
        entropy(bad, normalize=False)  # type: ignore[arg-type]
    for func in [*PAIR_FUNCTIONS.values(), measures, contributions]:
        with pytest.raises(InvalidDataError, match=f"^p .*{word}"):
            func(bad, GOOD)  # type: ignore[operator]
        with pytest.raises(InvalidDataError, match=f"^q .*{word}"):
            func(GOOD, bad)  # type: ignore[operator]
        with pytest.raises(ValueError, match=word):  # callers may catch ValueError
            func(bad, GOOD)  # type: ignore[operator]


@pytest.mark.parametrize("func", [*PAIR_FUNCTIONS.values(), measures, contributions])
def test_mismatched_lengths_raise(func: object) -> None:
    with pytest.raises(InvalidDataError, match="match"):
        func([1, 2, 3], [1, 2])  # type: ignore[operator]
    with pytest.raises(InvalidDataError, match="3 entries"):
        func(np.ones((2, 3)), np.ones((2, 4)))  # type: ignore[operator]
    with pytest.raises(InvalidDataError, match="match"):
        func(np.ones((2, 3)), np.ones((3, 3)), axis=0)  # type: ignore[operator]


def test_empty_stack_raises_invalid_data_error() -> None:
    with pytest.raises(InvalidDataError):
        entropy(np.empty((0, 3)))


@pytest.mark.parametrize("func", [*PAIR_FUNCTIONS.values(), measures, contributions])
def test_unknown_unit_raises_usage_error(func: object) -> None:
    with pytest.raises(UsageError, match="furlongs"):
        func([1, 2], [2, 1], unit="furlongs")  # type: ignore[operator]


def test_unknown_unit_raises_usage_error_single() -> None:
    with pytest.raises(UsageError, match="unit"):
        entropy([1, 2], unit="furlongs")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="furlongs"):
        unit_scale("furlongs")
    with pytest.raises(UsageError):
        unit_scale("bit")
    assert issubclass(UsageError, ValueError)
    assert issubclass(InvalidDataError, ValueError)
    assert not issubclass(UsageError, InvalidDataError)


def test_jsd_is_symmetric_to_the_last_bit() -> None:
    rng = np.random.default_rng(11)
    for _ in range(200):
        k = int(rng.integers(1, 40))
        p, q = rng.random(k), rng.random(k)
        p[rng.random(k) < 0.2] = 0.0
        q[rng.random(k) < 0.2] = 0.0
        if p.sum() == 0 or q.sum() == 0:
            continue
        assert js_divergence(p, q) == js_divergence(q, p)


# --------------------------------------------------------------------------- precision
# References in 50-digit decimal arithmetic (the standard library's Decimal.ln), from
# the float inputs exactly as given.

_D50 = Context(prec=50)


def _dec(x: float) -> Decimal:
    return _D50.create_decimal(x)


def _rel_entr_ref(x: float, y: float) -> float:
    """x ln(x / y), to 50 digits."""
    return float(_D50.multiply(_dec(x), _D50.divide(_dec(x), _dec(y)).ln(_D50)))


#: SciPy's own test values for ``scipy.special.rel_entr`` (test_basic.py,
#: test_rel_entr_gh_20710_*: "produced using x * mpmath.log(x / y) with dps=30").
SCIPY_REL_ENTR = [
    (0.9456657713430001, 0.9456657713430094, -9.325873406851269e-15),
    (0.48066098564791515, 0.48066098564794774, -3.258504577274724e-14),
    (0.786048657854401, 0.7860486578542367, 1.6431300764454033e-13),
    (4.0, 2.22e-308, 2839.139983229607),
    (1e-200, 1e200, -9.210340371976183e-198),
    (2.22e-308, 1e15, -1.6493212008074475e-305),
]


@pytest.mark.parametrize(("x", "y", "want"), SCIPY_REL_ENTR)
def test_a_kl_term_matches_scipys_rel_entr_test_values(x: float, y: float, want: float) -> None:
    # 1e-9 relative, as the issue asks: ln(x/y) of the quotient keeps only ~1e-16 absolute,
    # which for x/y = 1 - 1e-14 was 0.2% off (-9.344e-15).
    assert want == pytest.approx(_rel_entr_ref(x, y), rel=1e-12)  # the values themselves
    c = contributions([x], [y], unit="nats", normalize=False)
    assert c["kl_pq"][0] == pytest.approx(want, rel=1e-9)
    assert c["kl_qp"][0] == pytest.approx(_rel_entr_ref(y, x), rel=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(min_value=1e-300, max_value=1.0),
    st.integers(min_value=-(2**30), max_value=2**30).filter(bool),
)
def test_every_kl_and_jsd_term_keeps_its_relative_digits(x: float, ulps: int) -> None:
    # y within 2**30 ulps (2.4e-7) of x: ratios near 1, where the digits were lost.
    # 1e-12 relative leaves room for the few roundings of each term (and for a log1p
    # that differs in its last bit from CPU to CPU).
    y = x * (1.0 + ulps * 2.0**-52)
    assume(y != x)
    c = contributions([x], [y], unit="nats", normalize=False)
    assert c["kl_pq"][0] == pytest.approx(_rel_entr_ref(x, y), rel=1e-12)
    assert c["kl_qp"][0] == pytest.approx(_rel_entr_ref(y, x), rel=1e-12)
    # ln(2x / (x + y)), the JSD's term, through the public jsd term:
    # (x ln(2x/s) + y ln(2y/s)) / 2 is a sum of two opposite terms, so check each log
    # instead, via the kernel.
    from kldiv_cli.maths import core

    px, py = core._Dist.of(np.array([x])), core._Dist.of(np.array([y]))
    a, b = core._jsd_terms(px, py, px.pos, py.pos)
    s = _D50.add(_dec(x), _dec(y))
    want_a = float(_D50.divide(_D50.multiply(2, _dec(x)), s).ln(_D50))
    want_b = float(_D50.divide(_D50.multiply(2, _dec(y)), s).ln(_D50))
    assert a[0] == pytest.approx(want_a, rel=1e-12)
    assert b[0] == pytest.approx(want_b, rel=1e-12)


# --------------------------------------------------------------------------- magnitudes


def _kl_ref(p: list[float], q: list[float]) -> float:
    """D(P || Q) in bits, in 50-digit decimals, after normalizing both exactly there."""
    dp, dq = [_dec(x) for x in p], [_dec(x) for x in q]
    tp, tq = sum(dp), sum(dq)
    total = _D50.create_decimal(0)
    for a, b in zip(dp, dq, strict=True):
        if a:
            total += (a / tp) * ((a / tp) / (b / tq)).ln(_D50)
    return float(total / _D50.create_decimal(2).ln(_D50))


def _ce_ref(p: list[float], q: list[float]) -> float:
    dp, dq = [_dec(x) for x in p], [_dec(x) for x in q]
    tp, tq = sum(dp), sum(dq)
    total = -sum(((a / tp) * (b / tq).ln(_D50) for a, b in zip(dp, dq, strict=True) if a), 0)
    return float(total / _D50.create_decimal(2).ln(_D50))


MIXED = [
    ([0.5, 0.5], [1e-300, 1e300]),
    ([1e-300, 1e300], [0.5, 0.5]),
    ([1.0, 2.0, 3.0], [1e-300, 1e300, 5e-310]),
    ([1e-300, 1e300, 1.0], [1e300, 1e-300, 1.0]),
    ([3.0, 1.0], [5e-324, 2.0]),
    # sums that overflow: rescaled by a power of 2, the 1e-300 stays > 0
    ([1.0, 2.0, 3.0], [1e-300, 1.7e308, 1.7e308]),
    ([1e16, 1.7e308, 1e300, 1.7e308], [1e-300, 1e-200, 1.7e308, 1e-300]),
]


@pytest.mark.parametrize(("p", "q"), MIXED)
def test_magnitudes_1e600_apart_give_no_false_inf(p: list[float], q: list[float]) -> None:
    # The small entries normalize to 0 or a subnormal in float64; the true KL is finite
    # (about 1e3 bits). 1e-13: the logs of such entries are sums of two ~700-nat terms.
    want_kl, want_ce = _kl_ref(p, q), _ce_ref(p, q)
    assert math.isfinite(want_kl)
    assert float(kl_divergence(p, q)) == pytest.approx(want_kl, rel=1e-13)
    assert float(cross_entropy(p, q)) == pytest.approx(want_ce, rel=1e-13)
    m = measures(p, q)
    assert float(m["kl_pq"]) == pytest.approx(want_kl, rel=1e-13)
    assert float(m["kl_qp"]) == pytest.approx(_kl_ref(q, p), rel=1e-13)
    assert float(m["cross_entropy_pq"]) == pytest.approx(want_ce, rel=1e-13)
    assert float(m["cross_entropy_qp"]) == pytest.approx(_ce_ref(q, p), rel=1e-13)
    assert 0.0 <= float(m["jsd"]) <= 1.0
    c = contributions(p, q)
    assert not any(np.isnan(v).any() or np.isinf(v).any() for v in c.values())
    assert float(c["kl_pq"].sum()) == pytest.approx(want_kl, rel=1e-13)
    from kldiv_cli.maths.pairwise import pairwise

    for measure, want in (("kl", want_kl), ("cross_entropy", want_ce)):
        got = pairwise([p, q], [q], measure=measure)  # type: ignore[arg-type]
        assert got[0, 0] == pytest.approx(want, rel=1e-13)
        # Q in a table with P, whose sum may overflow: Q's row is not rescaled with it.
        got = pairwise([p, q], measure=measure)  # type: ignore[arg-type]
        assert got[0, 1] == pytest.approx(want, rel=1e-13)
    jsd = pairwise([p, q], measure="jsd")
    assert np.isfinite(jsd).all()
    assert (jsd >= 0.0).all()
    assert (jsd <= 1.0).all()
    assert jsd[0, 1] == pytest.approx(float(m["jsd"]), rel=1e-12)


def test_a_zero_is_still_a_zero_next_to_huge_values() -> None:
    # The zero rule reads the values: a true 0 of Q under a p > 0 is still inf.
    assert kl_divergence([1.0, 1.0, 1.0], [0.0, 1e300, 1e-300]) == math.inf
    assert cross_entropy([1.0, 1.0, 0.0], [1e-300, 1e300, 0.0]) < math.inf


# --------------------------------------------------------------------------- labelled


def _months() -> tuple[object, object]:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(5)
    letters = list("abcdefgh")
    jan = pd.Series(rng.choice(letters, 3000, p=np.full(8, 1 / 8)))
    feb = pd.Series(rng.choice(letters, 3000, p=np.r_[np.full(4, 0.1), np.full(4, 0.15)]))
    return jan.value_counts(), feb.value_counts()  # each sorted by its own counts


def test_two_value_counts_in_different_orders_align_by_label() -> None:
    jan, feb = _months()
    assert list(jan.index) != list(feb.index)  # the trap: positions are different labels
    labels = sorted(jan.index)
    p, q = jan[labels].to_numpy(float), feb[labels].to_numpy(float)
    want = scipy.stats.entropy(p, q, base=2)
    assert float(kl_divergence(jan, feb)) == pytest.approx(want, rel=1e-12)
    got = measures(jan, feb)
    assert float(got["kl_qp"]) == pytest.approx(scipy.stats.entropy(q, p, base=2), rel=1e-12)
    assert float(got["jsd"]) == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-9)
    want_ce = scipy.stats.entropy(p / p.sum(), base=2) + want
    assert float(cross_entropy(jan, feb)) == pytest.approx(want_ce, rel=1e-12)
    assert float(js_distance(jan, feb)) == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9)
    c = contributions(jan, feb)
    assert sorted(c["labels"].tolist()) == labels
    order = [c["labels"].tolist().index(lab) for lab in labels]
    assert c["p"][order] == pytest.approx(p / p.sum(), rel=1e-15)
    assert float(c["kl_pq"].sum()) == pytest.approx(want, rel=1e-12)


def test_mappings_align_by_label_over_the_union() -> None:
    p = {"a": 1.0, "b": 1.0, "c": 2.0}
    q = {"d": 1.0, "c": 2.0, "a": 1.0}  # no "b"; an extra "d"
    # Over a, b, c, d: P = (1, 1, 2, 0) / 4 and Q = (1, 0, 2, 1) / 4.
    pa, qa = [1.0, 1.0, 2.0, 0.0], [1.0, 0.0, 2.0, 1.0]
    assert kl_divergence(p, q) == math.inf  # b: q = 0 < p
    assert float(js_divergence(p, q)) == pytest.approx(
        jensenshannon(pa, qa, base=2) ** 2, rel=1e-12
    )
    assert float(kl_divergence({"x": 1, "y": 3}, {"y": 1, "x": 1})) == pytest.approx(
        scipy.stats.entropy([1, 3], [1, 1], base=2), rel=1e-12
    )
    assert contributions(p, q)["labels"].tolist() == ["a", "b", "c", "d"]


def test_a_labelled_side_with_an_unlabelled_one_is_refused() -> None:
    pd = pytest.importorskip("pandas")
    s = pd.Series([1.0, 3.0], index=["y", "x"])
    for p, q in ((s, [1.0, 1.0]), ([1.0, 1.0], s), ({"x": 1}, np.array([1.0]))):
        with pytest.raises(InvalidDataError, match="cannot be aligned by label"):
            kl_divergence(p, q)
    with pytest.raises(InvalidDataError, match="the label 'x' twice"):
        measures(pd.Series([1.0, 2.0], index=["x", "x"]), s)
    # By position, as asked: the arrays of the two Series.
    got = kl_divergence(s.to_numpy(), np.array([1.0, 1.0]))
    assert float(got) == pytest.approx(scipy.stats.entropy([1, 3], [1, 1], base=2), rel=1e-12)


def test_labelled_inputs_do_not_import_pandas() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from kldiv_cli import kl_divergence; "
        "kl_divergence({'a': 1}, {'a': 1}); print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- dot


@pytest.mark.parametrize("k", [1, DOT_BLOCK - 1, DOT_BLOCK, DOT_BLOCK + 1, 3 * DOT_BLOCK + 17])
def test_dot_is_the_sum_of_the_products_in_blocks_or_not(k: int) -> None:
    """``_dot`` cuts a long axis into blocks of DOT_BLOCK (so that OpenBLAS keeps it on
    one thread); the value is still sum a_i b_i, for a 1-D pair, a stack, a broadcast
    model and another axis. Compared with math.fsum (exact, then rounded) to 1e-14
    relative, not to the bit: the BLAS kernel (AVX-512 or AVX2) sets the last bits."""
    rng = np.random.default_rng(k)
    a, b = rng.random((3, k)), rng.random((3, k))
    exact = np.array([math.fsum(a[i] * b[i]) for i in range(3)])  # products exact enough
    got = _dot(a[0], b[0], -1)
    assert np.ndim(got) == 0
    assert float(got) == pytest.approx(exact[0], rel=1e-14)
    np.testing.assert_allclose(_dot(a, b, -1), exact, rtol=1e-14)
    np.testing.assert_allclose(_dot(a.T, b.T, 0), exact, rtol=1e-14)
    model = np.array([math.fsum(a[i] * b[0]) for i in range(3)])
    np.testing.assert_allclose(_dot(a, b[0], -1), model, rtol=1e-14)


# --------------------------------------------------------------------------- the zero rule


def test_the_zero_rule_is_decided_on_the_values_before_normalizing() -> None:
    """0 log 0 = 0, and p log(p / 0) = +inf for any p > 0, however small: 1e-300 next
    to 1e300 normalizes to 0 (an underflow), yet is > 0, so D(P||Q) = H(P, Q) = inf
    where Q is 0 there; the JSD is finite, and 0 is never a NaN. Every measure and
    contributions() reads the rule from core (_positive, _log, _infinite)."""
    np.testing.assert_array_equal(_log(np.array([0.0, 1.0, math.e])), [0.0, 0.0, 1.0])
    pos_p = np.array([[True, True], [True, False]])
    pos_q = np.array([[True, False], [True, True]])
    np.testing.assert_array_equal(_infinite(pos_p, pos_q, -1), [True, False])
    np.testing.assert_array_equal(_infinite(pos_p, pos_q, 0), [False, True])
    p, q = [1e300, 1e-300], [1.0, 0.0]
    assert np.asarray(normalize(p))[1] == 0.0  # underflowed, yet > 0 for the rule
    m = measures(p, q)
    assert m["kl_pq"] == math.inf
    assert m["cross_entropy_pq"] == math.inf
    assert m["kl_qp"] == 0.0  # q log(q / p) with q = p = 1 on the first label
    assert 0.0 <= m["jsd"] < 1e-290
    c = contributions(p, q)
    np.testing.assert_array_equal(c["kl_pq"], [0.0, math.inf])
    np.testing.assert_array_equal(c["kl_qp"], [0.0, 0.0])
