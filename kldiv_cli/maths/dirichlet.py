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

which is computed here with the log-gamma differences grouped,

.. math::

    D = R(\alpha_0, N) - \sum_i R(\alpha_i, n_i)
        + \sum_i n_i\,(\psi(\alpha_i + n_i) - \psi(\alpha_0 + N)),
    \qquad R(a, n) = \ln\Gamma(a + n) - \ln\Gamma(a),

so that zero counts give exactly 0, and :math:`R` is taken without the cancellation of
two large log-gammas (:func:`log_gamma_ratio`). Nats inside, one conversion at the end.
SciPy's ``gammaln`` and ``digamma`` are imported inside the functions that use them.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from kldiv_cli.maths.core import FloatArray, unit_scale

#: From this argument on, R(a, n) is taken from Stirling's series rather than as
#: gammaln(a + n) - gammaln(a): there the series' first omitted term,
#: 691 / (360360 a^11), is below 2e-14, and the two gammalns start to cancel.
STIRLING_FROM: Final = 10.0

# The coefficients of Stirling's series of ln Gamma(x) - [(x - 1/2) ln x - x + ln(2 pi)/2]
# in powers of 1/x: B_2k / (2k (2k - 1)), k = 1..5.
_STIRLING: Final = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188)


def _stirling_rest(x: FloatArray) -> FloatArray:
    """ln Gamma(x) minus its Stirling approximation, for x >= STIRLING_FROM."""
    r = 1.0 / x
    r2 = r * r
    total = np.zeros_like(x)
    for c in reversed(_STIRLING):  # Horner in 1/x^2, five terms (not a loop over data)
        total = total * r2 + c
    return total * r


def log_gamma_ratio(a: ArrayLike, n: ArrayLike) -> FloatArray:
    r"""The log of a rising factorial, :math:`R(a, n) = \ln\Gamma(a + n) - \ln\Gamma(a)`.

    For :math:`a` at least :data:`STIRLING_FROM`, by Stirling's series with the large
    parts combined before they are taken,

    .. math::

        R(a, n) = (a - \tfrac12)\,\mathrm{log1p}(n / a) + n \ln(a + n) - n
                  + s(a + n) - s(a),

    where :math:`s` is the series' remainder (:math:`1/(12x) - 1/(360x^3) + \dots`):
    for a = 10^6 and n = 1 the two log-gammas are 1.3e7 and their difference
    ln(10^6) = 13.8 would lose 9 digits. Below, ``gammaln(a + n) - gammaln(a)``.

    Parameters
    ----------
    a : array_like
        Positive numbers.
    n : array_like
        Numbers >= 0, broadcast against ``a``.

    Returns
    -------
    ndarray of float64
        :math:`R(a, n)`; exactly 0 where ``n`` is 0.
    """
    from scipy.special import gammaln

    a_, n_ = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64))
    big = a_ >= STIRLING_FROM
    # Each branch on its own entries only: the other's formula may overflow or divide by 0.
    out = np.empty(a_.shape, dtype=np.float64)
    ab, nb = a_[big], n_[big]
    out[big] = (
        (ab - 0.5) * np.log1p(nb / ab)
        + nb * np.log(ab + nb)
        - nb
        + (_stirling_rest(ab + nb) - _stirling_rest(ab))
    )
    small = ~big
    a_s, n_s = a_[small], n_[small]
    out[small] = gammaln(a_s + n_s) - gammaln(a_s)
    out[n_ == 0] = 0.0  # the same value in every branch: Gamma(a) / Gamma(a)
    return out


def dirichlet_kl(
    alpha: ArrayLike, counts: ArrayLike, *, unit: str = "nats", axis: int = -1
) -> FloatArray:
    r"""The Bayesian surprise of ``counts`` under the prior ``Dir(alpha)``:
    :math:`D(\mathrm{Dir}(\alpha + n) \,\|\, \mathrm{Dir}(\alpha))`.

    .. math::

        D = R(\alpha_0, N) - \sum_i R(\alpha_i, n_i)
            + \sum_i n_i\,(\psi(\alpha_i + n_i) - \psi(\alpha_0 + N))

    with :math:`R` of :func:`log_gamma_ratio`, :math:`\alpha_0 = \sum_i \alpha_i` and
    :math:`N = \sum_i n_i`: the closed form of the module's docstring, since
    :math:`\alpha'_i - \alpha_i = n_i`.

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
    from scipy.special import digamma

    scale = unit_scale(unit)
    a, n = np.broadcast_arrays(np.asarray(alpha, dtype=np.float64), np.asarray(counts, np.float64))
    a0 = a.sum(axis=axis, keepdims=True)
    total = n.sum(axis=axis, keepdims=True)
    post = a + n
    with np.errstate(invalid="ignore", divide="ignore"):
        # psi of a subnormal alpha is -inf; with n = 0 its term is 0, not 0 * -inf.
        terms = np.where(n > 0, n * (digamma(post) - digamma(a0 + total)), 0.0)
    kl = (
        np.squeeze(log_gamma_ratio(a0, total), axis=axis)
        - log_gamma_ratio(a, n).sum(axis=axis)
        + terms.sum(axis=axis)
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


__all__ = ["STIRLING_FROM", "dirichlet_kl", "log_gamma_ratio", "sequential_surprise"]
