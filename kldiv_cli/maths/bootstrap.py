r"""Percentile bootstrap intervals for every measure of a pair, in one vectorised pass.

A side of counts ``y`` (total ``n``) is resampled from its own multinomial
:math:`\mathrm{Mult}(n, y / n)`; a side that is not counts (a model) stays fixed. The
``B`` resamples are drawn and measured as ``(rows, K)`` arrays, a few large chunks of
rows at a time, on every core (NumPy releases the GIL in its samplers and ufuncs): no
Python code runs per resample.

Drawing
-------
NumPy's ``Generator.multinomial`` draws one binomial per label and resample, ~140 ns
each: 1.4 s for 10,000 resamples of 1,000 labels, for one side, against a budget of
1 s for both sides and every measure. So a side with many labels for its total is
drawn *Poissonized* instead, an exact construction:

1. ``N_k ~ Poisson(c y_k)`` independently, ``c = 1 - 3 / sqrt(n)``. Given their sum
   ``S = s``, ``N ~ Mult(s, y / n)``. A mean depends on the label only, so each
   distinct count has one table of its Poisson CDF, shared by every resample, and a
   draw is a uniform looked up in it (~15 ns), not a rejection sampler.
2. If ``S <= n`` (all but ~0.13% of rows, as ``E S = n - 3 sqrt(n)``), the ``n - S``
   missing observations are added, each a label drawn with probability ``y_k / n``.
   Two independent multinomials with the same probabilities add up to one, so the row
   is ``Mult(n, y / n)`` whatever ``s`` was.
3. If ``S > n``, the row is drawn afresh with ``Generator.multinomial``.

The exact procedure, which fixes every resample for a given seed, is in the notes of
:func:`bootstrap_intervals`.

Measuring
---------
Each chunk of resamples is measured by core's own kernels,
:func:`kldiv_cli.maths.core._pair_nats` (the one :func:`kldiv_cli.maths.core.measures`
runs), vectorised along the rows, with its two logs per entry saved:

- ``ln p`` of a resampled side takes one of few values, ``ln((x + a) / t)`` for a count
  ``x``: it is looked up in a table of them, each computed as core computes it (in
  the log domain where ``p`` underflows: a tiny pseudocount next to a large total);
- a model's logs are taken once, not once per resample;

and the kernels' work arrays (the logs among them, once spent) reused from chunk to
chunk. So a resample's measures are those of :func:`kldiv_cli.maths.core.measures` on
its counts, to the rounding of its total (one total for every row, ``n + K a``).

A total that overflows (a pseudocount of 1e308) is taken of the values scaled by a
power of 2, and a model is normalized by core itself, so an interval survives
whatever its point estimate survives; no bound is NaN.
"""

from __future__ import annotations

import math
import numbers
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final, NamedTuple, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths import core
from kldiv_cli.maths.counts import MAX_COUNT_TOTAL, count_total, first_not_whole

FloatArray: TypeAlias = NDArray[np.float64]
BoolArray: TypeAlias = NDArray[np.bool_]
IndexArray: TypeAlias = NDArray[np.intp]
CountArray: TypeAlias = NDArray[np.intp]

#: A chunk holds about this many entries per side (1 MiB of float64): few enough chunks
#: that their Python overhead is nothing, enough to keep both cores busy, and small
#: enough for the temporaries of the measures to stay near the cache. Part of the
#: draw procedure: changing it changes the resamples of a seed.
CHUNK_ENTRIES: Final = 1 << 17
#: How many resamples when none is said (``compare --ci`` without ``--resamples``).
DEFAULT_RESAMPLES: Final = 2000
#: Each resample keeps its eight measures: 10^7 of them are 640 MB.
MAX_RESAMPLES: Final = 10_000_000
#: The work of an interval is its resamples times its labels. This machine measures
#: 1.3 to 8 million of those label-resamples a second (2 cores; fewest with many labels
#: and small counts): 10^10 is 20 minutes to 2 hours, the most that is run.
#: ``--resamples 10000000`` on 100,000 labels (10^12, days) is refused up front.
MAX_WORK: Final = 10**10
#: A seed drawn when none is given is reduced modulo this, to print readably.
SEED_MODULUS: Final = 2**32

