"""The closed forms of ``kldiv gauss`` (kldiv_cli.maths.gaussian) against hand-derived
values, Monte Carlo estimates with SciPy's densities as oracle, and identities.

Floats are compared with a relative tolerance everywhere: Cholesky factors, triangular
solves and sums go through LAPACK/BLAS kernels whose last bits differ between CPUs
(AVX-512 here, AVX2 elsewhere); each tolerance says how many roundings it allows for.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.maths import gaussian as g
from kldiv_cli.maths.core import unit_scale

LN2 = math.log(2.0)
LOG_2PIE = math.log(2.0 * math.pi * math.e)


def normal(mean: list[float], cov: list[list[float]]) -> g.Gaussian:
    return g.Gaussian.of(np.array(mean), np.array(cov))


def naive_kl(mp: np.ndarray, sp: np.ndarray, mq: np.ndarray, sq: np.ndarray) -> float:
    """The textbook formula with an explicit inverse: an oracle for well-conditioned
    matrices only (it is what the module avoids)."""
    d = mp.size
    inv = np.linalg.inv(sq)
    delta = mq - mp
    _, logdet_q = np.linalg.slogdet(sq)
    _, logdet_p = np.linalg.slogdet(sp)
    return 0.5 * (np.trace(inv @ sp) + delta @ inv @ delta - d + logdet_q - logdet_p)


# --------------------------------------------------------------------------- by hand


def test_the_univariate_pair_by_hand() -> None:
    # P = N(0, 1), Q = N(1, 2) (variances), s their standard deviations:
    # D(P||Q) = ln(sq/sp) + (sp² + (μp-μq)²)/(2 sq²) - ½
    #         = ln √2 + (1 + 1)/(2·2) - ½ = ½ ln 2; D(Q||P) = ln(1/√2) + (2 + 1)/2 - ½ = 1 - ½ ln 2.
    # H(N(μ, v)) = ½ ln(2πe v). A few roundings apart at most: 1e-15 relative.
    found = g.measures(normal([0.0], [[1.0]]), normal([1.0], [[2.0]]))
    want = {
        "kl_pq": 0.5 * LN2,
        "kl_qp": 1.0 - 0.5 * LN2,
        "entropy_p": 0.5 * LOG_2PIE,
        "entropy_q": 0.5 * (LOG_2PIE + LN2),
        "cross_entropy_pq": 0.5 * LOG_2PIE + 0.5 * LN2,
        "cross_entropy_qp": 0.5 * (LOG_2PIE + LN2) + 1.0 - 0.5 * LN2,
    }
    assert found.keys() == want.keys()
    for key, value in want.items():
        assert math.isclose(found[key], value, rel_tol=1e-15), key


def test_a_diagonal_pair_is_the_sum_of_its_dimensions() -> None:
    # Independent dimensions: the KL and the entropies add up, dimension by dimension.
    means_p, vars_p = [0.5, -1.0, 2.0], [0.3, 1.7, 4.0]
    means_q, vars_q = [0.0, 1.0, 2.5], [1.2, 0.9, 2.0]
    joint = g.measures(normal(means_p, np.diag(vars_p)), normal(means_q, np.diag(vars_q)))
    parts = [
        g.measures(normal([a], [[b]]), normal([c], [[e]]))
        for a, b, c, e in zip(means_p, vars_p, means_q, vars_q, strict=True)
    ]
    for key in joint:
        assert math.isclose(joint[key], sum(p[key] for p in parts), rel_tol=1e-14), key


def test_differential_entropy_is_negative_for_a_narrow_gaussian() -> None:
    # H(N(0, v)) = ½ ln(2πe v) < 0 when v < 1/(2πe) ~ 0.0585.
    h = g.entropy(normal([0.0], [[0.01]]))
    assert h < 0
    assert math.isclose(h, 0.5 * math.log(2 * math.pi * math.e * 0.01), rel_tol=1e-15)


def test_entropy_agrees_with_scipy() -> None:
    cov = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
    want = scipy.stats.multivariate_normal(np.zeros(3), cov).entropy()
    assert math.isclose(g.entropy(g.Gaussian.of(np.zeros(3), cov)), want, rel_tol=1e-13)


# --------------------------------------------------------------------------- Monte Carlo


P_MEAN = np.array([0.5, -1.0, 0.0])
P_COV = np.array([[1.0, 0.4, 0.2], [0.4, 2.0, -0.3], [0.2, -0.3, 0.7]])
Q_MEAN = np.array([0.0, 0.0, 1.0])
Q_COV = np.array([[1.5, -0.2, 0.0], [-0.2, 1.0, 0.3], [0.0, 0.3, 2.5]])


@pytest.mark.parametrize("swap", [False, True], ids=["P||Q", "Q||P"])
def test_kl_and_cross_entropy_agree_with_a_monte_carlo_estimate(swap: bool) -> None:
    # 200,000 draws from the first, seed fixed: D = E[log p - log q], H(P,Q) = -E[log q],
    # H(P) = -E[log p], each estimated by a mean whose standard error is the sample
    # standard deviation / sqrt(n). Five standard errors: a correct formula fails with
    # probability ~6e-7, and the seed is fixed, so it never flakes; a wrong term (a
    # missing -d, a transposed solve) is off by far more than that.
    first, second = (
        ((Q_MEAN, Q_COV), (P_MEAN, P_COV)) if swap else ((P_MEAN, P_COV), (Q_MEAN, Q_COV))
    )
    dist_p = scipy.stats.multivariate_normal(*first)
    dist_q = scipy.stats.multivariate_normal(*second)
    x = dist_p.rvs(size=200_000, random_state=np.random.default_rng(20261130))
    log_p, log_q = dist_p.logpdf(x), dist_q.logpdf(x)
    found = g.measures(g.Gaussian.of(*first), g.Gaussian.of(*second))
    for key, sample in (
        ("kl_pq", log_p - log_q),
        ("cross_entropy_pq", -log_q),
        ("entropy_p", -log_p),
    ):
        se = sample.std(ddof=1) / math.sqrt(sample.size)
        assert abs(sample.mean() - found[key]) < 5 * se, (key, sample.mean(), found[key], se)


# --------------------------------------------------------------------------- identities


def test_kl_of_a_gaussian_with_itself_is_zero() -> None:
    # M = L⁻¹L is I but for rounding residue below the diagonal (~1e-17, squared:
    # ~1e-33; which depends on the BLAS kernel), u = 0 and the mean gap 0 exactly.
    p = g.Gaussian.of(P_MEAN, P_COV)
    assert 0.0 <= g.kl(p, p) < 1e-30
    found = g.measures(p, p)
    assert math.isclose(found["cross_entropy_pq"], found["entropy_p"], rel_tol=1e-15)
    assert g.kl(normal([1.0], [[3.0]]), normal([1.0], [[3.0]])) == 0.0  # 1-D: no residue


def test_cross_entropy_is_entropy_plus_kl_computed_apart() -> None:
    # H(P,Q) = ½[d ln 2π + ln det Σq + tr(Σq⁻¹Σp) + δᵀΣq⁻¹δ], by an explicit inverse:
    # a different route to the same number (well conditioned: 1e-13 relative).
    inv = np.linalg.inv(Q_COV)
    delta = Q_MEAN - P_MEAN
    want = 0.5 * (
        3 * math.log(2 * math.pi)
        + np.linalg.slogdet(Q_COV)[1]
        + np.trace(inv @ P_COV)
        + delta @ inv @ delta
    )
    found = g.measures(g.Gaussian.of(P_MEAN, P_COV), g.Gaussian.of(Q_MEAN, Q_COV))
    assert math.isclose(found["cross_entropy_pq"], want, rel_tol=1e-13)
    assert math.isclose(found["kl_pq"], naive_kl(P_MEAN, P_COV, Q_MEAN, Q_COV), rel_tol=1e-13)


def test_units_differ_by_the_log_of_the_base() -> None:
    assert unit_scale("nats") == 1.0
    assert unit_scale("bits") == LN2
    assert unit_scale("bans") == math.log(10.0)


def test_kl_is_invariant_under_a_common_affine_map() -> None:
    # x -> A x + b with A invertible maps N(μ, Σ) to N(Aμ + b, AΣAᵀ) and keeps D(P||Q);
    # the entropies shift by ln |det A|. A's condition number is ~10: 1e-12 relative.
    a = np.array([[2.0, 0.5, 0.0], [-1.0, 1.0, 0.3], [0.2, 0.0, 0.7]])
    b = np.array([3.0, -2.0, 0.5])
    before = g.measures(g.Gaussian.of(P_MEAN, P_COV), g.Gaussian.of(Q_MEAN, Q_COV))
    after = g.measures(
        g.Gaussian.of(a @ P_MEAN + b, a @ P_COV @ a.T),
        g.Gaussian.of(a @ Q_MEAN + b, a @ Q_COV @ a.T),
    )
    for key in ("kl_pq", "kl_qp"):
        assert math.isclose(after[key], before[key], rel_tol=1e-12), key
    shift = math.log(abs(np.linalg.det(a)))
    for key in ("entropy_p", "entropy_q", "cross_entropy_pq", "cross_entropy_qp"):
        assert math.isclose(after[key], before[key] + shift, rel_tol=1e-12), key


def symmetric_pd(draw: st.DrawFn, d: int) -> np.ndarray:
    entries = draw(
        st.lists(
            st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False),
            min_size=d * d,
            max_size=d * d,
        )
    )
    b = np.array(entries).reshape(d, d)
    return b @ b.T + 0.5 * np.eye(d)  # eigenvalues >= 0.5, condition number <= ~100


@st.composite
def pairs_of_gaussians(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    d = draw(st.integers(1, 5))
    means = st.lists(st.floats(-3.0, 3.0, allow_nan=False), min_size=d, max_size=d)
    return (
        np.array(draw(means)),
        symmetric_pd(draw, d),
        np.array(draw(means)),
        symmetric_pd(draw, d),
    )


@settings(max_examples=200, deadline=None)
@given(pairs_of_gaussians())
def test_kl_is_never_negative_and_agrees_with_the_textbook_form(
    pair: tuple[np.ndarray, ...],
) -> None:
    # Condition numbers stay below ~100 and values below ~1e3: the explicit inverse
    # is good to ~1e-12 there; absolute 1e-10 covers a KL near 0.
    mp, sp, mq, sq = pair
    found = g.kl(g.Gaussian.of(mp, sp), g.Gaussian.of(mq, sq))
    assert found >= 0.0
    assert math.isclose(found, naive_kl(mp, sp, mq, sq), rel_tol=1e-9, abs_tol=1e-10)


# --------------------------------------------------------------------------- precision


def exact_excess(u: float) -> float:
    """e^u - 1 - u in 60 decimal digits."""
    with localcontext() as ctx:
        ctx.prec = 60
        x = Decimal(u)
        return float(x.exp() - 1 - x)


@pytest.mark.parametrize("u", [1e-12, -3e-9, 1e-5, 0.05, -0.0999, 0.1, -0.5, 2.0, 30.0])
def test_exp_excess_keeps_every_digit_near_zero(u: float) -> None:
    # expm1(u) - u alone keeps only ~8 digits of u²/2 at u = 1e-8; the series keeps
    # all of them. 4e-16 relative: a few roundings of the Horner sum.
    assert math.isclose(float(g.exp_excess(u)), exact_excess(u), rel_tol=4e-16)


def test_two_close_gaussians_keep_their_small_kl() -> None:
    # N(0, 1) vs N(0, 1 + 1e-6): D = ½(x - 1 - ln x), x = 1/(1 + 1e-6), about 2.5e-13.
    # The textbook form (trace - d + log-det) cancels to a few digits here.
    with localcontext() as ctx:
        ctx.prec = 60
        x = 1 / (1 + Decimal("1e-6"))
        want = float((x - 1 - x.ln()) / 2)
    var_q = 1 + 1e-6  # the float nearest 1 + 1e-6, as the file says it
    found = g.kl(normal([0.0], [[1.0]]), normal([0.0], [[var_q]]))
    # var_q is within 1.1e-16 of 1 + 1e-6: the KL moves by ~1e-16 * 1e-6 relative to it.
    assert math.isclose(found, want, rel_tol=1e-9)


# --------------------------------------------------------------------------- VAE


def test_the_vae_term_is_the_pair_kl_with_a_diagonal_covariance() -> None:
    rng = np.random.default_rng(7)
    mu = rng.normal(0.0, 1.0, (50, 4))
    lv = rng.uniform(-3.0, 1.0, (50, 4))
    lv[0] = 0.0
    mu[0] = 0.0
    found = g.vae_kl(mu, lv)
    standard = g.Gaussian.of(np.zeros(4), np.eye(4))
    want = [
        g.kl(g.Gaussian.of(m, np.diag(np.exp(v))), standard) for m, v in zip(mu, lv, strict=True)
    ]
    assert found[0] == 0.0  # the prior itself
    np.testing.assert_allclose(found, want, rtol=1e-13)


def test_the_vae_term_by_hand() -> None:
    # mu = (1, 2), logvar = (0, ln 4): ½[(1 - 1 - 0 + 1) + (4 - 1 - ln 4 + 4)] = ½(8 - ln 4).
    found = g.vae_kl([[1.0, 2.0]], [[0.0, math.log(4.0)]])
    assert math.isclose(float(found[0]), 0.5 * (8.0 - math.log(4.0)), rel_tol=1e-15)


def test_a_kl_whose_solve_overflows_is_infinite_not_nan() -> None:
    # Lq⁻¹ Lp overflows in its first entry, and 0 * inf then makes the solve's next
    # entries NaN: the sum holds inf², so the KL is infinite.
    lq = np.array([[1e-200, 0, 0], [0.0, 1, 0], [1e150, 1e150, 1]])
    lp = np.array([[1e150, 0, 0], [1e150, 1, 0], [0, 0, 1.0]])
    found = g.kl(g.Gaussian(np.zeros(3), lp), g.Gaussian(np.zeros(3), lq))
    assert found == math.inf


def test_an_overflowing_vae_term_is_infinite_not_nan() -> None:
    found = g.vae_kl([[0.0], [0.0]], [[800.0], [1.0]])
    assert math.isinf(found[0])
    assert math.isfinite(found[1])


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("cov", "message"),
    [
        ([[1.0, 2.0], [2.0, 1.0]], "its 2nd leading minor is -3"),
        ([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, -5.0]], "its 3rd leading minor is -10"),
        ([[-1.0]], "its 1st leading minor is -1"),
        (
            [[1.0, 1.0], [1.0, 1.0]],
            "its 2nd leading minor is 0 to rounding: the matrix is singular",
        ),
        ([[0.0]], "its 1st leading minor is 0 to rounding"),
    ],
)
def test_a_covariance_that_is_not_positive_definite_names_its_minor(
    cov: list[list[float]], message: str
) -> None:
    with pytest.raises(g.NotPositiveDefiniteError, match=message) as caught:
        g.cholesky(cov)
    assert isinstance(caught.value, InvalidDataError)  # exit status 65


def test_asymmetry_is_found_beyond_its_tolerance_only() -> None:
    assert g.asymmetry([[1.0, 0.5], [0.4, 1.0]]) == (0, 1)
    # 1e-10 relative to the largest entry: within the tolerance (1e-9).
    assert g.asymmetry([[1.0, 0.5], [0.5 + 1e-10, 1.0]]) is None
    assert g.asymmetry([[1.0, 0.0, 0.0], [0.0, 1.0, 0.2], [0.0, 0.3, 1.0]]) == (1, 2)


@pytest.mark.parametrize(
    ("k", "text"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (22, "22nd"),
        (101, "101st"),
    ],
)
def test_ordinals(k: int, text: str) -> None:
    assert g.ordinal(k) == text


def test_dimensions_that_differ_are_refused() -> None:
    with pytest.raises(InvalidDataError, match="dimensions differ: P has 1 and Q has 2"):
        g.measures(normal([0.0], [[1.0]]), normal([0.0, 0.0], np.eye(2)))


def test_covariances_singular_to_rounding_are_refused_not_crashed() -> None:
    # Rank-deficient Σ = A Aᵀ (A d x r, r < d, entries 1e-150..1e150), some nudged by
    # -1e-17 max|Σ| on the diagonal, some with the last variance negated: each is
    # either factored or refused with its leading minor. NumPy's cholesky of the head
    # used to fail where LAPACK's dpotrf had factored it (a LinAlgError, exit 70).
    # Which matrices factor depends on rounding (BLAS): only the outcome is asserted.
    rng = np.random.default_rng(2)
    refused: list[tuple[int, int, str]] = []
    for _ in range(3000):
        d = int(rng.integers(2, 12))
        a = rng.normal(size=(d, int(rng.integers(1, d + 1)))) * 10 ** rng.uniform(-150, 150)
        s = a @ a.T
        if rng.random() < 0.5:
            s = s - np.eye(d) * abs(rng.normal()) * 1e-17 * np.abs(s).max()
        if rng.random() < 0.2:
            s[-1, -1] *= -1
        try:
            g.cholesky(0.5 * (s + s.T))
        except g.NotPositiveDefiniteError as e:
            refused.append((e.k, d, e.describe()))
    assert refused
    for k, d, text in refused:
        assert 1 <= k <= d
        assert "nan" not in text
        assert "inf" not in text
