"""Pairwise divergences between the rows of two tables of distributions, in pure NumPy.

:func:`pairwise` gives the ``(m, n)`` matrix of one measure between every row of P
(``m`` distributions of ``K`` entries) and every row of Q (``n`` distributions), in
nats inside and converted to the requested unit once, at the end. The zero conventions
are those of :mod:`kldiv_cli.maths.core`: ``0 log 0 = 0``, ``0 log(0 / q) = 0`` and
``p log(p / 0) = +inf`` for ``p > 0``. No entry is NaN or below 0.

The per-pair kernels of :mod:`kldiv_cli.maths.core` sum one term per entry; for ``m * n``
pairs that is ``m * n * K`` logs and divisions. Here the work is rearranged:

* KL divergence and cross-entropy take the logs once per row and get every pair from
  one matrix product (GEMM).
* The Jensen-Shannon divergence needs one ``x ln x`` per pair and entry (of the mixture),
  done over cache-sized tiles of row pairs, on every core.

:func:`pairwise_blocks` yields the same matrix a block of rows at a time, for a
caller that writes each block out and drops it: ``kldiv matrix`` streams a matrix of
any size in about :data:`BLOCK_BYTES` of memory. :func:`pairwise` is those blocks put
together.

Both fast forms subtract nearly equal numbers when two rows are close. So the pairs
whose result is small next to the rounding error of that subtraction are recomputed
with the term-by-term kernels of :mod:`kldiv_cli.maths.core` (and get what it gives them);
every other entry is within about 1e-12, relative, of its formula's exact value.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Final, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths.core import (
    _LN2,
    DOT_BLOCK,
    FloatArray,
    Unit,
    _Dist,
    _dist,
    _dot,
    _floor0,
    _jsd_nats,
    _kl_nats,
    unit_scale,
)

Measure: TypeAlias = Literal["jsd", "js_distance", "kl", "cross_entropy"]
_MEASURES: Final[tuple[str, ...]] = ("jsd", "js_distance", "kl", "cross_entropy")

#: A (pairs, K) -> (pairs,) kernel of core, in nats: ``_kl_nats`` or ``_jsd_nats``.
_PairKernel: TypeAlias = Callable[[_Dist, _Dist, int], FloatArray]

# --------------------------------------------------------------------------- tuning
# The fast forms below have an absolute rounding error of about c * u * scale, with u
# the unit roundoff and `scale` the sum of the magnitudes they subtract (given with
# each). A pair is recomputed term by term when its value is below
# c * u / _REL_TARGET * scale, which bounds the relative error of every entry kept to
# _REL_TARGET. The constants c are about five times the largest error measured
# against an 80-bit reference (K = 2 to 65,536; random, skewed and near-identical rows).
_U: Final = 2.0**-53
_REL_TARGET: Final = 1e-12
#: H(P_i, Q_j) - H(P_i) from a GEMM and a dot (OpenBLAS): worst measured 13 u (CE + H).
_KL_RECHECK: Final = 64.0 * _U / _REL_TARGET  # ~7.1e-3
#: The entropy form of the JSD, each sum a dot: worst measured 2.6 u (scale below).
_JSD_RECHECK: Final = 16.0 * _U / _REL_TARGET  # ~1.8e-3

#: Elements of each of the two (bi, bj, K) temporaries of a JSD tile: 512 KiB, about
#: one L2 cache. The time is flat from 2**15 to 2**18 (the log dominates, ~5-8 ns an
#: entry where NumPy has no SIMD float64 log, i.e. without AVX-512); below that the
#: ~10 NumPy calls per tile start to show.
_TILE: Final = 1 << 16
#: Elements of each (pairs, K) block gathered for the term-by-term recomputation.
_CHUNK: Final = 1 << 16
#: Below this many (pair, entry) terms the JSD tiles run on one thread: starting
#: threads would cost more than they save.
_PARALLEL_MIN: Final = 1 << 22
_MAX_THREADS: Final = 8
#: The smallest positive float: max(s, _TINY) is s for every s > 0 and turns 0 into a
#: number with a finite log (-744.4), so 0 * ln(max(0, _TINY)) = 0, never 0 * -inf:
#: core's ``0 log 0 = 0`` (core._log) without a masked pass over each tile.
_TINY: Final = float(np.nextafter(0.0, 1.0))


#: One block of rows of the matrix, as :func:`pairwise_blocks` yields it, may take this
#: much memory: its floats and, when the caller writes it out, its text (CSV/TSV or
#: ``--long`` hold ~20 characters an entry in a few copies while a block is spelled).
BLOCK_BYTES: Final = 64 << 20
#: Bytes an entry of a block may cost, floats and text together (measured: ~130 for
#: CSV, ~170 for ``--long``).
ENTRY_BYTES: Final = 192
#: JSD terms (pair x entry) in one block, ~0.5 s of logs: a block with many bins is cut
#: into fewer rows, so that progress moves and Ctrl-C is felt.
_BLOCK_TERMS: Final = 1 << 27


# --------------------------------------------------------------------------- public API


def pairwise(
    P: ArrayLike,
    Q: ArrayLike | None = None,
    *,
    measure: Measure = "jsd",
    unit: Unit = "bits",
    normalize: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> FloatArray:
    r"""One measure between every row of P and every row of Q.

    Entry ``(i, j)`` is the measure of the pair ``(P_i, Q_j)``:

    .. math::

        \mathrm{kl}: \; D(P_i \,\|\, Q_j) = \sum_k p_{ik} \log \frac{p_{ik}}{q_{jk}}

        \mathrm{cross\_entropy}: \; H(P_i, Q_j) = -\sum_k p_{ik} \log q_{jk}
            = H(P_i) + D(P_i \,\|\, Q_j)

        \mathrm{jsd}: \; \mathrm{JSD}(P_i, Q_j) = H(M) - \tfrac12 \big(H(P_i) + H(Q_j)\big),
            \qquad M = \tfrac12 (P_i + Q_j)

        \mathrm{js\_distance}: \; \sqrt{\mathrm{JSD}(P_i, Q_j)}

    with :math:`H(P) = -\sum_k p_k \log p_k`, ``0 log 0 = 0``, ``0 log(0 / q) = 0`` and
    ``p log(p / 0) = inf`` for ``p > 0``. The JS distance is the square root of the JSD
    in ``unit``, as :func:`scipy.spatial.distance.jensenshannon` with ``base`` 2, e or 10.

    The matrix is the blocks of :func:`pairwise_blocks` put together (each entry has
    the same bits either way); a table compared with itself computes the JSD of each
    pair once, above the diagonal, and mirrors it.

    Parameters
    ----------
    P : array_like, shape (m, K)
        One distribution per row: non-negative values (probabilities or counts).
    Q : array_like, shape (n, K), optional
        The rows to compare against. ``None`` (default) compares P with itself: the
        diagonal is exactly 0 for ``kl``, ``jsd`` and ``js_distance`` and the entropy
        :math:`H(P_i)` for ``cross_entropy``, and the ``jsd`` and ``js_distance``
        matrices are exactly symmetric.
    measure : {"jsd", "js_distance", "kl", "cross_entropy"}
        The measure of each pair.
    unit : {"bits", "nats", "bans"}
        Log base 2, e or 10.
    normalize : bool
        Divide each row by its total first (default). With ``False`` the values are used
        as given.
    progress : callable, optional
        Called as ``progress(done, m)`` after each block of rows, ``done`` rising to m.

    Returns
    -------
    ndarray of float64, shape (m, n)
        Every entry is ``>= 0`` (never ``-0.0``) and never NaN. ``kl`` and
        ``cross_entropy`` are ``inf`` exactly where some ``k`` has ``P_ik > 0 = Q_jk``.
        ``jsd`` lies in ``[0, 1]`` bit and is exactly 1 bit for disjoint supports.

    Raises
    ------
    UsageError
        If ``measure`` or ``unit`` is unknown.
    InvalidDataError
        If P or Q is not a 2-D table, is empty, has a negative, NaN or infinite value
        or a row without a positive value, or if their rows differ in length.
    MemoryError
        If the ``(m, n)`` matrix cannot be allocated.

    Examples
    --------
    >>> pairwise([[1, 0], [0, 1], [1, 1]]).round(6).tolist()
    [[0.0, 1.0, 0.311278], [1.0, 0.0, 0.311278], [0.311278, 0.311278, 0.0]]
    >>> pairwise([[1, 1]], [[1, 3], [0, 1]], measure="kl").round(6).tolist()
    [[0.207519, inf]]
    """
    plan = _Plan(P, Q, measure, unit, normalize)
    m, n = plan.m, plan.n
    out = np.empty((m, n))
    # A table against itself: each block computes its rows from the diagonal on, and
    # the part right of its square is mirrored below it, for the later blocks' rows.
    mirror = plan.same and not plan.kl
    for r0, r1 in plan.spans(0, m):
        if mirror:
            block = plan.block(r0, r1, r0)
            out[r0:r1, r0:] = block
            out[r1:, r0:r1] = block[:, r1 - r0 :].T
        else:
            out[r0:r1] = plan.block(r0, r1, 0)
        if progress is not None:
            progress(r1, m)
    return out


def pairwise_blocks(
    P: ArrayLike,
    Q: ArrayLike | None = None,
    *,
    measure: Measure = "jsd",
    unit: Unit = "bits",
    normalize: bool = True,
    start: int = 0,
    stop: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[tuple[int, FloatArray]]:
    """The matrix of :func:`pairwise`, a block of whole rows at a time.

    Yields ``(r0, block)`` with ``block`` the rows ``r0 .. r0 + len(block) - 1`` of the
    ``(m, n)`` matrix (all n columns), from row ``start`` to ``stop`` (default m), in
    order. A block holds about :data:`BLOCK_BYTES` / :data:`ENTRY_BYTES` entries, so
    that a caller that writes each block out and drops it runs in bounded memory,
    however large m is. Entries have the bits :func:`pairwise` gives them: a table
    compared with itself is exactly symmetric, JSD(P_i, P_j) being computed from the
    same sums as JSD(P_j, P_i). Arguments are checked before the first block.

    ``progress(done, total)`` is called after each block, ``done`` the rows yielded so
    far (from ``start``) and ``total`` = ``stop - start``.
    """
    plan = _Plan(P, Q, measure, unit, normalize)
    stop = plan.m if stop is None else min(stop, plan.m)
    start = max(0, min(start, stop))
    return plan.blocks(start, stop, progress)


def block_rows(n: int, k: int, measure: str) -> int:
    """The rows of each block of an ``(m, n)`` matrix over K entries (at least 1)."""
    rows = BLOCK_BYTES // (max(n, 1) * ENTRY_BYTES)
    if measure in ("jsd", "js_distance"):
        rows = min(rows, _BLOCK_TERMS // (max(n, 1) * max(k, 1)))
    return max(1, rows)


def count_infinite(P: ArrayLike, Q: ArrayLike | None = None, *, normalize: bool = True) -> int:
    """How many entries of the ``kl`` (or ``cross_entropy``) matrix are ``inf``: the
    pairs where some k has ``P_ik > 0 = Q_jk``, counted block by block without the
    logs (as :func:`pairwise` places them)."""
    plan = _Plan(P, Q, "kl", "nats", normalize)
    if not plan.rows_q.size:
        return 0
    zero_q = plan.zero_rows_q
    pos_p = plan.p.pos
    step = max(1, BLOCK_BYTES // (8 * max(plan.rows_q.size, 1)))
    return sum(
        int(np.count_nonzero(_shares(pos_p[r0 : r0 + step], zero_q)))
        for r0 in range(0, plan.m, step)
    )


# --------------------------------------------------------------------------- the plan


class _Plan:
    """Both tables validated once, with what every block needs of Q (its logs, its
    row sums, its rows with a zero); :meth:`block` computes any rectangle of rows."""

    def __init__(
        self, P: ArrayLike, Q: ArrayLike | None, measure: str, unit: str, normalize: bool
    ) -> None:
        if measure not in _MEASURES:
            raise UsageError(
                f"unknown measure {measure!r}; choose jsd, js_distance, kl or cross_entropy"
            )
        self.scale = unit_scale(unit)
        self.measure = measure
        self.p = _table(P, "P", normalize)
        self.q = self.p if Q is None else _table(Q, "Q", normalize)
        if self.q.p.shape[1] != self.p.p.shape[1]:
            raise InvalidDataError(
                f"P has {self.p.p.shape[1]} entries per row and Q has "
                f"{self.q.p.shape[1]}; they must match"
            )
        self.same = Q is None
        self.kl = measure in ("kl", "cross_entropy")
        self.m, self.k = self.p.p.shape
        self.n = self.q.p.shape[0]
        self.rows = block_rows(self.n, self.k, measure)
        qd = self.q
        # Only huge values with normalize=False overflow: the KL and JSD entries
        # concerned come out non-finite and are recomputed by core's kernels.
        with np.errstate(over="ignore", invalid="ignore"):
            if self.kl:
                self.log_q = qd.log()
                zero_q = ~qd.pos
                self.rows_q = np.flatnonzero(zero_q.any(axis=1))
                self.zero_rows_q = zero_q[self.rows_q]
                self.big_q = bool((qd.p > 1).any())
            else:
                e_q, b_q, s_q = _row_sums(qd)
                self.c_q = 0.5 * (e_q + _LN2 * s_q)
                self.scale_q = _JSD_RECHECK * (b_q + _LN2 * s_q)
                self.rows_q = np.flatnonzero(~qd.pos.all(axis=1))
                self.pos_rows_q = qd.pos[self.rows_q]

    def spans(self, start: int, stop: int) -> Iterator[tuple[int, int]]:
        for r0 in range(start, stop, self.rows):
            yield r0, min(r0 + self.rows, stop)

    def blocks(
        self, start: int, stop: int, progress: Callable[[int, int], None] | None
    ) -> Iterator[tuple[int, FloatArray]]:
        for r0, r1 in self.spans(start, stop):
            yield r0, self.block(r0, r1, 0)
            if progress is not None:
                progress(r1 - start, stop - start)

    def block(self, r0: int, r1: int, c0: int) -> FloatArray:
        """Rows ``r0:r1``, columns ``c0:n`` of the matrix; with ``c0 = r0`` (a table
        against itself) the square ``r0:r1`` is computed above its diagonal and
        mirrored, for :func:`pairwise`."""
        with np.errstate(over="ignore", invalid="ignore"):
            out = self._kl_block(r0, r1, c0) if self.kl else self._jsd_block(r0, r1, c0)
        if self.scale != 1.0:
            out /= self.scale  # ln 2 / ln 2 is exactly 1: disjoint supports give 1 bit
        if self.measure == "js_distance":
            np.sqrt(out, out=out)
        return out

    def _pairs(
        self, kernel: _PairKernel, r0: int, c0: int, i: NDArray[np.intp], j: NDArray[np.intp]
    ) -> FloatArray:
        """``kernel`` on the pairs at block positions ``(i, j)``; a table against itself
        passes the lower row first, so that JSD(P_i, P_j) and JSD(P_j, P_i) are one sum."""
        gi, gj = i + r0, j + c0
        if self.same:
            gi, gj = np.minimum(gi, gj), np.maximum(gi, gj)
        return _by_pairs(kernel, self.p, self.q, gi, gj)

    # ----------------------------------------------------------------------- KL, H(P, Q)

    def _kl_block(self, r0: int, r1: int, c0: int) -> FloatArray:
        """D(P_i || Q_j) (or H(P_i, Q_j)) for the rows r0:r1, in nats, from one GEMM.

        ``H(P_i, Q_j) = -(P @ ln(Q).T)[i, j]`` with ``ln 0`` taken as 0 (so ``0 ln 0 =
        0``); the pairs with some ``p > 0 = q`` are then set to ``inf``.
        ``D = H(P_i, Q_j) - H(P_i)``.
        """
        cross = self.measure == "cross_entropy"
        pd = _slice(self.p, r0, r1)
        p = pd.p
        log_q = self.log_q[c0:]
        n = log_q.shape[0]
        e_p, b_p, _ = _row_sums(pd)
        out = p @ log_q.T
        np.negative(out, out=out)
        if not cross:
            # -sum p ln q adds terms of one sign (ln q <= 0 for probabilities), so the
            # GEMM is good to a few ulps; but D = H(P, Q) - H(P) loses digits when D is
            # small next to H(P, Q) + H(P). Those pairs, D < t (H(P, Q) + sum p |ln p|),
            # are recomputed as sum p ln(p / q), the ratio inside the log.
            t = _KL_RECHECK
            if self.big_q:  # normalize=False: ln q > 0 too, so bound by sum p |ln q|
                bound = p @ np.abs(log_q).T
                bound += b_p[:, None]
                bound *= t
                out += e_p[:, None]
                low = ~(out >= bound)  # NaN (an overflow) too
            else:
                # With D = H(P, Q) + e (e = sum p ln p), D < t (H(P, Q) + b) is
                # H(P, Q) < (t b - e) / (1 - t): one comparison per row.
                low = ~(out >= ((t * b_p - e_p) / (1.0 - t))[:, None])
                out += e_p[:, None]
            i, j = np.nonzero(low)
        cols = self.rows_q[self.rows_q >= c0]
        infinite = np.zeros(out.shape, dtype=np.bool_)
        if cols.size:
            # Core's zero rule (_infinite) for every pair at once, as a GEMM of the
            # indicators: infinite where some k has p > 0 = q; only the rows of Q with
            # a zero can be.
            zero = self.zero_rows_q[self.rows_q >= c0]
            infinite[:, cols - c0] = _shares(pd.pos, zero)
        if not cross:
            keep = ~infinite[i, j]
            if self.same:
                keep &= i + r0 != j + c0
            i, j = i[keep], j[keep]
            out[i, j] = _by_pairs(_kl_nats, self.p, self.q, i + r0, j + c0)
        np.maximum(out, 0.0, out=out)
        out += 0.0  # -0.0 + 0.0 = 0.0
        if cols.size:
            np.copyto(out, np.inf, where=infinite)
        if self.same:
            # D(P_i || P_i) = 0 and H(P_i, P_i) = H(P_i), exactly (as core.entropy).
            d = np.arange(max(r0, c0), min(r1, c0 + n))
            out[d - r0, d - c0] = _floor0(-e_p[d - r0]) if cross else 0.0
        return out

    # ----------------------------------------------------------------------- JSD

    def _jsd_block(self, r0: int, r1: int, c0: int) -> FloatArray:
        r"""JSD(P_i, Q_j) for the rows r0:r1 and columns c0:n, in nats, in [0, ln 2].

        With :math:`s = p + q`, :math:`e_P = \sum p \ln p = -H(P)` and
        :math:`\sigma_P = \sum p` (1 once normalized):

        .. math:: \mathrm{JSD} = H(M) - \tfrac12 (H(P) + H(Q))
                  = c_P + c_Q - \tfrac12 \textstyle\sum_k s_k \ln s_k,
                  \qquad c_P = \tfrac12 (e_P + \sigma_P \ln 2)

        so the only work per pair is :math:`\sum_k s_k \ln s_k`: one log per entry.
        """
        pd = _slice(self.p, r0, r1)
        if self.same:
            c_p = self.c_q[r0:r1]
            scale_p = self.scale_q[r0:r1]
        else:
            e_p, b_p, s_p = _row_sums(pd)
            c_p = 0.5 * (e_p + _LN2 * s_p)
            scale_p = _JSD_RECHECK * (b_p + _LN2 * s_p)
        square = self.same and c0 == r0
        jsd = _jsd_tiles(pd.p, self.q.p[c0:], c_p, self.c_q[c0:], square)
        scale_q = self.scale_q[c0:]
        # The entropy form subtracts sums as large as H(P) + H(Q) + 2 ln 2 (all the
        # terms in magnitude): pairs whose JSD is small next to that, such as
        # near-identical rows, are recomputed with the terms p ln(2p / (p + q)) +
        # q ln(2q / (p + q)), as core.js_divergence sums them. One pass against a
        # per-row threshold at least as high as every one in its row finds the
        # candidates (and NaN, from an overflow); the exact test runs on those.
        i, j = np.nonzero(~(jsd >= (scale_p + scale_q.max())[:, None]))
        keep = ~(jsd[i, j] >= scale_p[i] + scale_q[j])
        if self.same:
            keep &= i + r0 != j + c0  # the diagonal is 0
        if square:  # the square's upper part only, mirrored below
            keep &= (j >= r1 - r0) | (i < j)
        i, j = i[keep], j[keep]
        jsd[i, j] = value = self._pairs(_jsd_nats, r0, c0, i, j)
        if square:
            low = j < r1 - r0
            jsd[j[low], i[low]] = value[low]
        if self.same:
            d = np.arange(max(r0, c0), min(r1, self.n))
            jsd[d - r0, d - c0] = 0.0
        np.clip(jsd, 0.0, _LN2, out=jsd)
        jsd += 0.0  # -0.0 + 0.0 = 0.0
        # Disjoint supports give exactly ln 2 (the sums above can round an ulp below
        # it). Only two rows that both have a zero can be disjoint.
        pos_p = pd.pos
        rows_p = np.flatnonzero(~pos_p.all(axis=1))
        in_q = self.rows_q >= c0
        rows_q = self.rows_q[in_q]
        if rows_p.size and rows_q.size:
            block = np.ix_(rows_p, rows_q - c0)
            shared = _shares(pos_p[rows_p], self.pos_rows_q[in_q])
            jsd[block] = np.where(shared, jsd[block], _LN2)
        return jsd


# --------------------------------------------------------------------------- inputs


def _table(x: ArrayLike, name: str, normalize: bool) -> _Dist:
    """Validate a table of distributions, one per row, and normalize each row.

    Which entries are positive is read from the values, before normalizing (core's
    zero rule), so that an entry that underflows (1e-300 in a row with 1e300) is not
    taken for a 0.
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise InvalidDataError(
            f"{name} must be a 2-D table with one distribution per row, not shape {a.shape}"
        )
    # Contiguous rows: every kernel below streams along them.
    d = _dist(np.ascontiguousarray(a), name, -1, normalize=normalize)
    p = np.ascontiguousarray(d.p)
    return _Dist.of(p) if d.raw is d.p else _Dist(p, d.raw, d.total, d.shift)