#: The Poisson means add up to ``n - SHORTFALL_SD * sqrt(n)``: their sum exceeds ``n``
#: (the row is drawn again) with probability ~Phi(-3) = 0.13%.
SHORTFALL_SD: Final = 3.0
#: Poissonized drawing costs ~15 ns per label and ~10 ns per missing observation
#: (~3 sqrt(n) of them per row), the multinomial ~140 ns per label: Poissonize when
#: ``sqrt(n) <= POISSON_RATIO * K'``, ``K'`` the labels with a positive count.
POISSON_RATIO: Final = 2.0
#: Up to this total, a table of ``n`` entries maps a uniform integer in ``[0, n)`` to
#: its label (<= 16 MiB); past it, a binary search of the cumulative counts does.
LABEL_TABLE_MAX: Final = 1 << 22
_GRID_BITS: Final = 10
#: Cells of a lookup table: the Poisson CDF inverted at ``j / GRID``.
GRID: Final = 1 << _GRID_BITS
#: A Poisson mean above this, or past the table budget, uses ``Generator.poisson``.
TABLE_MAX_MEAN: Final = 10_000.0
#: The table budget: CDF values over all tables (16 MiB) ...
TABLE_MAX_ENTRIES: Final = 1 << 21
#: ... and tables, each of GRID int16 cells twice (8 MiB).
TABLE_MAX_MEANS: Final = 2048
#: A table spans the mean +- this many standard deviations, plus a margin: the mass
#: outside is below 1e-40, and a uniform there lands on the table's edge.
TABLE_SDS: Final = 14.0
#: Labels with a zero count are put in place by block copies up to this many runs.
PLACE_MAX_RUNS: Final = 16
#: The counts whose ``ln p`` is looked up rather than computed: ``0 .. LOG_TABLE - 1``.
LOG_TABLE: Final = 1 << 16


@dataclass(frozen=True)
class Intervals:
    """Percentile bootstrap intervals of every measure of a pair.

    Attributes
    ----------
    level : float
        The nominal coverage, e.g. 0.95.
    resamples : int
        ``B``, the number of resamples.
    seed : int
        The seed of the resamples: the same seed gives the same intervals.
    bounds : dict of str to (float, float)
        ``(lo, hi)`` of every key of :data:`kldiv_cli.maths.core.MEASURES`, in the unit asked
        for; either may be ``inf`` (a KL divergence or cross-entropy), none is NaN.
    """

    level: float
    resamples: int
    seed: int
    bounds: dict[str, tuple[float, float]]


