r"""The information measures of a contingency table (``kldiv mi``), in pure NumPy.

A table of counts ``n(x, y)`` (rows: the values of X, columns: the values of Y) is
divided by its total into a joint distribution ``p(x, y)`` with marginals
``p(x) = sum_y p(x, y)`` and ``p(y) = sum_x p(x, y)``. Every measure is computed in
nats and converted to the requested unit once, at the end, as in :mod:`kldiv_cli.maths.core`;
the normalized mutual information is a ratio and has no unit.

Each quantity is a sum of terms that all have the same sign, so no result comes from
the difference of two nearly equal entropies:

.. math::

    H(X, Y) &= -\sum_{x,y} p(x,y) \ln p(x,y) \\
    H(Y \mid X) &= -\sum_{x,y} p(x,y) \ln p(y \mid x), \qquad p(y \mid x) = p(x,y) / p(x) \\
    I(X; Y) &= \sum_{x,y} p(x,y) \ln \frac{p(x,y)}{p(x)\,p(y)}

The terms of I are of both signs, but each log is taken of the ratio (near 1 when X and
Y are nearly independent), not as a difference of logs, so a tiny I keeps its digits.
With ``0 log 0 = 0`` no result is NaN; none is below 0 or -0.0.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.maths.core import (
    FloatArray,
    _checked,
    _dot,
    _floor0,
    _log,
    _log_ratio,
    _positive,
    unit_scale,
)

#: The measures of a contingency table, in the order the CLI reports them.
MI_MEASURES: Final[tuple[str, ...]] = (
    "entropy_x",
    "entropy_y",
    "joint_entropy",
    "conditional_entropy_x_given_y",
    "conditional_entropy_y_given_x",
    "mutual_information",
    "variation_of_information",
    "normalized_mutual_information",
)

#: The one measure that is a ratio, not an amount of information: no unit converts it.
_UNITLESS: Final = "normalized_mutual_information"


# --------------------------------------------------------------------------- inputs


def _joint(counts: ArrayLike) -> FloatArray:
    """Validate a 2-D table of counts and divide it by its total: ``p(x, y)``."""
    try:
        a = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidDataError("counts is not a rectangular table of numbers") from None
    if a.ndim != 2:
        raise InvalidDataError(
            f"counts must be a 2-D table (rows: values of X, columns: values of Y); "
            f"it has {a.ndim} dimension{'' if a.ndim == 1 else 's'}"
        )
    # One distribution over all cells: finite, >= 0, a positive total (rescaled first
    # if the sum overflows), divided by the total.
    return _checked(a.reshape(-1), "counts", -1, normalize=True).reshape(a.shape)


# --------------------------------------------------------------------------- kernels


def _total(p: FloatArray, log_terms: FloatArray) -> float:
    """sum p * log_terms over every cell: one BLAS dot of the flattened arrays."""
    return float(_dot(p.reshape(-1), log_terms.reshape(-1), -1))


def _entropy_1d(p: FloatArray) -> float:
    """-sum p ln p of a 1-D distribution, >= 0, in nats."""
    return float(_floor0(-_dot(p, _log(p), -1)))


def _nonneg(x: float) -> float:
    # `+ 0.0` turns -0.0 into 0.0, as core._floor0 does.
    return max(x, 0.0) + 0.0


def _mi_nats(p: FloatArray) -> dict[str, float]:
    """Every measure of :data:`MI_MEASURES` from a normalized joint ``p``; nats but NMI."""
    px, py = p.sum(axis=1), p.sum(axis=0)
    # Read from p, normalized: a cell that underflowed to 0 adds a term below 1e-308
    # either way, and no measure of a table is infinite (core's raw reading matters for
    # the +inf of p > 0 = q only); its log would be -inf, and 0 * -inf NaN.
    pos = _positive(p)
    # p(x, y) > 0 implies p(x), p(y) > 0; a 1 where a marginal is 0 only avoids 0 / 0
    # in the all-zero rows and columns, whose cells the mask excludes.
    px_safe = np.where(px > 0, px, 1.0)[:, np.newaxis]
    py_safe = np.where(py > 0, py, 1.0)[np.newaxis, :]
    y_given_x = p / px_safe  # p(y | x), in [0, 1]
    x_given_y = p / py_safe  # p(x | y)

    # Each marginal is renormalized for its entropy: a row sum of 1 - 1e-16 would give
    # a constant X the entropy 1e-16 instead of 0, and then NMI = I / sqrt(H(X) H(Y))
    # ~ 1e-8 instead of 0. Divided by its own total, a single positive value is 1.
    h_x, h_y = _entropy_1d(px / px.sum()), _entropy_1d(py / py.sum())
    h_xy = _nonneg(-_total(p, _log(p, pos)))
    h_x_given_y = _nonneg(-_total(p, _log(x_given_y, pos)))
    h_y_given_x = _nonneg(-_total(p, _log(y_given_x, pos)))
    # Conditioning never adds information: H(X|Y) <= H(X), H(Y|X) <= H(Y), up to an ulp.
    h_x_given_y, h_y_given_x = min(h_x_given_y, h_x), min(h_y_given_x, h_y)
    # ln(p(x,y) / (p(x) p(y))) as ln(p(y|x) / p(y)): the quotient never underflows to 0
    # where p(x,y) > 0 (p(x) p(y) can, for p(x,y) < 1e-162), and an overflowing one
    # falls back to a difference of logs inside _log_ratio.
    mi = _total(p, _log_ratio(y_given_x, py_safe, pos))
    # 0 <= I <= min(H(X), H(Y)); rounding can step an ulp outside.
    mi = min(_nonneg(mi), h_x, h_y)

    # I / sqrt(H(X) H(Y)), with the root taken of each factor so that the product of
    # two tiny entropies does not underflow; 0 when either entropy is 0.
    denominator = math.sqrt(h_x) * math.sqrt(h_y)
    nmi = min(mi / denominator, 1.0) if denominator > 0.0 else 0.0

    return {
        "entropy_x": h_x,
        "entropy_y": h_y,
        "joint_entropy": h_xy,
        "conditional_entropy_x_given_y": h_x_given_y,
        "conditional_entropy_y_given_x": h_y_given_x,
        "mutual_information": mi,
        "variation_of_information": h_x_given_y + h_y_given_x,
        "normalized_mutual_information": _nonneg(nmi),
    }


# --------------------------------------------------------------------------- public API


def mutual_information(counts: ArrayLike, *, unit: str = "bits") -> dict[str, float]:
    r"""Entropies, mutual information and its relatives of the pair (X, Y) of a table.

    With ``p(x, y) = n(x, y) / N`` and its marginals ``p(x)``, ``p(y)``:

    .. math::

        H(X) &= -\sum_x p(x) \log p(x), \qquad H(Y) = -\sum_y p(y) \log p(y) \\
        H(X, Y) &= -\sum_{x,y} p(x,y) \log p(x,y) \\
        H(X \mid Y) &= H(X, Y) - H(Y), \qquad H(Y \mid X) = H(X, Y) - H(X) \\
        I(X; Y) &= \sum_{x,y} p(x,y) \log \frac{p(x,y)}{p(x)\,p(y)}
                 = H(X) + H(Y) - H(X, Y) \\
        \mathrm{VI}(X; Y) &= H(X \mid Y) + H(Y \mid X) = H(X, Y) - I(X; Y) \\
        \mathrm{NMI}(X; Y) &= \frac{I(X; Y)}{\sqrt{H(X)\,H(Y)}}

    with ``0 log 0 = 0``. The conditional entropies and I are each summed term by term
    (``H(X|Y) = -sum p(x,y) log p(x|y)``), not as differences of entropies, which lose
    their digits when the result is small: I of a nearly independent pair, H(X|Y) when
    Y nearly determines X. So the identities above hold up to rounding, and a table in
    which Y determines X gives ``H(X|Y) = 0`` exactly.

    Parameters
    ----------
    counts : array_like
        A 2-D contingency table: rows are the values of X, columns the values of Y,
        cells the counts (or joint probabilities). Finite, non-negative, with a
        positive total; it is divided by that total. All-zero rows or columns are
        values that never occur and change nothing.
    unit : {"bits", "nats", "bans"}
        Log base 2, e or 10 of every measure but the normalized mutual information.

    Returns
    -------
    dict of str to float
        The keys of :data:`MI_MEASURES`, in that order: ``entropy_x`` = H(X),
        ``entropy_y`` = H(Y), ``joint_entropy`` = H(X, Y),
        ``conditional_entropy_x_given_y`` = H(X|Y), ``conditional_entropy_y_given_x`` =
        H(Y|X), ``mutual_information`` = I(X; Y), ``variation_of_information`` = VI and
        ``normalized_mutual_information`` = NMI. Every value is a finite float >= 0
        (never -0.0); ``I <= min(H(X), H(Y))``, ``H(X|Y) <= H(X)``, ``H(Y|X) <= H(Y)``;
        NMI is in [0, 1], unitless, and 0 when H(X) or H(Y) is 0 (a constant has no
        information to share).

    Raises
    ------
    InvalidDataError
        If ``counts`` is not a 2-D table, is empty, or has a negative, NaN or infinite
        cell, or no positive one.
    UsageError
        If ``unit`` is not one of ``bits``, ``nats``, ``bans``.

    Notes
    -----
    NMI here is normalized by the geometric mean of the entropies (Strehl & Ghosh,
    2002); :func:`sklearn.metrics.normalized_mutual_info_score` defaults to their
    arithmetic mean. VI is a metric on partitions (Meila, 2007).

    Examples
    --------
    Y is a copy of a fair coin X, so they share its one bit:

    >>> m = mutual_information([[1, 0], [0, 1]])
    >>> m["mutual_information"], m["variation_of_information"]
    (1.0, 0.0)
    >>> m["normalized_mutual_information"]
    1.0
    """
    scale = unit_scale(unit)
    nats = _mi_nats(_joint(counts))
    return {
        key: nats[key] if key == _UNITLESS or scale == 1.0 else nats[key] / scale
        for key in MI_MEASURES
    }


__all__ = ["MI_MEASURES", "mutual_information"]
