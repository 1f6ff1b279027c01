r"""Gaussians in closed form: KL divergence, cross-entropy and differential entropy of
multivariate normals, and the KL term of a variational autoencoder against N(0, I).

Everything goes through Cholesky factors ``Σ = L Lᵀ``: log-determinants are
``2 Σ ln L_ii``, every ``Σ⁻¹ x`` is two triangular solves, and no inverse is formed.
Natural logs inside (nats); the caller divides by
:func:`~kldiv_cli.maths.core.unit_scale` once, at the end.

For P = N(μp, Σp) and Q = N(μq, Σq) in d dimensions:

.. math::

    D(P\|Q) = ½ [tr(Σq⁻¹Σp) + (μq-μp)ᵀ Σq⁻¹ (μq-μp) - d + ln(det Σq / det Σp)]

    H(P) = ½ ln((2πe)^d det Σp),      H(P, Q) = H(P) + D(P\|Q).

With ``M = Lq⁻¹ Lp`` (lower triangular, ``M_ii = Lp_ii / Lq_ii``) and
``u_i = 2 ln M_ii``, ``tr(Σq⁻¹Σp) - d - ln det(Σq⁻¹Σp)`` is
``Σ_{i>j} M_ij² + Σ_i (e^{u_i} - 1 - u_i)``: a sum of terms that are each >= 0, so
D(P‖Q) is never negative and keeps its digits when P and Q are close (the textbook
form subtracts d from a trace of about d and loses them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kldiv_cli.errors import InvalidDataError

FloatArray = NDArray[np.float64]

#: Relative tolerance of symmetry: Σ_ij and Σ_ji may differ by this much times the
#: largest |entry| of Σ (ten decimal digits written out differ by ~1e-10 relative).
SYMMETRY_TOLERANCE: Final = 1e-9

#: ½ (1 + ln 2π): the differential entropy of N(0, 1) in nats, per dimension.
_HALF_LOG_2PIE: Final = 0.5 * (1.0 + math.log(2.0 * math.pi))

# Taylor coefficients 1/n! of e^u - 1 - u, n = 2..13: below |u| = 0.1 the series
# is exact to rounding (0.1^12 / 13! ~ 1.6e-22 of a term of 5e-3).
_SERIES: Final = tuple(1.0 / math.factorial(n) for n in range(2, 14))
_SERIES_BELOW: Final = 0.1


class NotPositiveDefiniteError(InvalidDataError):
    """A covariance matrix that has no Cholesky factor: its ``k``-th leading minor
    (1-based) is ``minor`` <= 0 (0 to rounding when ``singular``)."""

    def __init__(self, k: int, minor: float, singular: bool, log10_abs: float | None = None):
        self.k, self.minor, self.singular = k, minor, singular
        #: log10 |minor|, for a minor beyond the float range (``minor`` is then ±inf or
        #: ±0): the message gives it as ``-3.2e+400`` all the same.
        self.log10_abs = log10_abs
        super().__init__(self.describe())

    def describe(self) -> str:
        """``not positive definite (its 2nd leading minor is -3)``."""
        which = f"its {ordinal(self.k)} leading minor"
        if self.singular:
            return f"not positive definite ({which} is 0 to rounding: the matrix is singular)"
        return f"not positive definite ({which} is {self._minor_text()})"

    def _minor_text(self) -> str:
        if (math.isfinite(self.minor) and self.minor != 0.0) or self.log10_abs is None:
            return f"{self.minor:.6g}"
        exponent = math.floor(self.log10_abs)
        mantissa = 10.0 ** (self.log10_abs - exponent)
        if f"{mantissa:.6g}" == "10":  # rounded up to the next power of ten
            mantissa, exponent = 1.0, exponent + 1
        sign = "-" if math.copysign(1.0, self.minor) < 0 else ""
        return f"{sign}{mantissa:.6g}e{exponent:+03d}"


def ordinal(k: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``22nd``."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def asymmetry(cov: ArrayLike) -> tuple[int, int] | None:
    """The first entry ``(i, j)``, ``i < j``, where ``|Σ_ij - Σ_ji|`` exceeds
    :data:`SYMMETRY_TOLERANCE` times the largest ``|Σ_kl|``; None when Σ is symmetric
    to that tolerance. ``cov`` must be finite."""
    c = np.asarray(cov, dtype=np.float64)
    scale = float(np.abs(c).max(initial=0.0))
    gap = np.triu(np.abs(c - c.T), 1)
    bad = np.argwhere(gap > SYMMETRY_TOLERANCE * scale)
    if bad.size == 0:
        return None
    i, j = (int(x) for x in bad[0])
    return i, j


def cholesky(cov: ArrayLike) -> FloatArray:
    """The lower Cholesky factor ``L`` of a symmetric covariance ``Σ = L Lᵀ``.

    Σ is symmetrized, ``(Σ + Σᵀ)/2``, first (it may differ from symmetric by the
    tolerance of :func:`asymmetry`).

    Raises
    ------
    NotPositiveDefiniteError
        When Σ is not positive definite, with the first leading minor that is not
        positive: ``det Σ[:k, :k] = (Π_{i<k} L_ii²) · s_k``, where ``s_k`` is the
        Schur pivot ``Σ_kk - l·l`` on which the factorization stopped.
    """
    c = np.asarray(cov, dtype=np.float64)
    c = 0.5 * (c + c.T)
    try:
        return np.asarray(np.linalg.cholesky(c), dtype=np.float64)
    except np.linalg.LinAlgError:
        raise _first_bad_minor(c) from None


def _first_bad_minor(c: FloatArray) -> NotPositiveDefiniteError:
    from scipy.linalg import lapack, solve_triangular

    _, info = lapack.dpotrf(c, lower=1)
    # LAPACK's info k > 0: the leading minor of order k is not positive definite.
    k = int(info) if info > 0 else c.shape[0]
    head = c[: k - 1, : k - 1]
    lead = np.empty((0, 0))
    if k > 1:
        # The same LAPACK routine on the head: NumPy's cholesky may round otherwise and
        # fail on a head that dpotrf factored, when Σ is singular to rounding.
        factor, head_info = lapack.dpotrf(head, lower=1)
        if head_info != 0:
            return NotPositiveDefiniteError(min(int(head_info), k), 0.0, True)
        lead = np.tril(factor)
    col = solve_triangular(lead, c[: k - 1, k - 1], lower=True) if k > 1 else np.empty(0)
    pivot = float(c[k - 1, k - 1] - col @ col)
    # A pivot of rounding size (or one the other operation order finds positive) is
    # a singular matrix, not a number worth printing.
    singular = pivot > 0 or abs(pivot) <= 1e-12 * abs(float(c[k - 1, k - 1]))
    if singular:
        return NotPositiveDefiniteError(k, 0.0, True)
    # ln |det| = 2 Σ ln L_ii + ln |pivot|, in logs: the product itself leaves the float
    # range for large or small entries (1e200 on three diagonals: e^921 overflows).
    log_abs = 2.0 * float(np.log(np.diag(lead)).sum()) + math.log(abs(pivot))
    magnitude = math.exp(log_abs) if log_abs < 709.0 else math.inf
    minor = math.copysign(magnitude, pivot)
    return NotPositiveDefiniteError(k, minor, False, log_abs / math.log(10.0))


def exp_excess(u: ArrayLike) -> FloatArray:
    """``e^u - 1 - u`` (>= 0), elementwise, to full relative precision.

    ``expm1(u) - u`` is exact away from 0 but cancels near it (for u = 1e-8 it keeps
    8 digits of u²/2); below |u| = 0.1 the Taylor series ``Σ_{n>=2} uⁿ/n!`` is used.
    This is the per-dimension term of every Gaussian KL here: ``x - 1 - ln x`` with
    ``x = e^u`` a variance ratio.
    """
    u = np.asarray(u, dtype=np.float64)
    with np.errstate(over="ignore"):  # e^u beyond the float range: inf, as it is
        out = np.expm1(u) - u
    small = np.abs(u) < _SERIES_BELOW
    s = np.where(small, u, 0.0)  # the series only where it is used (it diverges far out)
    acc = np.zeros_like(s)
    for coef in reversed(_SERIES):  # Horner: acc = c2 + u (c3 + u (c4 + ...))
        acc = coef + s * acc
    return np.asarray(np.where(small, s * s * acc, out), dtype=np.float64)


@dataclass(frozen=True)
class Gaussian:
    """N(mean, L Lᵀ): a mean vector and the Cholesky factor of its covariance."""

    mean: FloatArray
    chol: FloatArray

    @property
    def dimensions(self) -> int:
        return int(self.mean.shape[0])

    @classmethod
    def of(cls, mean: ArrayLike, cov: ArrayLike) -> Gaussian:
        """From a mean and a covariance matrix (see :func:`cholesky` for its checks)."""
        return cls(np.asarray(mean, dtype=np.float64), cholesky(cov))


def entropy(g: Gaussian) -> float:
    """Differential entropy in nats, ``H = ½ ln((2πe)^d det Σ) = d ½(1 + ln 2π) + Σ ln
    L_ii``. It is negative when Σ is small (det Σ < (2πe)^-d)."""
    return g.dimensions * _HALF_LOG_2PIE + float(np.log(np.diag(g.chol)).sum())


def kl(p: Gaussian, q: Gaussian) -> float:
    """D(P‖Q) in nats, by the triangular form of the module's docstring:
    ``½ [Σ_{i>j} M_ij² + Σ_i (e^{u_i} - 1 - u_i) + |Lq⁻¹(μp - μq)|²]`` with
    ``M = Lq⁻¹ Lp`` and ``u_i = 2 (ln Lp_ii - ln Lq_ii)``. Never negative, never NaN;
    infinite when a term overflows."""
    from scipy.linalg import solve_triangular

    with np.errstate(over="ignore", invalid="ignore"):
        m = solve_triangular(q.chol, p.chol, lower=True, check_finite=False)
        z = solve_triangular(q.chol, p.mean - q.mean, lower=True, check_finite=False)
        u = 2.0 * (np.log(np.diag(p.chol)) - np.log(np.diag(q.chol)))
        off = np.tril(m, -1)
        total = float((off * off).sum() + exp_excess(u).sum() + z @ z)
    if math.isnan(total):
        # inf - inf or 0 * inf inside a solve. Every entry of L is at most sqrt(Σ_ii)
        # <= sqrt(max float), so a product L_ik x_k overflows only when x_k² does, and
        # x_k², an entry of M or z squared, is a term of the sum: the KL is beyond the
        # float range, not undefined.
        return math.inf
    return 0.5 * total


def measures(p: Gaussian, q: Gaussian) -> dict[str, float]:
    """The six closed-form measures of a pair, in nats: ``kl_pq``, ``kl_qp``,
    ``cross_entropy_pq`` (H(P,Q) = H(P) + D(P‖Q)), ``cross_entropy_qp``,
    ``entropy_p``, ``entropy_q``. JSD has no closed form for Gaussians and is not
    among them."""
    if p.dimensions != q.dimensions:
        raise InvalidDataError(f"dimensions differ: P has {p.dimensions} and Q has {q.dimensions}")
    h_p, h_q = entropy(p), entropy(q)
    kl_pq, kl_qp = kl(p, q), kl(q, p)
    return {
        "kl_pq": kl_pq,
        "kl_qp": kl_qp,
        "cross_entropy_pq": h_p + kl_pq,
        "cross_entropy_qp": h_q + kl_qp,
        "entropy_p": h_p,
        "entropy_q": h_q,
    }


def vae_kl(mu: ArrayLike, logvar: ArrayLike, axis: int = -1) -> FloatArray:
    """D(N(μ, diag(e^logvar)) ‖ N(0, I)) in nats along ``axis``, for each row of a batch:

    .. math::  ½ Σ_j (e^{lv_j} - 1 - lv_j + μ_j²)

    the KL term of a VAE's ELBO. ``e^lv - 1 - lv`` is :func:`exp_excess` (exact near
    lv = 0, where the encoder's posterior is close to the prior). Infinite where
    ``e^lv`` or ``μ²`` overflows."""
    mu = np.asarray(mu, dtype=np.float64)
    lv = np.asarray(logvar, dtype=np.float64)
    with np.errstate(over="ignore"):
        return np.asarray(0.5 * (exp_excess(lv) + mu * mu).sum(axis=axis), dtype=np.float64)
