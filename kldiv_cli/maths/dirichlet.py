r"""Bayesian surprise: the KL divergence of a Dirichlet posterior from its prior.

A Dirichlet prior :math:`\mathrm{Dir}(\alpha)` over K categories (pseudocounts
:math:`\alpha_i > 0`, :math:`\alpha_0 = \sum_i \alpha_i`), updated by counts
:math:`n_i` (:math:`N = \sum_i n_i`), is the posterior :math:`\mathrm{Dir}(\alpha')`,
:math:`\alpha' = \alpha + n`. How far the data moved the belief is

.. math::

    D(\mathrm{Dir}(\alpha') \,\|\, \mathrm{Dir}(\alpha))
      = \ln\Gamma(\alpha'_0) - \sum_i \ln\Gamma(\alpha'_i)
        - \ln\Gamma(\alpha_0) + \sum_i \ln\Gamma(\alpha_i)
        + \sum_i (\alpha'_i - \alpha_i)\,(\psi(\alpha'_i) - \psi(\alpha'_0)),

which is computed here as

.. math::

    D = T(\alpha_0, N) - \sum_i T(\alpha_i, n_i), \qquad
    T(a, n) = \ln\Gamma(a + n) - \ln\Gamma(a) - n\,\psi(a + n) + n - c\,n,

the same sum regrouped (:math:`N = \sum_i n_i`, so the :math:`n - c\,n` add up to 0
for any constant c). Written out, the log-gammas and the digammas grow like
:math:`N \ln N` and cancel down to a surprise of a few nats: 10^9 counts would leave
it with about 7 correct digits, 10^15 with one. :func:`surprise_terms` takes each
:math:`T` from Stirling's series with those large parts cancelled by hand, so that no
term is larger than about :math:`a \ln(1 + n/a) + \ln(a + n)` (with :math:`c = 0`),
or than :math:`n^2 / a` (with :math:`c = 1`, chosen when the prior outweighs the data:
there :math:`a \ln(1 + n/a) \approx n`). Zero counts give exactly 0. Nats inside, one
conversion at the end. SciPy's ``gammaln`` and ``digamma`` are imported inside the
functions that use them.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from kldiv_cli.maths.core import FloatArray, unit_scale

#: From this argument on, Stirling's series replaces gammaln and digamma: there the
#: first omitted term of each is below 1e-14 relative.
STIRLING_FROM: Final = 10.0

_HALF_LN_2PI: Final = 0.5 * math.log(2.0 * math.pi)

# Stirling's series of ln Gamma(x) - [(x - 1/2) ln x - x + ln(2 pi)/2] in powers of 1/x:
# B_2k / (2k (2k - 1)), k = 1..6.
_STIRLING: Final = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360)
# ln x - psi(x) = 1/(2x) + sum_k B_2k / (2k x^2k), k = 1..6: the coefficients of 1/x^2k.
_LOG_MINUS_DIGAMMA: Final = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760)


def _series(x: FloatArray, coefficients: tuple[float, ...]) -> FloatArray:
    """sum_k c_k / x^(2k), k = 1.., by Horner in 1/x^2 (a loop over the terms)."""
    r = 1.0 / x
    r2 = r * r  # not 1 / x^2, which overflows for x beyond 1e154
    total = np.zeros_like(x)
    for c in reversed(coefficients):
        total = (total + c) * r2
    return total


def _stirling_rest(x: FloatArray) -> FloatArray:
    """ln Gamma(x) minus (x - 1/2) ln x - x + ln(2 pi)/2, for x >= STIRLING_FROM."""
    return _series(x, _STIRLING) * x  # the series is in odd powers of 1/x


def _log_minus_digamma(x: FloatArray) -> FloatArray:
    """ln x - psi(x), for x >= STIRLING_FROM: about 1/(2x), where the difference of the
    two would keep none of its digits for a large x."""
    return 0.5 / x + _series(x, _LOG_MINUS_DIGAMMA)


def _log_gamma(a: FloatArray) -> FloatArray:
    """ln Gamma(a) for a > 0; below 1 as ln Gamma(a + 1) - ln a, since SciPy's gammaln is
    inf at a subnormal a whose ln Gamma, about -ln a, is below 745."""
    from scipy.special import gammaln

    with np.errstate(divide="ignore"):
        return np.where(a < 1.0, gammaln(a + 1.0) - np.log(a), gammaln(a))


def _log1p_minus(t: FloatArray) -> FloatArray:
    """log1p(t) - t for t >= 0: by its series below 0.01 (the difference would lose the
    digits of t^2/2 to those of t), directly above."""
    small = t < 0.01
    ts = np.where(small, t, 0.0)
    series = np.zeros_like(t)
    for k in range(12, 1, -1):  # -t^2/2 + t^3/3 - ...: t^12 / 12 < 1e-24 t^2
        series = (series + (-1.0) ** (k + 1) / k) * ts
    series = series * ts
    with np.errstate(invalid="ignore"):
        direct = np.log1p(t) - t
    return np.where(small, series, direct)


def surprise_terms(a: ArrayLike, n: ArrayLike, shift: ArrayLike = 0.0) -> FloatArray:
    r"""The terms :math:`T(a, n)` of the surprise (see the module), elementwise.

    .. math::

        T(a, n) = \ln\Gamma(a + n) - \ln\Gamma(a) - n\,\psi(a + n) + (1 - c)\,n

    With :math:`x = a + n`, :math:`\phi(x) = \ln x - \psi(x)` and :math:`s` the remainder
    of Stirling's series, :math:`\ln\Gamma(x) = (x - 	frac12)\ln x - x + 	frac12\ln 2\pi
    + s(x)`, the :math:`n \ln x` of the log-gamma and of the digamma cancel:

    - :math:`a \ge 10`: :math:`(a - 	frac12)\,\mathrm{log1p}(n/a) + s(x) - s(a)
      + n\phi(x) - c\,n`, and with :math:`c = 1`,
      :math:`a\,(\mathrm{log1p}(t) - t) - 	frac12\mathrm{log1p}(t) + \dots`, t = n / a;
    - :math:`a < 10 \le x`: :math:`(a - 	frac12)\ln x - a + 	frac12\ln 2\pi + s(x)
      + n\phi(x) - \ln\Gamma(a) - c\,n`;
    - :math:`x < 10`: as written, every part below 15 in size.

    Parameters
    ----------
    a : array_like
        Pseudocounts, > 0.
    n : array_like
        Counts, >= 0, broadcast against ``a``.
    shift : array_like
        c, 0 or 1, broadcast against ``a``.

    Returns
    -------
    ndarray of float64
        :math:`T(a, n)`; exactly 0 where ``n`` is 0.
    """
    from scipy.special import digamma

    a_, n_, c_ = np.broadcast_arrays(
        np.asarray(a, dtype=np.float64),
        np.asarray(n, dtype=np.float64),
        np.asarray(shift, dtype=np.float64),
    )
    x = a_ + n_
    big_x = x >= STIRLING_FROM
    big_a = a_ >= STIRLING_FROM
    # Every branch is evaluated on safe stand-ins where it does not apply (10 where it
    # needs a large argument), then the right one chosen: no loop, no 0/0.
    xs = np.where(big_x, x, STIRLING_FROM)
    as_ = np.where(big_a, a_, STIRLING_FROM)
    tail = _stirling_rest(xs) + n_ * _log_minus_digamma(xs)
    t = n_ / as_
    large = np.where(
        c_ > 0,
        as_ * _log1p_minus(t) - 0.5 * np.log1p(t),
        (as_ - 0.5) * np.log1p(t),
    ) + (tail - _stirling_rest(as_))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_gamma_a = _log_gamma(a_)
        middle = (a_ - 0.5) * np.log(xs) - a_ + _HALF_LN_2PI + tail - log_gamma_a - c_ * n_
        xsmall = np.where(big_x, 1.0, x)
        small = _log_gamma(xsmall) - log_gamma_a - n_ * digamma(xsmall) + (1.0 - c_) * n_
    out = np.where(big_a, large, np.where(big_x, middle, small))
    return np.where(n_ == 0, 0.0, out)


def dirichlet_kl(
    alpha: ArrayLike, counts: ArrayLike, *, unit: str = "nats", axis: int = -1
) -> FloatArray:
    r"""The Bayesian surprise of ``counts`` under the prior ``Dir(alpha)``:
    :math:`D(\mathrm{Dir}(\alpha + n) \,\|\, \mathrm{Dir}(\alpha))`.

    .. math::

        D = \ln\Gamma(\alpha'_0) - \sum_i \ln\Gamma(\alpha'_i)
            - \ln\Gamma(\alpha_0) + \sum_i \ln\Gamma(\alpha_i)
            + \sum_i n_i\,(\psi(\alpha'_i) - \psi(\alpha'_0))
          = T(\alpha_0, N) - \sum_i T(\alpha_i, n_i),

    :math:`\alpha' = \alpha + n`, with :math:`T` of :func:`surprise_terms`, its c = 1
    where the prior outweighs the data (:math:`\alpha_0 > N`), else 0.

    Parameters
    ----------
    alpha : array_like
        Pseudocounts, every one > 0 (the caller checks).
    counts : array_like
        Counts >= 0, broadcast against ``alpha``.
    unit : str
        ``bits``, ``nats`` or ``bans``.
    axis : int
        The axis of the K categories; the others are independent priors and batches.

    Returns
    -------
    ndarray of float64
        The surprise, >= 0 (a rounding below 0 is raised to 0: D >= 0 by Gibbs'
        inequality), one per distribution along the other axes.
    """
    scale = unit_scale(unit)
    a, n = np.broadcast_arrays(np.asarray(alpha, dtype=np.float64), np.asarray(counts, np.float64))
    a0 = a.sum(axis=axis, keepdims=True)
    total = n.sum(axis=axis, keepdims=True)
    shift = (a0 > total).astype(np.float64)
    kl = np.squeeze(surprise_terms(a0, total, shift), axis=axis) - surprise_terms(a, n, shift).sum(
        axis=axis
    )
    return np.asarray(np.maximum(kl, 0.0) / scale + 0.0, dtype=np.float64)  # + 0.0: no -0.0


def sequential_surprise(
    alpha: ArrayLike, batches: ArrayLike, *, unit: str = "nats"
) -> tuple[FloatArray, float]:
    r"""The surprise of each batch given the prior and every batch before it, and the
    surprise of all of them at once.

    Batch t (row t of ``batches``) meets the prior
    :math:`\alpha^{(t)} = \alpha + \sum_{s<t} n_s` and leaves the posterior
    :math:`\alpha^{(t)} + n_t`; its surprise is
    :math:`D(\mathrm{Dir}(\alpha^{(t)} + n_t) \,\|\, \mathrm{Dir}(\alpha^{(t)}))`, all
    rows at once from one cumulative sum. The total is
    :math:`D(\mathrm{Dir}(\alpha + \sum_t n_t) \,\|\, \mathrm{Dir}(\alpha))`, which is
    not the sum of the batches' surprises (each is measured from a different prior).

    Parameters
    ----------
    alpha : array_like, shape (K,)
        The pseudocounts of the first prior, each > 0.
    batches : array_like, shape (T, K)
        Counts >= 0, one batch per row, in the order they came.
    unit : str
        ``bits``, ``nats`` or ``bans``.

    Returns
    -------
    surprises : ndarray of float64, shape (T,)
    total : float
    """
    a = np.asarray(alpha, dtype=np.float64)
    n = np.asarray(batches, dtype=np.float64)
    seen = np.cumsum(n, axis=0)
    before = np.empty_like(n)  # the counts of the batches before each: exact (whole numbers)
    before[:1] = 0.0
    before[1:] = seen[:-1]
    surprises = dirichlet_kl(a + before, n, unit=unit, axis=1)
    total = float(dirichlet_kl(a, seen[-1], unit=unit)) if n.shape[0] else 0.0
    return surprises, total


__all__ = ["STIRLING_FROM", "dirichlet_kl", "sequential_surprise", "surprise_terms"]