def _slice(d: _Dist, r0: int, r1: int) -> _Dist:
    """The rows ``r0:r1`` of a table, as views."""
    if d.raw is d.p:
        return _Dist.of(d.p[r0:r1])
    total = d.total[r0:r1] if isinstance(d.total, np.ndarray) else d.total
    shift = d.shift[r0:r1] if isinstance(d.shift, np.ndarray) else d.shift
    return _Dist(d.p[r0:r1], d.raw[r0:r1], total, shift)


def _rows(d: _Dist, i: NDArray[np.intp]) -> _Dist:
    """The rows ``i`` of a table."""
    p = np.take(d.p, i, axis=0)
    if d.raw is d.p:
        return _Dist.of(p)
    shift = d.shift if isinstance(d.shift, int) else np.take(d.shift, i, axis=0)
    return _Dist(p, np.take(d.raw, i, axis=0), np.take(d.total, i, axis=0), shift)


def _row_sums(d: _Dist) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per row: ``sum x ln x`` (= -H), ``sum x |ln x|`` (the error scale) and ``sum x``."""
    x = d.p
    log_x = d.log()
    # sum x |ln x| is H itself for probabilities (all <= 1); it differs only for values
    # above 1, with normalize=False.
    return _dot(x, log_x, -1), _dot(x, np.abs(log_x), -1), x.sum(axis=-1)


def _by_pairs(
    kernel: _PairKernel, p: _Dist, q: _Dist, i: NDArray[np.intp], j: NDArray[np.intp]
) -> FloatArray:
    """``kernel(p[i], q[j])``: one value per listed pair, gathered in blocks of rows."""
    out = np.empty(i.size)
    step = max(1, _CHUNK // p.p.shape[1])
    for start in range(0, i.size, step):
        part = slice(start, start + step)
        out[part] = kernel(_rows(p, i[part]), _rows(q, j[part]), -1)
    return out


# --------------------------------------------------------------------------- JSD tiles


def _jsd_tiles(
    p: FloatArray, q: FloatArray, c_p: FloatArray, c_q: FloatArray, square: bool
) -> FloatArray:
    """``c_p[i] + c_q[j] - sum_k s ln s / 2`` with ``s = P_i + Q_j``, for every pair.

    Tiles of ``bi`` rows of P against ``bj`` rows of Q make ``(bi, bj, K)`` temporaries
    that stay in cache, reused by every tile of a thread. With ``square`` (P's rows are
    Q's first rows), the tiles of that square below its diagonal are not computed but
    mirrored from those above, so that the square is exactly symmetric.
    """
    m, k = p.shape
    n = q.shape[0]
    pairs = max(1, _TILE // k)
    if square:
        bi = bj = min(n, max(1, math.isqrt(pairs)))
    else:  # a block of few rows gets wider tiles: fewer NumPy calls for the same work
        bi = min(m, max(1, math.isqrt(pairs)))
        bj = min(n, max(1, pairs // bi))
    tiles = [(i0, j0) for i0 in range(0, m, bi) for j0 in range(i0 if square else 0, n, bj)]
    # s = 0 where both rows have a 0, and 0 * ln 0 must give 0, not NaN. Only the tiles
    # whose two blocks of rows both have a 0 in some column pay for that fix.
    zero_p = np.logical_or.reduceat(p == 0, np.arange(0, m, bi), axis=0)
    zero_q = np.logical_or.reduceat(q == 0, np.arange(0, n, bj), axis=0)
    fix = _shares(zero_p, zero_q)
    above = np.triu(np.ones((bi, bi), dtype=np.bool_), 1)
    out = np.empty((m, n))
    work = len(tiles) * bi * bj * k
    next_tile = _Counter(len(tiles))

    def run() -> None:
        s_buf = np.empty(bi * bj * k)
        l_buf = np.empty(bi * bj * k)
        with np.errstate(over="ignore", invalid="ignore"):  # per thread; see pairwise
            while (t := next_tile()) is not None:
                i0, j0 = tiles[t]
                i1, j1 = min(i0 + bi, m), min(j0 + bj, n)
                shape = (i1 - i0, j1 - j0, k)
                size = shape[0] * shape[1] * k
                s = s_buf[:size].reshape(shape)
                log_s = l_buf[:size].reshape(shape)
                np.add(p[i0:i1, None, :], q[None, j0:j1, :], out=s)
                # One log over the whole tile: a masked (where=) log runs at half speed.
                if fix[i0 // bi, j0 // bj]:
                    np.maximum(s, _TINY, out=log_s)  # ln 0 -> ln(_TINY), finite
                    np.log(log_s, out=log_s)
                else:
                    np.log(s, out=log_s)
                d = out[i0:i1, j0:j1]
                if k > DOT_BLOCK:  # one BLAS thread per dot: this tile has its own
                    d[...] = _dot(s, log_s, -1)
                else:
                    np.vecdot(s, log_s, out=d)
                d *= -0.5
                # c_p + c_q first: a sum that commutes, so JSD(Q_j, P_i) has the same bits.
                d += c_p[i0:i1, None] + c_q[None, j0:j1]
                if not square or j0 >= m:
                    continue
                if i0 == j0:  # a diagonal tile: copy the upper part of its square below
                    h = i1 - i0
                    sq = d[:, :h]
                    np.copyto(sq.T, sq, where=above[:h, :h])
                else:  # the part of the tile inside the square, mirrored below
                    w = min(j1, m) - j0
                    out[j0 : j0 + w, i0:i1] = d[:, :w].T

    _run_threads(run, _threads(len(tiles), work), next_tile)
    return out


def _shares(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """``any_k a[i, k] & b[j, k]`` for every row i of ``a`` and j of ``b``.

    A GEMM of the 0/1 indicators counts the common entries of each pair. float32 is
    exact enough: a sum of non-negative terms is 0 only if every term is.
    """
    return (a.astype(np.float32) @ b.astype(np.float32).T) > 0


# --------------------------------------------------------------------------- threads


class _Counter:
    """Hands out tile numbers 0, 1, ... to the threads, one at a time, until ``stop``."""

    def __init__(self, total: int) -> None:
        self._next = 0
        self._total = total
        self._lock = threading.Lock()

    def __call__(self) -> int | None:
        with self._lock:
            if self._next >= self._total:
                return None
            self._next += 1
            return self._next - 1

    def stop(self) -> None:
        with self._lock:
            self._next = self._total


def _threads(tiles: int, work: int) -> int:
    """How many threads the tiles get: one for small work, else one per usable core."""
    if work < _PARALLEL_MIN or tiles < 2:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))  # the cores this process may use
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, _MAX_THREADS, tiles))


def _run_threads(run: Callable[[], None], threads: int, counter: _Counter) -> None:
    """Run ``run`` on ``threads`` threads (this one included) until the tiles run out.

    NumPy releases the GIL inside each ufunc, so the tiles run in parallel; tiles are
    handed out one at a time, so a core slowed by another process takes fewer.
    """
    if threads == 1:
        run()
        return
    with ThreadPoolExecutor(max_workers=threads - 1) as pool:
        futures = [pool.submit(run) for _ in range(threads - 1)]
        try:
            run()
            for future in futures:
                future.result()
        finally:
            # On an error or Ctrl-C, the other threads stop after their current tile.
            counter.stop()
