"""k-nearest-neighbour estimators of continuous measures, from samples of points.

KL divergence by Wang, Kulkarni and Verdú (2009), differential entropy by
Kozachenko and Leonenko (1987), both from the distance of each point to its k-th
nearest neighbour (Euclidean norm), found by SciPy's KD-tree (imported inside the
functions: it costs start-up time). Pure NumPy otherwise; no I/O. Every value is in
nats.

References
----------
Q. Wang, S. R. Kulkarni and S. Verdú, "Divergence estimation for multidimensional
densities via k-nearest-neighbor distances", IEEE Trans. Inf. Theory 55(5),
2392-2405, 2009, eq. (5).

L. F. Kozachenko and N. N. Leonenko, "Sample estimate of the entropy of a random
vector", Problems Inform. Transmission 23(2), 95-101, 1987; in the form of
A. Kraskov, H. Stögbauer and P. Grassberger, "Estimating mutual information",
Phys. Rev. E 69, 066138, 2004, eq. (20).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from kldiv_cli.maths.core import FloatArray

#: The measures of :func:`knn_measures`, in the order they are reported.
KNN_MEASURES = ("kl_pq", "kl_qp", "entropy_p", "entropy_q")


@dataclass(frozen=True)
class KnnDistances:
    """The k-th nearest-neighbour distances of two samples, each within and across.

    Attributes
    ----------
    k : int
        The neighbour's rank.
    rho_p, rho_q : ndarray of float64, shape (n,) and (m,)
        rho_k(i): from each point of P (of Q) to its k-th nearest neighbour among the
        *other* points of the same sample.
    nu_p, nu_q : ndarray of float64, shape (n,) and (m,)
        nu_k(i): from each point of P (of Q) to its k-th nearest neighbour among the
        points of the other sample.
    """

    k: int
    rho_p: FloatArray
    nu_p: FloatArray
    rho_q: FloatArray
    nu_q: FloatArray


def kth_distances(points: FloatArray, others: FloatArray, k: int) -> KnnDistances:
    """The k-th nearest-neighbour distances of P = ``points`` and Q = ``others``.

    Four KD-tree queries, each vectorised over its points: each sample against its
    own tree for its k+1 nearest (the first is the point itself, at distance 0), and
    against the other's tree for its k nearest. With duplicate points the k+1-th
    distance is still the k-th among the *others*: the point's own zero is one of the
    k+1 smallest whichever copy the tree lists first.

    Parameters
    ----------
    points, others : ndarray of float64, shape (n, d) and (m, d)
        Finite coordinates, n > k and m > k rows.
    k : int
        At least 1.
    """
    from scipy.spatial import cKDTree

    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if len(points) <= k or len(others) <= k:
        raise ValueError(f"each sample needs more than k = {k} points")
    p_tree = cKDTree(points)
    q_tree = cKDTree(others)

    def kth(tree: Any, x: FloatArray, rank: int) -> FloatArray:
        # k=[rank] asks for that neighbour alone (not the rank nearest), and
        # workers=-1 spreads the points over every core.
        found, _ = tree.query(x, k=[rank], workers=-1)
        return np.ascontiguousarray(found[:, 0], dtype=np.float64)

    return KnnDistances(
        k=k,
        rho_p=kth(p_tree, points, k + 1),
        nu_p=kth(q_tree, points, k),
        rho_q=kth(q_tree, others, k + 1),
        nu_q=kth(p_tree, others, k),
    )


def log_unit_ball(d: int) -> float:
    """ln V_d, the log-volume of the unit ball of R^d (Euclidean norm).

    .. math:: V_d = \\frac{\\pi^{d/2}}{\\Gamma(d/2 + 1)}

    >>> round(math.exp(log_unit_ball(1)), 12), round(math.exp(log_unit_ball(2)), 12)
    (2.0, 3.14159265359)
    """
    return 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1.0)


def wang_kl(rho: FloatArray, nu: FloatArray, m: int, d: int) -> float:
    """D(P||Q) in nats by the k-NN estimator of Wang, Kulkarni and Verdú (2009).

    .. math:: \\hat D(P\\|Q) = \\frac{d}{n} \\sum_{i=1}^{n}
              \\ln \\frac{\\nu_k(i)}{\\rho_k(i)} + \\ln \\frac{m}{n - 1}

    with n the points x_1..x_n of P, m those of Q, rho_k(i) the distance from x_i
    to its k-th nearest neighbour among the other points of P, nu_k(i) to its k-th
    nearest among Q's. Asymptotically unbiased and mean-square consistent for fixed
    k as n, m grow (their Theorems 1 and 2); biased at finite n.

    Parameters
    ----------
    rho, nu : ndarray of float64, shape (n,)
        Positive distances (a zero makes the logarithm infinite: the caller refuses it).
    m : int
        The points of Q.
    d : int
        The dimension.
    """
    n = rho.size
    return float(d * (np.mean(np.log(nu)) - np.mean(np.log(rho))) + math.log(m / (n - 1)))


def kozachenko_leonenko(rho: FloatArray, d: int, k: int) -> float:
    """The differential entropy in nats by the Kozachenko-Leonenko estimator.

    .. math:: \\hat H = \\psi(n) - \\psi(k) + \\ln V_d
              + \\frac{d}{n} \\sum_{i=1}^{n} \\ln \\rho_k(i)

    with psi the digamma function, V_d the volume of the unit d-ball
    (:func:`log_unit_ball`) and rho_k(i) the distance from x_i to its k-th nearest
    neighbour among the other n - 1 points. A differential entropy may be negative
    (a density above 1 somewhere: N(0, s^2) has ln(s sqrt(2 pi e)) < 0 when
    s < 0.242), and it changes with the data's scale: H(cX) = H(X) + d ln c.

    Parameters
    ----------
    rho : ndarray of float64, shape (n,)
        Positive distances.
    d, k : int
        The dimension, and the neighbour's rank.
    """
    from scipy.special import digamma

    n = rho.size
    mean_log = float(np.mean(np.log(rho)))
    return float(digamma(n) - digamma(k) + log_unit_ball(d) + d * mean_log)


def knn_measures(distances: KnnDistances, d: int) -> dict[str, float]:
    """``kl_pq``, ``kl_qp``, ``entropy_p`` and ``entropy_q`` in nats from ``distances``
    (:func:`kth_distances`) of points in ``d`` dimensions: :func:`wang_kl` both ways
    and :func:`kozachenko_leonenko` of each sample."""
    dist = distances
    n, m = dist.rho_p.size, dist.rho_q.size
    return {
        "kl_pq": wang_kl(dist.rho_p, dist.nu_p, m, d),
        "kl_qp": wang_kl(dist.rho_q, dist.nu_q, n, d),
        "entropy_p": kozachenko_leonenko(dist.rho_p, d, dist.k),
        "entropy_q": kozachenko_leonenko(dist.rho_q, d, dist.k),
    }


#: Coordinates whose largest magnitude is outside [2^-400, 2^500] are scaled by a power
#: of 2 first: the KD-tree squares distances, and a square leaves the float range for a
#: distance above ~1.3e154 or below ~1.5e-154.
_SCALE_FROM: Final = (-400, 500)


def power_of_two_scale(points: FloatArray, others: FloatArray) -> int:
    """The exponent e by which to divide both samples, ``x / 2^e``, so that the
    largest |coordinate| is in [2^499, 2^500); 0 (no scaling) when it is already
    within [2^-400, 2^500], or when every coordinate is 0.

    The largest |coordinate| at 2^500 keeps every squared distance below the float
    maximum (to d < 2^20 dimensions) and lets gaps down to 2^-511 (1e-304 times the
    largest coordinate) square to a normal float. Dividing by a power of 2 is exact
    (short of subnormal results), the KL estimates depend only on ratios of distances
    and so do not change, and each entropy of points in d dimensions changes by
    exactly ``-d e ln 2`` (h(cX) = h(X) + d ln c): the caller adds it back. Data within
    the range is left as it is, to the last bit.
    """
    top = max(float(np.abs(points).max(initial=0.0)), float(np.abs(others).max(initial=0.0)))
    low, high = _SCALE_FROM
    if top == 0.0 or 2.0**low <= top <= 2.0**high:
        return 0
    return math.frexp(top)[1] - high


def zero_distances(distances: FloatArray) -> Any:
    """The 0-based indices of the zero distances (a duplicate point, or k of them),
    in order: where a logarithm of the estimators would be -inf."""
    return np.flatnonzero(distances == 0.0)
