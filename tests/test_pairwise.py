"""Tests of kldiv_cli.maths.pairwise: SciPy as the oracle, hand values, core's term form, laws.

No expected value here is copied from the module's own output: each is derived by hand
(with ``math``), comes from :mod:`scipy.stats` / :mod:`scipy.spatial.distance`, or from
the per-pair kernels of :mod:`kldiv_cli.maths.core` (which sum the terms directly, with the
ratio inside the log) broadcast over every pair.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import cdist, jensenshannon

import kldiv_cli.maths.pairwise as pairwise_module
from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths import core
from kldiv_cli.maths.pairwise import pairwise

LN2 = math.log(2.0)
#: Each unit and the log base SciPy needs for it.
BASES = {"bits": 2.0, "nats": math.e, "bans": 10.0}
MEASURES = ("jsd", "js_distance", "kl", "cross_entropy")


def assert_clean(a: np.ndarray) -> None:
    """No NaN, nothing below 0, and no -0.0 anywhere in ``a``."""
    assert a.dtype == np.float64
    assert not np.isnan(a).any(), a
    assert (a >= 0.0).all(), a
    assert not np.signbit(a).any(), a  # catches -0.0, which compares equal to 0.0


def random_table(rng: np.random.Generator, rows: int, k: int, zeros: float = 0.0) -> np.ndarray:
    """Skewed random counts over several orders of magnitude, a share of them zero, and
    at least one positive value per row."""
    x = rng.random((rows, k)) ** 3 * 10.0 ** rng.uniform(-2, 4, size=(rows, 1))
    x[rng.random((rows, k)) < zeros] = 0.0
    empty = ~(x > 0).any(axis=1)
    x[empty, rng.integers(k, size=int(empty.sum()))] = 1.0
    return x


def scipy_oracle(p: np.ndarray, q: np.ndarray, measure: str, unit: str) -> np.ndarray:
    """The (m, n) matrix from SciPy, which normalizes each row itself."""
    base = BASES[unit]
    if measure in ("kl", "cross_entropy"):
        # entropy(pk, qk) reduces along axis 0: column i of P against every column of Q.T.
        kl = np.array([scipy.stats.entropy(row[:, None], q.T, base=base) for row in p])
        if measure == "kl":
            return kl
        h = scipy.stats.entropy(p, base=base, axis=1)
        return h[:, None] + kl
    # cdist's "jensenshannon" is the distance in nats; in base b it is d / sqrt(ln b).
    dist = cdist(p, q, "jensenshannon") / math.sqrt(math.log(base))
    return dist if measure == "js_distance" else dist**2


def assert_matches(got: np.ndarray, want: np.ndarray, rtol: float) -> None:
    """Same infinities, and the finite entries within ``rtol``."""
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=0)


# --------------------------------------------------------------------------- 1. hand values


def test_one_hot_rows_by_hand() -> None:
    p = [[1, 0], [0, 1]]
    # Disjoint supports: JSD is exactly 1 bit; each KL puts mass where the other has none.
    np.testing.assert_array_equal(pairwise(p), [[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(pairwise(p, measure="js_distance"), [[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(pairwise(p, unit="nats"), [[0.0, LN2], [LN2, 0.0]])
    inf = math.inf
    np.testing.assert_array_equal(pairwise(p, measure="kl"), [[0.0, inf], [inf, 0.0]])
    # H(P, P) = H(P) = 0 for a certain outcome.
    np.testing.assert_array_equal(pairwise(p, measure="cross_entropy"), [[0.0, inf], [inf, 0.0]])


def test_coin_rows_by_hand() -> None:
    p = [[0.5, 0.5]]
    q = [[0.9, 0.1], [0.5, 0.5], [1.0, 0.0], [1, 1]]
    kl = pairwise(p, q, measure="kl", unit="nats")
    assert kl[0, 0] == pytest.approx(
        0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1), rel=1e-13
    )
    assert kl[0, 1] == 0.0
    assert kl[0, 2] == math.inf  # q = 0 < p in the second bin
    assert kl[0, 3] == 0.0  # counts (1, 1) are the fair coin
    ce = pairwise(p, q, measure="cross_entropy", unit="nats")
    assert ce[0, 0] == pytest.approx(-(0.5 * math.log(0.9) + 0.5 * math.log(0.1)), rel=1e-13)
    assert ce[0, 1] == pytest.approx(LN2, rel=1e-15)
    assert ce[0, 2] == math.inf
    # JSD of (1/2, 1/2) and (1, 0): M = (3/4, 1/4); H(M) - (1 + 0) / 2 in bits.
    jsd = pairwise(p, q)
    h_m = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert jsd[0, 2] == pytest.approx(h_m - 0.5, rel=1e-13)
    # (1/2, 1/2) and (0.9, 0.1): M = (0.7, 0.3).
    h = [-(a * math.log2(a) + (1 - a) * math.log2(1 - a)) for a in (0.7, 0.5, 0.9)]
    assert jsd[0, 0] == pytest.approx(h[0] - (h[1] + h[2]) / 2, rel=1e-13)
    assert jsd[0, 1] == 0.0
    assert jsd[0, 3] == 0.0
    dist = pairwise(p, q, measure="js_distance", unit="bans")
    assert dist[0, 2] == pytest.approx(math.sqrt((h_m - 0.5) * math.log10(2)), rel=1e-13)


def test_normalize_false_uses_values_as_given() -> None:
    p, q = [[0.5, 0.5]], [[0.25, 0.25]]
    # Normalized they are the same distribution; as given, sum p log2(p / q) = log2 2 = 1.
    assert pairwise(p, q, measure="kl")[0, 0] == 0.0
    assert pairwise(p, q, measure="kl", normalize=False)[0, 0] == pytest.approx(1.0, rel=1e-14)
    # -sum p log2 q = -(0.5 * -2) * 2 = 2 bits.
    assert pairwise(p, q, measure="cross_entropy", normalize=False)[0, 0] == pytest.approx(2.0)
    # Values above 1 (ln q > 0): the same as core, entry by entry.
    big_p, big_q = np.array([[2.0, 6.0, 0.5]]), np.array([[3.0, 5.0, 0.5], [2.0, 6.0, 0.5]])
    want = core.kl_divergence(big_p[:, None, :], big_q[None, :, :], normalize=False)
    got = pairwise(big_p, big_q, measure="kl", normalize=False)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert got[0, 1] == 0.0


# --------------------------------------------------------------------------- 2. SciPy oracle

SHAPES = [
    (1, 1, 1),
    (4, 3, 1),
    (1, 5, 2),
    (6, 1, 3),
    (7, 9, 4),
    (20, 13, 17),
    (33, 24, 64),
    (12, 41, 300),
    (3, 2, 5000),
]


@pytest.mark.parametrize("unit", list(BASES))
@pytest.mark.parametrize("zeros", [0.0, 0.3])
@pytest.mark.parametrize(("m", "n", "k"), SHAPES)
def test_matches_scipy(m: int, n: int, k: int, zeros: float, unit: str) -> None:
    rng = np.random.default_rng([m, n, k, int(zeros * 10)])
    p, q = random_table(rng, m, k, zeros), random_table(rng, n, k, zeros)
    for measure in MEASURES:
        got = pairwise(p, q, measure=measure, unit=unit)  # type: ignore[arg-type]
        assert got.shape == (m, n)
        assert_clean(got)
        assert_matches(got, scipy_oracle(p, q, measure, unit), rtol=1e-12)
        same = pairwise(p, measure=measure, unit=unit)  # type: ignore[arg-type]
        assert same.shape == (m, m)
        assert_clean(same)
        assert_matches(same, scipy_oracle(p, p, measure, unit), rtol=1e-12)


def test_infinities_exactly_where_a_zero_of_q_meets_mass_of_p() -> None:
    rng = np.random.default_rng(7)
    p, q = random_table(rng, 30, 8, 0.4), random_table(rng, 25, 8, 0.4)
    expected = ((p[:, None, :] > 0) & (q[None, :, :] == 0)).any(axis=-1)
    assert expected.any()
    assert not expected.all()
    for measure in ("kl", "cross_entropy"):
        got = pairwise(p, q, measure=measure)  # type: ignore[arg-type]
        np.testing.assert_array_equal(np.isinf(got), expected)
        assert_clean(got)
    assert np.isfinite(pairwise(p, q)).all()


def test_disjoint_supports_give_exactly_one_bit() -> None:
    p = np.array([[1, 2, 0, 0, 0], [0, 0, 3, 0, 0], [0, 5, 0, 1e-3, 7]])
    q = np.array([[0, 0, 1, 1, 1], [9, 9, 0, 0, 0], [0, 0, 0, 0, 2], [1, 1, 1, 1, 1]])
    disjoint = ~((p[:, None, :] > 0) & (q[None, :, :] > 0)).any(axis=-1)
    for unit, one in [("bits", 1.0), ("nats", LN2), ("bans", LN2 / math.log(10))]:
        got = pairwise(p, q, unit=unit)  # type: ignore[arg-type]
        assert (got[disjoint] == one).all()
        assert (got[~disjoint] < one).all()
    same = pairwise(p)
    assert same[0, 1] == same[1, 0] == 1.0


# --------------------------------------------------------------------------- 3. Q = None


@pytest.mark.parametrize(("m", "k"), [(1, 1), (2, 3), (9, 1), (31, 7), (70, 40)])
def test_none_is_p_symmetric_with_an_exact_diagonal(m: int, k: int) -> None:
    rng = np.random.default_rng([m, k])
    p = random_table(rng, m, k, 0.2)
    p[-1] = p[0]  # a repeated row: exact zeros off the diagonal too
    for unit in BASES:
        for measure in MEASURES:
            alone = pairwise(p, measure=measure, unit=unit)  # type: ignore[arg-type]
            twice = pairwise(p, p, measure=measure, unit=unit)  # type: ignore[arg-type]
            assert_clean(alone)
            assert_matches(alone, twice, rtol=1e-13)
            if measure == "cross_entropy":
                # H(P_i, P_i) is exactly the entropy, as core.entropy gives it.
                np.testing.assert_array_equal(np.diag(alone), core.entropy(p, unit=unit))  # type: ignore[arg-type]
                continue
            np.testing.assert_array_equal(np.diag(alone), 0.0)
            assert alone[0, m - 1] == alone[m - 1, 0] == 0.0
            if measure in ("jsd", "js_distance"):
                np.testing.assert_array_equal(alone, alone.T)  # to the last bit


# --------------------------------------------------------------------------- 4. tiles


@pytest.fixture
def tiny_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiles of a few pairs, and threads even for small inputs: many tiles, many edges."""
    monkeypatch.setattr(pairwise_module, "_TILE", 48)
    monkeypatch.setattr(pairwise_module, "_PARALLEL_MIN", 0)


