"""Divergence measures between discrete distributions, in pure NumPy.

Everything here works in nats and converts to the requested unit once, at the end.
Every function reduces along ``axis`` (default: the last), so a stack of
distributions of shape ``(..., K)`` gives one value per distribution, with no Python
loop over them.

Zeros follow the information-theory conventions: ``0 log 0 = 0`` and
``0 log(0 / q) = 0``, while ``p log(p / 0) = +inf`` for ``p > 0``. So a KL divergence
or a cross-entropy can be ``inf``; the Jensen-Shannon divergence never is. No result
is NaN, and none is below 0: rounding residue (``-1e-17``) is clamped to 0.

The public functions validate their inputs (finite, non-negative, a positive total)
and, unless ``normalize=False``, divide them by their totals along ``axis``, as
:func:`scipy.stats.entropy` does.
"""

from __future__ import annotations

import math
from typing import Any, Final, Literal, TypeAlias, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kldiv_cli.errors import InvalidDataError, UsageError

Unit: TypeAlias = Literal["bits", "nats", "bans"]
FloatArray: TypeAlias = NDArray[np.float64]
Mask: TypeAlias = NDArray[np.bool_] | np.bool_
#: A float for one distribution, an array for a stack of them.
Result: TypeAlias = np.float64 | FloatArray

#: The natural log of each unit's base: a value in nats divided by it is in that unit.
UNITS: Final[dict[str, float]] = {"bits": math.log(2.0), "nats": 1.0, "bans": math.log(10.0)}

#: The measures of a pair, in the order the CLI reports them.
MEASURES: Final[tuple[str, ...]] = (
    "entropy_p",
    "entropy_q",
    "cross_entropy_pq",
    "cross_entropy_qp",
    "kl_pq",
    "kl_qp",
    "jsd",
    "js_distance",
)

_LN2: Final = math.log(2.0)


# --------------------------------------------------------------------------- inputs


def unit_scale(unit: str) -> float:
    """Return ln(base) of ``unit``: a value in nats divided by it is in ``unit``.

    Raises
    ------
    UsageError
        If ``unit`` is not one of ``bits``, ``nats``, ``bans``.
    """
    try:
        return UNITS[unit]
    except KeyError:
        raise UsageError(f"unknown unit {unit!r}; choose bits, nats or bans") from None


def normalize(x: ArrayLike, axis: int = -1) -> FloatArray:
    """Divide non-negative values by their total along ``axis``: ``p_i = x_i / sum_j x_j``.

    Values so large that their sum overflows are scaled by their maximum first, so the
    result is finite whenever every input is.

    Parameters
    ----------
    x : array_like
        Finite, non-negative values with a positive total along ``axis``.
    axis : int
        The axis that holds the entries of each distribution.

    Returns
    -------
    ndarray
        float64 values that sum to 1 along ``axis``.

    Raises
    ------
    InvalidDataError
        If a value is negative, NaN or infinite, or a total is 0.
    """
    return _checked(x, "x", axis, normalize=True)


def _checked(x: ArrayLike, name: str, axis: int, *, normalize: bool) -> FloatArray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        raise InvalidDataError(f"{name} is a single number, not a distribution")
    if a.size == 0:
        raise InvalidDataError(f"{name} is empty")
    # Two passes without temporaries: the min catches negatives and NaN (NaN
    # propagates), the totals catch infinities; only a failure pays for a diagnosis.
    lowest = a.min()
    with np.errstate(over="ignore"):  # an overflowing sum is rescaled below
        total = a.sum(axis=axis, keepdims=True)
    if not (lowest >= 0.0 and np.isfinite(total).all()):
        if np.isnan(a).any():
            raise InvalidDataError(f"{name} has a NaN value")
        if np.isinf(a).any():
            raise InvalidDataError(f"{name} has an infinite value")
        if lowest < 0.0:
            raise InvalidDataError(f"{name} has a negative value ({float(lowest)!r})")
        # Every value is finite but the sum overflowed: scale by the maximum first.
        a = a / a.max(axis=axis, keepdims=True)
        total = a.sum(axis=axis, keepdims=True)
    if not (total > 0.0).all():
        raise InvalidDataError(f"{name} has no positive value")
    if not normalize:
        return a
    return cast(FloatArray, a / total)


