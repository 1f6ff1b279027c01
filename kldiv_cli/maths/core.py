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

Labelled inputs: a pair of pandas Series (two ``value_counts()``, say) or of mappings
of label to value is aligned by label, as the command line aligns tables: over the
union of the labels, P's in its order then Q's new ones, a label missing on one side
counting 0 there. A label twice on one side is an error. A labelled P with an
unlabelled Q (or the reverse) is refused with :class:`~kldiv_cli.errors.InvalidDataError`
rather than aligned by position, which would be silently wrong whenever the labels are
in another order; pass ``series.to_numpy()`` to mean positions. Arrays, lists and
DataFrames are taken by position along ``axis``. pandas is never imported for this: a
Series is recognised by its ``index``, ``to_numpy`` and ``ndim == 1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal, NamedTuple, TypeAlias, cast

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
#: The smallest normal float64, and its log: a value below it has lost digits.
_NORMAL: Final = float(np.finfo(np.float64).tiny)
_LN_NORMAL: Final = math.log(_NORMAL)
_SIGN_BIT: Final = np.uint64(1 << 63)
#: Below these |d| = |p - q| / (p + q) an entry's KL and JSD terms come from forms in d
#: that do not cancel (:func:`_kl_terms`, :func:`_jsd_from_terms`).
_KL_NEAR: Final = 0.125
_JS_NEAR: Final = 0.5
#: Above this |d| = |p - q| / (p + q) an entry's JSD term comes from the form that does
#: not lose digits as 1 - d^2 does near 1 (:func:`_fast_sums`); below 1/8 (d^2 < 1/64)
#: the KL's atanh(d) - d from its series.
_JS_FAR: Final = 0.875
#: A KL in the cheap form is kept when its error bound is below this part of it.
_KL_CHEAP_REL: Final = 2.0**-44
#: The unit roundoff of float64.
_U: Final = 2.0**-53
#: 1/17, 1/15, ..., 1/3, for Horner: atanh(d) - d = sum_k d^(2k+1) / (2k+1), k = 1..8,
#: whose first term left out, d^19 / 19, is below 2^-54 d^2 for |d| < 1/8 (the size of
#: the terms it is added to, d atanh(d) ~ d^2).
_ATANH_TAIL: Final = tuple(1.0 / (2 * k + 1) for k in range(8, 0, -1))


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
    return _dist(x, name, axis, normalize=normalize).p


class _Dist:
    """A validated distribution: ``p`` (normalized unless asked not to), the values it
    was divided from and the log of their total, for the logs that ``p`` cannot hold.

    A distribution that mixes magnitudes more than ~1e308 apart (1e-300 and 1e300)
    normalizes its small entries to 0 or to subnormals. Which entries are positive is
    therefore read from the values (``pos``), and the log of such an entry is taken in
    the log domain, ``ln(x / total)`` without the quotient (:meth:`log_at`), so that a
    ``q`` that underflows to 0 never makes a false ``inf`` and no term loses its digits.
    """

    __slots__ = ("_log", "_normal", "_pos", "normalized", "p", "raw", "shift", "spare_log", "total")

    def __init__(
        self,
        p: FloatArray,
        raw: FloatArray,
        total: FloatArray | float,
        shift: NDArray[np.int_] | int = 0,
    ) -> None:
        self.p = p
        self.raw = raw
        #: The values total ``total * 2**shift`` (``shift`` > 0 where the sum overflowed).
        self.total = total
        self.shift = shift
        #: Divided by their totals here (or by the caller of :meth:`known`): then two
        #: sides' exact totals are equal, which the KL kernels rely on.
        self.normalized = raw is not p
        #: The array :meth:`log` returns may be overwritten by its caller (a kernel's
        #: scratch): true unless it was given to :meth:`known` as not to be spent.
        self.spare_log = True
        self._pos: NDArray[np.bool_] | None = None
        self._log: FloatArray | None = None
        self._normal: bool | None = None

    @classmethod
    def of(cls, p: FloatArray) -> _Dist:
        """An array taken as it is: its zeros are its zeros."""
        return cls(p, p, 1.0)

    @classmethod
    def known(
        cls,
        p: FloatArray,
        log: FloatArray,
        pos: NDArray[np.bool_],
        *,
        normal: bool,
        spare_log: bool,
    ) -> _Dist:
        """A side normalized elsewhere whose ``ln p`` (as :meth:`log` gives it), positive
        entries (of the values, before normalizing) and :func:`_normal` are known: the
        bootstrap's resamples, whose logs are looked up in a table rather than taken.
        ``spare_log``: :meth:`log`'s array may be overwritten by the kernels."""
        d = cls(p, p, 1.0)
        d.normalized = True
        d._log, d._pos, d._normal = log, pos, normal
        d.spare_log = spare_log
        return d

    @property
    def pos(self) -> NDArray[np.bool_]:
        """Where the value is > 0 (before normalizing: an underflow is still > 0)."""
        if self._pos is None:
            self._pos = _positive(self.raw)
        return self._pos

    def log(self) -> FloatArray:
        """ln p where ``pos``, else 0; in the log domain where ``p`` is below the
        smallest normal float. A fresh array each call, unless given to :meth:`known`."""
        if self._log is not None:
            return self._log
        out = _log(self.p, self.pos)
        if out.min() < _LN_NORMAL:  # a 0 or a subnormal where pos (-inf or < -708.4)
            deep = self.pos & ~(self.p >= _NORMAL)
            out[deep] = self.log_at(deep)
        return out

    def log_at(self, where: NDArray[np.bool_]) -> FloatArray:
        """ln p at the entries ``where`` (a mask of a shape ``p`` broadcasts to), all
        with ``pos``: ``ln p`` itself, or ``ln(x / total)`` where p underflowed."""
        if self._log is not None:  # taken by the caller of `known` as this would take it
            return np.broadcast_to(self._log, where.shape)[where]
        p = np.broadcast_to(self.p, where.shape)[where]
        with np.errstate(divide="ignore"):  # ln 0 = -inf where the caller allows it
            out = np.log(p)
            deep = ~(p >= _NORMAL)
            if deep.any() and self.raw is not self.p:
                raw = np.broadcast_to(self.raw, where.shape)[where][deep]
                total = np.broadcast_to(self.total, where.shape)[where][deep]
                shift = np.broadcast_to(self.shift, where.shape)[where][deep]
                # ln(x / t) from the mantissas and exponents of x and t: scaling both by
                # a power of 2 changes nothing, as it does not change p.
                m_x, e_x = np.frexp(raw)
                m_t, e_t = np.frexp(total)
                out[deep] = np.log(m_x / m_t) + (e_x - e_t - shift) * _LN2
        return out


def _dist(x: ArrayLike, name: str, axis: int, *, normalize: bool) -> _Dist:
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
        if not normalize:  # every value is finite but the sum overflowed
            a = a / a.max(axis=axis, keepdims=True)
            return _Dist.of(a)
        # The distributions whose sum overflowed are summed scaled by 2^-shift, exact
        # but where an entry underflows: the zero rule and the logs read `a` itself.
        over = ~np.isfinite(total)
        shift = math.ceil(math.log2(a.shape[axis])) + 1
        with np.errstate(under="ignore"):
            scaled = np.where(over, a * 2.0**-shift, a)
            total = scaled.sum(axis=axis, keepdims=True)
            p = cast(FloatArray, scaled / total)
        return _Dist(p, a, total, np.where(over, shift, 0))
    if not (total > 0.0).all():
        raise InvalidDataError(f"{name} has no positive value")
    if not normalize:
        return _Dist.of(a)
    with np.errstate(under="ignore"):
        p = cast(FloatArray, a / total)
    return _Dist(p, a, total)


def _is_labelled(x: object) -> bool:
    """A mapping of label -> value, or a 1-D pandas Series (duck-typed: pandas is not
    imported for this)."""
    if isinstance(x, Mapping):
        return True
    return hasattr(x, "index") and hasattr(x, "to_numpy") and getattr(x, "ndim", None) == 1


def _labels_and_values(x: Any, name: str) -> tuple[list[Any], FloatArray]:
    if isinstance(x, Mapping):
        labels, raw = list(x.keys()), list(x.values())
    else:
        labels, raw = list(x.index), x.to_numpy()
    try:
        values = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidDataError(f"{name} has a value that is not a number") from None
    return labels, values


def _aligned(p: Any, q: Any) -> tuple[FloatArray, FloatArray, list[Any]]:
    """Two labelled distributions over the union of their labels (P's order, then Q's
    new ones), 0 where a side lacks a label: as the command line aligns them."""
    p_labels, p_values = _labels_and_values(p, "p")
    q_labels, q_values = _labels_and_values(q, "q")
    where: dict[Any, int] = {}
    for name, labels in (("p", p_labels), ("q", q_labels)):
        seen: set[Any] = set()
        for label in labels:
            if label in seen:
                raise InvalidDataError(
                    f"{name} has the label {label!r} twice; labels must be unique to align by"
                )
            seen.add(label)
            where.setdefault(label, len(where))
    pa, qa = np.zeros(len(where)), np.zeros(len(where))
    pa[: len(p_labels)] = p_values
    qa[[where[label] for label in q_labels]] = q_values
    return pa, qa, list(where)


