"""``kldiv samples P Q``: KL divergence and differential entropy of continuous data.

P and Q are raw rows (:func:`~kldiv_cli.readers.open_raw`); the chosen numeric
columns are the coordinates of points in d dimensions
(:func:`~kldiv_cli.readers.read_points`). The estimators are k-nearest-neighbour
ones (:mod:`kldiv_cli.maths.knn`): D(P||Q) and D(Q||P) by Wang, Kulkarni and Verdú,
the entropies by Kozachenko-Leonenko. A distance 0 (a duplicate point) makes a
logarithm infinite: it is refused, naming the rows, unless ``--jitter`` spreads the
points. Nothing here prints.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from typing import Any, BinaryIO, Final

import numpy as np

from kldiv_cli.commands.common import one_stdin
from kldiv_cli.commands.counted import raw_options
from kldiv_cli.commands.results import SamplesResult, SamplesSide
from kldiv_cli.errors import InvalidDataError, UsageError, visible
from kldiv_cli.maths import core
from kldiv_cli.maths.knn import (
    KnnDistances,
    knn_measures,
    kth_distances,
    power_of_two_scale,
    zero_distances,
)
from kldiv_cli.readers import FloatArray, Points, open_raw, quote, read_points

#: The rows an error names before "and N more".
_ROWS_SHOWN: Final = 5
#: What to do about a distance 0, in every such error.
_JITTER_HINT: Final = (
    "add --jitter SCALE (uniform noise in [-SCALE/2, SCALE/2] on every coordinate; SCALE "
    "the data's rounding step, e.g. 0.1 for values written to one decimal) or remove "
    "the duplicates"
)


def samples(
    p: str,
    q: str,
    *,
    columns: Sequence[str] | None = None,
    k: int = 1,
    unit: str = "bits",
    jitter: float | None = None,
    seed: int | None = None,
    input_format: str | None = None,
    delimiter: str | None = None,
    na: Sequence[str] | None = None,
    stdin: BinaryIO | None = None,
) -> SamplesResult:
    """``kldiv samples P Q``: the k-NN estimates of D(P||Q), D(Q||P), h(P) and h(Q).

    ``columns`` None takes every column both sides have that is numeric on both.
    ``jitter`` adds uniform noise in [-jitter/2, jitter/2] to every coordinate, P's
    then Q's, drawn from ``numpy.random.default_rng(seed)`` (a ``seed`` None is drawn
    at random and reported, so that the run can be repeated).

    Raises
    ------
    UsageError
        ``k`` < 1, or not below each side's points; a bad ``jitter`` or ``seed``; an
        unknown unit; both sources ``-``; a ``columns`` name a side lacks.
    InvalidDataError
        What :func:`~kldiv_cli.readers.read_points` refuses; a side with fewer than
        2 points; a distance 0 (duplicate points), naming the rows.
    """
    scale = core.unit_scale(unit)  # an unknown unit fails before any work
    if k < 1:
        raise UsageError(f"-k {k}: must be a whole number >= 1")
    if jitter is not None and not (math.isfinite(jitter) and jitter > 0):
        raise UsageError(f"--jitter {jitter!r}: must be a finite number > 0")
    if seed is not None and jitter is None:
        raise UsageError("--seed goes with --jitter SCALE (it seeds the noise)")
    if seed is not None and seed < 0:
        raise UsageError(f"--seed {seed}: must be a whole number >= 0")
    one_stdin([p, q])
    options = raw_options(input_format=input_format, delimiter=delimiter, na=na)
    p_source = open_raw(p, options, stdin)
    q_source = open_raw(q, options, stdin)
    chosen, skipped, p_points, q_points = read_points(p_source, q_source, columns, options)
    warnings = []
    if skipped:
        warnings.append(
            f"column{'s' * (len(skipped) > 1)} {', '.join(map(quote, skipped))} left out: "
            "not numeric on both sides"
        )
    if p_points.dropped or q_points.dropped:
        warnings.append(
            "rows with a missing value dropped: "
            f"P {p_points.dropped} of {p_points.read}, Q {q_points.dropped} of {q_points.read}"
        )
    for side, points in (("P", p_points), ("Q", q_points)):
        n = len(points.values)
        where = f"{side} {visible(points.source)}"
        if n < 2:
            raise InvalidDataError(
                f"{where}: {n} point; the estimators need at least 2 on each side (k + 1)"
            )
        if k >= n:
            raise UsageError(
                f"-k {k}: {where} has {n} points; k must be less than each side's points"
            )
    jittered = None
    p_values, q_values = p_points.values, q_points.values
    if jitter is not None:
        if seed is None:
            seed = secrets.randbelow(2**32)
        p_values, q_values = add_jitter(p_values, q_values, jitter, seed)
        jittered = {"scale": jitter, "seed": seed}
    # Huge or tiny coordinates: divided by 2^e, exactly, so that squared distances
    # stay in the float range; the entropies get their d e ln 2 back below.
    e = power_of_two_scale(p_values, q_values)
    scaled = (np.ldexp(p_values, -e), np.ldexp(q_values, -e)) if e else (p_values, q_values)
    distances = kth_distances(scaled[0], scaled[1], k)
    # The unscaled points say which rows are duplicates: scaling may flush a tiny
    # coordinate to 0 and make points that differ look equal.
    refuse_zero_distances(distances, p_points, q_points, p_values, q_values)
    nats = knn_measures(distances, len(chosen))
    for key in ("entropy_p", "entropy_q"):
        nats[key] += len(chosen) * e * math.log(2.0)
    for key, name in (("kl_pq", "D(P||Q)"), ("kl_qp", "D(Q||P)")):
        if nats[key] < 0:
            # A divergence is never negative; its estimate is, by sampling noise alone.
            warnings.append(
                f"{key}: the estimate of {name} is negative (a divergence never is): at "
                "this many points its sampling noise exceeds the divergence"
            )
    return SamplesResult(
        unit=unit,
        k=k,
        columns=chosen,
        p=SamplesSide(p_points.source, len(p_values), p_points.dropped),
        q=SamplesSide(q_points.source, len(q_values), q_points.dropped),
        measures={key: value / scale for key, value in nats.items()},
        jitter=jittered,
        warnings=warnings,
    )


def add_jitter(
    p: FloatArray, q: FloatArray, scale: float, seed: int
) -> tuple[FloatArray, FloatArray]:
    """``p`` and ``q`` plus uniform noise in [-scale/2, scale/2) on every coordinate,
    P's drawn first, from ``numpy.random.default_rng(seed)``: the same seed gives the
    same points."""
    rng = np.random.default_rng(seed)
    half = scale / 2.0
    return p + rng.uniform(-half, half, p.shape), q + rng.uniform(-half, half, q.shape)


def refuse_zero_distances(
    distances: KnnDistances,
    p: Points,
    q: Points,
    p_values: FloatArray,
    q_values: FloatArray,
) -> None:
    """An :class:`InvalidDataError` for a distance that overflows to infinity, then for
    the first distance 0: rho_k (a point of a side with k others at the same place) or
    nu_k (a point of one side with k points of the other at the same place), naming
    the data rows, and the rows it repeats."""
    k = distances.k
    for side, own, found in (
        ("P", p, (distances.rho_p, distances.nu_p)),
        ("Q", q, (distances.rho_q, distances.nu_q)),
    ):
        over = np.flatnonzero(~np.isfinite(found[0]) | ~np.isfinite(found[1]))
        if over.size:
            # inf - inf in the sums would make the estimates NaN
            raise InvalidDataError(
                f"{side} {visible(own.source)}: rows {_rows(own, over)}: a distance "
                "overflows (beyond 1.8e308): the coordinates are too large; rescale them"
            )
    sides = (("P", p, p_values, q, q_values), ("Q", q, q_values, p, p_values))
    for (side, own, values, _, _), rho in zip(
        sides, (distances.rho_p, distances.rho_q), strict=True
    ):
        at = zero_distances(rho)
        if at.size:
            first = int(at[0])
            same = _same(values, values[first])
            same = same[same != first]
            if not same.size:
                raise _underflow(side, own, at, k)
            raise InvalidDataError(
                f"{side} {visible(own.source)}: duplicate points make the distance to the "
                f"k-th nearest neighbour (k = {k}) 0, whose log is infinite: rows "
                f"{_rows(own, at)}; row {own.place(int(own.rows[first]))} is the same point as row "
                f"{_rows(own, same)}; {_JITTER_HINT}"
            )
    for (side, own, values, other, other_values), nu in zip(
        sides, (distances.nu_p, distances.nu_q), strict=True
    ):
        at = zero_distances(nu)
        if at.size:
            first = int(at[0])
            same = _same(other_values, values[first])
            if not same.size:
                raise _underflow(side, own, at, k)
            twins = _rows(other, same)
            name = "Q" if side == "P" else "P"
            raise InvalidDataError(
                f"{side} {visible(own.source)} and {name} {visible(other.source)} share "
                f"points, which make the distance to the other side's k-th nearest "
                f"neighbour (k = {k}) 0, whose log is infinite: {side} rows "
                f"{_rows(own, at)}; {side} row {own.place(int(own.rows[first]))} is {name} row "
                f"{twins}; {_JITTER_HINT}"
            )


def _underflow(side: str, own: Points, at: Any, k: int) -> InvalidDataError:
    """A distance 0 between points that differ: their distance is below the float
    range (the coordinates span more than about 1e150 times their smallest gap)."""
    return InvalidDataError(
        f"{side} {visible(own.source)}: rows {_rows(own, at)}: the distance to the k-th "
        f"nearest neighbour (k = {k}) underflows to 0 between points that differ: the "
        "coordinates span too many orders of magnitude for float64; rescale them or "
        "remove the outliers"
    )


def _same(values: FloatArray, point: FloatArray) -> Any:
    """The indices of the rows of ``values`` equal to ``point``."""
    return np.flatnonzero((values == point).all(axis=1))


def _rows(points: Points, at: Any) -> str:
    """The data rows of the points at indices ``at``: ``3, 7, 12`` or ``3, 7, 12, 15, 20
    and 4 more`` (``a.csv:3, b.csv:1`` for a folder or glob)."""
    shown = ", ".join(points.place(int(r)) for r in points.rows[at[:_ROWS_SHOWN]])
    more = len(at) - _ROWS_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown
