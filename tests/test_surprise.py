r"""Tests of kldiv_cli.maths.dirichlet: Bayesian surprise in closed form.

No expected value is copied from the module's output. Each comes from numerical
integration (the Beta case, SciPy's ``quad`` over ``scipy.stats.beta``), a hand
derivation, an identity (zero counts, units, the chain rule of KL between three
Dirichlets), or a second implementation written here (the textbook formula with
``gammaln``, a Python loop over batches, a sum of logs for a rising factorial).

Floats are compared with a tolerance: the sums go through NumPy's SIMD loops, whose
last bits differ between CPUs with AVX-512 and AVX2 only.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
import scipy.integrate
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import digamma, gammaln

from kldiv_cli.maths.dirichlet import (
    STIRLING_FROM,
    dirichlet_kl,
    sequential_surprise,
    surprise_terms,
)

LN2 = math.log(2.0)


def textbook(alpha: list[float], counts: list[float]) -> float:
    """KL(Dir(a')||Dir(a)) as the formula is usually written, a' = a + n, in nats:
    ln G(a'0) - sum ln G(a'i) - ln G(a0) + sum ln G(ai) + sum (a'i - ai)(psi(a'i) - psi(a'0))."""
    a = np.asarray(alpha, dtype=float)
    post = a + np.asarray(counts, dtype=float)
    a0, p0 = a.sum(), post.sum()
    return float(
        gammaln(p0)
        - gammaln(post).sum()
        - gammaln(a0)
        + gammaln(a).sum()
        + ((post - a) * (digamma(post) - digamma(p0))).sum()
    )


def beta_by_quadrature(prior: tuple[float, float], counts: tuple[int, int]) -> float:
    r"""\int post(x) ln(post(x) / prior(x)) dx over (0, 1), with SciPy's Beta densities:
    a Dirichlet over 2 categories is a Beta of the first category's share."""
    a, b = prior
    before = scipy.stats.beta(a, b)
    after = scipy.stats.beta(a + counts[0], b + counts[1])

    def integrand(x: float) -> float:
        density = after.pdf(x)
        if density == 0.0:  # 0 ln 0 = 0, also where logpdf would be -inf
            return 0.0
        return float(density * (after.logpdf(x) - before.logpdf(x)))

    value, error = scipy.integrate.quad(integrand, 0.0, 1.0, epsabs=1e-13, epsrel=1e-11, limit=200)
    assert error < 1e-9  # quad's own estimate: the oracle is good to well below the tolerance
    return float(value)


# --------------------------------------------------------------------------- the Beta case


@pytest.mark.parametrize(
    ("prior", "counts"),
    [
        ((1.0, 1.0), (1, 0)),
        ((1.0, 1.0), (0, 1)),
        ((2.0, 3.0), (4, 1)),
        ((0.5, 0.5), (3, 7)),  # Jeffreys: densities infinite at both ends, integrable
        ((10.0, 20.0), (5, 5)),
        ((1001.0, 1.0), (0, 1)),  # the black swan: many white, then one black
        ((3.5, 1.25), (0, 0)),
    ],
)
def test_beta_case_matches_numerical_integration(
    prior: tuple[float, float], counts: tuple[int, int]
) -> None:
    # Tolerance 1e-8 relative (1e-11 absolute): quad is asked for 1e-11 and reports
    # its error; the closed form is good to about 1e-14.
    expected = beta_by_quadrature(prior, counts)
    got = float(dirichlet_kl(list(prior), list(counts)))
    assert got == pytest.approx(expected, rel=1e-8, abs=1e-11)


def test_hand_value_one_observation_under_a_uniform_prior() -> None:
    # Dir(1, 1) is uniform on the share x of category 1; one observation of it gives
    # Beta(2, 1), density 2x. D = int_0^1 2x ln(2x) dx
    #   = ln 2 int 2x dx + 2 int x ln x dx = ln 2 + 2 (-1/4) = ln 2 - 1/2.
    assert float(dirichlet_kl([1.0, 1.0], [1.0, 0.0])) == pytest.approx(LN2 - 0.5, rel=1e-14)
    # In bits: divided by ln 2, 1 - 1/(2 ln 2).
    bits = float(dirichlet_kl([1.0, 1.0], [1.0, 0.0], unit="bits"))
    assert bits == pytest.approx(1.0 - 0.5 / LN2, rel=1e-14)


def test_one_observation_closed_form_with_a_large_prior() -> None:
    # One observation of category 1 under Beta(a, b): R(x, 1) = ln x, so
    # D = ln(a0 / a) + psi(a + 1) - psi(a0 + 1). For a = b = 1e6, D ~ 2.5e-7, while the
    # log-gammas are 1.3e7: the formula as written (``textbook``) is 0.8% off.
    a = b = 1e6
    expected = math.log((a + b) / a) + float(digamma(a + 1.0) - digamma(a + b + 1.0))
    got = float(dirichlet_kl([a, b], [1.0, 0.0]))
    # 1e-6 relative: the expected value's own digammas cancel from 14 to 2.5e-7.
    assert got == pytest.approx(expected, rel=1e-6)
    # psi(x + 1) = ln x + 1/(2x) - 1/(12x^2) + O(1/x^4) gives, for b = a,
    # D = 1/(4a) - 1/(12a^2) + 1/(48a^2) + O(1/a^3) = 1/(4a) - 1/(16a^2) + O(1/a^3):
    # closer than the digammas, so to 1e-10.
    assert got == pytest.approx(1 / (4 * a) - 1 / (16 * a * a), rel=1e-10)


# --------------------------------------------------------------------------- identities


@pytest.mark.parametrize("alpha", [[1.0, 1.0], [0.5, 2.0, 7.0], [1e-300, 3.0], [1e12, 1.0, 5.0]])
def test_zero_counts_give_exactly_zero(alpha: list[float]) -> None:
    value = dirichlet_kl(alpha, [0.0] * len(alpha))
    assert float(value) == 0.0
    assert math.copysign(1.0, float(value)) == 1.0  # not -0.0


def test_units_are_nats_over_ln_base() -> None:
    alpha, counts = [2.0, 0.5, 3.0], [4.0, 0.0, 9.0]
    nats = float(dirichlet_kl(alpha, counts))
    assert nats > 0
    assert float(dirichlet_kl(alpha, counts, unit="bits")) == pytest.approx(nats / LN2, rel=1e-15)
    assert float(dirichlet_kl(alpha, counts, unit="bans")) == pytest.approx(
        nats / math.log(10.0), rel=1e-15
    )


@given(
    st.lists(st.floats(min_value=0.01, max_value=500.0), min_size=2, max_size=6).flatmap(
        lambda a: st.tuples(
            st.just(a), st.lists(st.integers(0, 60), min_size=len(a), max_size=len(a))
        )
    )
)
@settings(max_examples=200, deadline=None)
def test_agrees_with_the_textbook_formula(case: tuple[list[float], list[int]]) -> None:
    # A second implementation: the formula as written, with gammaln directly. Where its
    # log-gammas are large it loses digits (that is why the module groups them), so the
    # tolerance is absolute: 1e-9 nats is ~1e5 ulps of the largest term here.
    alpha, counts = case
    expected = textbook(alpha, [float(c) for c in counts])
    got = float(dirichlet_kl(alpha, counts))
    assert got == pytest.approx(max(expected, 0.0), abs=1e-9, rel=1e-9)


@given(
    st.integers(2, 6).flatmap(
        lambda k: st.tuples(
            st.lists(st.floats(min_value=1e-3, max_value=1e6), min_size=k, max_size=k),
            st.lists(
                st.lists(st.integers(0, 10**6), min_size=k, max_size=k), min_size=1, max_size=5
            ),
        )
    )
)
@settings(max_examples=200, deadline=None)
def test_surprise_is_never_negative(case: tuple[list[float], list[list[int]]]) -> None:
    alpha, batches = case
    surprises, total = sequential_surprise(alpha, batches)
    assert np.isfinite(surprises).all()
    assert math.isfinite(total)
    assert (surprises >= 0.0).all()
    assert total >= 0.0


def test_the_chain_rule_between_three_dirichlets() -> None:
    # For densities p (prior), q (after batch 1), r (after both):
    #   D(r||p) = D(r||q) + D(q||p) + int (r - q) ln(q / p),
    # and ln(q/p) = sum_i n1_i ln x_i + const, E_Dir(c)[ln x_i] = psi(c_i) - psi(c_0). So the
    # total is the two batches' surprises plus a term known in closed form: the total
    # is not their sum.
    alpha = np.array([2.0, 0.7, 5.0])
    n1 = np.array([3.0, 0.0, 8.0])
    n2 = np.array([1.0, 6.0, 2.0])
    surprises, total = sequential_surprise(alpha, [n1, n2])
    q, r = alpha + n1, alpha + n1 + n2
    cross = float((n1 * ((digamma(r) - digamma(r.sum())) - (digamma(q) - digamma(q.sum())))).sum())
    assert total == pytest.approx(float(surprises.sum()) + cross, rel=1e-12)
    assert abs(cross) > 0.1  # so the identity is not "total = sum" in disguise
    # and the total is D(final || prior) computed directly
    assert total == pytest.approx(textbook(list(alpha), list(n1 + n2)), rel=1e-12)


def test_each_batch_is_measured_from_the_batches_before_it() -> None:
    # The cumulative sum against a Python loop that updates the prior batch by batch.
    rng = np.random.default_rng(7)
    alpha = rng.uniform(0.2, 4.0, size=5)
    batches = rng.integers(0, 30, size=(6, 5)).astype(float)
    batches[2] = 0.0  # an empty batch: surprise 0, and the prior is unchanged by it
    surprises, total = sequential_surprise(alpha, batches, unit="bits")
    expected, prior = [], alpha.copy()
    for counts in batches:
        expected.append(textbook(list(prior), list(counts)) / LN2)
        prior = prior + counts
    np.testing.assert_allclose(surprises, expected, rtol=1e-11, atol=1e-13)
    assert surprises[2] == 0.0
    assert total == pytest.approx(textbook(list(alpha), list(batches.sum(axis=0))) / LN2)


def test_one_batch_total_is_its_surprise() -> None:
    surprises, total = sequential_surprise([1.0, 2.0], [[3.0, 4.0]])
    assert surprises.shape == (1,)
    assert total == pytest.approx(float(surprises[0]), rel=1e-15)


# --------------------------------------------------------------------------- exact values


def exact(alpha: list[int], counts: list[int]) -> float:
    r"""The surprise in nats for whole pseudocounts and counts, from exact integers:
    Gamma(k) = (k - 1)! and psi(m) - psi(M) = -(1/m + ... + 1/(M - 1)), so

    D = ln[(A' - 1)! prod (a_i - 1)! / ((A - 1)! prod (a'_i - 1)!)]
        - sum_i n_i (1/a'_i + ... + 1/(A' - 1)),

    the log of the ratio taken in Decimal with 80 digits: no cancellation survives."""
    post = [a + n for a, n in zip(alpha, counts, strict=True)]
    a0, p0 = sum(alpha), sum(post)
    num = math.factorial(p0 - 1) * math.prod(math.factorial(a - 1) for a in alpha)
    den = math.factorial(a0 - 1) * math.prod(math.factorial(p - 1) for p in post)
    harmonic = sum(
        (
            n * sum((Fraction(1, j) for j in range(p, p0)), Fraction(0))
            for n, p in zip(counts, post, strict=True)
            if n
        ),
        Fraction(0),
    )
    with localcontext() as ctx:
        ctx.prec = 80
        value = (
            Decimal(num).ln()
            - Decimal(den).ln()
            - Decimal(harmonic.numerator) / Decimal(harmonic.denominator)
        )
        return float(value)


@pytest.mark.parametrize(
    ("alpha", "counts"),
    [
        ([1, 1], [1, 0]),
        ([1, 1], [3000, 0]),  # the data outweigh the prior: log-gammas of 2e4 cancel
        ([1, 1], [0, 20000]),
        ([1001, 1], [0, 1]),  # the black swan
        ([500, 500], [1, 0]),  # the prior outweighs the data: D ~ 1/(4 * 500)
        ([5000, 3000], [2, 1]),
        ([3, 5, 7], [100, 0, 2000]),
        ([1, 1, 1, 1], [1, 2, 3, 4]),
        ([9, 10, 11], [0, 1, 0]),  # around STIRLING_FROM: each branch of the terms
        ([2, 40, 1], [30, 0, 7]),
    ],
)
def test_exact_for_whole_numbers(alpha: list[int], counts: list[int]) -> None:
    # 1e-12 relative: the terms are each good to ~1e-14 relative of their size, which
    # here is at most ~1e2 times the surprise.
    assert float(dirichlet_kl(alpha, counts)) == pytest.approx(exact(alpha, counts), rel=1e-12)


def test_a_vague_prior_and_a_huge_batch() -> None:
    # Dir(e, e), e -> 0, then N of the first category: D -> ln Gamma(e) - ln Gamma(2e)
    # -> ln 2 (each ln Gamma(a) = -ln a + O(a)); the other parts are O(e ln N). Written
    # out, the formula subtracts log-gammas of 3e17 and keeps nothing of ln 2.
    value = float(dirichlet_kl([1e-300, 1e-300], [2.0**53, 0.0]))
    assert value == pytest.approx(LN2, rel=1e-12)
    assert textbook([1e-300, 1e-300], [2.0**53, 0.0]) != pytest.approx(LN2, rel=1e-3)


def test_a_subnormal_pseudocount() -> None:
    # Dir(e, 1) and one observation of the first: ln Gamma(e) = -ln e - gamma e + ...,
    # so D = ln(1 + e) - ln Gamma(e) + ln Gamma(1 + e) ... = -ln e - 1 + O(e), by hand:
    # T(1 + e, 1) - T(e, 1) - T(1, 0) with psi(1 + e) - psi(2 + e) = -1/(1 + e).
    e = 5e-324
    # numpy warns (to stderr) of these three; underflow is silent by default
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        value = float(dirichlet_kl([e, 1.0], [1.0, 0.0]))
    assert value == pytest.approx(-math.log(e) - 1.0, rel=1e-14)


def test_an_enormous_prior_is_not_moved() -> None:
    # alpha ~ 1e300: the posterior differs from the prior by ~n^2 / alpha ~ 1e-288.
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        value = float(dirichlet_kl([1e300, 1e300], [100.0, 1e6]))
    assert 0.0 <= value < 1e-280


@pytest.mark.parametrize("a", [5e-324, 0.3, 1.0, 9.99, STIRLING_FROM, 12.5, 1e6, 1e300])
def test_terms_are_zero_without_counts(a: float) -> None:
    assert float(surprise_terms(a, 0.0)) == 0.0
    assert float(surprise_terms(a, 0.0, 1.0)) == 0.0


@pytest.mark.parametrize("a", [0.3, 1.0, 9.99, STIRLING_FROM, 12.5, 1e3, 1e6])
@pytest.mark.parametrize("n", [1, 3, 50])
def test_terms_by_their_definition(a: float, n: int) -> None:
    # T(a, n) = ln Gamma(a + n) - ln Gamma(a) - n psi(a + n) + (1 - c) n, with
    # ln Gamma(a + n) - ln Gamma(a) = ln a + ... + ln(a + n - 1) (fsum) and SciPy's psi.
    rising = math.fsum(math.log(a + j) for j in range(n))
    for c in (0.0, 1.0):
        expected = rising - n * float(digamma(a + n)) + (1.0 - c) * n
        # 1e-12 of the largest part: the definition itself cancels its n ln(a + n)
        assert float(surprise_terms(a, n, c)) == pytest.approx(expected, abs=1e-12 * (rising + n))


@pytest.mark.parametrize("n", [1, 10, 1000, 10**9, 2**53])
def test_uniform_prior_and_n_of_one_category(n: int) -> None:
    # Dir(1, 1) and n of the first: Beta(n + 1, 1), density (n + 1) x^n, so
    # D = ln(n + 1) + n E[ln x] = ln(n + 1) + n (psi(n + 1) - psi(n + 2)) = ln(n + 1) - n/(n + 1).
    expected = math.log1p(n) - n / (n + 1)
    assert float(dirichlet_kl([1.0, 1.0], [float(n), 0.0])) == pytest.approx(expected, rel=1e-13)