def bootstrap_intervals(
    p: ArrayLike,
    q: ArrayLike,
    *,
    resample_p: bool,
    resample_q: bool,
    level: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = None,
    pseudocount: float = 0.0,
    unit: str = "bits",
    progress: Callable[[int, int], None] | None = None,
) -> Intervals:
    r"""Percentile bootstrap intervals of every measure of :func:`kldiv_cli.maths.core.measures`.

    Each resample redraws each side of counts from its own multinomial, adds
    ``pseudocount`` to every entry of both sides (as ``compare --pseudocount`` adds it
    to the aligned values), normalizes each side and takes every measure. A side that
    is not resampled (a model) is the same in every resample, so its entropy's interval
    is its entropy, twice.

    The interval of a measure leaves out ``k = floor(B (1 - level) / 2)`` of its ``B``
    values at each end, with ``level`` read as the decimal it prints as (so that
    ``(1 - 0.9) * 20 / 2`` is exactly 1, not 0.9999999999999998):

    .. math:: [\,\mathrm{lo}, \mathrm{hi}\,] = [\,x_{(k+1)},\; x_{(B-k)}\,]

    with :math:`x_{(1)} \le \dots \le x_{(B)}` the sorted values. ``hi`` is the
    inverted-CDF quantile at ``(1 + level) / 2`` (what ``np.quantile(...,
    method="inverted_cdf")`` computes, in exact arithmetic) and ``lo`` its mirror image:
    the interval holds at least ``level * B`` of the values, leaves out as many on each
    side, and ``lo <= hi``. (``lo`` is the inverted-CDF quantile at ``(1 - level) / 2``
    too, unless ``B (1 - level) / 2`` is whole: then it is the next value up.) Both are
    order statistics, never interpolated: a KL divergence that is ``inf`` in more than
    ``k`` resamples (``q = 0 < p``) has ``hi = inf``, and no bound is NaN.

    A percentile interval carries the bias of the plug-in estimates into its bounds:
    with sparse counts the resamples lose rare labels, so that an entropy's interval may
    lie below the point estimate and a divergence's above it. (With 1,000 draws per side
    over 10 labels and a true JSD of 0.1 bit, the 95% interval of the JSD held the true
    value in 90.6% of 1,200 simulated datasets.)

    Parameters
    ----------
    p, q : array_like
        Aligned 1-D arrays over the same ``K`` labels, the raw values: whole numbers for
        a side that is resampled, any finite non-negative values otherwise.
    resample_p, resample_q : bool
        Which sides are counts to resample; at least one.
    level : float
        The nominal coverage, in (0, 1).
    resamples : int
        ``B >= 1``.
    seed : int or None
        A seed ``>= 0``. ``None`` draws one, ``SeedSequence().entropy % 2**32``, and
        reports it in :attr:`Intervals.seed`, so that any run can be repeated.
    pseudocount : float
        Added to every entry of both sides after resampling.
    unit : {"bits", "nats", "bans"}
        The unit of the bounds.
    progress : callable, optional
        ``progress(done, total)``, called after each chunk of resamples with the number
        measured so far (increasing, from one thread at a time) and ``B``; last with
        ``done == B``. For a progress bar: this module does no I/O itself.

    Returns
    -------
    Intervals

    Raises
    ------
    UsageError
        (a :class:`ValueError`) For a level outside (0, 1) (``--ci``), ``resamples <
        1`` (``--resamples``), a negative seed, a negative or non-finite pseudocount, an
        unknown unit, or neither side resampled; for ``B * K`` above :data:`MAX_WORK`
        (hours of work), or values of ``B`` resamples that cannot be allocated.
    InvalidDataError
        For arrays that are not 1-D, differ in length, hold a negative or non-finite
        value, or have no positive value, or a resampled side that is not whole numbers.

    Notes
    -----
    The draws, the same for a given seed on any machine and any number of threads: the
    resamples are cut into ``C`` chunks of ``rows = max(1, CHUNK_ENTRIES // K)`` (the
    last may be shorter), and chunk ``i`` draws from ``rng = default_rng(
    SeedSequence(seed).spawn(C)[i])``: first P's rows (if P is resampled), then Q's.
    A side with ``n`` counts, ``y`` those of its ``K'`` labels with a positive count, in
    label order (the other labels are 0 in every resample), draws ``rows x K'`` counts

    - *multinomial*: ``rng.multinomial(n, y / n, size=rows)``, unless
    - *Poissonized*, when ``2 * SHORTFALL_SD < sqrt(n) <= POISSON_RATIO * K'``. With
      ``c = 1 - SHORTFALL_SD / sqrt(n)``:

      1. ``N_k ~ Poisson(c y_k)`` for every label. Take the distinct counts in
         increasing order, the ``d``-th while ``c y <= TABLE_MAX_MEAN``, ``d <=
         TABLE_MAX_MEANS`` and ``d * (w + 1) <= TABLE_MAX_ENTRIES``, ``w`` the largest
         ``hi - lo + 1`` so far, ``lo = max(0, floor(m - TABLE_SDS sqrt(m) - 30))``,
         ``hi = ceil(m + TABLE_SDS sqrt(m) + 40)``, ``m = c y``. Over the ``T`` labels
         with such a count, in label order, ``U = rng.random((rows, T))`` and ``N =
         min{x : F(x) > U}``, ``F`` the CDF of Poisson(``c y``). Then over the others,
         if any, in label order: ``rng.poisson(c y, size=(rows, K' - T))``.
      2. ``m = n - sum_k N_k`` per row. Over the rows with ``m >= 0``, in order,
         ``r = rng.integers(0, n, size=sum(m))``: each ``r`` is one more observation
         of the label ``k`` with ``y_1 + ... + y_{k-1} <= r < y_1 + ... + y_k``.
      3. The rows with ``m < 0``, if any, are replaced by ``rng.multinomial(n, y / n,
         size=their number)``, in order.

    Both give rows of ``Mult(n, y / n)`` (see the module's docstring). The CDF tables
    are exact to rounding (``exp`` of the log-pmf, with ``math.lgamma``, summed); the
    mass outside ``[lo, hi]`` (< 1e-40) lies on its edge.

    Examples
    --------
    >>> ci = bootstrap_intervals([30, 50, 20], [40, 40, 20], resample_p=True,
    ...                          resample_q=True, resamples=500, seed=1)
    >>> lo, hi = ci.bounds["jsd"]
    >>> 0.0 <= lo <= hi <= 1.0
    True
    """
    trim = _trimmed(level, resamples)
    scale = core.unit_scale(unit)
    if not (resample_p or resample_q):
        raise UsageError("--ci needs counts to resample, and neither P nor Q is resampled")
    if not (isinstance(pseudocount, numbers.Real) and 0.0 <= pseudocount < math.inf):
        raise UsageError(f"--pseudocount {pseudocount!r}: must be a finite number >= 0")
    seed = _seed(seed)
    pa, qa = _values(p, "p", resample_p), _values(q, "q", resample_q)
    if pa.size != qa.size:
        raise InvalidDataError(f"p has {pa.size} entries and q has {qa.size}; they must match")
    resamples = int(resamples)
    _check_work(resamples, pa.size)
    sides = (
        _side(pa, "p", resample_p, float(pseudocount)),
        _side(qa, "q", resample_q, float(pseudocount)),
    )
    values = _resampled_measures(sides, resamples, seed, scale, progress)
    values.sort(axis=1)
    lo, hi = values[:, trim], values[:, resamples - 1 - trim]
    bounds = {key: (float(lo[i]), float(hi[i])) for i, key in enumerate(core.MEASURES)}
    return Intervals(level=float(level), resamples=resamples, seed=seed, bounds=bounds)