def _unlabelled_pair(p: Any, q: Any) -> tuple[ArrayLike, ArrayLike, list[Any] | None]:
    """``p`` and ``q`` as arrays: aligned by label when both are labelled (with the
    labels), as given when neither is; one of each is refused."""
    p_labelled, q_labelled = _is_labelled(p), _is_labelled(q)
    if p_labelled and q_labelled:
        return _aligned(p, q)
    if p_labelled or q_labelled:
        which, other = ("p", "q") if p_labelled else ("q", "p")
        raise InvalidDataError(
            f"{which} has labels (a pandas Series or a mapping) and {other} has none, so "
            "they cannot be aligned by label; pass both with labels, or both as arrays "
            "(e.g. series.to_numpy()) to align them by position"
        )
    return p, q, None


def _pair(p: ArrayLike, q: ArrayLike, axis: int, normalize: bool) -> tuple[_Dist, _Dist]:
    p, q, _ = _unlabelled_pair(p, q)
    pa = _dist(p, "p", axis, normalize=normalize)
    qa = _dist(q, "q", axis, normalize=normalize)
    if pa.p.shape[axis] != qa.p.shape[axis]:
        raise InvalidDataError(
            f"p has {pa.p.shape[axis]} entries and q has {qa.p.shape[axis]}; they must match"
        )
    return pa, qa


# --------------------------------------------------------------------------- the zero rule
# The one statement of the conventions for zeros that every measure of this package
# follows (core, pairwise, information, estimators, the bootstrap, the G-tests):
#
#   0 log 0 = 0 and 0 log(0 / q) = 0     an entry where p = 0 adds nothing   (_log)
#   p log(p / 0) = +inf for p > 0        D(P||Q) and H(P, Q) are +inf        (_infinite)
#
# decided on the values as given, before normalizing (_positive): an entry of 1e-300
# next to 1e300 underflows to 0 when divided by the total, and is still > 0.


