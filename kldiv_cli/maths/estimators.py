r"""Entropy estimators for count data, as defined by the R package ``entropy``.

Each estimator takes the counts ``y_1 .. y_K`` of ``K`` bins (one distribution per row
of a 2-D array) and returns the estimated Shannon entropy in nats; the caller converts
units. With ``n = sum_k y_k`` the sample size and ``m`` the number of bins with a
non-zero count:

=================  ==========================================================================
``plugin``         :math:`-\sum_k \hat p_k \ln \hat p_k`, :math:`\hat p_k = y_k / n`
``miller-madow``   plug-in :math:`+ (m - 1) / (2n)`
``chao-shen``      coverage-adjusted Horvitz-Thompson estimator (Chao & Shen, 2003)
``shrink``         plug-in of James-Stein shrunken frequencies (Hausser & Strimmer, 2009)
``jeffreys``       plug-in of :math:`(y_k + a) / (n + K a)` with :math:`a = 1/2`
``laplace``        the same with :math:`a = 1`
``sg``             the same with :math:`a = 1/K` (Schurmann & Grassberger)
``minimax``        the same with :math:`a = \sqrt{n} / K`
``nsb``            posterior mean under the Nemenman-Shafee-Bialek prior, with its
                   posterior standard deviation
=================  ==========================================================================

``bins`` declares an alphabet larger than the columns given: it is as if ``bins - K``
zero counts were appended to every row. Only the estimators that depend on the number
of bins see them (``shrink``, the four Dirichlet pseudocount estimators, ``nsb``).

Every estimate is finite and >= 0, never NaN or -0.0; the plug-in estimators of a
distribution on ``K`` bins (``plugin``, ``shrink``, the Dirichlet ones) and ``nsb``
are also at most ``ln K``, to the last bit. Everything is vectorised over the rows.
NumPy is the only import at module level: :mod:`scipy.special`, which ``nsb`` needs
and whose import costs ~0.6 s, is imported by the functions that use it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths.core import FloatArray, _dot, _floor0, _log, _positive

#: The estimator names :func:`estimate_entropy` accepts, in the order the CLI lists them.
ESTIMATORS: Final = (
    "plugin",
    "miller-madow",
    "chao-shen",
    "shrink",
    "jeffreys",
    "laplace",
    "sg",
    "minimax",
    "nsb",
)

#: The Dirichlet pseudocount estimators (see :func:`_pseudocount`).
_DIRICHLET: Final = ("jeffreys", "laplace", "sg", "minimax")


@dataclass(frozen=True)
class Estimate:
    """The entropy estimates of a stack of count vectors, in nats.

    Attributes
    ----------
    entropy : ndarray, shape (n,)
        One estimate per distribution (row), finite and >= 0.
    std : ndarray, shape (n,) or None
        ``nsb`` only: the posterior standard deviation of the entropy.
    lam : ndarray, shape (n,) or None
        ``shrink`` only: the shrinkage intensity lambda in [0, 1].
    """

    entropy: FloatArray
    std: FloatArray | None = None
    lam: FloatArray | None = None


# --------------------------------------------------------------------------- public API


def estimate_entropy(counts: ArrayLike, estimator: str, *, bins: int | None = None) -> Estimate:
    r"""Estimate the Shannon entropy (nats) of each row of counts.

    With ``y_k`` the counts of a row, ``n = sum_k y_k``, ``m = #{k : y_k > 0}`` and
    ``K`` bins (``bins``, or the number of columns):

    .. math::

        \hat H_{\mathrm{plugin}} &= -\sum_k \frac{y_k}{n} \ln \frac{y_k}{n}
            \qquad (0 \ln 0 = 0) \\
        \hat H_{\mathrm{MM}} &= \hat H_{\mathrm{plugin}} + \frac{m - 1}{2n} \\
        \hat H_{\mathrm{CS}} &= -\sum_{k: y_k > 0}
            \frac{\tilde p_k \ln \tilde p_k}{1 - (1 - \tilde p_k)^n}, \qquad
            \tilde p_k = C \frac{y_k}{n}, \quad C = 1 - \frac{f_1}{n} \\
        \hat H_{\mathrm{Dir}(a)} &= -\sum_k p_k \ln p_k, \qquad
            p_k = \frac{y_k + a}{n + K a}

    where ``f_1`` is the number of singletons (``y_k = 1``), taken as ``n - 1`` if every
    count is a singleton; ``a`` is 1/2 (``jeffreys``), 1 (``laplace``), ``1/K``
    (``sg``) or ``sqrt(n)/K`` (``minimax``).

    ``shrink`` (R's ``freqs.shrink``) is the plug-in entropy of
    ``lambda / K + (1 - lambda) y_k / n``, with

    .. math::

        \lambda = \min\Big(1, \frac{\sum_k u_k (1 - u_k) / (n - 1)}
                                 {\sum_k (u_k - 1/K)^2}\Big), \qquad u_k = y_k / n

    and ``lambda = 1`` when ``n = 1`` or the denominator is 0.

    ``nsb`` is the posterior mean of the entropy ``S`` under the NSB prior, a mixture
    of symmetric Dirichlet(beta) priors over beta with the weight
    ``xi'(beta) = K psi_1(K beta + 1) - psi_1(beta + 1)`` that makes the prior on
    ``xi(beta) = E[S | beta]`` flat; its posterior over beta is
    ``xi'(beta) p(y | beta)`` with the Dirichlet-multinomial evidence

    .. math::

        p(y \mid \beta) \propto \frac{\Gamma(K\beta)}{\Gamma(n + K\beta)}
            \prod_k \frac{\Gamma(y_k + \beta)}{\Gamma(\beta)}, \qquad
        E[S \mid y, \beta] = \psi(A + 1) - \sum_k \frac{a_k}{A} \psi(a_k + 1)

    with ``a_k = y_k + beta`` and ``A = n + K beta``. ``std`` is the posterior standard
    deviation, from ``Var[S | y, beta]`` (Wolpert & Wolf, 1995) and the law of total
    variance. The integral over beta is numerical, with a relative error ~1e-12 (an
    ``std`` below 1e-6, from a very large sample, is exact to ~1e-16 absolute).

    Parameters
    ----------
    counts : array_like
        Shape ``(n, K)``, one count vector per row, or ``(K,)`` for a single one.
        Already validated by the caller: finite, >= 0, integral, every row total > 0.
    estimator : str
        One of :data:`ESTIMATORS`.
    bins : int, optional
        The size of the alphabet, >= K: as if ``bins - K`` zero counts were appended
        to every row.

    Returns
    -------
    Estimate
        ``entropy`` of shape ``(n,)`` (``(1,)`` for a 1-D ``counts``), finite, >= 0;
        ``std`` for ``nsb`` and ``lam`` for ``shrink``, else None.

    Raises
    ------
    UsageError
        If ``estimator`` is unknown, or ``bins`` is not an integer or is below the
        number of columns.
    InvalidDataError
        If ``counts`` has more than two dimensions.

    Examples
    --------
    >>> est = estimate_entropy([[1, 1], [2, 0]], "plugin")
    >>> [round(float(h), 12) for h in est.entropy]  # ln 2, 0
    [0.69314718056, 0.0]
    >>> float(estimate_entropy([1, 0], "miller-madow", bins=4).entropy[0])
    0.0
    """
    if estimator not in ESTIMATORS:
        raise UsageError(f"unknown estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
    y = _rows(counts)
    k_given = y.shape[1]
    if bins is None:
        k = k_given
    else:
        try:
            k = operator.index(bins)
        except TypeError:
            raise UsageError(f"bins must be a whole number, not {bins!r}") from None
        if k < k_given:
            raise UsageError(
                f"bins ({k}) is smaller than the number of count columns ({k_given}); "
                "it must be at least that"
            )
    extra = k - k_given
    n = y.sum(axis=1)

    if estimator == "plugin":
        return Estimate(_plugin(y, n, k_given))
    if estimator == "miller-madow":
        return Estimate(_miller_madow(y, n))
    if estimator == "chao-shen":
        return Estimate(_chao_shen(y, n))
    if estimator == "shrink":
        h, lam = _shrink(y, n, k, extra)
        return Estimate(h, lam=lam)
    if estimator in _DIRICHLET:
        return Estimate(_dirichlet(y, n, _pseudocount(estimator, n, k), k, extra))
    mean, std = _nsb(y, n, k)
    return Estimate(mean, std=std)


# --------------------------------------------------------------------------- inputs


def _rows(counts: ArrayLike) -> FloatArray:
    """The counts as a float64 array of shape (rows, K); a 1-D vector is one row."""
    y = np.asarray(counts, dtype=np.float64)
    if y.ndim == 1:
        return y[np.newaxis, :]
    if y.ndim != 2:
        raise InvalidDataError(
            f"counts must be 1-D (one distribution) or 2-D (one per row); it has {y.ndim} "
            "dimensions"
        )
    return y


def _pseudocount(estimator: str, n: FloatArray, k: int) -> FloatArray:
    """The pseudocount a of each row: 1/2, 1, 1/K or sqrt(n)/K."""
    if estimator == "jeffreys":
        return np.full(n.shape, 0.5)
    if estimator == "laplace":
        return np.ones(n.shape)
    if estimator == "sg":
        return np.full(n.shape, 1.0 / k)
    return np.sqrt(n) / k  # minimax


# --------------------------------------------------------------------------- plug-in family


def _plugin_nats(p: FloatArray) -> FloatArray:
    """-sum_k p_k ln p_k of each row, with 0 ln 0 = 0 (unclamped)."""
    return -_dot(p, _log(p), -1)


def _cap(h: FloatArray, k: int) -> FloatArray:
    """Clamp a plug-in entropy of a distribution on k bins into [0, ln k].

    The bound is exact mathematics; the sum of K rounded terms of a uniform
    distribution can land an ulp above ln K.
    """
    return np.minimum(_floor0(h), math.log(k)) + 0.0


def _plugin(y: FloatArray, n: FloatArray, k: int) -> FloatArray:
    return _cap(_plugin_nats(y / n[:, np.newaxis]), k)


def _miller_madow(y: FloatArray, n: FloatArray) -> FloatArray:
    m = np.count_nonzero(y, axis=1)
    return _floor0(_plugin_nats(y / n[:, np.newaxis]) + (m - 1) / (2.0 * n))


def _chao_shen(y: FloatArray, n: FloatArray) -> FloatArray:
    f1 = np.count_nonzero(y == 1.0, axis=1).astype(np.float64)
    # All singletons would give coverage C = 0 and the estimate 0 / 0: R takes
    # f1 = n - 1 then (so n = 1, a single observation, gives C = 1 and H = 0).
    f1 = np.where(f1 == n, n - 1.0, f1)
    coverage = 1.0 - f1 / n
    seen = _positive(y)
    pa = (coverage / n)[:, np.newaxis] * y
    # 1 - (1 - pa)^n, the chance to see a bin of probability pa in n draws, as
    # -expm1(n log1p(-pa)): the power form loses every digit when n pa is tiny.
    with np.errstate(divide="ignore"):  # log1p(-1) = -inf for pa = 1: expm1 gives -1
        la = -np.expm1(n[:, np.newaxis] * np.log1p(-pa))
    # Unseen bins have pa = 0 and la = 0; a 1 keeps their 0 / 0 out (their term is 0).
    terms = pa * _log(pa, seen) / np.where(seen, la, 1.0)
    return _floor0(-terms.sum(axis=1))


def _shrink(y: FloatArray, n: FloatArray, k: int, extra: int) -> tuple[FloatArray, FloatArray]:
    """R's ``freqs.shrink`` then the plug-in entropy: (entropy, lambda) of each row."""
    target = 1.0 / k
    u = y / n[:, np.newaxis]
    # R: varu = u (1 - u) / (n - 1), the unbiased variance of u; msp = sum (u - t)^2,
    # over every bin (each declared extra bin adds (0 - t)^2, and no variance).
    n_minus_1 = np.where(n > 1.0, n - 1.0, 1.0)  # n = 1 takes lambda = 1 below
    varu = (u * (1.0 - u)).sum(axis=1) / n_minus_1
    msp = ((u - target) ** 2).sum(axis=1) + extra * target * target
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(msp == 0.0, 1.0, varu / msp)
    # R truncates lambda into [0, 1], and takes 1 for a sample of one (n = 1).
    lam = np.where(n <= 1.0, 1.0, np.clip(lam, 0.0, 1.0))
    shrunk = (lam * target)[:, np.newaxis] + (1.0 - lam)[:, np.newaxis] * u
    h = _plugin_nats(shrunk)
    zero_bin = lam * target  # the frequency of each declared extra (empty) bin
    h -= extra * zero_bin * _log(zero_bin)
    return _cap(h, k), lam + 0.0


def _dirichlet(y: FloatArray, n: FloatArray, a: FloatArray, k: int, extra: int) -> FloatArray:
    """Plug-in entropy of (y_k + a) / (n + K a), the extra empty bins included."""
    total = n + k * a
    p = (y + a[:, np.newaxis]) / total[:, np.newaxis]
    h = _plugin_nats(p)
    p0 = a / total  # each declared extra bin; a > 0, so p0 > 0
    h -= extra * p0 * np.log(p0)
    return _cap(h, k)


# --------------------------------------------------------------------------- NSB
#
# The posterior over beta is integrated in t = ln beta. Its log density, up to a
# constant, is
#
#     g(t) = t + ln xi'(beta) + ln p(y | beta),
#
# the `t` being the Jacobian d beta / dt = beta. Every count enters through its value
# and the number of bins sharing it (the zero counts are one class), so a row costs
# its number of distinct counts, not K.
#
# Digits. ln p(y | beta) is written as sum_k T(beta, y_k) - T(K beta, n) + const with
# T(x, y) = -ln B(x, y) = ln Gamma(x + y) - ln Gamma(x) - ln Gamma(y): each term is
# then of the size min(x, y) ln(max / min) instead of n ln n (which, for n = 1e9, would
# leave the posterior weights only 6 correct digits). T and psi(x + a) - psi(x) are
# taken through Stirling series for large arguments, where differences of the library
# functions cancel catastrophically (ln Gamma(1e15 + 3) - ln Gamma(1e15) has no
# correct digit), and xi'(beta) through its asymptotic series for large beta, where
# its two terms cancel to 1/(2 beta^2). So the integrand is right for every beta in
# [1e-190, 1e190].
#
# Quadrature. A trapezoid sum in u, where u(t) = (t - t*) / F + asinh((t - t*) / s):
# t* the posterior's peak in t, s the half-width of its narrower side. Near the peak
# the steps are ~s h, so a peak of width 1e-6 is resolved; far from it they are F h
# (~0.5) in t, fine enough for E[S | beta] and the density, whose nearest
# singularities lie at Im t = pi (beta < 0). A sinh map, whose steps keep growing,
# would lose digits on broad posteriors (well-sampled even counts). The integrand
# falls to e^-32 at both ends of the grid, so the trapezoid rule converges
# geometrically in h; at h = 0.12 it agrees with adaptive quadrature to ~1e-13.

#: Above this argument the Stirling series replace the library functions.
_SERIES_FROM: Final = 20.0
#: The posterior is integrated over ln beta where it is within e^-_TAIL of its peak.
_TAIL: Final = 32.0
#: The drop of the log density from its peak that defines the half-width s.
_CORE_DROP: Final = 0.5
#: Never look further than this from the peak, in ln beta.
_MAX_REACH: Final = 200.0
#: The trapezoid step in u: the relative error is ~1e-13 at 0.12 (see the comment).
_STEP: Final = 0.12
#: Far from the peak the grid is uniform in ln beta, with steps of _FAR * _STEP.
_FAR: Final = 4.0
#: The spacing, in ln beta, of the coarse grid that brackets the peak.
_COARSE: Final = 1.0
#: Elements of a (rows, classes, grid) temporary: bounds the memory to ~10 MB each.
_BLOCK: Final = 1 << 20
#: 1 / golden ratio, for the golden-section search of the peak.
_GOLDEN: Final = (math.sqrt(5.0) - 1.0) / 2.0


def _stirling_tail(z: FloatArray) -> FloatArray:
    """ln Gamma(z) - [(z - 1/2) ln z - z + ln(2 pi) / 2] for z >= 20, to ~1e-18."""
    w = 1.0 / (z * z)
    return (1.0 / 12 - w * (1.0 / 360 - w * (1.0 / 1260 - w * (1.0 / 1680 - w / 1188)))) / z


def _by_branch(
    big: NDArray[np.bool_],
    args: tuple[FloatArray, ...],
    series: Callable[..., FloatArray],
    direct: Callable[..., FloatArray],
) -> FloatArray:
    """``series(*args)`` where ``big``, ``direct(*args)`` elsewhere, each on its part only."""
    if big.all():
        return series(*args)
    if not big.any():
        return direct(*args)
    out = np.empty(big.shape)
    out[big] = series(*(arg[big] for arg in args))
    small = ~big
    out[small] = direct(*(arg[small] for arg in args))
    return out


def _neg_log_beta(x: FloatArray, y: FloatArray) -> FloatArray:
    r"""-ln B(x, y) = ln Gamma(x + y) - ln Gamma(x) - ln Gamma(y), elementwise, x, y > 0.

    With ``h = max(x, y) >= 20`` and ``l = min(x, y)``, ``ln Gamma(h + l) - ln Gamma(h)``
    would cancel (to no correct digit for h = 1e15, l = 3); Stirling's series give it as
    ``(h + l - 1/2) log1p(l / h) + l ln h - l`` plus their tails, exact to ~1e-16
    relative. Below 20 the library's ln Gamma is exact enough.
    """
    from scipy.special import gammaln

    def series(h: FloatArray, low: FloatArray) -> FloatArray:
        out = (h + low - 0.5) * np.log1p(low / h)
        out += low * (np.log(h) - 1.0)
        out -= gammaln(low)
        out += _stirling_tail(h + low) - _stirling_tail(h)
        return out

    def direct(h: FloatArray, low: FloatArray) -> FloatArray:
        return np.asarray(gammaln(h + low) - gammaln(h) - gammaln(low), dtype=np.float64)

    x, y = np.broadcast_arrays(x, y)
    h = np.maximum(x, y)
    low = np.minimum(x, y)
    return _by_branch(h >= _SERIES_FROM, (h, low), series, direct)


def _digamma_tail(z: FloatArray) -> FloatArray:
    """ln z - 1/(2z) - psi(z) = sum_k B_2k / (2k z^2k) for z >= 20, to ~1e-18."""
    w = 1.0 / (z * z)
    return w * (1.0 / 12 - w * (1.0 / 120 - w * (1.0 / 252 - w * (1.0 / 240 - w / 132))))


def _digamma_ratio(x: FloatArray, a: FloatArray) -> FloatArray:
    """psi(x + a) - psi(x), elementwise (broadcast), x > 0, a >= 0."""
    from scipy.special import digamma

    def series(xb: FloatArray, ab: FloatArray) -> FloatArray:
        zb = xb + ab
        # ln(x + a) - ln x as log1p(a / x); -1/(2(x + a)) + 1/(2x) as a / (2x(x + a)).
        out = np.log1p(ab / xb)
        out += ab / (2.0 * xb * zb)
        out -= _digamma_tail(zb) - _digamma_tail(xb)
        return out

    def direct(xs: FloatArray, as_: FloatArray) -> FloatArray:
        return np.asarray(digamma(xs + as_) - digamma(xs), dtype=np.float64)

    x, a = np.broadcast_arrays(x, a)
    return _by_branch(x >= _SERIES_FROM, (x, a), series, direct)


def _trigamma_series(z: FloatArray) -> FloatArray:
    """z psi_1(z) - 1 from the asymptotic series, for z >= 11, to ~1e-17."""
    w = 1.0 / (z * z)
    inner = 691.0 / 2730 - w * 7.0 / 6
    inner = 5.0 / 66 - w * inner
    inner = 1.0 / 30 - w * inner
    inner = 1.0 / 42 - w * inner
    inner = 1.0 / 30 - w * inner
    return 0.5 / z + w * (1.0 / 6 - w * inner)


def _trigamma(z: FloatArray) -> FloatArray:
    """psi_1(z) for z > 0, to ~1e-15 relative.

    ``psi_1(z) = sum_{j<10} 1/(z + j)^2 + psi_1(z + 10)``, the last from its series.
    About 10 times faster than ``scipy.special.polygamma(1, z)``, which is a third of
    the whole NSB time where it is used.
    """
    total = np.zeros(z.shape)
    shifted = np.array(z, dtype=np.float64)
    for _ in range(10):
        total += 1.0 / (shifted * shifted)
        shifted += 1.0
    return total + (1.0 + _trigamma_series(shifted)) / shifted


def _trigamma_excess(z: FloatArray) -> FloatArray:
    """z psi_1(z) - 1 for z >= 1: in (0, 0.65], falling to 0 like 1/(2z)."""

    # The series directly where z is large, so that the small result keeps its digits.
    def direct(zs: FloatArray) -> FloatArray:
        return zs * _trigamma(zs) - 1.0

    return _by_branch(z >= _SERIES_FROM, (z,), _trigamma_series, direct)


def _log_xi_prime(beta: FloatArray, k: int) -> FloatArray:
    """ln xi'(beta), xi'(beta) = K psi_1(K beta + 1) - psi_1(beta + 1), for K >= 2."""
    small = np.minimum(beta, _SERIES_FROM)
    # Below 20, psi_1(beta + 1) < 0.05 while xi' > 1/1700: ~13 digits are left.
    direct = np.log(k * _trigamma(k * small + 1.0) - _trigamma(small + 1.0))
    # Above, both terms are 1/beta + ... and cancel to (1 - 1/K) / (2 beta^2) + ...:
    # beta^2 xi' from the series psi_1(z + 1) = 1/z - 1/(2z^2) + 1/(6z^3) - 1/(30z^5)
    # + 1/(42z^7) - 1/(30z^9) + 5/(66z^11), taken at z = K beta (times K) and z = beta.
    large = np.maximum(beta, _SERIES_FROM)
    r = 1.0 / large
    r2 = r * r
    c = [1.0 - float(k) ** (-2 * j) for j in range(1, 6)]  # 1 - K^-2j
    inner = c[3] / 30 - r2 * (5.0 * c[4] / 66)
    inner = c[2] / 42 - r2 * inner
    inner = c[1] / 30 - r2 * inner
    scaled = 0.5 * (1.0 - 1.0 / k) - r * (c[0] / 6 - r2 * inner)
    series = np.log(scaled) - 2.0 * np.log(large)
    return np.where(beta >= _SERIES_FROM, series, direct)


def _count_classes(y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The distinct non-zero counts of each row and how many bins hold each.

    Returns ``(values, multiplicity)``, both of shape (rows, U) with U the largest
    number of distinct non-zero counts in a row; shorter rows are padded with value 1
    and multiplicity 0 (a value 0 would make -ln B(beta, 0) infinite, and 0 * inf NaN).
    """
    rows, k = y.shape
    s = np.sort(y, axis=1)
    start = s > 0
    start[:, 1:] &= s[:, 1:] != s[:, :-1]
    r, c = np.nonzero(start)  # row-major: by row, then column
    if r.size == 0:
        return np.ones((rows, 1)), np.zeros((rows, 1))
    rank = np.cumsum(start, axis=1)[r, c] - 1
    width = int(rank.max()) + 1
    # A run of equal counts ends where the next one starts in the same row (zeros sort
    # first, so every start after the first non-zero one is non-zero), or at K.
    end = np.empty_like(c)
    end[:-1] = c[1:]
    end[-1] = k
    end[np.flatnonzero(r[:-1] != r[1:])] = k
    values = np.ones((rows, width))
    mult = np.zeros((rows, width))
    values[r, rank] = s[r, c]
    mult[r, rank] = end - c
    return values, mult


class _Posterior:
    """The NSB posterior over beta of a block of rows: its log density and moments."""

    def __init__(self, values: FloatArray, mult: FloatArray, n: FloatArray, k: int) -> None:
        self.values, self.mult, self.n, self.k = values, mult, n, k
        self.zeros = k - mult.sum(axis=1)  # bins with count 0

    def log_density(self, t: FloatArray) -> FloatArray:
        """g(t) = t + ln xi'(e^t) + ln p(y | e^t) + const, for t of shape (rows, P).

        ln p(y | beta) = sum_k -ln B(beta, y_k) + ln B(K beta, n) + const: the
        Dirichlet-multinomial evidence, zero counts contributing nothing.
        """
        beta = np.exp(t)
        b = beta[:, np.newaxis, :]
        classes = self.values.shape[1]
        # The classes in blocks, so that the (rows, classes, P) temporaries stay near
        # _BLOCK elements however many distinct counts a row has (10^6 distinct counts
        # on a coarse grid of 40 points took 4.8 GB at once).
        width = max(1, _BLOCK // max(1, t.shape[0] * t.shape[1]))
        evidence: FloatArray = np.zeros(t.shape)
        for first in range(0, classes, width):
            part = slice(first, first + width)
            terms = _neg_log_beta(b, self.values[:, part, np.newaxis])
            # sum over the classes of multiplicity * term: a batched matrix product.
            evidence += np.matmul(self.mult[:, np.newaxis, part], terms)[:, 0, :]
        evidence -= _neg_log_beta(self.k * beta, self.n[:, np.newaxis])
        return t + _log_xi_prime(beta, self.k) + evidence

    def moments(self, beta: FloatArray) -> tuple[FloatArray, FloatArray]:
        r"""E[S | y, beta] and Var[S | y, beta] under the Dirichlet(y + beta) posterior.

        ``beta`` has shape (rows, P). With ``a_i = y_i + beta``, ``A = n + K beta``,
        ``pi_i = a_i / A`` and ``eps_i = psi(a_i + 1) - psi(A + 1)`` over the K bins:

        .. math::

            E[S] &= -\sum_i \pi_i \varepsilon_i \\
            \mathrm{Var}[S] &= \frac{1}{A + 1} \Big[ \sum_i \pi_i
                (\varepsilon_i - \bar\varepsilon)^2 + \sum_i \pi_i (a_i + 1)
                \psi_1(a_i + 1) - (A + 1) \psi_1(A + 1) \Big]

        The variance is the second moment of Wolpert & Wolf (1995), as NSB use it,
        less E[S]^2, rearranged into a sum of terms >= 0 (``x psi_1(x)`` falls with
        x, and ``a_i <= A``), so that no digit is lost to a difference of the two.
        """
        k = self.k
        big_a = self.n[:, np.newaxis] + k * beta
        b = beta[:, np.newaxis, :]
        v = self.values[:, :, np.newaxis]
        pi = (self.mult[:, :, np.newaxis] / big_a[:, np.newaxis, :]) * (v + b)  # per class
        pi0 = self.zeros[:, np.newaxis] * beta / big_a  # every zero bin together
        # -eps_i = psi(A + 1) - psi(a_i + 1) >= 0, as a difference of digammas taken
        # as a whole: E[S] is then a sum of terms >= 0 and keeps its digits when it
        # is tiny (a single observed bin: psi(n + 1) - psi(n + 1 + ...) ~ 1e-9).
        neg_eps = _digamma_ratio(v + b + 1.0, big_a[:, np.newaxis, :] - v - b)
        neg_eps0 = _digamma_ratio(beta + 1.0, big_a - beta)
        mean = (pi * neg_eps).sum(axis=1) + pi0 * neg_eps0
        spread = (pi * (neg_eps - mean[:, np.newaxis, :]) ** 2).sum(axis=1)
        spread += pi0 * (neg_eps0 - mean) ** 2
        # sum_i pi_i (a_i + 1) psi_1(a_i + 1) - (A + 1) psi_1(A + 1), as excesses over 1
        # (the pi_i sum to 1), each small where its argument is large.
        excess = (pi * _trigamma_excess(v + b + 1.0)).sum(axis=1)
        excess += pi0 * _trigamma_excess(beta + 1.0)
        excess = np.maximum(excess - _trigamma_excess(big_a + 1.0), 0.0)
        return np.maximum(mean, 0.0), (spread + excess) / (big_a + 1.0)


def _drop_distance(
    g: _Posterior, t_from: FloatArray, target: FloatArray, start: float, sign: FloatArray
) -> FloatArray:
    """Distances d (rows, S) at which g(t_from + sign d) falls below ``target``.

    Doubles or halves d from ``start`` to bracket the crossing, then bisects: every row
    and side at once. A crossing never found is put at _MAX_REACH.
    """
    shape = np.broadcast_shapes(t_from.shape, target.shape, sign.shape)
    d = np.full(shape, start)

    def below(dist: FloatArray) -> NDArray[np.bool_]:
        return g.log_density(t_from + sign * dist) < target

    fell = below(d)
    lo = np.where(fell, 0.0, d)
    hi = np.where(fell, d, _MAX_REACH)
    # Halve where it fell at once (the crossing is nearer), double where it did not.
    moving = np.ones(d.shape, dtype=bool)
    for _ in range(64):
        d = np.where(fell, d / 2.0, np.minimum(d * 2.0, _MAX_REACH))
        now = below(d)
        # A halving that stops falling, or a doubling that falls, brackets the crossing.
        hi = np.where(moving & fell & now, d, hi)
        lo = np.where(moving & fell & ~now, d, lo)
        lo = np.where(moving & ~fell & ~now, d, lo)
        hi = np.where(moving & ~fell & now, d, hi)
        moving &= (fell & now & (d > 1e-12)) | (~fell & ~now & (d < _MAX_REACH))
        if not moving.any():
            break
    for _ in range(4):  # the width need not be precise: 1/16 of the bracket
        mid = 0.5 * (lo + hi)
        fell = below(mid)
        hi = np.where(fell, mid, hi)
        lo = np.where(fell, lo, mid)
    return hi


def _locate(g: _Posterior, n: FloatArray, k: int) -> tuple[FloatArray, ...]:
    """The peak t* of g on each row, its half-width s, and how far its tails reach.

    A coarse grid in ln beta brackets the highest point, from ln(1 / (K ln n)) - 10
    (about the peak of a single observed bin, the smallest beta the posterior favours)
    to ln n + 10 (a perfectly even sample, the largest); it is extended where the peak
    is at one of its ends. Golden-section search then narrows the bracket to 1e-6,
    a small fraction of any half-width met in practice.
    """
    rows = np.arange(n.shape[0])
    lo = -math.log(k) - np.log1p(np.log1p(n)) - 10.0
    hi = np.log1p(n) + 10.0
    while True:
        points = math.ceil(float((hi - lo).max()) / _COARSE) + 1
        t = lo[:, np.newaxis] + (hi - lo)[:, np.newaxis] * np.linspace(0.0, 1.0, points)
        coarse = g.log_density(t)
        best = coarse.argmax(axis=1)
        at_lo, at_hi = best == 0, best == points - 1
        if not (at_lo | at_hi).any() or float((hi - lo).max()) > 4 * _MAX_REACH:
            break
        lo = np.where(at_lo, lo - 20.0, lo)
        hi = np.where(at_hi, hi + 20.0, hi)
    step = (hi - lo) / (points - 1)

    # Golden-section search for the maximum in [t_best - step, t_best + step].
    a = t[rows, best] - step
    b = t[rows, best] + step
    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)
    gc = g.log_density(c[:, np.newaxis])[:, 0]
    gd = g.log_density(d[:, np.newaxis])[:, 0]
    for _ in range(32):  # 0.618^32 of the bracket: < 1e-6
        left = gc >= gd  # the maximum is in [a, d]
        a = np.where(left, a, c)
        b = np.where(left, d, b)
        new = np.where(left, b - _GOLDEN * (b - a), a + _GOLDEN * (b - a))
        g_new = g.log_density(new[:, np.newaxis])[:, 0]
        c, d, gc, gd = (
            np.where(left, new, d),
            np.where(left, c, new),
            np.where(left, g_new, gd),
            np.where(left, gc, g_new),
        )
    t_peak = np.where(gc >= gd, c, d)
    g_peak = np.maximum(gc, gd)
    g_peak = np.maximum(g_peak, coarse[rows, best])
    t_peak = np.where(g_peak == coarse[rows, best], t[rows, best], t_peak)

    # The tails: past the outermost coarse point within _TAIL of the peak (a second
    # bump, not seen in practice, is so not cut off); past the grid's end if the tail
    # goes on there.
    near = coarse >= g_peak[:, np.newaxis] - _TAIL
    first = near.argmax(axis=1)
    last = points - 1 - near[:, ::-1].argmax(axis=1)
    reach_lo = t_peak - t[rows, first] + step
    reach_hi = t[rows, last] - t_peak + step
    sign = np.array([-1.0, 1.0])
    ends = np.stack([t[rows, 0], t[rows, -1]], axis=1)
    open_end = np.stack([first == 0, last == points - 1], axis=1)
    if open_end.any():
        beyond = _drop_distance(g, ends, g_peak[:, np.newaxis] - _TAIL, 1.0, sign)
        reach_lo = np.where(open_end[:, 0], reach_lo + beyond[:, 0], reach_lo)
        reach_hi = np.where(open_end[:, 1], reach_hi + beyond[:, 1], reach_hi)

    core = _drop_distance(
        g, t_peak[:, np.newaxis], g_peak[:, np.newaxis] - _CORE_DROP, _COARSE / 2, sign
    )
    half_width = np.maximum(core.min(axis=1), 1e-12)
    return t_peak, g_peak, half_width, reach_lo, reach_hi


def _grid_coordinate(x: FloatArray, s: FloatArray) -> FloatArray:
    """u(x) = x / _FAR + asinh(x / s): the grid coordinate of the offset x = t - t*."""
    return x / _FAR + np.arcsinh(x / s)


def _grid_offset(u: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The offset x = t - t* at grid coordinate u (inverting :func:`_grid_coordinate`),
    and dx/du.

    Newton's method from ``min(_FAR |u|, s sinh |u|)``, an upper bound of |x| (each term
    of u(x) alone would need the larger x): u(x) is increasing and concave for x > 0
    (convex for x < 0), so after the first step it converges monotonically.
    """
    a = np.abs(u)
    x = np.minimum(_FAR * a, s * np.sinh(np.minimum(a, 700.0)))
    for _ in range(60):
        slope = 1.0 / _FAR + 1.0 / np.hypot(s, x)
        step = (x / _FAR + np.arcsinh(x / s) - a) / slope
        x = x - step
        if (np.abs(step) <= 1e-15 * (np.abs(x) + s)).all():
            break
    x = np.copysign(x, u)
    return x, 1.0 / (1.0 / _FAR + 1.0 / np.hypot(s, x))


def _nsb_block(
    values: FloatArray, mult: FloatArray, n: FloatArray, k: int
) -> tuple[FloatArray, FloatArray]:
    """NSB posterior mean and std of a block of rows (see the comment above)."""
    g = _Posterior(values, mult, n, k)
    t_peak, g_peak, s, reach_lo, reach_hi = _locate(g, n, k)
    u_lo = _grid_coordinate(-reach_lo, s)
    u_hi = _grid_coordinate(reach_hi, s)
    points = math.ceil(float((u_hi - u_lo).max()) / _STEP) + 1
    rows = n.shape[0]
    # The grid in column blocks: bounds the (rows, classes, columns) temporaries.
    chunk = max(1, _BLOCK // (rows * values.shape[1]))
    # E[S | beta] is summed less its value at the peak, near the posterior mean, so
    # that the spread of E over beta is not a difference of two large sums.
    e_peak = g.moments(np.exp(t_peak)[:, np.newaxis])[0][:, 0]
    sums = np.zeros((4, rows))
    frac = np.linspace(0.0, 1.0, points)
    for first in range(0, points, chunk):
        u = u_lo[:, np.newaxis] + (u_hi - u_lo)[:, np.newaxis] * frac[first : first + chunk]
        x, dx_du = _grid_offset(u, s[:, np.newaxis])
        t = t_peak[:, np.newaxis] + x
        # Trapezoid weights: the density times dt/du; the step and the normalisation
        # cancel in the ratios.
        w = np.exp(g.log_density(t) - g_peak[:, np.newaxis]) * dx_du
        mean, var = g.moments(np.exp(t))
        centred = mean - e_peak[:, np.newaxis]
        sums[0] += w.sum(axis=1)
        sums[1] += (w * centred).sum(axis=1)
        sums[2] += (w * centred * centred).sum(axis=1)
        sums[3] += (w * var).sum(axis=1)
    shift = sums[1] / sums[0]
    # Law of total variance: E[Var[S | beta]] + Var[E[S | beta]].
    post_var = sums[3] / sums[0] + np.maximum(sums[2] / sums[0] - shift * shift, 0.0)
    post_mean = np.clip(e_peak + shift, 0.0, math.log(k)) + 0.0
    return post_mean, np.sqrt(np.maximum(post_var, 0.0)) + 0.0


# Many classes. The quadrature above costs ~300 evaluations of the log density per
# row, each a pass over the classes: ~100 us a class, 113 s for 10^6 distinct counts.
# With that many classes (n >= U (U + 1) / 2 for U distinct non-zero counts) the
# posterior in t is narrow and close to a Gaussian, so the peak is found by a
# safeguarded Newton iteration on g'(t) (digammas over the classes, weighted by their
# multiplicity), its width sigma = 1 / sqrt(-g''(t*)) from trigammas, and g, E[S | beta]
# and Var[S | beta] are summed over the classes at only _WIDE_NODES Chebyshev points
# of t* + sigma x, x in [-_WIDE_REACH, _WIDE_REACH]: ~15 passes for the peak, ~35 for
# the integral. The trapezoid sum (step _WIDE_STEP in x) takes them from their
# interpolating polynomials: g(t* + sigma x) ~ g* - x^2 / 2 and the moments are
# analytic in a strip far wider than the window (the nearest singularities lie at
# Im t = pi, i.e. pi / sigma in x), so both the interpolation and the trapezoid error
# (~exp(-2 pi^2 / h^2) ~ 1e-34 at h = 0.25) are below rounding. The ends are checked
# to lie below g* - _TAIL, no node above the peak, and sigma against the general
# grid's step; else the rows go the general way. Against it, on 2,000 to 50,000
# classes: means to ~5e-15, stds to ~1e-11 relative.

#: Rows with more distinct non-zero counts than this take the narrow-posterior path.
_WIDE_FROM: Final = 2000
#: The trapezoid step, in posterior widths, of the narrow-posterior path.
_WIDE_STEP: Final = 0.25
#: How far the narrow-posterior grid reaches from the peak, in posterior widths.
_WIDE_REACH: Final = 10.0
#: The points of the narrow-posterior grid where the classes are summed.
_WIDE_NODES: Final = 17


def _evidence_slopes(g: _Posterior, beta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """d/d beta and d^2/d beta^2 of ln p(y | beta), for beta of shape (rows,).

    ``sum_c m_c [psi(beta + v_c) - psi(beta)] - K [psi(K beta + n) - psi(K beta)]`` and
    the same with trigammas (and K^2), the classes taken in blocks of _BLOCK.
    """
    classes = g.values.shape[1]
    width = max(1, _BLOCK // max(1, beta.shape[0]))
    b = beta[:, np.newaxis]
    first_d = np.zeros(beta.shape)
    second_d = np.zeros(beta.shape)
    for first in range(0, classes, width):
        part = slice(first, first + width)
        v, m = g.values[:, part], g.mult[:, part]
        first_d += (m * _digamma_ratio(b, v)).sum(axis=1)
        second_d += (m * _trigamma_any(b + v)).sum(axis=1)
    second_d -= g.mult.sum(axis=1) * _trigamma(beta)
    kb = g.k * beta
    first_d -= g.k * _digamma_ratio(kb, g.n)
    second_d -= g.k * g.k * (_trigamma(kb + g.n) - _trigamma(kb))
    return first_d, second_d


def _trigamma_any(z: FloatArray) -> FloatArray:
    """psi_1(z) for z > 0: the series alone where z >= 20 (most classes), to ~1e-16."""

    def series(zs: FloatArray) -> FloatArray:
        return (1.0 + _trigamma_series(zs)) / zs

    return _by_branch(z >= _SERIES_FROM, (z,), series, _trigamma)


def _xi_slopes(t: FloatArray, k: int) -> tuple[FloatArray, FloatArray]:
    """d/dt and d^2/dt^2 of ln xi'(e^t), by central differences (smooth, O(1) a row)."""
    h = 1e-4
    lo, mid, hi = (_log_xi_prime(np.exp(t + d), k) for d in (-h, 0.0, h))
    return (hi - lo) / (2 * h), (hi - 2 * mid + lo) / (h * h)


def _wide_slopes(g: _Posterior, t: FloatArray) -> tuple[FloatArray, FloatArray]:
    """g'(t) and g''(t) (see the comment above :func:`_locate`), for t of shape (rows,)."""
    beta = np.exp(t)
    e1, e2 = _evidence_slopes(g, beta)
    x1, x2 = _xi_slopes(t, g.k)
    return 1.0 + x1 + beta * e1, x2 + beta * e1 + beta * beta * e2


def _wide_peak(g: _Posterior, n: FloatArray, k: int) -> tuple[FloatArray, FloatArray] | None:
    """The peak t* of g and sigma = 1 / sqrt(-g''(t*)), or None where not bracketed.

    Newton's method on g'(t), kept inside a bracket [lo, hi] with g'(lo) > 0 > g'(hi)
    (falling back to bisection when a step would leave it), from the bracket of
    :func:`_locate`.
    """
    lo = -math.log(k) - np.log1p(np.log1p(n)) - 10.0
    hi = np.log1p(n) + 10.0
    if not ((_wide_slopes(g, lo)[0] > 0).all() and (_wide_slopes(g, hi)[0] < 0).all()):
        return None
    t = 0.5 * (lo + hi)
    for _ in range(100):
        d1, d2 = _wide_slopes(g, t)
        lo = np.where(d1 > 0, t, lo)
        hi = np.where(d1 > 0, hi, t)
        newton = t - d1 / np.where(d2 < 0, d2, -np.inf)
        inside = (newton > lo) & (newton < hi)
        step = np.where(inside, newton, 0.5 * (lo + hi)) - t
        t = t + step
        # The peak to 1e-6 of a width: the grid about it need not be centred exactly.
        if (np.abs(step) * np.sqrt(np.maximum(-d2, 0.0)) <= 1e-6).all():
            break
    else:
        return None
    d2 = _wide_slopes(g, t)[1]
    if not (d2 < 0).all():
        return None
    return t, 1.0 / np.sqrt(-d2)


def _nsb_wide(
    values: FloatArray, mult: FloatArray, n: FloatArray, k: int
) -> tuple[FloatArray, FloatArray] | None:
    """NSB posterior mean and std of a block of rows of many classes, or None.

    None where the narrow-posterior path does not apply (see the comment above): the
    caller then takes :func:`_nsb_block`.
    """
    g = _Posterior(values, mult, n, k)
    peak = _wide_peak(g, n, k)
    if peak is None:
        return None
    t_peak, sigma = peak
    # The general grid's steps near the peak are ~s _STEP, s ~ 1.2 sigma: coarser
    # than that here means a broad posterior, which the general path handles.
    if float((sigma * _WIDE_STEP).max()) > _STEP:
        return None
    # g - g*, E[S | beta] - E* and Var[S | beta] at _WIDE_NODES Chebyshev points of
    # [-_WIDE_REACH, _WIDE_REACH] (in sigma), each a pass over the classes; the
    # trapezoid sum takes them at its finer points through the interpolating
    # polynomials, which at these smooth functions are exact to rounding.
    nodes = _WIDE_REACH * np.cos(np.pi * np.arange(_WIDE_NODES) / (_WIDE_NODES - 1))[::-1]
    rows = n.shape[0]
    g_peak = g.log_density(t_peak[:, np.newaxis])[:, 0]
    e_peak = g.moments(np.exp(t_peak)[:, np.newaxis])[0][:, 0]
    chunk = max(1, _BLOCK // (rows * values.shape[1]))
    at_nodes = np.empty((3, rows, _WIDE_NODES))
    for first in range(0, _WIDE_NODES, chunk):
        part = slice(first, first + chunk)
        t = t_peak[:, np.newaxis] + sigma[:, np.newaxis] * nodes[part]
        at_nodes[0][:, part] = g.log_density(t) - g_peak[:, np.newaxis]
        mean, var = g.moments(np.exp(t))
        at_nodes[1][:, part] = mean - e_peak[:, np.newaxis]
        at_nodes[2][:, part] = var
    rel = at_nodes[0]
    # A node above the peak (not the peak found), or a tail not yet negligible at
    # the ends: the general path.
    if (rel > 1e-6).any() or float(rel[:, [0, -1]].max()) > -_TAIL:
        return None
    fine = np.arange(-_WIDE_REACH, _WIDE_REACH + _WIDE_STEP / 2, _WIDE_STEP)
    # Barycentric interpolation (second form) from the Chebyshev-Lobatto nodes, whose
    # weights are (-1)^j, halved at the ends.
    weights = (-1.0) ** np.arange(_WIDE_NODES)
    weights[[0, -1]] *= 0.5
    diff = fine[:, np.newaxis] - nodes
    exact = diff == 0.0
    diff[exact] = 1.0
    basis = weights / diff
    hit = exact.any(axis=1)
    basis[hit] = exact[hit]
    basis /= basis.sum(axis=1, keepdims=True)
    rel_f, centred, var_f = (at_nodes[i] @ basis.T for i in range(3))
    w = np.exp(rel_f)
    sums = np.stack(
        [
            w.sum(axis=1),
            (w * centred).sum(axis=1),
            (w * centred * centred).sum(axis=1),
            (w * var_f).sum(axis=1),
        ]
    )
    shift = sums[1] / sums[0]
    post_var = sums[3] / sums[0] + np.maximum(sums[2] / sums[0] - shift * shift, 0.0)
    post_mean = np.clip(e_peak + shift, 0.0, math.log(k)) + 0.0
    return post_mean, np.sqrt(np.maximum(post_var, 0.0)) + 0.0


def _nsb(y: FloatArray, n: FloatArray, k: int) -> tuple[FloatArray, FloatArray]:
    """NSB posterior mean and standard deviation of the entropy of each row."""
    rows = y.shape[0]
    if k == 1 or rows == 0:
        # One bin: the distribution is (1) and its entropy 0 under every prior.
        return np.zeros(rows), np.zeros(rows)
    values, mult = _count_classes(y)
    mean = np.empty(rows)
    std = np.empty(rows)
    # Blocks of rows keep the (rows, classes, grid) temporaries near _BLOCK elements
    # for a grid of ~128 points; each block is vectorised, the loop is over blocks.
    per_block = max(1, _BLOCK // (128 * values.shape[1]))
    for first in range(0, rows, per_block):
        part = slice(first, first + per_block)
        # Drop the padding columns that no row of this block uses.
        width = max(1, int(np.count_nonzero(mult[part], axis=1).max()))
        block = (values[part, :width], mult[part, :width], n[part], k)
        wide = _nsb_wide(*block) if width > _WIDE_FROM else None
        mean[part], std[part] = wide if wide is not None else _nsb_block(*block)
    return mean, std