# --------------------------------------------------------------------------- checks


def _trimmed(level: float, resamples: int) -> int:
    """``k = floor(B (1 - level) / 2)``, the values left out at each end."""
    if isinstance(level, bool) or not isinstance(level, numbers.Real):
        raise UsageError(f"--ci {level!r}: the level must be a number between 0 and 1")
    if not 0.0 < level < 1.0:  # False for NaN too
        raise UsageError(f"--ci {level!r}: the level must be between 0 and 1, e.g. 0.95")
    if isinstance(resamples, bool) or not isinstance(resamples, int | np.integer):
        raise UsageError(f"--resamples {resamples!r}: must be a whole number, at least 1")
    if not 1 <= resamples <= MAX_RESAMPLES:
        raise UsageError(f"--resamples {resamples}: must be from 1 to {MAX_RESAMPLES:,}")
    # In floats, (1 - 0.9) * 20 / 2 is 0.9999999999999998 and would trim 0, not 1:
    # read the level as the decimal it prints as (what the user typed).
    exact = Fraction(repr(float(level)))
    return math.floor((1 - exact) * int(resamples) / 2)


def _check_work(resamples: int, labels: int) -> None:
    """Refuse up front an interval that would take hours (:data:`MAX_WORK`)."""
    work = resamples * labels
    if work > MAX_WORK:
        fewer = max(1, MAX_WORK // labels)
        raise UsageError(
            f"--resamples {resamples:,} on {labels:,} labels is {work:.1e} label-resamples, "
            f"over the limit of {MAX_WORK:.0e} (hours of work at a few million a second); "
            f"use --resamples {fewer:,} or fewer"
        )


def _seed(seed: int | None) -> int:
    if seed is None:
        entropy = np.random.SeedSequence().entropy
        return int(entropy) % SEED_MODULUS  # type: ignore[arg-type]
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise UsageError(f"--seed {seed!r}: must be a whole number >= 0")
    return int(seed)


def _values(x: ArrayLike, name: str, counts: bool) -> FloatArray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise InvalidDataError(f"{name} must be 1-D, not {a.ndim}-D")
    if a.size == 0:
        raise InvalidDataError(f"{name} is empty")
    if not np.isfinite(a).all():
        raise InvalidDataError(f"{name} has a NaN or infinite value")
    if a.min() < 0.0:
        raise InvalidDataError(f"{name} has a negative value ({float(a.min())!r})")
    if counts:
        index = first_not_whole(a)
        if index is not None:
            bad = float(a[index])
            raise InvalidDataError(f"{name} is resampled, so must be counts; {bad!r} is not one")
        if not 0.0 < count_total(a) <= MAX_COUNT_TOTAL:
            raise InvalidDataError(f"{name} must have a total count between 1 and 2**53")
    return a


# --------------------------------------------------------------------------- the sides


class _Work:
    """The arrays one thread reuses from chunk to chunk.

    A fresh array of a megabyte costs 256 page faults (~3 us each on this VM) whenever
    the allocator has given its memory back to the system, which glibc does between
    chunks: without reuse, faults took 40% of the time.
    """

    def __init__(self) -> None:
        self._arrays: dict[tuple[int, str], NDArray[Any]] = {}

    def get(
        self, owner: object, name: str, shape: tuple[int, ...], dtype: DTypeLike
    ) -> NDArray[Any]:
        """An uninitialized C-contiguous array of ``shape``, the same memory each time."""
        size = math.prod(shape)
        key = (id(owner), name)
        a = self._arrays.get(key)
        if a is None or a.size < size:  # the first chunk is the largest, mostly
            a = np.empty(size, dtype)
            self._arrays[key] = a
        return a[:size].reshape(shape)


class _Rows(NamedTuple):
    """One side of a chunk: ``p`` normalized, ``ln p`` (0 where ``p = 0``), and the
    mask of ``p = 0`` (``None`` if there is none); ``(rows, K)``, or ``(K,)`` for a
    model, which broadcasts. ``normal``: every positive ``p`` is a normal float (core's
    ``_normal``), which spares the kernel its checks."""

    p: FloatArray
    log: FloatArray
    zero: BoolArray | None
    normal: bool = False
    #: ``log`` may be overwritten by the kernels: a resample's, not a model's (kept).
    spare: bool = True


class _Model:
    """A side that is not resampled: its values plus the pseudocount, normalized."""

    def __init__(self, values: FloatArray, name: str, pseudocount: float) -> None:
        # As core normalizes, the same floats: a total that overflows is rescaled, and
        # the zero rule and the logs of entries that underflow come from the values.
        d = core._dist(values + pseudocount, name, -1, normalize=True)
        self.size = d.p.size
        self.rows = _Rows(d.p, d.log(), None if d.pos.all() else ~d.pos, core._normal(d), False)
        # Its entropy is one number, not B copies of it rounded B ways.
        self.entropy = float(core._entropy_nats(d.p, self.rows.log, -1))

    def draw(self, rng: np.random.Generator, rows: int, work: _Work) -> _Rows:
        return self.rows


_Side: TypeAlias = "_Model | _Resampler"


def _side(values: FloatArray, name: str, resample: bool, pseudocount: float) -> _Side:
    return _Resampler(values, pseudocount) if resample else _Model(values, name, pseudocount)


class _Resampler:
    """Draws rows of ``Mult(n, y / n)`` for one side of counts (see the module's doc)."""

    def __init__(self, counts: FloatArray, pseudocount: float) -> None:
        self.size = counts.size
        self.cols: IndexArray = np.flatnonzero(counts)
        y = counts[self.cols]
        self.n = int(y.sum())  # exact: whole numbers with a total <= 2**53
        self.pvals: FloatArray = y / self.n
        # The runs of consecutive labels with a positive count: (start, stop, at).
        breaks = (np.flatnonzero(np.diff(self.cols) != 1) + 1).tolist()
        self.runs = [
            (int(self.cols[a]), int(self.cols[a]) + b - a, a)
            for a, b in zip([0, *breaks], [*breaks, self.cols.size], strict=True)
        ]
        self.pseudocount = pseudocount
        # Every row of x + a sums to n + K a: one total for all rows (core sums each
        # row; the two differ by a rounding at most). A total that overflows (a huge
        # pseudocount) is taken of the values scaled by a power of 2, which changes no p.
        self.shrink = 1.0
        self.total = float(self.n) + self.size * pseudocount if pseudocount else float(self.n)
        if not math.isfinite(self.total):
            self.shrink = 2.0 ** -(math.ceil(math.log2(self.size)) + 2)
            self.total = float(self.n) * self.shrink + self.size * (pseudocount * self.shrink)
        self.p_table, self.log_table = self._p_log(np.arange(min(self.n, LOG_TABLE - 1) + 1))
        # The smallest p of any resample is that of a count of 0 (with a pseudocount) or
        # 1, the largest is at most 1: the same for every resample.
        self.normal = bool(self.p_table[0 if pseudocount else 1] >= core._NORMAL)
        root_n = math.sqrt(self.n)
        self.poisson = 2.0 * SHORTFALL_SD < root_n <= POISSON_RATIO * self.cols.size
        if self.poisson:
            self._tables(y.astype(np.int64), 1.0 - SHORTFALL_SD / root_n)

    def _p_log(self, x: NDArray[np.integer]) -> tuple[FloatArray, FloatArray]:
        """``p = (x + a) / t`` (``x / n`` exactly, as core has it, when ``a = 0``) and
        ``ln p``, as core takes it (in the log domain where ``p`` underflows: a tiny
        pseudocount next to a large total)."""
        if self.pseudocount:
            raw = np.add(x, self.pseudocount, dtype=np.float64)
            if self.shrink != 1.0:
                raw *= self.shrink
        else:
            raw = np.asarray(x, dtype=np.float64)
        with np.errstate(under="ignore"):
            p = np.divide(raw, self.total)
        return p, core._Dist(p, raw, self.total).log()

    def draw(self, rng: np.random.Generator, rows: int, work: _Work) -> _Rows:
        """``rows`` resamples, normalized, with their logs."""
        x = self.counts(rng, rows, work)
        if x.max() >= self.p_table.size:  # counts past the tables: computed
            p, log = self._p_log(x)
            zero = None if self.pseudocount or x.min() > 0 else x == 0
            return _Rows(p, log, zero, self.normal)
        # mode="raise" would copy through a buffer; every index is in range anyway.
        p = np.take(self.p_table, x, out=work.get(self, "p", x.shape, np.float64), mode="clip")
        log = np.take(
            self.log_table, x, out=work.get(self, "log", x.shape, np.float64), mode="clip"
        )
        zero = None
        if not self.pseudocount and x.min() == 0:
            zero = np.equal(x, 0, out=work.get(self, "zero", x.shape, np.bool_))
        return _Rows(p, log, zero, self.normal)

    # ------------------------------------------------------------------- drawing

    def counts(self, rng: np.random.Generator, rows: int, work: _Work) -> CountArray:
        """``rows`` resamples of the counts, ``(rows, K)``."""
        if not self.poisson:
            return self._place(rng.multinomial(self.n, self.pvals, size=rows))
        drawn = work.get(self, "drawn", (rows, self.cols.size), np.intp)
        table_draws = self._table_draws(rng, rows, work)
        if self.other_cols.size:
            drawn[:, self.table_cols] = table_draws
            drawn[:, self.other_cols] = rng.poisson(self.other_means, (rows, self.other_cols.size))
        else:
            np.copyto(drawn, table_draws)
        missing = self.n - drawn.sum(axis=1)
        over = missing < 0
        x = self._place(drawn, work)
        adds = np.where(over, 0, missing)
        total = int(adds.sum())
        if total:
            # at[i] = the flat index in x of the i-th missing observation: its row's
            # start (a cumulative sum of steps of K at each row's first), plus its label.
            at = work.get(self, "at", (total,), np.intp)
            at.fill(0)
            firsts = np.cumsum(adds)[:-1]
            np.add.at(at, firsts[firsts < total], self.size)
            np.cumsum(at, out=at)
            r = rng.integers(0, self.n, size=total)
            if self.labels is not None:
                label = work.get(self, "label", (total,), self.labels.dtype)
                at += np.take(self.labels, r, out=label, mode="clip")
            else:
                at += self.cols.take(np.searchsorted(self.ends, r, side="right"))
            # No allocation (bincount's would cost its page faults), at the cost of
            # holding the GIL for ~0.2 ms.
            np.add.at(x.reshape(-1), at, np.intp(1))
        if over.any():
            bad = np.flatnonzero(over)
            x[bad] = self._place(rng.multinomial(self.n, self.pvals, size=bad.size))
        return x

    def _tables(self, y: NDArray[np.int64], c: float) -> None:
        # The r-th observation (from 0) has the label labels[r], a column of (rows, K);
        # the table is read at random, so the smaller the better for the cache.
        self.ends = np.cumsum(y)
        self.labels: NDArray[np.int16] | NDArray[np.int32] | None = None
        if self.n <= LABEL_TABLE_MAX:
            small = np.int16 if self.size <= np.iinfo(np.int16).max else np.int32
            self.labels = np.repeat(self.cols.astype(small), y)
        values, which = np.unique(y, return_inverse=True)
        lam = c * values.astype(np.float64)
        sd = np.sqrt(lam)
        lo = np.maximum(0, np.floor(lam - TABLE_SDS * sd - 30.0)).astype(np.intp)
        width = np.ceil(lam + TABLE_SDS * sd + 40.0).astype(np.intp) - lo + 1
        # The tables are one (tables, width) array, padded: the counts, in increasing
        # order, get one while it stays within the budget.
        budget = (
            np.arange(1, values.size + 1) * np.maximum.accumulate(width + 1)
        ) <= TABLE_MAX_ENTRIES
        ok = budget & (lam <= TABLE_MAX_MEAN) & (np.arange(values.size) < TABLE_MAX_MEANS)
        tabled = int(np.argmin(ok)) if not ok.all() else values.size
        in_table = which < tabled
        self.table_cols: IndexArray = np.flatnonzero(in_table)
        self.other_cols: IndexArray = np.flatnonzero(~in_table)
        self.other_means: FloatArray = c * y[self.other_cols].astype(np.float64)
        lam, lo = lam[:tabled, None], lo[:tabled, None]
        span = int(width[:tabled].max()) if tabled else 0
        x = lo + np.arange(span)
        inside = x < lo + width[:tabled, None]
        log_fact = _log_factorials(int(x.max()) if tabled else 0)
        pmf = np.exp(x * np.log(lam) - lam - log_fact[x])
        cdf = np.where(inside, np.cumsum(pmf, axis=1), 2.0)  # 2: above every uniform
        # For u in [j/G, (j+1)/G), min{x : F(x) > u} = lo + #{F <= u} lies between
        # lo + #{F <= j/G} = lo + #{ceil(F G) <= j} and lo + #{F < (j+1)/G} = lo +
        # #{floor(F G) <= j}. F G is exact (G is a power of 2), so both counts are.
        scaled = cdf * GRID
        cell = np.arange(tabled)[:, None] * (GRID + 1)
        counts: list[IndexArray] = []
        for rounded in (np.ceil(scaled), np.floor(scaled)):
            at = cell + np.minimum(rounded, GRID).astype(np.intp)  # beyond 1: bin G
            bins = np.bincount(at[inside], minlength=tabled * (GRID + 1))
            counts.append(np.cumsum(bins.reshape(tabled, GRID + 1), axis=1)[:, :GRID])
        below, under = counts
        # Every value fits in int16 (TABLE_MAX_MEAN): half the cache of int32. Where
        # the two differ (a few % of cells), the draw compares u with the CDF.
        self.first = (
            np.where(below == under, lo + below, -(lo + below) - 1).astype(np.int16).reshape(-1)
        )
        self.last = (lo + under).astype(np.int16).reshape(-1)
        sentinel = np.full((tabled, 1), 2.0)
        self.cdf: FloatArray = np.hstack((cdf, sentinel)).reshape(-1)
        self.cdf_base: IndexArray = (np.arange(tabled) * (span + 1) - lo[:, 0]).astype(np.intp)
        self.cell_base: IndexArray = which[self.table_cols].astype(np.intp) * GRID

    def _table_draws(self, rng: np.random.Generator, rows: int, work: _Work) -> NDArray[np.int16]:
        """Poisson draws of the tabled labels: their CDF inverted at uniforms."""
        shape = (rows, self.table_cols.size)
        u = rng.random(out=work.get(self, "u", shape, np.float64))
        # floor(u G), exact: u G only moves the exponent; the cast truncates.
        cell = np.multiply(u, GRID, out=work.get(self, "cell", shape, np.intp), casting="unsafe")
        cell += self.cell_base
        x = np.take(self.first, cell, out=work.get(self, "x16", shape, np.int16), mode="clip")
        flat = x.reshape(-1)
        undecided = np.flatnonzero(np.less(x, 0, out=work.get(self, "neg", shape, np.bool_)))
        if undecided.size:
            at = cell.reshape(-1)[undecided]
            base = self.cdf_base.take(at >> _GRID_BITS)  # cdf[base + x] = F(x)
            lo = -1 - flat[undecided].astype(np.intp)  # F(lo - 1) <= u < F(hi)
            hi = self.last.take(at).astype(np.intp)
            u_at = u.reshape(-1)[undecided]
            # Most undecided cells hold one CDF value: one comparison settles them.
            above = u_at >= self.cdf.take(base + lo)
            hi = np.where(above, hi, lo)
            lo += above
            live = np.flatnonzero(lo < hi)
            if live.size:  # cells of the far tails hold many: bisect
                lo_l, hi_l, u_l, base_l = lo[live], hi[live], u_at[live], base[live]
                while (open_ := lo_l < hi_l).any():
                    mid = (lo_l + hi_l) >> 1
                    above = u_l >= self.cdf.take(base_l + mid)
                    lo_l = np.where(open_ & above, mid + 1, lo_l)
                    hi_l = np.where(above, hi_l, mid)
                lo[live] = lo_l
            flat[undecided] = lo
        return x

    def _place(self, x: CountArray, work: _Work | None = None) -> CountArray:
        """The counts of the labels with a positive count, into ``(rows, K)``."""
        if self.cols.size == self.size:
            return x
        shape = (x.shape[0], self.size)
        if work is None:
            out = np.zeros(shape, np.intp)
        else:
            out = work.get(self, "x", shape, np.intp)
            out.fill(0)
        if len(self.runs) > PLACE_MAX_RUNS:
            out[:, self.cols] = x
        else:  # a few block copies beat a scatter by 4x
            for start, stop, at in self.runs:
                out[:, start:stop] = x[:, at : at + stop - start]
        return out


def _log_factorials(top: int) -> FloatArray:
    """``ln x!`` for ``x = 0 .. top``, each by lgamma (a cumulative sum would drift)."""
    return np.array([math.lgamma(x + 1.0) for x in range(top + 1)])


# --------------------------------------------------------------------------- measures


def _threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _chunks(size: int, resamples: int, seed: int) -> list[tuple[int, int, np.random.SeedSequence]]:
    """The chunks of the resamples: ``(start, stop, seed sequence)`` of each."""
    rows = max(1, CHUNK_ENTRIES // size)
    starts = range(0, resamples, rows)
    children = np.random.SeedSequence(seed).spawn(len(starts))
    return [
        (start, min(start + rows, resamples), child)
        for start, child in zip(starts, children, strict=True)
    ]


def _resampled_measures(
    sides: tuple[_Side, _Side],
    resamples: int,
    seed: int,
    scale: float,
    progress: Callable[[int, int], None] | None = None,
) -> FloatArray:
    """Every measure of every resample, in the unit: ``(len(MEASURES), B)``."""
    chunks = _chunks(sides[0].size, resamples, seed)
    shape = (len(core.MEASURES), resamples)
    try:
        out = np.empty(shape)
    except MemoryError:  # exit 2 naming the size, not a traceback (exit 70)
        size = math.prod(shape) * 8
        raise UsageError(
            f"--resamples {resamples:,} needs {size / 2**20:,.0f} MiB for the values of "
            "its resamples, which cannot be allocated; use fewer resamples"
        ) from None
    index = {key: i for i, key in enumerate(core.MEASURES)}
    local = threading.local()
    lock = threading.Lock()
    done = [0]

    def report(rows: int) -> None:
        if progress is not None:
            # Under the lock: the counts reach the callback in increasing order.
            with lock:
                done[0] += rows
                progress(done[0], resamples)

    def chunk(i: int) -> None:
        start, stop, child = chunks[i]
        work = getattr(local, "work", None)
        if work is None:
            work = local.work = _Work()
        rng = np.random.default_rng(child)
        p, q = (side.draw(rng, stop - start, work) for side in sides)
        block = out[:, start:stop]
        for key, nats in _pair_nats(p, q, work).items():
            np.divide(nats, scale, out=block[index[key]])
        np.sqrt(block[index["jsd"]], out=block[index["js_distance"]])
        report(stop - start)

    _run(chunk, len(chunks))
    for key, side in zip(("entropy_p", "entropy_q"), sides, strict=True):
        if isinstance(side, _Model):
            out[index[key]] = side.entropy / scale
    return out


def _run(task: Callable[[int], None], count: int) -> None:
    """``task(0) .. task(count - 1)``, on every core."""
    workers = min(_threads(), count)
    if workers <= 1:
        for i in range(count):
            task(i)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done in [pool.submit(task, i) for i in range(count)]:
            done.result()  # re-raises a worker's exception


def _pair_nats(p_rows: _Rows, q_rows: _Rows, work: _Work) -> dict[str, FloatArray]:
    """Every measure but ``js_distance``, in nats, per row: core's own kernels
    (:func:`kldiv_cli.maths.core._pair_nats`) on the resampled rows, with the logs
    looked up rather than taken, and the kernels' work arrays reused from chunk to
    chunk (a fresh one costs its page faults, as much as the arithmetic on it)."""
    shape = np.broadcast_shapes(p_rows.p.shape, q_rows.p.shape)
    sides = [
        core._Dist.known(
            rows.p,
            rows.log,
            _pos(rows, work, name),
            normal=rows.normal,
            spare_log=rows.spare,
        )
        for rows, name in ((p_rows, "pos_p"), (q_rows, "pos_q"))
    ]
    scratch = tuple(work.get(_pair_nats, name, shape, np.float64) for name in ("s1", "s2"))
    return core._pair_nats(sides[0], sides[1], -1, scratch)


def _pos(rows: _Rows, work: _Work, name: str) -> BoolArray:
    """Where the side's values are > 0, for core's zero rule (``core._positive``), which
    reads the values before normalizing: here the counts plus the pseudocount, whose
    zeros ``rows.zero`` holds."""
    out = work.get(_pos, name, rows.p.shape, np.bool_)
    if rows.zero is None:
        out.fill(True)
        return out
    return np.logical_not(rows.zero, out=out)