def _positive(raw: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Where a value is > 0, read from the values before they are normalized."""
    return np.greater(raw, 0.0)


def _log(
    x: FloatArray, mask: NDArray[np.bool_] | None = None, out: FloatArray | None = None
) -> FloatArray:
    r"""ln(x) where ``mask`` (default: where x > 0), else 0, without NaN (in ``out``, if given):

    .. math:: \ell(x) = \begin{cases} \ln x & x > 0 \\ 0 & x = 0 \end{cases}
              \qquad\text{so that } x\,\ell(x) = 0 \log 0 = 0.
    """
    # A full-array log is SIMD; a ufunc with where= runs a masked scalar loop at half
    # the speed. So take every log and zero the few masked-out entries after.
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(x, out=out)
    return _zero_outside(out, _positive(x) if mask is None else mask)


def _infinite_at(pos_p: Mask, pos_q: Mask) -> Mask:
    """The entries where p > 0 = q: each a term ``p log(p / 0) = +inf``."""
    return pos_p & ~pos_q


def _infinite(pos_p: Mask, pos_q: Mask, axis: int) -> Mask:
    """The distributions (along ``axis``) with some p > 0 = q: there D(P||Q) = H(P, Q)
    = +inf, however small that p."""
    return cast(Mask, np.any(_infinite_at(pos_p, pos_q), axis=axis))


def _set_inf(x: FloatArray, where: Mask) -> FloatArray:
    """``x``, with +inf where ``where`` (:func:`_infinite`)."""
    return cast(FloatArray, np.where(where, np.inf, x))


# --------------------------------------------------------------------------- kernels
# The kernels take validated, normalized float64 arrays and return nats.


def _log_ratio(
    num: FloatArray,
    den: FloatArray,
    mask: NDArray[np.bool_],
    scale: float = 1.0,
    *,
    fallback: Callable[[NDArray[np.bool_]], FloatArray] | None = None,
) -> FloatArray:
    """ln(scale * num / den) where ``mask`` (both > 0), else 0, to full relative precision.

    Taken as ``sign(d) * log1p(|d| / min(n, den))`` with ``n = scale * num`` and ``d =
    n - den`` (:func:`_signed_log1p`): for ``n`` and ``den`` within a factor 2 of each
    other ``d`` is exact (Sterbenz), so a ratio near 1 keeps its relative digits where
    ``ln(n / den)`` would keep only its absolute ones (ulp(1) = 2.2e-16); elsewhere
    ``|d| / min`` >= 1 and the log1p is as good as a log. Entries where that fails (a
    ratio that over- or underflows, a subnormal operand) get ``fallback(lost)``, by
    default the difference of logs.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        n = num if scale == 1.0 else num * scale
        d = np.subtract(n, den)
        lo = np.minimum(n, den)
    return _signed_log1p(d, lo, mask, fallback or _plain_fallback(num, den, scale))


def _signed_log1p(
    d: FloatArray,
    lo: FloatArray,
    mask: Mask,
    fallback: Callable[[NDArray[np.bool_]], FloatArray],
    negate: bool = False,
    *,
    safe: bool = False,
    zero: Mask | Literal[False] | None = None,
    abs_d: FloatArray | None = None,
    sign_d: NDArray[np.uint64] | None = None,
    signed: bool = True,
) -> FloatArray:
    """``sign(d) * log1p(|d| / lo)`` (``-`` that with ``negate``): ln(hi / lo) signed,
    ``hi = lo + |d|``; 0 outside ``mask``, written over ``lo``. ``|d| / lo >= 0``, so
    the log1p never meets its cancellation at -1.

    Where ``lo`` is not a normal float (a subnormal has lost digits; an infinite one
    overflowed) or the result is not finite, and ``mask`` holds, the entry is
    ``fallback(lost)`` instead. ``safe`` says that cannot happen (:func:`_normal` of
    both sides: ``lo`` is then normal and finite, and ``|d| / lo`` finite, wherever
    ``mask`` holds), which saves the checks; ``zero``, if given, is ``~mask``, and
    ``abs_d`` and ``sign_d`` are ``|d|`` and the sign bits of ``d`` (as uint64), for a caller
    that shares them among several calls; without ``sign_d``, ``d`` is overwritten.
    ``signed=False`` leaves out the sign, ``zero=False`` the zeroing.
    """
    lost = None
    if not safe and not (lo.min() >= _NORMAL and lo.max() < math.inf):
        lost = ~((lo >= _NORMAL) & (lo < math.inf))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # No temporaries: each costs its page faults, as much as the arithmetic here.
        if abs_d is None:
            out = np.divide(d, lo, out=lo)
            np.abs(out, out=out)
        else:
            out = np.divide(abs_d, lo, out=lo)
        np.log1p(out, out=out)
        # copysign, as an OR of d's sign bit into out (>= 0): NumPy's copysign is not
        # vectorised, and takes as long as the log1p.
        if signed:
            if sign_d is None:  # d's own memory: a fresh array costs its page faults
                sign_d = np.bitwise_and(d.view(np.uint64), _SIGN_BIT, out=d.view(np.uint64))
            bits = out.view(np.uint64)
            np.bitwise_or(bits, sign_d, out=bits)
    if negate:
        np.negative(out, out=out)
    if zero is None:
        out = _zero_outside(out, mask)
    elif zero is not False:
        np.copyto(out, 0.0, where=zero)
    if safe:
        return out
    with np.errstate(invalid="ignore"):  # inf - inf
        finite = math.isfinite(out.sum())  # |terms| < 1e3 each: the sum overflows never
    if not finite:
        bad = ~np.isfinite(out)
        lost = bad if lost is None else lost | bad
    if lost is not None:
        lost &= mask
        if lost.any():
            out[lost] = fallback(lost)
    return out


def _plain_fallback(
    num: FloatArray, den: FloatArray, scale: float
) -> Callable[[NDArray[np.bool_]], FloatArray]:
    def logs(lost: NDArray[np.bool_]) -> FloatArray:
        n = np.broadcast_to(num, lost.shape)[lost]
        m = np.broadcast_to(den, lost.shape)[lost]
        with np.errstate(divide="ignore"):
            return math.log(scale) + np.log(n) - np.log(m)

    return logs


def _normal(d: _Dist) -> bool:
    """Every positive entry of ``d.p`` a normal float, and none above 1 (normalized):
    for two such sides ``2p`` and ``p + q`` are finite and ``|p - q| / min`` is below
    1 / 2^-1022, so the kernels' quotients never fail."""
    if d._normal is not None:
        return d._normal
    return _normal_values(d.p, d.pos)


def _dist_ratio(p: _Dist, q: _Dist, mask: NDArray[np.bool_], safe: bool = False) -> FloatArray:
    """ln(p / q) where ``mask``, else 0: :func:`_log_ratio`, with the logs of ``p``
    and ``q`` in the log domain where the ratio fails."""

    def logs(lost: NDArray[np.bool_]) -> FloatArray:
        return p.log_at(lost) - q.log_at(lost)

    with np.errstate(over="ignore", invalid="ignore"):
        d = np.subtract(p.p, q.p)
        lo = np.minimum(p.p, q.p)
    return _signed_log1p(d, lo, mask, logs, safe=safe)


def _zero_outside(x: FloatArray, mask: Mask) -> FloatArray:
    if not mask.all():
        if isinstance(mask, np.ndarray) and mask.shape == x.shape and x.flags.c_contiguous:
            x.put(np.flatnonzero(~mask), 0.0)  # a masked copy scans all, slowly
        else:
            np.copyto(x, 0.0, where=~mask)
    return x


# NumPy's stubs do not know vecdot's `axis` keyword (NumPy >= 2.0 has it).
_vecdot: Any = np.vecdot

#: A dot longer than this is taken in blocks of this many entries, each a BLAS dot on
#: one thread. OpenBLAS splits a dot of more than 10,000 entries over its threads, and
#: waking them costs more than the dot: at 10^6 entries 8-10.7 ms with two threads on
#: a loaded machine against 0.2-0.7 ms on one (a dot streams memory; one core keeps up
#: with it). Blocks keep the dot on the calling thread with no global setting (an
#: environment variable, threadpoolctl) that would reach every other BLAS call of the
#: process, and make its rounding independent of the number of threads.
DOT_BLOCK: Final = 4096


def _dot(a: FloatArray, b: FloatArray, axis: int) -> FloatArray:
    r"""sum_i a_i b_i along ``axis``, one value per distribution, with no temporary.

    .. math:: \mathrm{dot}(a, b) = \sum_i a_i b_i
              = \sum_j \sum_{i \in \mathrm{block}_j} a_i b_i

    A BLAS dot per distribution; a distribution longer than :data:`DOT_BLOCK` entries
    is cut into blocks of that many, each its own BLAS dot (a view, no copy), and the
    block sums added pairwise (which rounds no worse than one long dot).
    """
    k = np.broadcast_shapes(a.shape, b.shape)[axis]
    if k <= DOT_BLOCK:
        return np.asarray(_vecdot(a, b, axis=axis), dtype=np.float64)
    a, b = np.broadcast_arrays(a, b)  # views: a model's (K,) against (rows, K)
    if axis % a.ndim != a.ndim - 1:
        a, b = np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1)
    whole = k - k % DOT_BLOCK
    blocks = (*a.shape[:-1], whole // DOT_BLOCK, DOT_BLOCK)
    # A reshape of a slice whose last axis is contiguous is a view; otherwise NumPy
    # copies, which is rare (a strided axis) and still right.
    out = np.vecdot(a[..., :whole].reshape(blocks), b[..., :whole].reshape(blocks)).sum(axis=-1)
    if whole < k:
        out += np.vecdot(a[..., whole:], b[..., whole:])
    return np.asarray(out, dtype=np.float64)


def _floor0(x: FloatArray) -> FloatArray:
    # `+ 0.0` turns a -0.0 into 0.0, so nothing ever prints as "-0.0".
    return np.maximum(x, 0.0) + 0.0


def _entropy_nats(p: FloatArray, log_p: FloatArray, axis: int) -> FloatArray:
    return _floor0(-_dot(p, log_p, axis))


def _cross_entropy_nats(p: FloatArray, log_q: FloatArray, infinite: Mask, axis: int) -> FloatArray:
    return _set_inf(_floor0(-_dot(p, log_q, axis)), infinite)


def _ratio_and_abs(
    p: _Dist, q: _Dist, mask: NDArray[np.bool_], safe: bool
) -> tuple[FloatArray, FloatArray]:
    """ln(p / q) where ``mask`` (else 0), as :func:`_dist_ratio`, and ``|p - q|``."""

    def logs(lost: NDArray[np.bool_]) -> FloatArray:
        return p.log_at(lost) - q.log_at(lost)

    with np.errstate(over="ignore", invalid="ignore"):
        d = np.subtract(p.p, q.p)
        lo = np.minimum(p.p, q.p)
    abs_d = np.abs(d)
    return _signed_log1p(d, lo, mask, logs, safe=safe, abs_d=abs_d), abs_d


def _jsd_terms(
    p: _Dist,
    q: _Dist,
    pos_p: NDArray[np.bool_],
    pos_q: NDArray[np.bool_],
    safe: bool = False,
    ratio: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """ln(p / m) and ln(q / m) with m = (p + q) / 2, as ln(2p / (p + q)) and ln(2q / (p + q)),
    0 where p (resp. q) is 0; ``ratio``: :func:`_ratio_and_abs` of the pair, if taken.

    See :func:`_jsd_logs`: from ln(p / q), one log1p more per entry.
    """
    if ratio is None:
        ratio = _ratio_and_abs(p, q, pos_p & pos_q, safe)

    def logs(lost: NDArray[np.bool_]) -> FloatArray:
        shape = lost.shape
        lp = np.where(np.broadcast_to(p.pos, shape)[lost], p.log_at(lost), -math.inf)
        lq = np.where(np.broadcast_to(q.pos, shape)[lost], q.log_at(lost), -math.inf)
        return _t_fallback(lp, lq)

    return _jsd_logs(
        p.p,
        q.p,
        *ratio,
        logs,
        either=np.True_ if safe else pos_p | pos_q,
        zero_p=None if pos_p.all() else ~pos_p,
        zero_q=None if pos_q.all() else ~pos_q,
        safe=safe,
    )


def _t_fallback(log_p: FloatArray, log_q: FloatArray) -> FloatArray:
    """ln(2 max(p, q) / (p + q)) from the logs (-inf for a 0), in the log domain."""
    with np.errstate(invalid="ignore"):
        return _LN2 + np.maximum(log_p, log_q) - np.logaddexp(log_p, log_q)


def _jsd_logs(
    p: FloatArray,
    q: FloatArray,
    ratio: FloatArray,
    abs_d: FloatArray,
    fallback: Callable[[NDArray[np.bool_]], FloatArray],
    *,
    either: Mask,
    zero_p: Mask | None,
    zero_q: Mask | None,
    safe: bool,
    out: tuple[FloatArray, FloatArray, FloatArray] | None = None,
) -> tuple[FloatArray, FloatArray]:
    r"""ln(2p / (p + q)) and ln(2q / (p + q)), to full relative precision, from
    ``ratio`` = ln(p / q) (0 where p or q is 0) and ``abs_d`` = ``|p - q|``.

    With :math:`t = \ln(2 \max(p, q) / (p + q)) = \mathrm{log1p}(|p - q| / (p + q))`
    in [0, ln 2], the larger side's term is ``t`` and the smaller's ``t - |ln(p/q)|``:

    .. math:: a = t + \min(\ln(p/q), 0), \qquad b = t - \max(\ln(p/q), 0)

    with no cancellation worse than a factor 2 (p close to q: t ~ |ln(p/q)| / 2). The
    formulas are symmetric: swapping P and Q negates ``ratio`` exactly and swaps ``a``
    and ``b`` exactly, so the JSD is symmetric to the last bit. ``fallback(lost)`` is
    ``t`` where p + q is not a normal float (both tiny or underflowed), ``either``
    marks where p or q is > 0, ``zero_p`` / ``zero_q`` where p / q is 0 (None: nowhere),
    and ``out`` three buffers for p + q (then t), a and b.
    """
    s_buf, a_buf, b_buf = (None, None, None) if out is None else out
    with np.errstate(over="ignore"):
        s = np.add(p, q, out=s_buf)
    t = _signed_log1p(abs_d, s, either, fallback, safe=safe, zero=False, abs_d=abs_d, signed=False)
    a = np.minimum(ratio, 0.0, out=a_buf)
    a += t
    b = np.maximum(ratio, 0.0, out=b_buf)
    np.subtract(t, b, out=b)
    if zero_p is not None:
        np.copyto(a, 0.0, where=zero_p)
    if zero_q is not None:
        np.copyto(b, 0.0, where=zero_q)
    return a, b


def _jsd_nats(p: FloatArray | _Dist, q: FloatArray | _Dist, axis: int) -> FloatArray:
    pd, qd = _as_dist(p), _as_dist(q)
    pos_p, pos_q = pd.pos, qd.pos
    shared = pos_p & pos_q
    if _normal(pd) and _normal(qd):
        sums = _fast_sums(pd, qd, shared, axis, jsd=True, kl=False)
        return _jsd_clamped(cast(FloatArray, sums.jsd), shared, axis)
    ratio = _ratio_and_abs(pd, qd, shared, False)
    a, b = _jsd_terms(pd, qd, pos_p, pos_q, False, ratio)
    return _jsd_from_terms(pd.p, qd.p, a, b, shared, axis, *ratio)


def _jsd_entries(
    p: FloatArray,
    q: FloatArray,
    a: FloatArray,
    b: FloatArray,
    shared: Mask,
    ratio: FloatArray,
    abs_d: FloatArray,
) -> FloatArray:
    r"""Each entry's ``p ln(2p / (p + q)) + q ln(2q / (p + q))`` (twice its JSD term), >= 0,
    to full relative precision however close p is to q.

    ``p a + q b`` cancels near p = q: its two products are of order ``|p - q|`` and
    their sum of order ``(p - q)^2 / (p + q)``, so two distributions an ulp apart
    got a JSD of 1e-17 where it is 1e-33. With ``s = p + q`` and ``d = (p - q) / s``,
    :math:`\ln(2p/s) = \ln(1 + d)` and :math:`\ln(2q/s) = \ln(1 - d)`, so

    .. math:: p a + q b = \frac{s}{2} \big[\ln(1 - d^2) + d \ln\frac{p}{q}\big]

    whose two terms, about :math:`-d^2` and :math:`2 d^2`, cancel by a factor 2 at
    most: it is taken where :math:`|d| < 1/2` (so ``1 - d^2`` is exact enough), from
    ``ratio`` = ln(p / q) and ``abs_d`` = ``|p - q|``; ``p a + q b`` elsewhere, where it
    cancels by a factor 3 at most.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        w = p * a
        w += q * b
        s = p + q
        near = shared & (abs_d < _JS_NEAR * s)
    at = np.flatnonzero(near)  # flat indices: take and put are faster than a mask
    if at.size:
        s_n = np.take(s, at)
        d = np.take(abs_d, at)
        d /= s_n
        r = np.take(ratio, at)
        np.abs(r, out=r)
        r *= d
        d *= d
        np.negative(d, out=d)
        np.log1p(d, out=d)
        d += r
        s_n *= 0.5
        d *= s_n
        np.put(w, at, d)
    return w


def _jsd_from_terms(
    p: FloatArray,
    q: FloatArray,
    a: FloatArray,
    b: FloatArray,
    shared: Mask,
    axis: int,
    ratio: FloatArray,
    abs_d: FloatArray,
) -> FloatArray:
    """The JSD from its log terms (:func:`_jsd_entries`), within [0, ln 2]; exactly ln 2
    for disjoint supports (their sum of p ln 2 + q ln 2 can round one ulp below it)."""
    w = _jsd_entries(p, q, a, b, shared, ratio, abs_d)
    return _jsd_clamped(np.sum(w, axis=axis) * 0.5, shared, axis)


def _kl_terms(
    p: FloatArray, q: FloatArray, ratio: FloatArray, shared: Mask
) -> tuple[FloatArray, FloatArray]:
    r"""Each entry's ``p ln(p/q) - (p - q)`` and ``q ln(q/p) - (q - p)``: both >= 0, and
    summing to D(P || Q) and D(Q || P) for two distributions (which sum to 1 alike).

    ``sum p ln(p/q)`` cancels near P = Q: its terms are of order ``|p - q|`` and the
    divergence of order ``(p - q)^2``, and the totals of two normalized arrays differ
    by rounding (an ulp), which that sum adds to the divergence at first order. These
    terms do not cancel between entries, and the rounding of a total moves them at
    second order only. Within an entry, with ``s = p + q``, ``d = (p - q) / s``,
    :math:`e = d\,\mathrm{atanh}(d) \ge 0` and :math:`c = \mathrm{atanh}(d) - d`:

    .. math:: p \ln\frac{p}{q} - (p - q) = s (e + c), \qquad
              q \ln\frac{q}{p} - (q - p) = s (e - c)

    with ``atanh(d) = ln(p/q) / 2`` (``ratio``) and ``c`` from its series where
    ``|d| < 1/8`` (``|c| < e / 190`` there: no cancellation); elsewhere the direct
    forms cancel by a factor ``1 / |d| <= 8`` at most. Where q = 0 < p the first term is
    not ``inf`` (the caller sets it), and 0 where p = q = 0.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        diff = p - q
        s = p + q
        t_pq = p * ratio
        t_pq -= diff
        t_qp = q * ratio
        np.subtract(diff, t_qp, out=t_qp)
        near = shared & (np.abs(diff) < _KL_NEAR * s)
    at = np.flatnonzero(near)  # flat indices: take and put are faster than a mask
    if at.size:
        s_n = np.take(s, at)
        d = np.take(diff, at)
        d /= s_n
        e = np.take(ratio, at)
        e *= d
        e *= 0.5
        d2 = d * d
        # As many terms as the largest |d| here needs (two for |d| < 1e-3, eight at 1/8).
        big = float(np.sqrt(d2.max()))
        terms = next((k for k in range(1, 8) if big ** (2 * k + 1) / (2 * k + 3) <= 2.0**-54), 8)
        tail = _ATANH_TAIL[len(_ATANH_TAIL) - terms :]
        c = np.full_like(d, tail[0])
        for coef in tail[1:]:
            c *= d2
            c += coef
        c *= d2
        c *= d
        np.put(t_pq, at, (e + c) * s_n)
        e -= c
        e *= s_n
        np.put(t_qp, at, e)
    return t_pq, t_qp


def _kl_sum(
    pd: _Dist, qd: _Dist, ratio: FloatArray, shared: Mask, axis: int
) -> tuple[FloatArray, FloatArray]:
    """D(P || Q) and D(Q || P) in nats, before the ``inf`` of a q = 0 < p (or the
    reverse) and the floor at 0: from :func:`_kl_terms` when both sides were
    normalized here (their exact totals are equal), else ``sum p ln(p/q)`` as given."""
    p, q = pd.p, qd.p
    if _normalized(pd, qd):
        t_pq, t_qp = _kl_terms(p, q, ratio, shared)
        return np.sum(t_pq, axis=axis), np.sum(t_qp, axis=axis)
    return _dot(p, ratio, axis), -_dot(q, ratio, axis)


class _Sums(NamedTuple):
    """Per distribution, from :func:`_fast_sums`: ``jsd`` in nats before its clamps,
    and D(P || Q), D(Q || P) before the ``inf`` of a q = 0 < p and the floor at 0; each
    None where it was not asked for."""

    jsd: FloatArray | None
    kl_pq: FloatArray | None
    kl_qp: FloatArray | None


def _fast_sums(
    pd: _Dist,
    qd: _Dist,
    shared: NDArray[np.bool_],
    axis: int,
    *,
    jsd: bool,
    kl: bool,
    infinite: tuple[Mask, Mask] = (np.False_, np.False_),
    scratch: tuple[FloatArray, ...] = (),
) -> _Sums:
    r"""The JSD and both KL divergences of a pair, to full relative precision however
    close P is to Q, in a few fused passes over the entries.

    Only for two sides whose positive entries are normal floats no larger than 1
    (:func:`_normal`), and for the KL for two sides normalized here (their exact totals
    are equal). ``shared`` is where both are > 0; ``infinite`` the rows where D(P||Q)
    and D(Q||P) are ``inf`` (their precision does not matter); ``scratch`` arrays of
    the pair's shape that may be overwritten (a fresh array of 10^6 entries costs its
    page faults, several times the arithmetic on it).

    Every term comes from :math:`s = p + q`, :math:`d = (p - q)/s` and
    :math:`|r| = |\ln(p/q)| = \mathrm{log1p}(|p - q| / \min(p, q)) = 2\,\mathrm{atanh}|d|`,
    each to a few ulps (``p - q`` is exact within a factor 2 of p = q, Sterbenz):

    * JSD: twice an entry's ``p ln(2p/s) + q ln(2q/s)`` is ``w = s ln(1 - d^2) + m``
      with ``m = |p - q| |r|``. Its two parts, about ``-s d^2`` and ``2 s d^2`` near
      p = q, cancel by a factor 4.2 at most for ``|d| <= 7/8``, where ``ln(1 - d^2) =
      log1p(-d^2)`` has lost at most ``7 u d^2 / (1 - d^2)``: 40 ulps at worst, a few
      near p = q. Beyond, where ``1 - d^2`` has lost digits, ``w = 2 (s log1p(|d|) -
      min(p, q) |r|)``, which cancels by a factor 1.5 at most. ``w <= m`` exactly
      (``ln(1 - d^2) <= 0``), so the JSD never exceeds (D(P||Q) + D(Q||P)) / 4.
    * KL: an entry's ``p ln(p/q) - (p - q)`` and ``q ln(q/p) - (q - p)`` (each >= 0, and
      summing to the divergences as the totals are equal) are ``m/2 + s c`` and ``m/2 -
      s c``, with :math:`c = \mathrm{atanh}(d) - d`. So ``D = J/2 +- X + e`` with ``J =
      sum m``, ``X = sum s c`` and ``e`` the mass of the other side where this one is
      0. ``X`` is taken in a cheap form where its error bound allows (:func:`_kl_hope`),
      else from the series of ``c`` where ``|d| < 1/8``.

    Where p or q is 0, ``d`` and ``|r|`` are set to 0 (the terms above vanish) and the
    entry's own terms are added: ``w = 2 s ln 2``, and the ``e`` of the KL.
    """
    p, q, shared, axis = _fast_layout(pd.p, qd.p, shared, axis)
    spare = [
        b
        for b in scratch
        if b.shape == p.shape and b.dtype == np.float64 and _contiguous(b) and b.flags.writeable
    ]

    def buffer() -> FloatArray:
        return spare.pop() if spare else np.empty_like(p)

    d, m, r, zeros = _fast_parts(p, q, shared, buffer)
    if kl:  # for X and its error bound: the sums of p - q and |p - q| where both > 0
        sum_diff = np.sum(d, axis=-1)
        sum_abs = np.sum(m, axis=-1)
    s, d_max = _fast_mix(p, q, d, m, r, zeros, buffer)
    free: FloatArray | None = None  # r's memory, once r is spent

    kl_pq = kl_qp = None
    if kl:
        half = np.sum(m, axis=-1) * 0.5
        extra_q: FloatArray | float = 0.0
        extra_p: FloatArray | float = 0.0
        if zeros is not None:
            extra_q, extra_p = _row_sums_at(q, zeros), _row_sums_at(p, zeros)
        bound, hope = _kl_hope(half, sum_abs, extra_p, extra_q, p.shape[-1], infinite)
        x = None
        if hope:  # J >= either divergence: the test in _kl_cheap can pass
            x = np.copysign(r, d, out=r)
            cheap = _kl_cheap(half, _dot(s, x, -1), sum_diff, extra_p, extra_q, bound, infinite)
            if cheap is not None:
                kl_pq, kl_qp = cheap
        near = d_max < _KL_NEAR
        if kl_pq is not None or near:
            free = r  # the series needs no ln(p/q)
    else:
        free = r

    jsd_nats = None
    if jsd:
        w = _jsd_w(p, q, s, d, m, zeros, d_max, free if free is not None else np.empty_like(p))
        jsd_nats = np.sum(w, axis=-1) * 0.25
    if not kl or kl_pq is not None:
        return _Sums(jsd_nats, kl_pq, kl_qp)

    if near:
        # Every entry near: X from the series; |s c| <= m / 380 there, so J/2 +- X
        # cancels not.
        d2 = np.multiply(d, d, out=free)
        x_sum = _dot(s, _atanh_minus(d, d2, d_max * d_max, out=m), -1)
        return _Sums(jsd_nats, half + x_sum + extra_q, half - x_sum + extra_p)
    if x is None:
        x = np.copysign(r, d, out=r)
    t_pq, t_qp = _kl_mixed(p, q, s, d, m, x)
    return _Sums(jsd_nats, np.sum(t_pq, axis=-1) + extra_q, np.sum(t_qp, axis=-1) + extra_p)


def _kl_hope(
    half: FloatArray,
    sum_abs: FloatArray,
    extra_p: FloatArray | float,
    extra_q: FloatArray | float,
    k: int,
    infinite: tuple[Mask, Mask],
) -> tuple[FloatArray, bool]:
    r"""The error bound ``E`` of the cheap KL (:func:`_kl_cheap`), and whether it can
    pass its test at all, from :func:`_fast_sums`' sums over ``k`` entries: ``half`` =
    J / 2 = sum m / 2, ``sum_abs`` = sum |p - q|, the ``extra`` masses where a side is 0,
    and the rows where D(P||Q) and D(Q||P) are ``inf``.

    The cheap X = sum s sign(d) |r| / 2 - sum (p - q). Its error, from |r| (4 ulps:
    |p - q|, the quotient, log1p), the product and the sums, is at most
    (6 + log2 K) u (sum s |r| + sum |p - q|) =: E, with u ceil(log2 K) for NumPy's
    pairwise sums (BLAS's blocked dot does as well in practice). And s |r| <= 2
    |p - q| + 2 m entry by entry (2 atanh x <= 2x / (1 - 2x) for x < 1/2, and |r| <=
    2 |d| |r| beyond), so E <= (6 + log2 K) u (3 sum |p - q| + 2 J), the bound
    taken. A divergence J/2 +- X + e is kept when that is below 2^-44 of it
    (5.7e-14, within the 1e-13 the tests ask). Near P = Q, where X is a difference
    of terms of order |d| for a result of order d^2, it is not: the series is.
    """
    bound = (6.0 + math.log2(k)) * _U * (3.0 * sum_abs + 4.0 * half)
    both_inf = infinite[0] & infinite[1]
    hope = bool(np.all((_KL_CHEAP_REL * (2.0 * half + extra_p + extra_q) >= bound) | both_inf))
    return bound, hope


def _kl_cheap(
    half: FloatArray,
    s_x: FloatArray,
    sum_diff: FloatArray,
    extra_p: FloatArray | float,
    extra_q: FloatArray | float,
    bound: FloatArray,
    infinite: tuple[Mask, Mask],
) -> tuple[FloatArray, FloatArray] | None:
    """D(P||Q) and D(Q||P) as ``J/2 +- X + e`` with the cheap ``X = s_x / 2 - sum_diff``
    (``s_x`` = sum s sign(d) |r|), or None where one that is finite fails the test of
    :func:`_kl_hope` (its ``bound`` above 2^-44 of it)."""
    x_sum = 0.5 * s_x - sum_diff
    kl_pq, kl_qp = half + x_sum + extra_q, half - x_sum + extra_p
    inf_pq, inf_qp = infinite
    finite = np.where(inf_pq, kl_qp, np.where(inf_qp, kl_pq, np.minimum(kl_pq, kl_qp)))
    if not bool(np.all((_KL_CHEAP_REL * finite >= bound) | (inf_pq & inf_qp))):
        return None
    return kl_pq, kl_qp


def _kl_mixed(
    p: FloatArray, q: FloatArray, s: FloatArray, d: FloatArray, m: FloatArray, x: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""Each entry's ``p ln(p/q) - (p - q)`` and ``q ln(q/p) - (q - p)`` (:func:`_fast_sums`),
    from its ``s``, ``d`` (divided by ``s``), ``m`` and ``x = sign(d) |r|``, written over
    ``s`` and ``x`` (``m`` is spent): ``m/2 +- s c`` from the series of ``c = atanh(d) - d``
    where ``|d| < 1/8``, the direct forms elsewhere, which cancel by a factor
    ``1/|d| <= 8`` at most. The zeros (``d = 0``) get 0: their terms are the ``extra``
    masses, added by the caller."""
    at = np.flatnonzero((d < _KL_NEAR) & (d > -_KL_NEAR))
    d_at = d.take(at)
    d2_at = d_at * d_at
    sc = _atanh_minus(d_at, d2_at, float(d2_at.max()) if at.size else 0.0)
    sc *= s.take(at)
    e = m.take(at)
    e *= 0.5
    diff = np.subtract(p, q, out=m)
    t_pq = np.multiply(p, x, out=s)
    t_pq -= diff
    t_qp = np.multiply(q, x, out=x)
    np.subtract(diff, t_qp, out=t_qp)
    t_pq.put(at, e + sc)
    e -= sc
    t_qp.put(at, e)
    return t_pq, t_qp


# --------------------------------------------------------------------------- long pairs
# Every measure of a pair is a sum over its entries of per-entry terms once the two
# totals are known. So a long pair of 1-D distributions is measured a block of entries
# at a time, each block's terms summed into per-block partial sums: the temporaries
# are a block's (a few hundred kB, kept in the cache), not the pair's (a fresh float64
# array of 10^7 entries is 80 MB, and costs its page faults and cache misses), and the
# normalized p and q are never made whole.

#: A pair of 1-D distributions longer than this is measured in blocks of this many
#: entries (:func:`_long_pair_nats`): seven float64 blocks of scratch, 7 x 512 kB.
PAIR_BLOCK: Final = 1 << 16

# The rows of the partial sums of :func:`_long_pair_nats`, one column per block.
_ENT_P, _ENT_Q, _CROSS_PQ, _CROSS_QP, _JSD_W = range(5)
_DIFF, _ABS, _M, _EXTRA_P, _EXTRA_Q, _S_X = range(5, 11)
_P_X, _Q_X = _DIFF, _ABS  # unnormalized: sum p ln(p/q) and sum q ln(p/q) instead


class _Block(NamedTuple):
    """One block of a long pair: p and q (normalized if asked), where each is > 0 (read
    from the values), and where both are."""

    p: FloatArray
    q: FloatArray
    pos_p: NDArray[np.bool_]
    pos_q: NDArray[np.bool_]
    shared: NDArray[np.bool_]


def _long_block(
    a: FloatArray,
    b: FloatArray,
    totals: tuple[float, float] | None,
    start: int,
    floats: FloatArray,
    flags: NDArray[np.bool_],
) -> _Block:
    """The entries ``start:start + block`` of ``a`` and ``b`` (the values), divided by
    ``totals`` (None: taken as given) into ``floats[0]`` and ``floats[1]``, the masks in
    ``flags``."""
    n = min(flags.shape[1], a.size - start)
    raw_p, raw_q = a[start : start + n], b[start : start + n]
    if totals is None:
        p, q = raw_p, raw_q
    else:
        with np.errstate(under="ignore"):  # the same quotients as normalize()'s
            p = np.divide(raw_p, totals[0], out=floats[0, :n])
            q = np.divide(raw_q, totals[1], out=floats[1, :n])
    pos_p = np.greater(raw_p, 0.0, out=flags[0, :n])  # the zero rule's _positive
    pos_q = np.greater(raw_q, 0.0, out=flags[1, :n])
    shared = np.logical_and(pos_p, pos_q, out=flags[2, :n])
    return _Block(p, q, pos_p, pos_q, shared)


#: A log at or above this is the log of a normal float: ln of the smallest, with a
#: margin for a SIMD log's last bit (an entry within 1e-6 of it relative is taken as
#: not normal, which costs only the one-shot path).
_LN_NORMAL_SAFE: Final = _LN_NORMAL + 2.0**-20


def _normal_block(x: FloatArray, log_x: FloatArray, normalized: bool) -> bool:
    """:func:`_normal` of a block of a long pair from its logs (:func:`_log`, 0 where
    the value is 0): a positive entry that is subnormal, or 0 once divided by its
    total, has a log below ln 2^-1022 (or -inf); none is above 1 when divided here."""
    return bool(log_x.min() >= _LN_NORMAL_SAFE) and (normalized or bool(x.max() <= 1.0))


def _long_pair_nats(
    p: ArrayLike, q: ArrayLike, axis: int, normalize: bool, block: int = PAIR_BLOCK
) -> dict[str, FloatArray] | None:
    r""":func:`_pair_nats` of two 1-D arrays of more than ``block`` entries, a block at a
    time, with O(block) memory; None where this path does not apply (another shape, a
    value that is negative, NaN or infinite, a total that is 0 or overflows, an entry
    that is not normal once divided by its total), for the caller to take the one-shot
    path, which also names what is wrong.

    Per block, the fused kernels of :func:`_fast_sums` (:func:`_fast_parts`,
    :func:`_fast_mix`, :func:`_jsd_w`) and the logs of the entropies, summed into
    partial sums; then, as there, the KL from its cheap form where its error bound
    allows (:func:`_kl_hope`, :func:`_kl_cheap`, with the sums of all blocks), else a
    second pass for its precise form (:func:`_long_kl`). The results equal the one-shot
    path's up to rounding: the same terms, summed in another order.
    """
    sides = _long_sides(p, q, axis, block)
    if sides is None:
        return None
    a, b, totals = sides
    k = a.size
    starts = range(0, k, block)
    floats = np.empty((7, block))
    flags = np.empty((3, block), dtype=np.bool_)
    parts = np.zeros((11, len(starts)))
    inf_pq = inf_qp = any_shared = False
    for i, start in enumerate(starts):
        blk = _long_block(a, b, totals if normalize else None, start, floats, flags)
        bp, bq, shared = blk.p, blk.q, blk.shared
        n = bp.size
        n_shared = int(np.count_nonzero(shared))
        inf_pq |= int(np.count_nonzero(blk.pos_p)) > n_shared  # some p > 0 = q
        inf_qp |= int(np.count_nonzero(blk.pos_q)) > n_shared
        any_shared |= n_shared > 0
        log_p = _log(bp, blk.pos_p, out=floats[2, :n])
        log_q = _log(bq, blk.pos_q, out=floats[3, :n])
        if not (_normal_block(bp, log_p, normalize) and _normal_block(bq, log_q, normalize)):
            return None  # the fast kernels do not apply
        parts[_ENT_P, i] = _dot(bp, log_p, -1)
        parts[_CROSS_QP, i] = _dot(bq, log_p, -1)
        parts[_ENT_Q, i] = _dot(bq, log_q, -1)
        parts[_CROSS_PQ, i] = _dot(bp, log_q, -1)
        # The logs are spent: their memory serves the kernel's work.
        pool = [floats[j, :n] for j in (6, 5, 4, 3, 2)]
        d, m, r, zeros = _fast_parts(bp, bq, shared, pool.pop)
        if normalize:
            parts[_DIFF, i] = np.sum(d)
            parts[_ABS, i] = np.sum(m)
        s, d_max = _fast_mix(bp, bq, d, m, r, zeros, pool.pop)
        if normalize:
            parts[_M, i] = np.sum(m)
            if zeros is not None:
                parts[_EXTRA_P, i] = np.sum(bp.take(zeros))
                parts[_EXTRA_Q, i] = np.sum(bq.take(zeros))
        w_out = pool.pop()
        x = np.copysign(r, d, out=r)  # ln(p/q), 0 where p or q is 0
        if normalize:
            parts[_S_X, i] = _dot(s, x, -1)
        else:
            parts[_P_X, i] = _dot(bp, x, -1)
            parts[_Q_X, i] = _dot(bq, x, -1)
        parts[_JSD_W, i] = np.sum(_jsd_w(bp, bq, s, d, m, zeros, d_max, out=w_out))

    sums = parts.sum(axis=1)
    infinite = (np.bool_(inf_pq), np.bool_(inf_qp))
    if normalize:
        half = sums[_M] * 0.5
        extra_p, extra_q = sums[_EXTRA_P], sums[_EXTRA_Q]
        bound, hope = _kl_hope(half, sums[_ABS], extra_p, extra_q, k, infinite)
        kl = None
        if hope:
            kl = _kl_cheap(half, sums[_S_X], sums[_DIFF], extra_p, extra_q, bound, infinite)
        if kl is None:
            kl_pq, kl_qp = _long_kl(a, b, totals, floats, flags, len(starts))
            kl = kl_pq + extra_q, kl_qp + extra_p
    else:
        kl = sums[_P_X], -sums[_Q_X]
    out = {
        "entropy_p": _floor0(-sums[_ENT_P]),
        "entropy_q": _floor0(-sums[_ENT_Q]),
        "cross_entropy_pq": _set_inf(_floor0(-sums[_CROSS_PQ]), infinite[0]),
        "cross_entropy_qp": _set_inf(_floor0(-sums[_CROSS_QP]), infinite[1]),
        "kl_pq": _set_inf(_floor0(kl[0]), infinite[0]),
        "kl_qp": _set_inf(_floor0(kl[1]), infinite[1]),
        "jsd": _jsd_clamped(sums[_JSD_W] * 0.25, np.array([any_shared]), -1),
    }
    return {key: np.asarray(value, dtype=np.float64) for key, value in out.items()}


def _long_sides(
    p: ArrayLike, q: ArrayLike, axis: int, block: int
) -> tuple[FloatArray, FloatArray, tuple[float, float]] | None:
    """Two numeric 1-D arrays of the same length above ``block`` as float64, with their
    totals, when they pass :func:`_dist`'s checks; else None, for the one-shot path."""
    if not (isinstance(p, np.ndarray) and isinstance(q, np.ndarray)):
        return None
    if not (p.ndim == 1 == q.ndim and p.size == q.size > block and axis in (0, -1)):
        return None
    if p.dtype.kind not in "fiu" or q.dtype.kind not in "fiu":
        return None
    a, b = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    # The checks of _dist, without a temporary; a failure is named by the one-shot path.
    if not (a.min() >= 0.0 and b.min() >= 0.0):  # NaN fails too
        return None
    with np.errstate(over="ignore"):
        totals = float(a.sum()), float(b.sum())
    if not all(0.0 < t < math.inf for t in totals):
        return None
    return a, b, totals


def _long_contributions(
    p: ArrayLike, q: ArrayLike, axis: int, normalize: bool, scale: float, block: int = PAIR_BLOCK
) -> dict[str, FloatArray] | None:
    """:func:`contributions`' arrays of two 1-D arrays of more than ``block`` entries,
    made a block at a time into the arrays it returns (with the same kernels, entry by
    entry: the same terms), so that its work takes memory of a block; None where
    :func:`_long_pair_nats` would be (for the one-shot path)."""
    sides = _long_sides(p, q, axis, block)
    if sides is None:
        return None
    a, b, totals = sides
    k = a.size
    out_p, out_q = (np.empty(k), np.empty(k)) if normalize else (a, b)
    kl_pq, kl_qp, jsd = np.empty(k), np.empty(k), np.empty(k)
    floats = np.empty((7, block))
    flags = np.empty((3, block), dtype=np.bool_)
    for start in range(0, k, block):
        blk = _long_block(a, b, totals if normalize else None, start, floats, flags)
        bp, bq = blk.p, blk.q
        if not (_normal_values(bp, blk.pos_p) and _normal_values(bq, blk.pos_q)):
            return None  # the fast kernels do not apply
        n = bp.size
        at = slice(start, start + n)
        if normalize:
            out_p[at], out_q[at] = bp, bq
        pool = [floats[j, :n] for j in (6, 5, 4, 3, 2)]
        d, m, r, zeros = _fast_parts(bp, bq, blk.shared, pool.pop)
        ratio = np.copysign(r, d, out=pool.pop())  # as _fast_entries takes it
        s, d_max = _fast_mix(bp, bq, d, m, r, zeros, pool.pop)
        w = _jsd_w(bp, bq, s, d, m, zeros, d_max, out=r)
        w *= 0.25
        # As contributions() makes them from the whole arrays.
        t = np.multiply(bp, ratio, out=kl_pq[at])
        t /= scale
        np.copyto(t, np.inf, where=_infinite_at(blk.pos_p, blk.pos_q))
        t += 0.0
        t = np.multiply(bq, ratio, out=kl_qp[at])
        np.negative(t, out=t)
        t /= scale
        np.copyto(t, np.inf, where=_infinite_at(blk.pos_q, blk.pos_p))
        t += 0.0
        t = np.divide(w, scale, out=jsd[at])
        np.maximum(t, 0.0, out=t)
        t += 0.0
    return {"p": out_p, "q": out_q, "kl_pq": kl_pq, "kl_qp": kl_qp, "jsd": jsd}


def _normal_values(p: FloatArray, pos: NDArray[np.bool_]) -> bool:
    """:func:`_normal` of the values ``p``, positive where ``pos``."""
    if not p.max() <= 1.0:
        return False
    # The normal entries are among the positive ones: all of them when they count alike.
    return bool(p.min() >= _NORMAL) or np.count_nonzero(p >= _NORMAL) == np.count_nonzero(pos)


def _long_kl(
    a: FloatArray,
    b: FloatArray,
    totals: tuple[float, float],
    floats: FloatArray,
    flags: NDArray[np.bool_],
    blocks: int,
) -> tuple[float, float]:
    """The precise form of :func:`_fast_sums`' KL, a block at a time (the second pass of
    :func:`_long_pair_nats`): the sums of ``p ln(p/q) - (p - q)`` and its mirror where
    both are > 0, without the ``extra`` masses. A block whose every ``|d|`` is below
    1/8 takes them as ``m/2 +- s c`` from the series, the others :func:`_kl_mixed`."""
    sums = np.zeros((2, blocks))
    block = flags.shape[1]
    for i in range(blocks):
        blk = _long_block(a, b, totals, i * block, floats, flags)
        n = blk.p.size
        pool = [floats[j, :n] for j in (5, 4, 3, 2)]
        d, m, r, zeros = _fast_parts(blk.p, blk.q, blk.shared, pool.pop)
        s, d_max = _fast_mix(blk.p, blk.q, d, m, r, zeros, pool.pop)
        if d_max < _KL_NEAR:
            # |s c| <= m / 380 there, so m/2 +- s c cancels not.
            half = np.sum(m) * 0.5
            d2 = np.multiply(d, d, out=r)  # the series needs no ln(p/q)
            x_sum = _dot(s, _atanh_minus(d, d2, d_max * d_max, out=m), -1)
            sums[:, i] = half + x_sum, half - x_sum
        else:
            t_pq, t_qp = _kl_mixed(blk.p, blk.q, s, d, m, np.copysign(r, d, out=r))
            sums[:, i] = np.sum(t_pq), np.sum(t_qp)
    kl_pq, kl_qp = sums.sum(axis=1)
    return float(kl_pq), float(kl_qp)


def _fast_layout(
    p: FloatArray, q: FloatArray, shared: NDArray[np.bool_], axis: int
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_], int]:
    """``p``, ``q`` and ``shared`` in one C-ordered layout with the entries last (the
    flat indices of :func:`_fast_parts` need it), and ``axis`` made non-negative."""
    axis %= max(p.ndim, q.ndim)
    if p.shape != q.shape or axis != p.ndim - 1 or not (_contiguous(p) and _contiguous(q)):
        p, q, shared = (
            np.ascontiguousarray(np.moveaxis(x, axis, -1))
            for x in np.broadcast_arrays(p, q, shared)
        )
    return p, q, shared, axis


def _fast_parts(
    p: FloatArray,
    q: FloatArray,
    shared: NDArray[np.bool_],
    buffer: Callable[[], FloatArray],
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.intp] | None]:
    r"""Per entry of two sides in :func:`_fast_layout`: ``d = p - q``, ``m = |p - q|``,
    :math:`|r| = |\ln(p/q)| = \mathrm{log1p}(|p - q| / \min(p, q))`, and the flat
    indices where p or q is 0 (None if nowhere), where ``d`` and ``|r|`` are 0. Each
    array in a ``buffer()``."""
    with np.errstate(divide="ignore", invalid="ignore"):  # where p or q is 0, reset below
        d = np.subtract(p, q, out=buffer())
        m = np.abs(d, out=buffer())
        r = np.minimum(p, q, out=buffer())
        np.divide(m, r, out=r)
        np.log1p(r, out=r)  # |ln(p/q)|
    zeros = None if shared.all() else np.flatnonzero(~shared)
    if zeros is not None:
        r.put(zeros, 0.0)
        d.put(zeros, 0.0)
    return d, m, r, zeros


def _fast_mix(
    p: FloatArray,
    q: FloatArray,
    d: FloatArray,
    m: FloatArray,
    r: FloatArray,
    zeros: NDArray[np.intp] | None,
    buffer: Callable[[], FloatArray],
) -> tuple[FloatArray, float]:
    """From :func:`_fast_parts`: ``s = p + q`` (in a ``buffer()``), ``d`` divided by it
    and ``m`` multiplied by ``|r|`` in place, and the largest ``|d|``."""
    s = np.add(p, q, out=buffer())
    with np.errstate(invalid="ignore"):
        np.divide(d, s, out=d)
    if zeros is not None:  # 0 / 0 where both are 0
        d.put(zeros, 0.0)
    np.multiply(m, r, out=m)
    return s, max(float(d.max()), -float(d.min()))


def _jsd_w(
    p: FloatArray,
    q: FloatArray,
    s: FloatArray,
    d: FloatArray,
    m: FloatArray,
    zeros: NDArray[np.intp] | None,
    d_max: float,
    out: FloatArray,
) -> FloatArray:
    r"""Each entry's ``w``, four times its JSD term (see :func:`_fast_sums`), in ``out``:

    .. math:: w = s \ln(1 - d^2) + m, \quad |d| \le 7/8; \qquad
              w = 2 \big(s\,\mathrm{log1p}(|d|) - \min(p, q) |r|\big) \text{ beyond}

    and ``2 s ln 2`` where p or q is 0; from :func:`_fast_mix`'s ``s``, ``d`` (divided by
    ``s``), ``m`` (``|p - q| |r|``) and ``d_max``.
    """
    w = np.multiply(d, d, out=out)
    far = np.flatnonzero(w > _JS_FAR * _JS_FAR) if d_max > _JS_FAR else None
    np.negative(w, out=w)
    with np.errstate(divide="ignore"):  # log1p(-1) = -inf where d^2 rounds to 1: far
        np.log1p(w, out=w)
    w *= s
    w += m
    if far is not None:
        # s, |d| and |r| again from p and q (the same operations, so the same
        # bits): fewer passes over the large arrays.
        p_at, q_at = p.take(far), q.take(far)
        s_at = p_at + q_at
        t = np.subtract(p_at, q_at)
        np.abs(t, out=t)
        np.minimum(p_at, q_at, out=p_at)
        r_at = t / p_at
        np.log1p(r_at, out=r_at)  # |ln(p/q)|
        t /= s_at  # |d|
        np.log1p(t, out=t)
        t *= s_at
        p_at *= r_at
        t -= p_at
        t *= 2.0
        w.put(far, t)
    if zeros is not None:
        w.put(zeros, (2.0 * _LN2) * s.take(zeros))
    return w


def _fast_entries(
    pd: _Dist, qd: _Dist, shared: NDArray[np.bool_], axis: int
) -> tuple[FloatArray, FloatArray]:
    """Per entry, by the kernels of :func:`_fast_sums` (same conditions): ``ln(p/q)``
    (0 where p or q is 0) and the JSD term (``w / 4``), in the layout of the inputs
    broadcast together."""
    p, q, shared, axis = _fast_layout(pd.p, qd.p, shared, axis)

    def buffer() -> FloatArray:
        return np.empty_like(p)

    d, m, r, zeros = _fast_parts(p, q, shared, buffer)
    ratio = np.copysign(r, d)  # sign(p - q) |ln(p/q)|; 0 where p or q is 0
    s, d_max = _fast_mix(p, q, d, m, r, zeros, buffer)
    jsd = _jsd_w(p, q, s, d, m, zeros, d_max, out=r)
    jsd *= 0.25
    return np.moveaxis(ratio, -1, axis), np.moveaxis(jsd, -1, axis)


def _atanh_minus(
    d: FloatArray, d2: FloatArray, d2_max: float, out: FloatArray | None = None
) -> FloatArray:
    """``atanh(d) - d`` for ``|d| < 1/8`` (``d2 = d * d``, ``d2_max`` its largest), from its
    series sum_k d^(2k+1) / (2k+1), with as many terms as the largest ``|d|`` needs: the
    first left out is then below 2^-54 d^2 (two terms for |d| < 1e-3, eight at 1/8).
    Odd in ``d`` to the last bit."""
    big = math.sqrt(d2_max)
    terms = next((k for k in range(1, 8) if big ** (2 * k + 1) / (2 * k + 3) <= 2.0**-54), 8)
    tail = _ATANH_TAIL[len(_ATANH_TAIL) - terms :]
    c = np.multiply(d2, tail[0], out=out)
    for coef in tail[1:]:
        c += coef
        c *= d2
    c *= d
    return c


def _row_sums_at(x: FloatArray, at: NDArray[np.intp]) -> FloatArray:
    """Per row of ``x`` (entries last, C order), the sum of its entries at the flat
    indices ``at``."""
    values = x.take(at)
    if x.ndim == 1:
        return np.asarray(values.sum(), dtype=np.float64)
    rows = math.prod(x.shape[:-1])
    sums = np.bincount(at // x.shape[-1], weights=values, minlength=rows)
    return cast(FloatArray, sums.reshape(x.shape[:-1]))


def _contiguous(x: FloatArray) -> bool:
    return bool(x.flags.c_contiguous)


def _as_dist(x: FloatArray | _Dist) -> _Dist:
    return x if isinstance(x, _Dist) else _Dist.of(x)


def _kl_nats(p: FloatArray | _Dist, q: FloatArray | _Dist, axis: int) -> FloatArray:
    pd, qd = _as_dist(p), _as_dist(q)
    pos_p, pos_q = pd.pos, qd.pos
    shared = pos_p & pos_q
    infinite = _infinite(pos_p, pos_q, axis)
    safe = _normal(pd) and _normal(qd)
    if safe and _normalized(pd, qd):
        # D(Q||P) comes along; its precision is not asked for (as if it were inf).
        sums = _fast_sums(pd, qd, shared, axis, jsd=False, kl=True, infinite=(infinite, np.True_))
        return _set_inf(_floor0(cast(FloatArray, sums.kl_pq)), infinite)
    ratio = _dist_ratio(pd, qd, shared, safe)
    if _normalized(pd, qd):
        kl = np.sum(_kl_terms(pd.p, qd.p, ratio, shared)[0], axis=axis)
    else:
        kl = _dot(pd.p, ratio, axis)
    return _set_inf(_floor0(kl), infinite)


def _normalized(pd: _Dist, qd: _Dist) -> bool:
    """Both sides divided by their totals here: their exact totals are equal."""
    return pd.normalized and qd.normalized


def _jsd_clamped(jsd: FloatArray, shared: Mask, axis: int) -> FloatArray:
    """The JSD within [0, ln 2]; exactly ln 2 for disjoint supports (their sum of p ln 2
    + q ln 2 can round one ulp below it)."""
    jsd = np.minimum(_floor0(jsd), _LN2)
    return cast(FloatArray, np.where(np.any(shared, axis=axis), jsd, _LN2))


def _pair_nats(
    p: FloatArray | _Dist,
    q: FloatArray | _Dist,
    axis: int,
    scratch: tuple[FloatArray, ...] = (),
) -> dict[str, FloatArray]:
    """Every measure of :data:`MEASURES` but ``js_distance``, in nats, each log taken once.

    ``scratch``: arrays of the pair's shape that the kernels may overwrite, besides the
    logs (a caller that measures many chunks, the bootstrap, reuses its memory).
    """
    pd, qd = _as_dist(p), _as_dist(q)
    pa, qa = pd.p, qd.p
    pos_p, pos_q = pd.pos, qd.pos
    inf_pq, inf_qp = _infinite(pos_p, pos_q, axis), _infinite(pos_q, pos_p, axis)
    log_p, log_q = pd.log(), qd.log()
    out = {
        "entropy_p": _entropy_nats(pa, log_p, axis),
        "entropy_q": _entropy_nats(qa, log_q, axis),
        "cross_entropy_pq": _cross_entropy_nats(pa, log_q, inf_pq, axis),
        "cross_entropy_qp": _cross_entropy_nats(qa, log_p, inf_qp, axis),
    }
    shared = pos_p & pos_q
    if _normal(pd) and _normal(qd):
        normalized = _normalized(pd, qd)
        # The logs are spent: their memory serves the kernel's work.
        sums = _fast_sums(
            pd,
            qd,
            shared,
            axis,
            jsd=True,
            kl=normalized,
            infinite=(inf_pq, inf_qp),
            scratch=(*(lg for d, lg in ((pd, log_p), (qd, log_q)) if d.spare_log), *scratch),
        )
        jsd = _jsd_clamped(cast(FloatArray, sums.jsd), shared, axis)
        if normalized:
            kl_pq, kl_qp = cast(FloatArray, sums.kl_pq), cast(FloatArray, sums.kl_qp)
        else:
            ratio = _dist_ratio(pd, qd, shared, safe=True)
            kl_pq, kl_qp = _dot(pa, ratio, axis), -_dot(qa, ratio, axis)
    else:
        # One ln(p/q) serves both directions: q ln(q/p) = -q ln(p/q).
        ratio_abs = _ratio_and_abs(pd, qd, shared, False)
        a, b = _jsd_terms(pd, qd, pos_p, pos_q, False, ratio_abs)
        kl_pq, kl_qp = _kl_sum(pd, qd, ratio_abs[0], shared, axis)
        jsd = _jsd_from_terms(pa, qa, a, b, shared, axis, *ratio_abs)
    out["kl_pq"] = _set_inf(_floor0(kl_pq), inf_pq)
    out["kl_qp"] = _set_inf(_floor0(kl_qp), inf_qp)
    out["jsd"] = jsd
    return out


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
    pa = _dist(p, "p", axis, normalize=normalize)
    return _in_unit(_entropy_nats(pa.p, pa.log(), axis), unit)


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
    infinite = _infinite(pa.pos, qa.pos, axis)
    return _in_unit(_cross_entropy_nats(pa.p, qa.log(), infinite, axis), unit)


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

    Labelled inputs align by label (see the module's docstring), in any order:

    >>> p, q = {"black": 1, "white": 0}, {"white": 0.99, "black": 0.01}
    >>> round(float(kl_divergence(p, q)), 12)
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

    Two 1-D arrays of more than :data:`PAIR_BLOCK` entries are measured a block of
    entries at a time, in memory of a few blocks rather than several copies of the pair;
    the results are the same up to rounding (the same terms, summed in another order).

    Examples
    --------
    >>> m = measures([0.5, 0.5], [0.9, 0.1], unit="nats")
    >>> round(float(m["kl_pq"]), 6)
    0.510826
    """
    p, q, _ = _unlabelled_pair(p, q)
    nats = _long_pair_nats(p, q, axis, normalize)
    if nats is None:
        pa, qa = _pair(p, q, axis, normalize)
        nats = _pair_nats(pa, qa, axis)
    out = {key: _in_unit(value, unit) for key, value in nats.items()}
    out["js_distance"] = cast(Result, np.sqrt(out["jsd"]))
    return out


def contributions(
    p: ArrayLike, q: ArrayLike, *, unit: Unit = "bits", axis: int = -1, normalize: bool = True
) -> dict[str, NDArray[Any]]:
    r"""Each entry's term of ``kl_pq``, ``kl_qp`` and ``jsd``, with the normalized p and q.

    .. math:: p_i \log\frac{p_i}{q_i}, \quad q_i \log\frac{q_i}{p_i}, \quad
              \tfrac12\Big(p_i \log\frac{p_i}{m_i} + q_i \log\frac{q_i}{m_i}\Big)

    The KL terms may be negative (only their sum is >= 0) or ``inf``; the JSD terms are
    >= 0 and sum to the JSD. Returns arrays of the input's shape; for labelled inputs
    (two Series or mappings), arrays over the union of their labels, with the labels
    themselves under ``"labels"`` (an object array).
    """
    p, q, labels = _unlabelled_pair(p, q)
    scale = unit_scale(unit)
    out = _long_contributions(p, q, axis, normalize, scale)
    if out is None:
        out = _contributions(p, q, axis, normalize, scale)
    if labels is not None:
        out["labels"] = np.fromiter(labels, dtype=object, count=len(labels))
    return out


def _contributions(
    p: ArrayLike, q: ArrayLike, axis: int, normalize: bool, scale: float
) -> dict[str, NDArray[Any]]:
    """:func:`contributions` in one shot, of arrays (aligned already)."""
    pd, qd = _pair(p, q, axis, normalize)
    pa, qa = pd.p, qd.p
    pos_p, pos_q = pd.pos, qd.pos
    shared = pos_p & pos_q
    # The kernels of measures(), entry by entry: the JSD's terms are the ones its sum
    # adds. The KL's are p ln(p/q), whose sum is the divergence only up to rounding
    # (measures() sums terms that do not cancel, see _kl_terms), with ln(p/q) as
    # measures() takes it.
    if _normal(pd) and _normal(qd):
        ratio, jsd_nats = _fast_entries(pd, qd, shared, axis)
    else:
        ratio_abs = _ratio_and_abs(pd, qd, shared, False)
        ratio = ratio_abs[0]
        a, b = _jsd_terms(pd, qd, pos_p, pos_q, False, ratio_abs)
        jsd_nats = _jsd_entries(pa, qa, a, b, shared, *ratio_abs) * 0.5
    # In place, the same operations as _set_inf(p ratio / scale, ...) + 0.0 and
    # _floor0(jsd / scale): at 10^7 entries each temporary is 80 MB more at the peak.
    kl_pq = np.multiply(pa, ratio)
    kl_pq /= scale
    np.copyto(kl_pq, np.inf, where=_infinite_at(pos_p, pos_q))
    kl_pq += 0.0  # -0.0 -> 0.0
    kl_qp = np.multiply(qa, ratio, out=ratio)  # ratio is spent, of the broadcast shape
    np.negative(kl_qp, out=kl_qp)
    kl_qp /= scale
    np.copyto(kl_qp, np.inf, where=_infinite_at(pos_q, pos_p))
    kl_qp += 0.0
    jsd = np.divide(jsd_nats, scale, out=jsd_nats)
    np.maximum(jsd, 0.0, out=jsd)
    jsd += 0.0
    return {"p": pa, "q": qa, "kl_pq": kl_pq, "kl_qp": kl_qp, "jsd": jsd}
