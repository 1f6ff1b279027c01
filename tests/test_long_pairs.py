"""Long pairs in blocks (issue 14, item 4): ``measures`` of two 1-D distributions longer
than ``PAIR_BLOCK`` entries works a block of entries at a time, with O(block) memory.

The blocked path (``_long_pair_nats``) adds the same per-entry terms as the one-shot
path (``_pair_nats``), in another order: per block, then over the blocks. So the two
agree to rounding, not to the last bit, and the comparisons below allow 1e-12 relative:
a float64 sum of K terms rounds by at most ~log2(K) u times the sum of their sizes
(a few hundred ulps here, in sums that cancel by a factor 8 at most), and a SIMD log may
differ in its last bit from CPU to CPU. An ``inf`` is compared exactly, and so is the
JSD of disjoint supports (ln 2, set, not summed).
"""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Callable
from decimal import Context, Decimal, localcontext
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy as scipy_entropy

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.maths import core
from kldiv_cli.maths.core import MEASURES, PAIR_BLOCK, measures

REL = 1e-12
NATS = [key for key in MEASURES if key != "js_distance"]


def _one_shot(p: np.ndarray, q: np.ndarray, normalize: bool) -> dict[str, float]:
    pa, qa = core._pair(p, q, -1, normalize)
    return {key: float(value) for key, value in core._pair_nats(pa, qa, -1).items()}


def _blocked(p: np.ndarray, q: np.ndarray, normalize: bool, block: int) -> dict[str, float]:
    out = core._long_pair_nats(p, q, -1, normalize, block)
    assert out is not None  # the blocked path applies to these inputs
    return {key: float(value) for key, value in out.items()}


def _assert_close(got: dict[str, float], want: dict[str, float], abs_tol: float = 0.0) -> None:
    for key in NATS:
        if math.isinf(want[key]):
            assert got[key] == math.inf, key
        else:
            assert got[key] == pytest.approx(want[key], rel=REL, abs=abs_tol), key


