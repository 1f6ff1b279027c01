"""Tests of kldiv_cli.maths.estimators: hand-derived values, second implementations, oracles.

No expected value here is copied from the module's output. Each comes from arithmetic
written out in a comment, from a plain re-implementation of the R package ``entropy``
(cran/entropy: R/entropy.plugin.R, R/entropy.Dirichlet.R, R/entropy.shrink.R, and
the Miller-Madow and Chao-Shen formulas of its manual) written here with loops and
:mod:`math`, or, for NSB, from adaptive quadrature (:func:`scipy.integrate.quad_vec`)
over the prior's own variable xi, a route that shares no code and no change of
variables with the module. The R manual's examples print no values, so none is quoted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, special

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths import estimators
from kldiv_cli.maths.estimators import ESTIMATORS, Estimate, estimate_entropy

#: The counts of the R package's examples (?entropy, ?entropy.shrink, ...).
R_EXAMPLE = [4, 2, 3, 0, 2, 4, 0, 0, 2, 1, 1]
DIRICHLET = ("jeffreys", "laplace", "sg", "minimax")
NON_NSB = tuple(e for e in ESTIMATORS if e != "nsb")


def one(counts: object, estimator: str, bins: int | None = None) -> float:
    """The estimate of a single count vector, as a Python float."""
    est = estimate_entropy(np.asarray(counts, dtype=np.float64), estimator, bins=bins)
    assert est.entropy.shape == (1,)
    return float(est.entropy[0])


# --------------------------------------------------------------------------- references
# Plain transcriptions of the R package's definitions: lists, loops and math.log.


def ref_plugin_freqs(freqs: list[float]) -> float:
    """R entropy.plugin: freqs / sum(freqs), then -sum p log p over p > 0."""
    total = math.fsum(freqs)
    return -math.fsum(f / total * math.log(f / total) for f in freqs if f > 0)


def ref_plugin(y: list[float]) -> float:
    n = math.fsum(y)
    return ref_plugin_freqs([c / n for c in y])


def ref_miller_madow(y: list[float]) -> float:
    n = math.fsum(y)
    m = sum(1 for c in y if c > 0)
    return ref_plugin(y) + (m - 1) / (2 * n)


def ref_chao_shen(y: list[float]) -> float:
    seen = [c for c in y if c > 0]
    n = math.fsum(seen)
    f1 = float(sum(1 for c in seen if c == 1))
    if f1 == n:
        f1 = n - 1
    coverage = 1 - f1 / n
    total = 0.0
    for c in seen:
        pa = coverage * c / n
        la = 1 - (1 - pa) ** n
        total -= pa * math.log(pa) / la
    return total


def ref_shrink(y: list[float]) -> tuple[float, float]:
    """R freqs.shrink + get.lambda.shrink, then entropy.plugin: (H, lambda)."""
    k = len(y)
    target = 1 / k
    n = math.fsum(y)
    u = [c / n for c in y]
    if n in (0, 1):
        lam = 1.0
    else:
        varu = [ui * (1 - ui) / (n - 1) for ui in u]
        msp = math.fsum((ui - target) ** 2 for ui in u)
        lam = 1.0 if msp == 0 else math.fsum(varu) / msp
        lam = min(max(lam, 0.0), 1.0)
    shrunk = [lam * target + (1 - lam) * ui for ui in u]
    return ref_plugin_freqs(shrunk), lam


def ref_dirichlet(y: list[float], a: float) -> float:
    """R entropy.Dirichlet: plug-in of (y + a) / sum(y + a)."""
    return ref_plugin_freqs([c + a for c in y])


def ref_pseudocount(estimator: str, y: list[float]) -> float:
    k, n = len(y), math.fsum(y)
    return {"jeffreys": 0.5, "laplace": 1.0, "sg": 1 / k, "minimax": math.sqrt(n) / k}[estimator]


def reference(y: Sequence[float], estimator: str, bins: int | None = None) -> float:
    """Any estimator but NSB on y, with ``bins - len(y)`` zeros appended first."""
    full = [float(c) for c in y] + [0.0] * ((bins or len(y)) - len(y))
    if estimator == "plugin":
        return ref_plugin(full)
    if estimator == "miller-madow":
        return ref_miller_madow(full)
    if estimator == "chao-shen":
        return ref_chao_shen(full)
    if estimator == "shrink":
        return ref_shrink(full)[0]
    return ref_dirichlet(full, ref_pseudocount(estimator, full))


# --------------------------------------------------------------------------- NSB oracle


def ref_dirichlet_moments(y: list[float], beta: float) -> tuple[float, float]:
    """E[S] and E[S^2] under Dirichlet(y + beta), term by term (Wolpert & Wolf 1995).

    E[S]   = psi(A + 1) - sum_i a_i / A psi(a_i + 1)
    E[S^2] = 1 / (A (A + 1)) [ sum_{i != j} a_i a_j ((psi(a_i + 1) - psi(A + 2))
                                   (psi(a_j + 1) - psi(A + 2)) - psi_1(A + 2))
             + sum_i a_i (a_i + 1) ((psi(a_i + 2) - psi(A + 2))^2
                                    + psi_1(a_i + 2) - psi_1(A + 2)) ]
    with a_i = y_i + beta and A = sum_i a_i.
    """
    a = [c + beta for c in y]
    big_a = math.fsum(a)
    mean = special.digamma(big_a + 1) - math.fsum(ai / big_a * special.digamma(ai + 1) for ai in a)
    d2 = special.digamma(big_a + 2)
    t2 = special.polygamma(1, big_a + 2)
    second = 0.0
    for i, ai in enumerate(a):
        for j, aj in enumerate(a):
            if i != j:
                di = special.digamma(ai + 1) - d2
                dj = special.digamma(aj + 1) - d2
                second += ai * aj * (di * dj - t2)
        dii = special.digamma(ai + 2) - d2
        second += ai * (ai + 1) * (dii * dii + special.polygamma(1, ai + 2) - t2)
    return float(mean), second / (big_a * (big_a + 1))


def ref_log_evidence(y: list[float], beta: float) -> float:
    """ln p(y | beta) up to a constant, as the explicit products of rising factorials:
    Gamma(y + b) / Gamma(b) = b (b + 1) ... (b + y - 1), exact in floating point for
    any beta (no difference of two large ln Gamma)."""
    k, n = len(y), int(sum(y))
    total = 0.0
    for c in y:
        for j in range(int(c)):
            total += math.log(beta + j)
    for j in range(n):
        total -= math.log(k * beta + j)
    return total


def ref_nsb(y: list[float], bins: int | None = None) -> tuple[float, float]:
    """NSB posterior mean and std by adaptive quadrature over xi in (0, ln K).

    The NSB prior is flat in xi = psi(K beta + 1) - psi(beta + 1), so the posterior
    density in xi is the evidence at beta(xi), found by root-finding: no xi'(beta).
    """
    y = [float(c) for c in y] + [0.0] * ((bins or len(y)) - len(y))
    k = len(y)

    def xi(log_beta: float) -> float:
        b = math.exp(log_beta)
        return float(special.digamma(k * b + 1) - special.digamma(b + 1))

    xi_lo, xi_hi = xi(-60.0), xi(60.0)

    def beta_of(x: float) -> float:
        if x <= xi_lo:
            return math.exp(-60.0)
        if x >= xi_hi:
            return math.exp(60.0)
        return math.exp(optimize.brentq(lambda lb: xi(lb) - x, -60.0, 60.0, xtol=1e-14))

    grid = np.linspace(0.0, math.log(k), 1001)[1:-1]
    logs = [ref_log_evidence(y, beta_of(x)) for x in grid]
    top, x_peak = max(logs), float(grid[int(np.argmax(logs))])

    def integrand(x: float) -> np.ndarray:
        b = beta_of(x)
        w = math.exp(ref_log_evidence(y, b) - top)
        mean, second = ref_dirichlet_moments(y, b)
        return np.array([w, w * mean, w * second])

    total, _ = integrate.quad_vec(
        integrand, 0.0, math.log(k), epsabs=0.0, epsrel=1e-12, limit=2000, points=[x_peak]
    )
    mean = total[1] / total[0]
    return mean, math.sqrt(max(total[2] / total[0] - mean * mean, 0.0))


# --------------------------------------------------------------------------- 1. R example


@pytest.mark.parametrize("estimator", NON_NSB)
def test_r_example_matches_the_reference_implementation(estimator: str) -> None:
    assert one(R_EXAMPLE, estimator) == pytest.approx(
        reference(R_EXAMPLE, estimator), rel=1e-13, abs=0
    )


def test_r_example_spot_values_by_hand() -> None:
    # y = (4,2,3,0,2,4,0,0,2,1,1): n = 19, counts 4,4,3,2,2,2,1,1 over 8 bins, so
    # plug-in = ln 19 - (2*4 ln 4 + 3 ln 3 + 3*2 ln 2) / 19 = ln 19 - (22 ln 2 + 3 ln 3) / 19
    # and Miller-Madow adds (8 - 1) / (2 * 19) = 7/38.
    plugin = math.log(19) - (22 * math.log(2) + 3 * math.log(3)) / 19
    assert one(R_EXAMPLE, "plugin") == pytest.approx(plugin, rel=1e-14)
    assert one(R_EXAMPLE, "miller-madow") == pytest.approx(plugin + 7 / 38, rel=1e-14)
    # Laplace: (y + 1) / 30 = 5,3,4,1,3,5,1,1,3,2,2 over 30:
    # H = ln 30 - (2*5 ln 5 + 3*3 ln 3 + 4 ln 4 + 2*2 ln 2) / 30.
    laplace = math.log(30) - (10 * math.log(5) + 9 * math.log(3) + 12 * math.log(2)) / 30
    assert one(R_EXAMPLE, "laplace") == pytest.approx(laplace, rel=1e-14)


def test_r_example_shrinkage_intensity_follows_r() -> None:
    est = estimate_entropy(R_EXAMPLE, "shrink")
    h, lam = ref_shrink([float(c) for c in R_EXAMPLE])
    assert est.lam is not None
    assert est.std is None
    assert float(est.lam[0]) == pytest.approx(lam, rel=1e-13)
    assert float(est.entropy[0]) == pytest.approx(h, rel=1e-13)
    # By hand: u = y / 19, t = 1/11; sum u(1 - u) = 1 - sum y^2 / 361 = 1 - 55/361, so
    # sum varu = (306/361) / 18 = 17/361; msp = sum u^2 - 2t + 11 t^2 = 55/361 - 1/11
    # = 244/3971; lambda = (17/361) / (244/3971) = 187/244.
    assert float(est.lam[0]) == pytest.approx(187 / 244, rel=1e-14)


# --------------------------------------------------------------------------- 2. by hand


def test_miller_madow_tiny_case() -> None:
    # y = (2, 1, 1, 0): n = 4, m = 3; plug-in = -(1/2 ln 1/2 + 2 * 1/4 ln 1/4)
    # = (1/2) ln 2 + ln 2 = 1.5 ln 2; Miller-Madow adds (3 - 1) / (2 * 4) = 1/4.
    assert one([2, 1, 1, 0], "plugin") == pytest.approx(1.5 * math.log(2), rel=1e-15)
    assert one([2, 1, 1, 0], "miller-madow") == pytest.approx(1.5 * math.log(2) + 0.25, rel=1e-15)


def test_chao_shen_tiny_cases() -> None:
    # y = (2, 1, 1): n = 4, f1 = 2, C = 1 - 2/4 = 1/2, pa = (1/4, 1/8, 1/8);
    # la = 1 - (3/4)^4 = 175/256 and 1 - (7/8)^4 = 1695/4096;
    # H = (1/4) ln 4 / (175/256) + 2 (1/8) ln 8 / (1695/4096)
    #   = ln 2 * (128/175 + 3072/1695).
    expected = math.log(2) * float(Fraction(128, 175) + Fraction(3072, 1695))
    assert one([2, 1, 1], "chao-shen") == pytest.approx(expected, rel=1e-14)
    # All singletons, y = (1, 1, 1): f1 = n = 3 is taken as 2, so C = 1/3, pa = 1/9,
    # la = 1 - (8/9)^3 = 217/729; H = 3 (1/9) ln 9 / (217/729) = 2 ln 3 * 243/217.
    assert one([1, 1, 1], "chao-shen") == pytest.approx(2 * math.log(3) * 243 / 217, rel=1e-14)
    # One observation: f1 = n = 1 is taken as 0, C = 1, pa = 1, la = 1: H = 0.
    assert one([1, 0], "chao-shen") == 0.0


@pytest.mark.parametrize(
    ("counts", "estimator", "expected"),
    [
        # (1, 0) + 1 = (2, 1) over 3.
        ([1, 0], "laplace", math.log(3) - 2 / 3 * math.log(2)),
        # (1, 0) + 1/2 = (3/2, 1/2) over 2 = (3/4, 1/4).
        ([1, 0], "jeffreys", math.log(4) - 0.75 * math.log(3)),
        # K = 4, a = 1/4: (2.25, .25, .25, .25) / 3 = (3/4, 1/12, 1/12, 1/12).
        ([2, 0, 0, 0], "sg", 0.75 * math.log(4 / 3) + 0.25 * math.log(12)),
        # n = 4, K = 2, a = sqrt(4)/2 = 1: (4, 2) / 6 = (2/3, 1/3).
        ([3, 1], "minimax", math.log(3) - 2 / 3 * math.log(2)),
    ],
)
def test_dirichlet_tiny_cases(counts: list[int], estimator: str, expected: float) -> None:
    assert one(counts, estimator) == pytest.approx(expected, rel=1e-15)


def test_shrink_tiny_case() -> None:
    # y = (6, 2): u = (3/4, 1/4), t = 1/2; sum varu = 2 (3/16) / 7 = 3/56,
    # msp = 2 (1/4)^2 = 1/8, lambda = 3/7; shrunk = 3/14 + (4/7) u = (9/14, 5/14).
    est = estimate_entropy([6, 2], "shrink")
    assert est.lam is not None
    assert float(est.lam[0]) == pytest.approx(3 / 7, rel=1e-15)
    expected = -(9 / 14 * math.log(9 / 14) + 5 / 14 * math.log(5 / 14))
    assert float(est.entropy[0]) == pytest.approx(expected, rel=1e-15)


def test_shrink_lambda_is_clipped_to_one() -> None:
    # y = (2, 1, 1): sum varu = (1/4 + 3/16 + 3/16) / 3 = 5/24, msp = (1/6)^2 + 2 (1/12)^2
    # = 1/24: the ratio is 5, truncated to 1, and the estimate is the target's ln 3.
    est = estimate_entropy([2, 1, 1], "shrink")
    assert est.lam is not None
    assert float(est.lam[0]) == 1.0
    assert float(est.entropy[0]) == pytest.approx(math.log(3), rel=1e-15)
    # Even counts: msp = 0, lambda = 1 (R's "overshrinkage" branch).
    assert float(estimate_entropy([5, 5], "shrink").lam[0]) == 1.0  # type: ignore[index]


def test_shrink_lambda_is_one_for_a_single_observation() -> None:
    # n = 1: R takes lambda = 1, the uniform target over K = 3 (or bins = 5) bins.
    est = estimate_entropy([0, 1, 0], "shrink")
    assert est.lam is not None
    assert float(est.lam[0]) == 1.0
    assert float(est.entropy[0]) == pytest.approx(math.log(3), rel=1e-15)
    est = estimate_entropy([0, 1, 0], "shrink", bins=5)
    assert est.lam is not None
    assert float(est.lam[0]) == 1.0
    assert float(est.entropy[0]) == pytest.approx(math.log(5), rel=1e-15)


def test_one_bin_gives_zero() -> None:
    for estimator in ESTIMATORS:
        est = estimate_entropy([[7.0], [1.0]], estimator)
        assert est.entropy.tolist() == [0.0, 0.0], estimator
    nsb = estimate_entropy([[7.0]], "nsb")
    assert nsb.std is not None
    assert nsb.std.tolist() == [0.0]


# --------------------------------------------------------------------------- 3. NSB


NSB_CASES = [
    (R_EXAMPLE, None),
    ([5, 5, 5, 5, 5, 5, 5, 5], None),  # uniform
    ([7, 0, 0, 0], None),  # a single non-zero bin
    ([1], 5),  # one observation, four declared empty bins
    (R_EXAMPLE, 30),  # bins larger than K
    ([100, 200, 50, 1, 1, 1], None),
]


@pytest.mark.parametrize(("counts", "bins"), NSB_CASES)
def test_nsb_matches_quadrature_over_xi(counts: list[int], bins: int | None) -> None:
    mean, std = ref_nsb([float(c) for c in counts], bins)
    est = estimate_entropy(counts, "nsb", bins=bins)
    assert est.std is not None
    assert est.lam is None
    assert float(est.entropy[0]) == pytest.approx(mean, rel=1e-9)
    assert float(est.std[0]) == pytest.approx(std, rel=1e-8)


def test_nsb_r_example_sanity() -> None:
    # Loose, independent facts: the posterior mean lies between the plug-in (biased low)
    # and ln 11, and within a few posterior stds of the bias-corrected estimates.
    est = estimate_entropy(R_EXAMPLE, "nsb")
    assert est.std is not None
    h, sd = float(est.entropy[0]), float(est.std[0])
    assert ref_plugin([float(c) for c in R_EXAMPLE]) < h < math.log(11)
    assert 0.05 < sd < 0.5
    assert abs(h - ref_miller_madow([float(c) for c in R_EXAMPLE])) < 3 * sd


@pytest.mark.parametrize("beta", [0.5, 3.0])
def test_second_moment_formula_against_monte_carlo(beta: float) -> None:
    # Draw p ~ Dirichlet(y + beta) and compare the sample mean and variance of H(p)
    # with the closed forms of the reference (which the module is checked against
    # below): 200,000 draws give the variance to ~0.3%.
    y = [float(c) for c in R_EXAMPLE]
    rng = np.random.default_rng(20260101)
    p = rng.dirichlet(np.array(y) + beta, size=200_000)
    h = -(p * np.log(p)).sum(axis=1)
    mean, second = ref_dirichlet_moments(y, beta)
    var = second - mean * mean
    assert h.mean() == pytest.approx(mean, abs=6 * h.std() / math.sqrt(h.size))
    assert h.var() == pytest.approx(var, rel=0.02)


@pytest.mark.parametrize("beta", [1e-6, 0.05, 1.0, 7.5, 1e4])
@pytest.mark.parametrize(
    ("counts", "bins"), [(R_EXAMPLE, None), (R_EXAMPLE, 20), ([3, 0, 0], None)]
)
def test_conditional_moments_match_the_wolpert_wolf_double_sum(
    counts: list[int], bins: int | None, beta: float
) -> None:
    # The module computes Var[S | beta] in a rearranged form, from classes of equal
    # counts; the reference sums every pair of bins.
    y = [float(c) for c in counts] + [0.0] * ((bins or len(counts)) - len(counts))
    values, mult = estimators._count_classes(np.array([counts], dtype=np.float64))
    post = estimators._Posterior(values, mult, np.array([float(sum(counts))]), len(y))
    mean, var = post.moments(np.array([[beta]]))
    ref_mean, ref_second = ref_dirichlet_moments(y, beta)
    assert float(mean[0, 0]) == pytest.approx(ref_mean, rel=1e-12)
    assert float(var[0, 0]) == pytest.approx(ref_second - ref_mean**2, rel=1e-7)


def test_nsb_posterior_density_matches_the_direct_formula() -> None:
    # g(t) = t + ln xi'(e^t) + ln p(y | e^t) up to a constant: differences between two
    # values of beta must match the naive formula (moderate beta, where it is exact).
    y = [float(c) for c in R_EXAMPLE] + [0.0] * 4
    k = len(y)
    values, mult = estimators._count_classes(np.array([R_EXAMPLE], dtype=np.float64))
    post = estimators._Posterior(values, mult, np.array([19.0]), k)
    ts = np.array([[-3.0, -1.0, 0.0, 2.0, 5.0, 25.0]])
    got = post.log_density(ts)[0]

    def naive(t: float) -> float:
        b = math.exp(t)
        xi_prime = k * special.polygamma(1, k * b + 1) - special.polygamma(1, b + 1)
        return t + math.log(xi_prime) + ref_log_evidence(y, b)

    want = [naive(float(t)) for t in ts[0, :-1]]
    assert np.allclose(got[:-1] - got[0], np.array(want) - want[0], rtol=0, atol=1e-11)
    # At beta = e^25 the naive xi' cancels to ~7 digits; the series does not.
    big = math.exp(25.0)
    series = 25.0 - 2 * 25.0 + math.log(0.5 * (1 - 1 / k) - (1 - 1 / k**2) / (6 * big))
    assert got[-1] - got[0] == pytest.approx(series + ref_log_evidence(y, big) - want[0], abs=1e-9)


def test_nsb_large_alphabet_is_cheap_and_bounded() -> None:
    # 10^6 declared bins cost one extra class of zeros, not 10^6 terms.
    est = estimate_entropy(R_EXAMPLE, "nsb", bins=10**6)
    assert est.std is not None
    h = float(est.entropy[0])
    assert 0.0 < h <= math.log(10**6)
    assert math.isfinite(float(est.std[0]))
    # More declared bins can only raise the estimate of an undersampled source.
    assert h > float(estimate_entropy(R_EXAMPLE, "nsb").entropy[0])


# --------------------------------------------------------------------------- 4. bins


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_declared_bins_equal_appended_zeros(estimator: str) -> None:
    padded = R_EXAMPLE + [0] * 9
    a = estimate_entropy(R_EXAMPLE, estimator, bins=20)
    b = estimate_entropy(padded, estimator)
    assert float(a.entropy[0]) == pytest.approx(float(b.entropy[0]), rel=1e-12)
    if estimator in ("plugin", "miller-madow", "chao-shen"):
        # These do not depend on the number of bins.
        assert float(a.entropy[0]) == pytest.approx(one(R_EXAMPLE, estimator), rel=1e-14)
    else:
        assert float(a.entropy[0]) != pytest.approx(one(R_EXAMPLE, estimator), rel=1e-6)
    if estimator != "nsb":
        assert float(a.entropy[0]) == pytest.approx(reference(R_EXAMPLE, estimator, 20), rel=1e-13)
    if estimator == "shrink":
        assert a.lam is not None
        assert b.lam is not None
        assert float(a.lam[0]) == pytest.approx(float(b.lam[0]), rel=1e-13)


def test_bins_below_the_number_of_columns_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"bins \(3\).*11"):
        estimate_entropy(R_EXAMPLE, "plugin", bins=3)
    assert one(R_EXAMPLE, "sg", bins=11) == one(R_EXAMPLE, "sg")


def test_bins_must_be_a_whole_number() -> None:
    with pytest.raises(UsageError, match="whole number"):
        estimate_entropy(R_EXAMPLE, "sg", bins=12.5)  # type: ignore[arg-type]
    twelve = np.int64(12)  # NumPy integers are integers too
    assert one(R_EXAMPLE, "sg", bins=twelve) == one([*R_EXAMPLE, 0], "sg")  # type: ignore[arg-type]


def test_counts_of_three_dimensions_are_invalid_data() -> None:
    with pytest.raises(InvalidDataError, match="3 dimensions"):
        estimate_entropy(np.ones((2, 2, 2)), "plugin")


def test_unknown_estimator_lists_the_choices() -> None:
    with pytest.raises(UsageError, match="unknown estimator 'ML'") as info:
        estimate_entropy(R_EXAMPLE, "ML")
    for name in ESTIMATORS:
        assert name in str(info.value)


# --------------------------------------------------------------------------- 5. shapes


STACK = [
    R_EXAMPLE,
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [5] * 11,
    [100, 0, 3, 1, 1, 1, 0, 2, 9, 40, 7],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
    [1] * 11,
]


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("bins", [None, 15])
def test_a_stack_gives_what_each_row_gives_alone(estimator: str, bins: int | None) -> None:
    stacked = estimate_entropy(np.array(STACK, dtype=np.float64), estimator, bins=bins)
    assert isinstance(stacked, Estimate)
    assert stacked.entropy.shape == (len(STACK),)
    for i, row in enumerate(STACK):
        alone = estimate_entropy(row, estimator, bins=bins)
        assert float(stacked.entropy[i]) == pytest.approx(float(alone.entropy[0]), rel=1e-10)
        if estimator == "nsb":
            assert stacked.std is not None
            assert alone.std is not None
            assert float(stacked.std[i]) == pytest.approx(float(alone.std[0]), rel=1e-8)
        if estimator == "shrink":
            assert stacked.lam is not None
            assert alone.lam is not None
            assert float(stacked.lam[i]) == float(alone.lam[0])
    assert (stacked.std is not None) == (estimator == "nsb")
    assert (stacked.lam is not None) == (estimator == "shrink")


def test_rows_with_different_numbers_of_classes_in_one_nsb_block() -> None:
    # Padding of the class table must not leak between rows: a row with many distinct
    # counts next to one with a single one.
    rows = np.array([list(range(1, 41)), [3] + [0] * 39], dtype=np.float64)
    stacked = estimate_entropy(rows, "nsb")
    assert float(stacked.entropy[1]) == pytest.approx(one(rows[1], "nsb"), rel=1e-10)
    assert float(stacked.entropy[0]) == pytest.approx(one(rows[0], "nsb"), rel=1e-10)


def test_an_empty_stack_gives_empty_estimates() -> None:
    for estimator in ESTIMATORS:
        est = estimate_entropy(np.zeros((0, 4)), estimator)
        assert est.entropy.shape == (0,)


# --------------------------------------------------------------------------- 6. properties


counts_1d = st.integers(1, 12).flatmap(
    lambda k: st.lists(st.integers(0, 60), min_size=k, max_size=k).filter(lambda y: sum(y) > 0)
)


@settings(max_examples=60, deadline=None)
@given(y=counts_1d, extra=st.integers(0, 5))
def test_every_estimator_is_finite_and_non_negative(y: list[int], extra: int) -> None:
    bins = len(y) + extra
    for estimator in ESTIMATORS:
        est = estimate_entropy(y, estimator, bins=bins)
        h = float(est.entropy[0])
        assert math.isfinite(h), (estimator, y, h)
        assert h >= 0.0, (estimator, y, h)
        assert math.copysign(1.0, h) == 1.0  # no -0.0
        if est.std is not None:
            assert math.isfinite(float(est.std[0]))
            assert float(est.std[0]) >= 0.0
        if est.lam is not None:
            assert 0.0 <= float(est.lam[0]) <= 1.0
        if estimator in ("plugin", "shrink", *DIRICHLET, "nsb"):
            assert h <= math.log(bins), (estimator, y, h)
        if estimator != "nsb":
            assert h == pytest.approx(reference(y, estimator, bins), rel=1e-12, abs=1e-14)


@settings(max_examples=100, deadline=None)
@given(y=counts_1d)
def test_plugin_never_exceeds_miller_madow(y: list[int]) -> None:
    assert one(y, "plugin") <= one(y, "miller-madow")


@settings(max_examples=60, deadline=None)
@given(y=counts_1d, extra=st.integers(0, 4))
def test_dirichlet_estimators_are_at_most_ln_k(y: list[int], extra: int) -> None:
    bins = len(y) + extra
    for estimator in DIRICHLET:
        assert one(y, estimator, bins) <= math.log(bins)


@settings(max_examples=40, deadline=None)
@given(y=counts_1d, data=st.data())
def test_permuting_bins_changes_no_estimate(y: list[int], data: st.DataObject) -> None:
    perm = data.draw(st.permutations(y))
    for estimator in ESTIMATORS:
        a = estimate_entropy(y, estimator)
        b = estimate_entropy(perm, estimator)
        assert float(a.entropy[0]) == pytest.approx(float(b.entropy[0]), rel=1e-12, abs=1e-15)
        if a.std is not None and b.std is not None:
            assert float(a.std[0]) == pytest.approx(float(b.std[0]), rel=1e-12, abs=1e-15)
        if a.lam is not None and b.lam is not None:
            assert float(a.lam[0]) == pytest.approx(float(b.lam[0]), rel=1e-12)
