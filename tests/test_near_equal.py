"""The last digits (issue 15, item 6): KL and JSD of two distributions a few ulps apart.

Near P = Q every divergence is of order (p - q)^2 while its natural terms are of order
|p - q|, so a sum of those terms keeps no relative digit: P and Q an ulp apart gave a
``jsd`` of 5.6e-17 (true: ~1e-33), above the bound (kl_pq + kl_qp) / 4.

References in 50-digit decimal arithmetic (the standard library's ``Decimal.ln``, as in
test_core.py; mpmath would do as well but is not a test dependency). They take the
distributions as core normalizes them (``normalize``), not the inputs normalized
exactly: rounding a quotient moves an entry by half an ulp, as much as the difference
being measured, so no float program could match the exact normalization of its input;
the KL reference is the sum of ``p ln(p/q) - p + q``, which equals D(P || Q) for two
totals that are equal, as they are before that rounding.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from decimal import Context, Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kldiv_cli.maths.core import js_distance, js_divergence, kl_divergence, measures, normalize

_D50 = Context(prec=50)
# A log1p or log that differs in its last bit from CPU to CPU (SIMD paths), summed over a
# few entries with a cancellation of a factor 8 at most: 1e-13 is 450 ulps of room.
REL = 1e-13


def _d(x: float) -> Decimal:
    return _D50.create_decimal(x)


def _refs(p: np.ndarray, q: np.ndarray) -> tuple[float, float, float]:
    """KL(P || Q), KL(Q || P) and the JSD in nats, to 50 digits, of p and q as given."""
    with localcontext(_D50):  # the operators too, not only ln
        kl_pq = kl_qp = jsd = _d(0.0)
        for x, y in zip(map(_d, p), map(_d, q), strict=True):
            s = x + y
            if x and y:
                kl_pq += x * (x / y).ln() - x + y
                kl_qp += y * (y / x).ln() - y + x
            jsd += (x * (2 * x / s).ln() if x else 0) + (y * (2 * y / s).ln() if y else 0)
        return float(kl_pq), float(kl_qp), float(jsd / 2)


def _nudged(p: np.ndarray, ulps: list[int]) -> np.ndarray:
    q = p.copy()
    for i, n in enumerate(ulps):
        for _ in range(abs(n)):
            q[i] = np.nextafter(q[i], math.inf if n > 0 else 0.0)
    return q


def _check(p: np.ndarray, q: np.ndarray) -> None:
    m = measures(p, q, unit="nats")
    kl_pq, kl_qp, jsd = _refs(normalize(p), normalize(q))
    assert m["jsd"] == pytest.approx(jsd, rel=REL, abs=0.0)
    assert m["js_distance"] == pytest.approx(math.sqrt(jsd), rel=REL, abs=0.0)
    assert m["kl_pq"] == pytest.approx(kl_pq, rel=REL, abs=0.0)
    assert m["kl_qp"] == pytest.approx(kl_qp, rel=REL, abs=0.0)
    # The bound itself, in floats: the true JSD is at most half of it (J / 4 >= 2 JSD
    # term by term), so accurate values keep it with a factor 2 to spare.
    assert m["jsd"] <= (m["kl_pq"] + m["kl_qp"]) / 4
    # The functions of one measure agree with measures().
    assert js_divergence(p, q, unit="nats") == pytest.approx(m["jsd"], rel=REL, abs=0.0)
    assert js_distance(p, q, unit="nats") == pytest.approx(m["js_distance"], rel=REL, abs=0.0)
    assert kl_divergence(p, q, unit="nats") == pytest.approx(m["kl_pq"], rel=REL, abs=0.0)


def test_the_issues_pair_one_ulp_apart() -> None:
    p = np.array([0.3, 0.7])
    q = np.array([np.nextafter(0.3, 1.0), 0.7])
    m = measures(p, q, unit="nats")
    # By hand: d = ulp(0.3) / 0.6 = 2^-54 / 0.6, JSD = sum (s / 4) d^2 (1 + d^2 / 6 ...)
    # over the one entry that differs: 0.15 (2^-54 / 0.6)^2 = 1.2838e-33.
    want = 0.15 * (2.0**-54 / 0.6) ** 2
    assert m["jsd"] == pytest.approx(want, rel=1e-12)
    assert m["js_distance"] == pytest.approx(math.sqrt(want), rel=1e-12)  # 3.6e-17
    assert m["jsd"] <= (m["kl_pq"] + m["kl_qp"]) / 4
    _check(p, q)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(min_value=1e-6, max_value=1.0), min_size=2, max_size=6).flatmap(
        lambda p: st.tuples(
            st.just(p),
            st.lists(st.integers(-4, 4), min_size=len(p), max_size=len(p)),
        )
    )
)
def test_pairs_a_few_ulps_apart_keep_their_relative_digits(
    case: tuple[list[float], list[int]],
) -> None:
    values, ulps = case
    p = normalize(np.array(values))
    q = _nudged(p, ulps)
    _check(p, q)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=1e-6, max_value=1.0), min_size=2, max_size=6).flatmap(
        lambda p: st.tuples(
            st.just(p),
            st.lists(st.floats(-0.6, 0.6), min_size=len(p), max_size=len(p)),
        )
    )
)
def test_pairs_at_every_distance_keep_their_relative_digits(
    case: tuple[list[float], list[float]],
) -> None:
    # Relative changes up to 60% cross both switches between forms (|d| = 1/8, 1/2).
    values, change = case
    p = normalize(np.array(values))
    q = p * (1.0 + np.array(change))
    _check(p, q)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=2, max_size=8),
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=2, max_size=8),
)
def test_the_bound_holds_for_any_pair(a: list[float], b: list[float]) -> None:
    n = min(len(a), len(b))
    p, q = np.array(a[:n]), np.array(b[:n])
    if p.sum() == 0 or q.sum() == 0:
        return
    m = measures(p, q, unit="nats")
    assert m["jsd"] <= (m["kl_pq"] + m["kl_qp"]) / 4


def test_the_issues_pair_through_the_real_program(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("label,p\na,0.3\nb,0.7\n")
    (tmp_path / "q.csv").write_text("label,q\na,0.30000000000000004\nb,0.7\n")  # 0.3 + 1 ulp
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "kldiv_cli",
            "compare",
            str(tmp_path / "p.csv"),
            str(tmp_path / "q.csv"),
            "--unit",
            "nats",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0
    assert run.stderr == ""
    m = json.loads(run.stdout)["measures"]
    # By hand, with s = 0.6 and d = 2^-54 / 0.6 on the entry that differs: JSD = s d^2 / 4
    # and each KL = s d^2 (to a relative d^2, far below an ulp).
    d2 = (2.0**-54 / 0.6) ** 2
    assert m["jsd"] == pytest.approx(0.15 * d2, rel=1e-12)  # 1.28e-33, was 5.6e-17
    assert m["js_distance"] == pytest.approx(math.sqrt(0.15 * d2), rel=1e-12)  # 3.6e-17
    assert m["kl_pq"] == pytest.approx(0.6 * d2, rel=1e-12)
    assert m["kl_qp"] == pytest.approx(0.6 * d2, rel=1e-12)
    assert m["jsd"] <= (m["kl_pq"] + m["kl_qp"]) / 4


# --------------------------------------------------------------------------- the fast kernel
# core._fast_sums takes each KL in a cheap form when its error bound allows, else from a
# series (every |d| < 1/8) or per direction (some far entries), and the JSD from
# ln(1 - d^2) but where |d| > 7/8. Each path against the 50-digit references.


def _check_rows(p: np.ndarray, q: np.ndarray) -> None:
    """measures() on a stack of rows, each row against its own 50-digit references."""
    m = measures(p, q, unit="nats")
    for i in range(p.shape[0]):
        pn, qn = normalize(p[i]), normalize(q[i])
        kl_pq, kl_qp, jsd = _refs(pn, qn)
        # The refs sum p ln(p/q) - p + q where both are > 0; the rest of - p + q is the
        # mass of the other side where one is 0 (exact sums of a few values here).
        kl_pq += float(np.sum(qn[pn == 0]))
        kl_qp += float(np.sum(pn[qn == 0]))
        assert m["jsd"][i] == pytest.approx(jsd, rel=REL, abs=0.0)
        for key, want in (("kl_pq", kl_pq), ("kl_qp", kl_qp)):
            if math.isinf(m[key][i]):
                continue  # some q = 0 < p
            assert m[key][i] == pytest.approx(want, rel=REL, abs=0.0), (key, i)
        assert m["jsd"][i] <= (m["kl_pq"][i] + m["kl_qp"][i]) / 4


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(0.3, id="cheap: well apart"),
        pytest.param(1e-7, id="series: every |d| small"),
        pytest.param(0.02, id="series: |d| near 1/8"),
    ],
)
def test_each_path_of_the_kernel_keeps_its_digits(change: float) -> None:
    rng = np.random.default_rng(5)
    p = rng.random((4, 40)) + 0.01
    q = p * (1.0 + change * rng.uniform(-1.0, 1.0, p.shape))
    _check_rows(p, q)


def test_rows_with_near_and_far_entries_and_zeros() -> None:
    # Most entries a few ulps apart, a few far (ratios 20 to 1e250, beyond |d| = 7/8 and
    # 1/8), and zeros on either side: the per-direction path, the far JSD form and the
    # terms of the zeros.
    rng = np.random.default_rng(6)
    p = rng.random((3, 30)) + 0.1
    q = p.copy()
    q[:, :10] = np.nextafter(q[:, :10], 2.0)
    q[:, 10] *= 20.0
    q[:, 11] *= 1e-250
    q[:, 12] *= 3.0
    q[0, 13] = 0.0  # q = 0 < p: D(P||Q) = inf
    p[1, 14] = 0.0  # p = 0 < q: D(Q||P) = inf
    p[2, 15] = q[2, 15] = 0.0  # both 0
    _check_rows(p, q)


def test_the_series_is_not_run_where_the_cheap_form_is_exact_enough(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The cost of the precision near P = Q is paid only near P = Q.
    from kldiv_cli.maths import core

    def no_series(*args: object, **kwargs: object) -> None:
        raise AssertionError("the series ran")

    monkeypatch.setattr(core, "_atanh_minus", no_series)
    rng = np.random.default_rng(7)
    p, q = rng.random(10_000) + 0.01, rng.random(10_000) + 0.01
    m = measures(p, q, unit="nats")
    pn, qn = normalize(p), normalize(q)
    # Oracle: SciPy's rel_entr sums (no cancellation to speak of at this distance).
    from scipy.special import rel_entr

    assert m["kl_pq"] == pytest.approx(float(np.sum(rel_entr(pn, qn))), rel=1e-12)
    assert m["kl_qp"] == pytest.approx(float(np.sum(rel_entr(qn, pn))), rel=1e-12)
    with pytest.raises(AssertionError, match="the series ran"):
        measures(p, np.nextafter(p, 2.0), unit="nats")


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 3),
    st.lists(st.floats(min_value=1e-300, max_value=1.0), min_size=2, max_size=6),
    st.lists(st.sampled_from([0.0, 1e-12, 1e-3, 0.1, 0.9, 10.0, 1e200]), min_size=6, max_size=6),
)
def test_the_jsd_of_rows_is_symmetric_to_the_last_bit(
    rows: int, values: list[float], factors: list[float]
) -> None:
    p = np.tile(np.array(values), (rows, 1))
    q = p * (1.0 + np.array(factors[: len(values)]))
    q[q > 1.0] = 1.0
    if not (q.sum(axis=1) > 0).all():
        return
    a = js_divergence(p, q, unit="nats")
    b = js_divergence(q, p, unit="nats")
    assert np.array_equal(a, b)
    kl = measures(p, q, unit="nats")
    swapped = measures(q, p, unit="nats")
    assert np.array_equal(kl["kl_pq"], swapped["kl_qp"])
    assert np.array_equal(kl["jsd"], swapped["jsd"])


def test_a_stack_along_axis_0_and_a_broadcast_side() -> None:
    # Moved to the last axis and laid out in C order for the kernel; each column against
    # its references, taken of the columns as measures() normalizes them (along axis 0:
    # another summation order than a row's, so other last bits of p, which matter here).
    rng = np.random.default_rng(8)
    p = rng.random((25, 3)) + 0.01
    q = p * (1.0 + 1e-9 * rng.uniform(-1.0, 1.0, p.shape))
    m = measures(p, q, unit="nats", axis=0)
    pn, qn = normalize(p, axis=0), normalize(q, axis=0)
    for i in range(3):
        kl_pq, kl_qp, jsd = _refs(pn[:, i], qn[:, i])
        assert m["kl_pq"][i] == pytest.approx(kl_pq, rel=REL, abs=0.0)
        assert m["kl_qp"][i] == pytest.approx(kl_qp, rel=REL, abs=0.0)
        assert m["jsd"][i] == pytest.approx(jsd, rel=REL, abs=0.0)
    one = p[:, 0].copy()
    stacked = measures(one, q.T.copy(), unit="nats")  # P broadcast against 3 rows of Q
    for i in range(3):
        kl_pq, kl_qp, jsd = _refs(normalize(one), normalize(q[:, i]))
        assert stacked["kl_pq"][i] == pytest.approx(kl_pq, rel=REL, abs=0.0)
        assert stacked["kl_qp"][i] == pytest.approx(kl_qp, rel=REL, abs=0.0)
        assert stacked["jsd"][i] == pytest.approx(jsd, rel=REL, abs=0.0)