def _nudged(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``p`` with each entry moved by up to 3 ulps: a pair whose divergences are ~1e-32."""
    steps = rng.integers(-3, 4, size=p.size)
    q = p.copy()
    for _ in range(3):
        q = np.where(steps > 0, np.nextafter(q, math.inf), q)
        q = np.where(steps < 0, np.nextafter(q, 0.0), q)
        steps -= np.sign(steps)
    return q


def _cases(k: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20261130)
    counts_p = rng.poisson(3.0, k).astype(np.float64)  # zeros on both sides: inf both ways
    counts_q = rng.poisson(3.0 * rng.lognormal(0.0, 0.3, k)).astype(np.float64)
    x = rng.random(k) + 0.01
    q_zeros = x * rng.lognormal(0.0, 0.2, k)
    q_zeros[::97] = 0.0  # q = 0 < p: D(P||Q) = H(P, Q) = inf, D(Q||P) finite
    zero_block = counts_p.copy(), counts_q.copy()
    zero_block[0][k // 3 : k // 3 + 300] = 0.0  # a whole block where p = q = 0
    zero_block[1][k // 3 : k // 3 + 300] = 0.0
    # Mostly a few ulps apart, with a few entries of tiny mass three times apart: the
    # cheap KL fails its bound (the second pass) and a block has |d| >= 1/8 (the mixed
    # terms) while the others take the series.
    near_far = x * (1.0 + 1e-9 * rng.standard_normal(k))
    near_far[k // 2 :: 499] = 3e-12
    x_far = x.copy()
    x_far[k // 2 :: 499] = 1e-12
    # A few ulps apart where both are > 0, and p = 0 < q of tiny mass: D(P||Q) is that
    # mass (~2e-21, from the KL's extra terms) in the second pass, D(Q||P) inf.
    p_zeros, q_tiny = x.copy(), _nudged(x, rng)
    p_zeros[::301] = 0.0
    q_tiny[::301] = 1e-22
    half = k // 2
    disjoint_p = np.r_[x[:half], np.zeros(k - half)]
    disjoint_q = np.r_[np.zeros(half), x[half:]]
    return {
        "counts": (counts_p, counts_q),
        "q zeros": (x, q_zeros),
        "a zero block": zero_block,
        "a few ulps apart": (x, _nudged(x, rng)),
        "near and far": (x_far, near_far),
        "near, p = 0 < q": (p_zeros, q_tiny),
        "disjoint": (disjoint_p, disjoint_q),
        "one-hot": (np.eye(1, k, 7)[0], np.eye(1, k, k - 2)[0] + x * 1e-3),
    }


CASES = _cases(5000)


@pytest.mark.parametrize("block", [64, 1000, 4999])
@pytest.mark.parametrize("case", list(CASES))
def test_blocked_equals_one_shot(case: str, block: int) -> None:
    # 5000 entries in blocks of 64 (79 blocks, the last of 8), 1000 (5 whole blocks)
    # and 4999 (a last block of 1).
    p, q = CASES[case]
    _assert_close(_blocked(p, q, True, block), _one_shot(p, q, True))


@pytest.mark.parametrize("case", list(CASES))
def test_blocked_equals_one_shot_as_given(case: str) -> None:
    # normalize=False: the KL is sum p ln(p/q) as given, which cancels where P is close
    # to Q (terms of order |p - q|) in both paths alike, so only its absolute digits
    # compare: u times sum |p ln(p/q)|, below 1e-15 here.
    p, q = CASES[case]
    p, q = p / p.sum(), q / q.sum()
    _assert_close(_blocked(p, q, False, 64), _one_shot(p, q, False), abs_tol=1e-15)


def test_the_blocked_path_keeps_the_zero_rule() -> None:
    # Hand-derived: p = (1/2, 1/2, 0, 0 ...), q = (1/2, 0, 1/2, 0 ...) over 300 entries in
    # blocks of 64: 0 log 0 = 0 everywhere past the third entry, q = 0 < p at the second,
    # p = 0 < q at the third.
    p, q = np.zeros(300), np.zeros(300)
    p[:2] = q[0] = q[2] = 1.0
    got = _blocked(p, q, True, 64)
    ln2 = math.log(2.0)
    assert got["entropy_p"] == pytest.approx(ln2, rel=REL)
    assert got["entropy_q"] == pytest.approx(ln2, rel=REL)
    assert got["cross_entropy_pq"] == got["kl_pq"] == math.inf
    assert got["cross_entropy_qp"] == got["kl_qp"] == math.inf
    # JSD: M = (1/2, 1/4, 1/4); 1/2 D(P||M) + 1/2 D(Q||M) = 1/2 ln 2.
    assert got["jsd"] == pytest.approx(ln2 / 2, rel=REL)


def test_the_second_pass_and_its_mixed_terms_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # "near and far" is meant to need the precise KL (the cheap form fails its bound)
    # with a block of far entries: without this the comparison above would pass on the
    # cheap path alone.
    calls: dict[str, int] = {"_long_kl": 0, "_kl_mixed": 0}

    def spy(name: str) -> Callable[..., Any]:
        real = getattr(core, name)

        def wrapped(*args: Any) -> Any:
            calls[name] += 1
            return real(*args)

        return wrapped

    for name in calls:
        monkeypatch.setattr(core, name, spy(name))
    p, q = CASES["near and far"]
    _blocked(p, q, True, 64)
    assert calls["_long_kl"] == 1
    assert 0 < calls["_kl_mixed"] < -(-p.size // 64)  # some blocks mixed, the others not


def _refs(p: np.ndarray, q: np.ndarray) -> tuple[float, float, float]:
    """D(P||Q), D(Q||P) and the JSD in nats, to 50 digits, of p and q as given (see
    test_near_equal.py: the KL as sum p ln(p/q) - p + q, as the totals are equal)."""
    ctx = Context(prec=50)
    with localcontext(ctx):
        kl_pq = kl_qp = jsd = Decimal(0)
        for x, y in zip(map(ctx.create_decimal, p), map(ctx.create_decimal, q), strict=True):
            s = x + y
            if x and y:
                kl_pq += x * (x / y).ln() - x + y
                kl_qp += y * (y / x).ln() - y + x
            jsd += (x * (2 * x / s).ln() if x else 0) + (y * (2 * y / s).ln() if y else 0)
        return float(kl_pq), float(kl_qp), float(jsd / 2)


def test_the_blocked_path_keeps_the_last_digits_near_p_equals_q() -> None:
    # P and Q a few ulps apart: divergences of ~1e-32 that a plain sum of p ln(p/q) gets
    # wrong by 1e-17. 1e-13 as in test_near_equal.py (logs that differ in their last bit
    # from CPU to CPU, summed with a cancellation of a factor 8 at most).
    rng = np.random.default_rng(7)
    x = rng.random(600) + 0.1
    p_raw, q_raw = x, _nudged(x, rng)
    got = _blocked(p_raw, q_raw, True, 64)
    p, q = core.normalize(p_raw), core.normalize(q_raw)
    kl_pq, kl_qp, jsd = _refs(p, q)
    assert 0.0 < jsd < 1e-28
    assert got["kl_pq"] == pytest.approx(kl_pq, rel=1e-13)
    assert got["kl_qp"] == pytest.approx(kl_qp, rel=1e-13)
    assert got["jsd"] == pytest.approx(jsd, rel=1e-13)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 1.0, 2.0, 3.0, 1e-5, 7.5]),
            st.sampled_from([0.0, 1.0, 2.0, 3.0, 1e-5]),
        ),
        min_size=2,
        max_size=80,
    ).filter(lambda pairs: any(a for a, _ in pairs) and any(b for _, b in pairs)),
    st.integers(1, 40),
)
def test_any_blocks_equal_one_shot(pairs: list[tuple[float, float]], block: int) -> None:
    # Short pairs in blocks of 1 to 40 entries: any cut, a block of zeros, a last block
    # of one entry.
    p, q = (np.array(side) for side in zip(*pairs, strict=True))
    if p.size <= block:
        block = p.size - 1
    _assert_close(_blocked(p, q, True, block), _one_shot(p, q, True), abs_tol=1e-15)


def test_measures_of_a_long_pair_against_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    # SciPy as the oracle, with the one-shot path made to fail: measures() must take
    # the blocked one. K = 2 blocks and a part, counts with zeros on both sides (then
    # D = H(P, Q) = inf, which SciPy's entropy(p, q) gives as well).
    def refuse(*args: Any) -> Any:
        raise AssertionError("the one-shot path was taken")

    monkeypatch.setattr(core, "_pair_nats", refuse)
    rng = np.random.default_rng(3)
    k = 2 * PAIR_BLOCK + 123
    p = rng.poisson(5.0, k).astype(np.float64)
    q = rng.poisson(5.0 * rng.lognormal(0.0, 0.5, k)).astype(np.float64)
    q_finite = q + (q == 0) * (p > 0)  # a Q with no q = 0 < p: a finite D(P||Q)
    for qq in (q, q_finite):
        got = measures(p, qq, unit="nats")
        h_p, h_q = scipy_entropy(p), scipy_entropy(qq)
        kl_pq, kl_qp = scipy_entropy(p, qq), scipy_entropy(qq, p)
        want = {
            "entropy_p": h_p,
            "entropy_q": h_q,
            "cross_entropy_pq": h_p + kl_pq,
            "cross_entropy_qp": h_q + kl_qp,
            "kl_pq": kl_pq,
            "kl_qp": kl_qp,
            "jsd": jensenshannon(p, qq) ** 2,
        }
        _assert_close({key: float(got[key]) for key in NATS}, want)
        assert float(got["js_distance"]) == pytest.approx(jensenshannon(p, qq), rel=REL)
    assert math.isinf(float(measures(p, q)["kl_pq"]))
    assert math.isfinite(float(measures(p, q_finite)["kl_pq"]))


def test_a_long_pair_beyond_the_fast_kernels_is_measured_in_one_shot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Magnitudes 1e-310 (subnormal) beside 1: the blocked path gives way to the one-shot
    # path, which takes such logs in the log domain. H(P) of p = (1, t, 0 ...) with
    # t = 1e-310: -(1 ln 1 + t ln t) / (1 + t) ~ 7.1e-308, finite and above 0.
    taken: list[bool] = []
    real = core._pair_nats

    def spy(*args: Any) -> Any:
        taken.append(True)
        return real(*args)

    monkeypatch.setattr(core, "_pair_nats", spy)
    k = PAIR_BLOCK + 5
    p, q = np.zeros(k), np.full(k, 1.0)
    p[0], p[-1] = 1.0, 1e-310
    got = measures(p, q, unit="nats")
    assert taken == [True]
    assert float(got["entropy_p"]) == pytest.approx(1e-310 * -math.log(1e-310), rel=1e-9)
    assert float(got["kl_pq"]) == pytest.approx(math.log(k), rel=1e-9)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p, q: p.__setitem__(PAIR_BLOCK + 3, math.nan), "p has a NaN value"),
        (lambda p, q: q.__setitem__(7, -1.0), r"q has a negative value \(-1.0\)"),
        (lambda p, q: q.__setitem__(9, math.inf), "q has an infinite value"),
        (lambda p, q: p.fill(0.0), "p has no positive value"),
    ],
)
def test_a_long_pair_is_refused_as_a_short_one(
    change: Callable[[np.ndarray, np.ndarray], None], message: str
) -> None:
    p, q = np.ones(PAIR_BLOCK + 10), np.ones(PAIR_BLOCK + 10)
    change(p, q)
    with pytest.raises(InvalidDataError, match=f"^{message}$"):
        measures(p, q)


def test_long_pairs_of_two_lengths_are_refused() -> None:
    with pytest.raises(InvalidDataError, match="p has 65540 entries and q has 65541"):
        measures(np.ones(65540), np.ones(65541))


@pytest.mark.parametrize("case", ["counts", "near"])
def test_the_measures_of_a_long_pair_take_memory_of_a_block(case: str) -> None:
    # A real bound, not a timing: 4M entries, where one float64 temporary of the pair
    # is 32 MiB and today's one-shot path took 52 bytes an entry (208 MiB). The blocked
    # path's scratch is 7 float64 blocks and 3 boolean ones (~4 MiB); 10 blocks of
    # float64 allow for the small arrays of flat indices.
    k = 1 << 22
    rng = np.random.default_rng(11)
    p = rng.poisson(4.0, k).astype(np.float64)
    if case == "counts":
        q = rng.poisson(4.0, k).astype(np.float64)
    else:  # the second pass of the precise KL too
        p += 1.0
        q = p * (1.0 + 1e-10 * rng.standard_normal(k))
    bound = 10 * PAIR_BLOCK * 8
    assert bound < k * 8 / 6
    tracemalloc.start()
    try:
        measures(p, q)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < bound


@pytest.mark.parametrize("normalize", [True, False])
def test_a_long_pair_of_strided_views(normalize: bool) -> None:
    # Columns of a 2-D array (a DataFrame's, say) are strided views: the blocks are
    # views of them, taken as they are. Equal to contiguous copies up to rounding
    # (a strided dot is summed in another order).
    rng = np.random.default_rng(5)
    table = rng.random((PAIR_BLOCK + 999, 2))
    table[::7, 0] = 0.0
    table[::11, 1] = 0.0
    if not normalize:
        table /= table.sum(axis=0)
    p, q = table[:, 0], table[:, 1]
    assert not p.flags.c_contiguous
    got = measures(p, q, unit="nats", normalize=normalize)
    want = measures(p.copy(), q.copy(), unit="nats", normalize=normalize)
    _assert_close({k: float(got[k]) for k in NATS}, {k: float(want[k]) for k in NATS})


def test_the_contributions_of_a_long_pair_take_memory_of_their_arrays() -> None:
    # --top's contributions return five arrays of the pair (p, q and three of terms,
    # 40 bytes an entry); they are made a block at a time into those arrays, so the
    # work adds a few blocks (the one-shot path peaked at 67 bytes an entry).
    k = 1 << 21
    rng = np.random.default_rng(13)
    p = rng.poisson(4.0, k).astype(np.float64)
    q = rng.poisson(4.0, k).astype(np.float64)
    tracemalloc.start()
    try:
        terms = core.contributions(p, q)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert math.isinf(terms["kl_pq"].max())  # the terms are all there, infinities too
    assert peak < 40 * k + 10 * PAIR_BLOCK * 8


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("case", list(CASES))
def test_blocked_contributions_equal_one_shot(case: str, normalize: bool) -> None:
    # Entry by entry the same operations (no sum), so equal up to a SIMD function's
    # last bit, which may differ between a vector's body and its tail on some CPUs:
    # 1e-14 relative; where a term is 0 or inf, exactly.
    p, q = CASES[case]
    if not normalize:
        p, q = p / p.sum(), q / q.sum()
    got = core._long_contributions(p, q, -1, normalize, math.log(2.0), block=64)
    assert got is not None
    want = core._contributions(p, q, -1, normalize, math.log(2.0))
    assert set(got) == set(want) == {"p", "q", "kl_pq", "kl_qp", "jsd"}
    for key, value in want.items():
        exact = (value == 0.0) | np.isinf(value)
        assert np.array_equal(got[key][exact], value[exact]), key
        np.testing.assert_allclose(got[key], value, rtol=1e-14, atol=0.0, err_msg=key)


def test_contributions_of_a_long_pair_beyond_the_fast_kernels() -> None:
    # A subnormal value (1e-310 beside 1): the one-shot path, as in measures(). Its term
    # of the JSD: 1/2 t ln(2t / (t + 1/k)) ~ -t/2 ln(...) > 0, tiny but not 0.
    k = PAIR_BLOCK + 5
    p, q = np.zeros(k), np.full(k, 1.0)
    p[0], p[-1] = 1.0, 1e-310
    assert core._long_contributions(p, q, -1, True, 1.0) is None
    terms = core.contributions(p, q, unit="nats")
    assert terms["p"][-1] == pytest.approx(1e-310, rel=1e-9)
    assert terms["kl_pq"][0] == pytest.approx(math.log(k), rel=1e-12)
    assert terms["jsd"].sum() == pytest.approx(float(measures(p, q, unit="nats")["jsd"]), rel=1e-12)