@pytest.mark.usefixtures("tiny_tiles")
@pytest.mark.parametrize(("m", "n", "k"), [(1, 1, 1), (23, 17, 5), (11, 29, 3), (40, 40, 7)])
def test_tiles_that_do_not_divide_the_rows(m: int, n: int, k: int) -> None:
    rng = np.random.default_rng([m, n, k])
    p, q = random_table(rng, m, k, 0.3), random_table(rng, n, k, 0.3)
    for measure in ("jsd", "js_distance"):
        rect = pairwise(p, q, measure=measure)
        assert_matches(rect, scipy_oracle(p, q, measure, "bits"), rtol=1e-12)
        same = pairwise(p, measure=measure)
        assert_matches(same, scipy_oracle(p, p, measure, "bits"), rtol=1e-12)
        np.testing.assert_array_equal(same, same.T)
        np.testing.assert_array_equal(np.diag(same), 0.0)


def test_threads_give_the_same_bits_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    p, q = random_table(rng, 45, 6, 0.2), random_table(rng, 38, 6, 0.2)
    monkeypatch.setattr(pairwise_module, "_TILE", 60)
    monkeypatch.setattr(pairwise_module, "_threads", lambda tiles, work: 1)
    one = [pairwise(p, q), pairwise(p)]
    monkeypatch.setattr(pairwise_module, "_threads", lambda tiles, work: 4)
    many = [pairwise(p, q), pairwise(p)]
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b)