def _pair(p: ArrayLike, q: ArrayLike, axis: int, normalize: bool) -> tuple[FloatArray, FloatArray]:
    pa = _checked(p, "p", axis, normalize=normalize)
    qa = _checked(q, "q", axis, normalize=normalize)
    if pa.shape[axis] != qa.shape[axis]:
        raise InvalidDataError(
            f"p has {pa.shape[axis]} entries and q has {qa.shape[axis]}; they must match"
        )
    return pa, qa


# --------------------------------------------------------------------------- kernels
# The kernels take validated, normalized float64 arrays and return nats.


def _log(x: FloatArray, mask: NDArray[np.bool_]) -> FloatArray:
    """ln(x) where ``mask`` (x > 0), else 0: the ``0 log 0 = 0`` convention without NaN."""
    # A full-array log is SIMD; a ufunc with where= runs a masked scalar loop at half
    # the speed. So take every log and zero the few masked-out entries after.
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(x)
    return _zero_outside(out, mask)


def _log_ratio(
    num: FloatArray, den: FloatArray, mask: NDArray[np.bool_], scale: float = 1.0
) -> FloatArray:
    """ln(scale * num / den) where ``mask`` (both > 0), else 0.

    The ratio is taken before the log: for nearly equal ``num`` and ``den`` this keeps
    the absolute error near one ulp instead of ``ulp * |ln num|``. Where the ratio
    over- or underflows (1e-300 / 1e10), the difference of logs is used instead.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        out = np.divide(num, den)
        if scale != 1.0:
            out *= scale
        np.log(out, out=out)
        out = _zero_outside(out, mask)
        if not np.isfinite(out).all():
            num_b, den_b = np.broadcast_arrays(num, den)
            lost = ~np.isfinite(out)
            out[lost] = math.log(scale) + np.log(num_b[lost]) - np.log(den_b[lost])
    return out


def _zero_outside(x: FloatArray, mask: NDArray[np.bool_]) -> FloatArray:
    if not mask.all():
        np.copyto(x, 0.0, where=~mask)
    return x


# NumPy's stubs do not know vecdot's `axis` keyword (NumPy >= 2.0 has it).
_vecdot: Any = np.vecdot


def _dot(a: FloatArray, b: FloatArray, axis: int) -> FloatArray:
    """sum_i a_i b_i along ``axis``: a BLAS dot per distribution, no temporary."""
    return np.asarray(_vecdot(a, b, axis=axis), dtype=np.float64)


def _floor0(x: FloatArray) -> FloatArray:
    # `+ 0.0` turns a -0.0 into 0.0, so nothing ever prints as "-0.0".
    return np.maximum(x, 0.0) + 0.0


def _set_inf(x: FloatArray, where: Mask) -> FloatArray:
    return cast(FloatArray, np.where(where, np.inf, x))


def _entropy_nats(p: FloatArray, log_p: FloatArray, axis: int) -> FloatArray:
    return _floor0(-_dot(p, log_p, axis))


def _cross_entropy_nats(p: FloatArray, log_q: FloatArray, infinite: Mask, axis: int) -> FloatArray:
    return _set_inf(_floor0(-_dot(p, log_q, axis)), infinite)


def _jsd_terms(
    p: FloatArray, q: FloatArray, pos_p: NDArray[np.bool_], pos_q: NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray]:
    """ln(p / m) and ln(q / m) with m = (p + q) / 2, as ln(2p / (p + q)) and ln(2q / (p + q)).

    Both are taken the same way (not one from the other), so that swapping P and Q
    swaps them exactly and the JSD is symmetric to the last bit.
    """
    s = p + q
    return _log_ratio(p, s, pos_p, 2.0), _log_ratio(q, s, pos_q, 2.0)


def _jsd_nats(p: FloatArray, q: FloatArray, axis: int) -> FloatArray:
    pos_p, pos_q = p > 0, q > 0
    shared = pos_p & pos_q
    a, b = _jsd_terms(p, q, pos_p, pos_q)
    return _jsd_from_terms(p, q, a, b, shared, axis)


def _jsd_from_terms(
    p: FloatArray, q: FloatArray, a: FloatArray, b: FloatArray, shared: Mask, axis: int
) -> FloatArray:
    """The JSD from its log terms, within [0, ln 2]; exactly ln 2 for disjoint supports
    (their sum of p ln 2 + q ln 2 can round one ulp below it)."""
    jsd = (_dot(p, a, axis) + _dot(q, b, axis)) * 0.5
    jsd = np.minimum(_floor0(jsd), _LN2)
    return cast(FloatArray, np.where(np.any(shared, axis=axis), jsd, _LN2))


def _kl_nats(p: FloatArray, q: FloatArray, axis: int) -> FloatArray:
    pos_p, pos_q = p > 0, q > 0
    ratio = _log_ratio(p, q, pos_p & pos_q)
    return _set_inf(_floor0(_dot(p, ratio, axis)), (pos_p & ~pos_q).any(axis=axis))


def _pair_nats(p: FloatArray, q: FloatArray, axis: int) -> dict[str, FloatArray]:
    """Every measure of :data:`MEASURES` but ``js_distance``, in nats, each log taken once."""
    pos_p, pos_q = p > 0, q > 0
    inf_pq = (pos_p & ~pos_q).any(axis=axis)  # some q = 0 < p: D(P||Q) = H(P,Q) = inf
    inf_qp = (pos_q & ~pos_p).any(axis=axis)
    log_p, log_q = _log(p, pos_p), _log(q, pos_q)
    # One ln(p/q) serves both directions: q ln(q/p) = -q ln(p/q).
    shared = pos_p & pos_q
    ratio = _log_ratio(p, q, shared)
    a, b = _jsd_terms(p, q, pos_p, pos_q)
    return {
        "entropy_p": _entropy_nats(p, log_p, axis),
        "entropy_q": _entropy_nats(q, log_q, axis),
        "cross_entropy_pq": _cross_entropy_nats(p, log_q, inf_pq, axis),
        "cross_entropy_qp": _cross_entropy_nats(q, log_p, inf_qp, axis),
        "kl_pq": _set_inf(_floor0(_dot(p, ratio, axis)), inf_pq),
        "kl_qp": _set_inf(_floor0(-_dot(q, ratio, axis)), inf_qp),
        "jsd": _jsd_from_terms(p, q, a, b, shared, axis),
    }


def _in_unit(nats: FloatArray, unit: str) -> Result:
    scale = unit_scale(unit)
    value = nats if scale == 1.0 else nats / scale
    # A 0-d array becomes a NumPy float, so one distribution gives one number.
    return cast(Result, value[()])


# --------------------------------------------------------------------------- public API


def entropy(p: ArrayLike, *, unit: Unit = "bits", axis: int = -1, normalize: bool = True) -> Result:
    r"""Shannon entropy of each distribution.

    .. math:: H(P) = -\sum_i p_i \log p_i, \qquad 0 \log 0 = 0

    Parameters
    ----------
    p : array_like
        Non-negative values (probabilities or counts) along ``axis``.
    unit : {"bits", "nats", "bans"}
        Log base 2, e or 10.
    axis : int
        The axis of the entries.
    normalize : bool
        Divide by the total first (default). With ``False`` the values are used as given.

    Returns
    -------
    float or ndarray
        ``H(P) >= 0``; 0 for a single-bin distribution, ``log K`` for a uniform one.

    Examples
    --------
    >>> float(entropy([0.5, 0.5]))
    1.0
    """
    pa = _checked(p, "p", axis, normalize=normalize)
    pos = pa > 0
    return _in_unit(_entropy_nats(pa, _log(pa, pos), axis), unit)


def cross_entropy(
    p: ArrayLike, q: ArrayLike, *, unit: Unit = "bits", axis: int = -1, normalize: bool = True
) -> Result:
    r"""Cross-entropy of Q relative to P: the cost of coding P with a code built for Q.

    .. math:: H(P, Q) = -\sum_i p_i \log q_i = H(P) + D(P \,\|\, Q)

    ``inf`` when some ``q_i = 0 < p_i``.

    Examples
    --------
    >>> float(cross_entropy([0.5, 0.5], [0.5, 0.5]))
    1.0
    """
    pa, qa = _pair(p, q, axis, normalize)
    pos_p, pos_q = pa > 0, qa > 0
    infinite = (pos_p & ~pos_q).any(axis=axis)
    return _in_unit(_cross_entropy_nats(pa, _log(qa, pos_q), infinite, axis), unit)


def kl_divergence(
    p: ArrayLike, q: ArrayLike, *, unit: Unit = "bits", axis: int = -1, normalize: bool = True
) -> Result:
    r"""Kullback-Leibler divergence of Q from P (relative entropy), summed term by term.

    .. math:: D(P \,\|\, Q) = \sum_i p_i \log \frac{p_i}{q_i}

    with ``0 log(0/q) = 0`` and ``p log(p/0) = inf`` for ``p > 0``. Not symmetric: it is
    the extra cost of coding data from P with a code built for Q. The terms are summed
    directly, not as ``H(P, Q) - H(P)``, which loses digits when P is close to Q.

    Examples
    --------
    Seeing a black swan under a 1% prior:

    >>> round(float(kl_divergence([0, 1], [0.99, 0.01])), 12)  # log2(100)
    6.643856189775
    """
    pa, qa = _pair(p, q, axis, normalize)
    return _in_unit(_kl_nats(pa, qa, axis), unit)


def js_divergence(
    p: ArrayLike, q: ArrayLike, *, unit: Unit = "bits", axis: int = -1, normalize: bool = True
) -> Result:
    r"""Jensen-Shannon divergence: the mean KL divergence of P and Q from their mixture.

    .. math:: \mathrm{JSD}(P, Q) = \tfrac12 D(P \,\|\, M) + \tfrac12 D(Q \,\|\, M),
              \qquad M = \tfrac12 (P + Q)

    Symmetric, always finite, and in ``[0, 1]`` bit (``[0, ln 2]`` nats): 1 bit exactly
    when the supports are disjoint.

    Examples
    --------
    >>> float(js_divergence([1, 0], [0, 1]))
    1.0
    """
    pa, qa = _pair(p, q, axis, normalize)
    return _in_unit(_jsd_nats(pa, qa, axis), unit)


def js_distance(
    p: ArrayLike, q: ArrayLike, *, unit: Unit = "bits", axis: int = -1, normalize: bool = True
) -> Result:
    r"""Jensen-Shannon distance, the square root of :func:`js_divergence` in ``unit``.

    .. math:: d_{JS}(P, Q) = \sqrt{\mathrm{JSD}(P, Q)}

    A metric (it obeys the triangle inequality), as
    :func:`scipy.spatial.distance.jensenshannon` with ``base`` 2, e or 10.
    """
    jsd = js_divergence(p, q, unit=unit, axis=axis, normalize=normalize)
    return cast(Result, np.sqrt(jsd))


def measures(
    p: ArrayLike, q: ArrayLike, *, unit: Unit = "bits", axis: int = -1, normalize: bool = True
) -> dict[str, Result]:
    """Every measure of a pair at once, sharing the logs: the keys of :data:`MEASURES`.

    ``entropy_p``, ``entropy_q``, ``cross_entropy_pq`` = H(P, Q), ``cross_entropy_qp`` =
    H(Q, P), ``kl_pq`` = D(P‖Q), ``kl_qp`` = D(Q‖P), ``jsd`` and ``js_distance``, each as
    defined by the function of that name.

    Examples
    --------
    >>> m = measures([0.5, 0.5], [0.9, 0.1], unit="nats")
    >>> round(float(m["kl_pq"]), 6)
    0.510826
    """
    pa, qa = _pair(p, q, axis, normalize)
    out = {key: _in_unit(value, unit) for key, value in _pair_nats(pa, qa, axis).items()}
    out["js_distance"] = cast(Result, np.sqrt(out["jsd"]))
    return out


def contributions(
    p: ArrayLike, q: ArrayLike, *, unit: Unit = "bits", axis: int = -1, normalize: bool = True
) -> dict[str, FloatArray]:
    r"""Each entry's term of ``kl_pq``, ``kl_qp`` and ``jsd``, with the normalized p and q.

    .. math:: p_i \log\frac{p_i}{q_i}, \quad q_i \log\frac{q_i}{p_i}, \quad
              \tfrac12\Big(p_i \log\frac{p_i}{m_i} + q_i \log\frac{q_i}{m_i}\Big)

    The KL terms may be negative (only their sum is >= 0) or ``inf``; the JSD terms are
    >= 0 and sum to the JSD. Returns arrays of the input's shape.
    """
    pa, qa = _pair(p, q, axis, normalize)
    pos_p, pos_q = pa > 0, qa > 0
    scale = unit_scale(unit)
    ratio = _log_ratio(pa, qa, pos_p & pos_q)
    a, b = _jsd_terms(pa, qa, pos_p, pos_q)
    kl_pq = np.where(pos_p & ~pos_q, np.inf, pa * ratio / scale) + 0.0
    kl_qp = np.where(pos_q & ~pos_p, np.inf, -(qa * ratio) / scale) + 0.0
    jsd = _floor0((pa * a + qa * b) * (0.5 / scale))
    return {"p": pa, "q": qa, "kl_pq": kl_pq, "kl_qp": kl_qp, "jsd": jsd}