def test_memory_stays_far_below_m_n_k() -> None:
    rng = np.random.default_rng(5)
    m, n, k = 300, 250, 64
    p, q = random_table(rng, m, k, 0.1), random_table(rng, n, k, 0.1)
    # (m, n, K) float64 would be 38 MB; the output itself is 0.6 MB.
    for measure in ("jsd", "kl"):
        tracemalloc.start()
        try:
            pairwise(p, q, measure=measure)  # type: ignore[arg-type]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 8e6, (measure, peak)


# --------------------------------------------------------------------------- 5. near-identical rows


@pytest.mark.parametrize("unit", list(BASES))
@pytest.mark.parametrize("k", [2, 16, 300])
def test_near_identical_rows_match_the_term_form(k: int, unit: str) -> None:
    rng = np.random.default_rng(k)
    p = rng.dirichlet(np.full(k, 0.7), size=8)
    # Q: P itself, P moved by a relative 1e-3, 1e-6 and 1e-9, two rows of P, far rows.
    eps = np.array([0.0, 1e-3, 1e-6, 1e-9])
    near = p[:4] * (1.0 + eps[:, None] * rng.standard_normal((4, k)))
    q = np.vstack([near, p[4:6], rng.dirichlet(np.ones(k), size=3)])
    for measure, reference in [("kl", core.kl_divergence), ("jsd", core.js_divergence)]:
        got = pairwise(p, q, measure=measure, unit=unit)  # type: ignore[arg-type]
        want = reference(p[:, None, :], q[None, :, :], unit=unit)  # type: ignore[arg-type]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
        assert got[0, 0] == got[4, 4] == got[5, 5] == 0.0
        assert 0.0 < got[2, 2] < 1e-10
    # The test has teeth: on the 1e-6 row the cancelling form H(P, Q) - H(P) is off
    # by far more than 1e-12 relative; only the term form gets these digits.
    q2 = core.normalize(q[2])
    cancelling = -(p[2] @ np.log(q2)) + p[2] @ np.log(p[2])
    exact = core.kl_divergence(p[2], q2, unit="nats")
    assert abs(cancelling - exact) > 1e-9 * exact


# --------------------------------------------------------------------------- 6. laws

#: Counts in [0, 1e6], subnormals and zeros included.
COUNT = st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=1e6))


@st.composite
def tables(draw: st.DrawFn, k: int | None = None) -> np.ndarray:
    rows = draw(st.integers(min_value=1, max_value=6))
    k = draw(st.integers(min_value=1, max_value=8)) if k is None else k
    x = draw(hnp.arrays(np.float64, (rows, k), elements=COUNT))
    x[~(x > 0).any(axis=1), 0] = 1.0  # every row needs a positive value
    return x


@st.composite
def table_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    p = draw(tables())
    return p, draw(tables(k=p.shape[1]))


LAWS = settings(max_examples=60, deadline=None)


@LAWS
@given(table_pairs())
def test_kl_and_cross_entropy_laws(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    kl = pairwise(p, q, measure="kl", unit="nats")
    ce = pairwise(p, q, measure="cross_entropy", unit="nats")
    assert_clean(kl)
    assert_clean(ce)
    want = core.kl_divergence(p[:, None, :], q[None, :, :], unit="nats")
    np.testing.assert_array_equal(np.isinf(kl), np.isinf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(kl[finite], want[finite], rtol=1e-9, atol=1e-12)
    # H(P, Q) = H(P) + D(P || Q) and Gibbs' inequality H(P, Q) >= H(P).
    h = core.entropy(p, unit="nats")[:, None]
    np.testing.assert_array_equal(np.isinf(ce), np.isinf(kl))
    np.testing.assert_allclose(ce[finite], (h + kl)[finite], rtol=1e-9, atol=1e-12)
    assert (ce[finite] >= np.broadcast_to(h, ce.shape)[finite] - 1e-12).all()
    np.testing.assert_array_equal(np.diag(pairwise(p, measure="kl")), 0.0)


@LAWS
@given(table_pairs())
def test_jsd_laws(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    jsd = pairwise(p, q)
    assert_clean(jsd)
    assert (jsd <= 1.0).all()
    want = core.js_divergence(p[:, None, :], q[None, :, :])
    np.testing.assert_allclose(jsd, want, rtol=1e-9, atol=1e-12)
    # Swapping P and Q transposes the matrix (the sums are taken in the same order).
    np.testing.assert_allclose(pairwise(q, p), jsd.T, rtol=1e-15, atol=0)
    same = pairwise(p)
    np.testing.assert_array_equal(same, same.T)
    np.testing.assert_array_equal(np.diag(same), 0.0)
    np.testing.assert_allclose(pairwise(p, q, measure="js_distance"), np.sqrt(jsd), rtol=1e-15)
    np.testing.assert_allclose(pairwise(p, q, unit="nats"), jsd * LN2, rtol=1e-12, atol=1e-300)


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
@LAWS
@given(table_pairs())
def test_scipy_jensenshannon_pair_by_pair(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    # SciPy halves q into m = (p + q) / 2, and a subnormal q (5e-324) halves to 0:
    # q log(q / 0) = inf where the true value is ~0. Such rows are SciPy's failure.
    assume(not ((p > 0) & (p < 1e-300)).any() and not ((q > 0) & (q < 1e-300)).any())
    got = pairwise(p, q, measure="js_distance", unit="bans")
    want = np.array([[jensenshannon(a, b, base=10.0) for b in q] for a in p])
    # SciPy takes the root of a sum that can round to -1e-17 for equal rows: NaN, i.e. 0.
    want[np.isnan(want)] = 0.0
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-7)


# --------------------------------------------------------------------------- 7. errors

GOOD = [[0.25, 0.75], [1.0, 1.0]]


@pytest.mark.parametrize(
    ("bad", "word"),
    [
        pytest.param([[0.5, -0.5]], "negative", id="negative"),
        pytest.param([[0.5, math.nan]], "NaN", id="nan"),
        pytest.param([[0.5, math.inf]], "infinite", id="inf"),
        pytest.param([[1.0, 2.0], [0.0, 0.0]], "positive", id="a-zero-row"),
        pytest.param(np.empty((0, 2)), "empty", id="no-rows"),
        pytest.param(np.empty((2, 0)), "empty", id="no-columns"),
        pytest.param([0.5, 0.5], "2-D", id="one-dimensional"),
        pytest.param(np.ones((2, 2, 2)), "2-D", id="three-dimensional"),
        pytest.param(0.5, "2-D", id="scalar"),
    ],
)
def test_invalid_tables_raise_invalid_data_error(bad: object, word: str) -> None:
    for measure in MEASURES:
        with pytest.raises(InvalidDataError, match=f"^P .*{word}"):
            pairwise(bad, GOOD, measure=measure)  # type: ignore[arg-type]
        with pytest.raises(InvalidDataError, match=f"^Q .*{word}"):
            pairwise(GOOD, bad, measure=measure)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=word):  # callers may catch ValueError
            pairwise(bad, measure=measure)  # type: ignore[arg-type]


def test_negative_values_raise_even_without_normalizing() -> None:
    with pytest.raises(InvalidDataError, match="negative"):
        pairwise([[0.5, -0.1]], normalize=False)


def test_mismatched_row_lengths_raise() -> None:
    with pytest.raises(InvalidDataError, match="3 entries per row and Q has 2"):
        pairwise(np.ones((2, 3)), np.ones((2, 2)))


@pytest.mark.parametrize("measure", ["kl_pq", "JSD", "entropy", ""])
def test_unknown_measure_raises_usage_error(measure: str) -> None:
    with pytest.raises(UsageError, match="unknown measure"):
        pairwise(GOOD, measure=measure)  # type: ignore[arg-type]


def test_unknown_unit_raises_usage_error() -> None:
    with pytest.raises(UsageError, match="furlongs"):
        pairwise(GOOD, unit="furlongs")  # type: ignore[arg-type]


def test_inputs_are_not_modified() -> None:
    p = np.array([[1.0, 0.0, 3.0], [2.0, 2.0, 0.0]])
    q = np.array([[0.5, 0.25, 0.25]])
    before_p, before_q = p.copy(), q.copy()
    for measure in MEASURES:
        for normalize in (True, False):
            pairwise(p, q, measure=measure, normalize=normalize)  # type: ignore[arg-type]
            pairwise(p, measure=measure, normalize=normalize)  # type: ignore[arg-type]
    np.testing.assert_array_equal(p, before_p)
    np.testing.assert_array_equal(q, before_q)


# --------------------------------------------------------------------------- 8. blocks of rows


def blocks_of(rows: int) -> object:
    """A block_rows that cuts every matrix into blocks of ``rows`` rows."""
    return lambda n, k, measure: rows


@pytest.mark.parametrize("rows", [1, 2, 5, 13])
@pytest.mark.parametrize(("m", "n", "k"), [(1, 1, 1), (17, 11, 3), (30, 30, 6), (9, 40, 200)])
def test_blocks_put_together_are_the_matrix_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch, m: int, n: int, k: int, rows: int
) -> None:
    rng = np.random.default_rng([m, n, k, rows])
    p, q = random_table(rng, m, k, 0.3), random_table(rng, n, k, 0.3)
    p[-1] = p[0]  # a repeated row: an exact zero off the diagonal
    monkeypatch.setattr(pairwise_module, "block_rows", blocks_of(rows))
    for measure in MEASURES:
        for other in (q, None):
            whole = pairwise(p, other, measure=measure)  # type: ignore[arg-type]
            blocks = list(pairwise_module.pairwise_blocks(p, other, measure=measure))  # type: ignore[arg-type]
            assert [r0 for r0, _ in blocks] == list(range(0, m, rows))
            assert all(b.shape == (min(rows, m - r0), whole.shape[1]) for r0, b in blocks)
            # The same blocks either way: the same bits (pairwise mirrors the JSD of a
            # table against itself; the blocks compute both halves from the same sums).
            streamed = np.vstack([b for _, b in blocks])
            np.testing.assert_array_equal(streamed, whole)
            assert_clean(streamed)
            if other is None and measure != "cross_entropy":
                np.testing.assert_array_equal(np.diag(streamed), 0.0)
            if other is None and measure in ("jsd", "js_distance"):
                np.testing.assert_array_equal(streamed, streamed.T)


@pytest.mark.parametrize("rows", [1, 3, 8])
def test_blocks_agree_with_one_block_within_rounding(
    monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    rng = np.random.default_rng(rows)
    p, q = random_table(rng, 24, 5, 0.3), random_table(rng, 19, 5, 0.3)
    for measure in MEASURES:
        for other in (q, None):
            one = pairwise(p, other, measure=measure)  # type: ignore[arg-type]
            monkeypatch.setattr(pairwise_module, "block_rows", blocks_of(rows))
            many = pairwise(p, other, measure=measure)  # type: ignore[arg-type]
            monkeypatch.undo()
            # A GEMM of another number of rows may sum in another order (BLAS picks its
            # kernel by shape): KL and cross-entropy agree to rounding, not to the bit.
            assert_matches(many, one, rtol=1e-13)
            assert_matches(many, scipy_oracle(p, p if other is None else q, measure, "bits"), 1e-12)


def test_blocks_from_start_to_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    p = random_table(rng, 20, 4, 0.2)
    monkeypatch.setattr(pairwise_module, "block_rows", blocks_of(3))
    for measure in ("jsd", "kl"):
        whole = pairwise(p, measure=measure)  # type: ignore[arg-type]
        part = list(pairwise_module.pairwise_blocks(p, measure=measure, start=4, stop=11))  # type: ignore[arg-type]
        assert [r0 for r0, _ in part] == [4, 7, 10]
        # Other blocks than pairwise's (4-6, not 3-5): the JSD has the same bits, a
        # GEMM of other rows may round otherwise (see above).
        assert_matches(np.vstack([b for _, b in part]), whole[4:11], rtol=1e-13)
    assert list(pairwise_module.pairwise_blocks(p, measure="kl", start=25)) == []


def test_blocks_check_their_arguments_before_the_first_block() -> None:
    with pytest.raises(UsageError, match="unknown measure"):
        pairwise_module.pairwise_blocks(GOOD, measure="euclid")  # type: ignore[arg-type]
    with pytest.raises(InvalidDataError, match="negative"):
        pairwise_module.pairwise_blocks([[0.5, -0.5]])


def test_progress_rises_to_the_total(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(9)
    p = random_table(rng, 23, 4, 0.2)
    monkeypatch.setattr(pairwise_module, "block_rows", blocks_of(5))
    for measure in ("jsd", "kl"):
        calls: list[tuple[int, int]] = []
        pairwise(p, measure=measure, progress=lambda d, t: calls.append((d, t)))  # type: ignore[arg-type]
        assert calls == [(5, 23), (10, 23), (15, 23), (20, 23), (23, 23)]
        calls.clear()
        blocks = pairwise_module.pairwise_blocks(
            p, measure=measure, start=3, stop=14, progress=lambda d, t: calls.append((d, t))
        )  # type: ignore[arg-type]
        for _ in blocks:
            pass
        assert calls == [(5, 11), (10, 11), (11, 11)]


def test_count_infinite_is_where_the_kl_matrix_is_inf(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(10)
    p, q = random_table(rng, 31, 6, 0.4), random_table(rng, 17, 6, 0.4)
    monkeypatch.setattr(pairwise_module, "BLOCK_BYTES", 7 * 8 * 17)  # blocks of 7 rows
    for other in (q, None):
        kl = pairwise(p, other, measure="kl")
        want = int(np.isinf(kl).sum())
        assert want > 0
        assert pairwise_module.count_infinite(p, other) == want
    assert pairwise_module.count_infinite([[1.0, 2.0]], [[3.0, 4.0]]) == 0
