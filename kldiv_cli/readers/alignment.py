"""Alignment of distributions by label, and the warnings about how they line up.

Owns :func:`align` and :func:`union_of` (the union of two label lists, P's order then
Q's new labels, by a hash join in Arrow when the labels live there), the hints that a
column could hold labels (:func:`label_hint`, :func:`position_warning`) and the
probability checks (:func:`probability_warning`, :func:`check_normalized`).
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.readers.numbers import quote
from kldiv_cli.readers.table import ONLY, Distribution, FloatArray, Labels, Table


@dataclass
class Aligned:
    """Two distributions over one list of labels (absent = 0), pseudocount added."""

    labels: Labels
    p: FloatArray
    q: FloatArray

    @property
    def size(self) -> int:
        return self.labels.size


def align(p: Distribution, q: Distribution, pseudocount: float = 0.0) -> Aligned:
    """Line ``p`` and ``q`` up by label over the union of their labels (P's order, then
    Q's new labels), or by position when both are unlabelled."""
    if p.labels is q.labels or (p.labels.positional and q.labels.positional):
        if p.values.size != q.values.size:
            raise InvalidDataError(
                f"lengths differ: {p.name} has {p.values.size} values "
                f"and {q.name} has {q.values.size}"
            )
        labels, pv, qv = p.labels, p.values, q.values
    elif p.labels.positional or q.labels.positional:
        bare, named = (p, q) if p.labels.positional else (q, p)
        raise InvalidDataError(
            f"{bare.name} has no labels and {named.name} has; give both labels or neither"
        )
    else:
        labels, pv, qv = _union(p, q)
    if pseudocount:
        pv = pv + pseudocount
        qv = qv + pseudocount
    return Aligned(labels, pv, qv)


def _union(p: Distribution, q: Distribution) -> tuple[Labels, FloatArray, FloatArray]:
    return union_of(p.labels, q.labels, p.values, q.values)


def union_of(
    p_labels: Labels, q_labels: Labels, p_values: FloatArray, q_values: FloatArray
) -> tuple[Labels, FloatArray, FloatArray]:
    """Values over the union of two label lists (P's order, then Q's new labels; absent
    = 0), along the last axis: one distribution each, or a stack of them.

    Parameters
    ----------
    p_labels, q_labels : Labels
        The labels of each side, each without repeats.
    p_values, q_values : ndarray of float64, shape (..., len(labels))
        The values at those labels.

    Returns
    -------
    labels : Labels
        The union: ``p_labels`` itself when both lists are equal.
    p, q : ndarray of float64, shape (..., len(labels))
        The values over the union, 0 where a side lacks a label.

    Notes
    -----
    When either side's labels are held in Arrow (a large CSV), the join is Arrow's
    hash join (``pyarrow.compute.index_in``): no Python string per label.
    """
    if p_labels.arrow is not None or q_labels.arrow is not None:
        return _arrow_union(p_labels, q_labels, p_values, q_values)
    p_names, q_names = p_labels.values, q_labels.values
    if p_names == q_names:
        return p_labels, p_values, q_values
    index = {lab: i for i, lab in enumerate(p_names)}
    union = list(p_names)
    q_pos = np.empty(len(q_names), dtype=np.intp)
    for j, lab in enumerate(q_names):
        i = index.get(lab)
        if i is None:
            i = index[lab] = len(union)
            union.append(lab)
        q_pos[j] = i
    return Labels.of(union), *_spread(p_values, q_values, len(union), q_pos)


def _spread(
    p_values: FloatArray, q_values: FloatArray, size: int, q_pos: NDArray[np.intp]
) -> tuple[FloatArray, FloatArray]:
    """P's values first, then zeros; Q's at ``q_pos``: both over ``size`` labels."""
    pv = np.zeros((*p_values.shape[:-1], size))
    pv[..., : p_values.shape[-1]] = p_values
    qv = np.zeros((*q_values.shape[:-1], size))
    qv[..., q_pos] = q_values
    return pv, qv


def _arrow_union(
    p_labels: Labels, q_labels: Labels, p_values: FloatArray, q_values: FloatArray
) -> tuple[Labels, FloatArray, FloatArray]:
    """:func:`union_of` for labels held in Arrow (a large CSV): a hash join in Arrow
    (``index_in``), with no Python string per label."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def arrow(labels: Labels) -> Any:
        held = labels.arrow
        if held is None:
            held = pa.array(labels.values, pa.large_string())
        if not isinstance(held, pa.ChunkedArray):
            held = pa.chunked_array([held])
        # One type on both sides (a label of a JSON source is a Python str).
        return held.cast(pa.large_string())

    p_names, q_names = arrow(p_labels), arrow(q_labels)
    if p_names.equals(q_names):
        return p_labels, p_values, q_values
    found = pc.index_in(q_names, value_set=p_names).combine_chunks()  # null: new in Q
    new_labels = pc.is_null(found)
    # Read from the buffers: Array.to_numpy, and a Python number given to an Arrow
    # function, import pandas when it is installed (0.17 s).
    flags = pc.cast(new_labels, pa.int8())
    new = np.frombuffer(flags.buffers()[1], np.int8, len(flags), flags.offset).astype(bool)
    q_pos: NDArray[np.intp] = np.frombuffer(
        found.buffers()[1], np.int32, len(found), found.offset * 4
    ).astype(np.intp)  # at a new label: whatever the null slot held
    count = int(new.sum())
    size = len(p_names) + count
    q_pos[new] = np.arange(len(p_names), size)  # new labels after P's, in Q's order
    union = p_names
    if count:
        added = q_names.filter(new_labels)
        union = pa.chunked_array([*p_names.chunks, *added.chunks], pa.large_string())
    return Labels.of_arrow(union), *_spread(p_values, q_values, size, q_pos)


# --------------------------------------------------------------------------- position


def label_candidates(table: Table, used: Collection[str]) -> list[str]:
    """Columns of an unlabelled table that could hold its labels: numeric, not in
    ``used`` (the columns read as distributions), and no value twice.

    The spec takes the first column as labels only when its values are not all
    numbers, so a year or a bin number is data unless ``--label`` names it.
    """
    if not (table.labels.positional and table.takes_labels):
        return []
    return [
        name
        for name, values in table.columns.items()
        if name != ONLY
        and name not in used
        and values is not None
        and np.unique(values).size == values.size
    ]


def label_hint(table: Table) -> str:
    """For an error that asks which column is data: the first column, when it could
    instead hold the labels, as ``, or --label year if 'year' holds labels``."""
    names = label_candidates(table, list(table.columns)[1:])
    if not names:
        return ""
    return f", or --label {shlex.quote(names[0])} if {quote(names[0])} holds labels"


def position_warning(sides: Sequence[tuple[Table, Collection[str]]], what: str) -> list[str]:
    """The warning when distributions of different tables are aligned (``what``: "P
    and Q are aligned") by row position while a column could hold labels (none: an
    empty list).

    ``sides`` pairs each table with the columns it gives as distributions. A column
    that every table with named columns has is suggested as ``--label NAME``, which
    applies to every source. No warning when a side cannot take labels at all.
    """
    if not all(table.takes_labels for table, _ in sides):
        return []  # inline numbers or a JSON array: position is the only order there is
    found = [(table, label_candidates(table, used)) for table, used in sides]
    named = [(table, names) for table, names in found if names]
    if not named:
        return []
    common = [
        name
        for _, names in named
        for name in names
        if all(name in table.columns for table, _ in sides)
    ]
    if common:
        name = common[0]
        hint = f"column {quote(name)} could hold labels: --label {shlex.quote(name)} aligns by it"
    else:
        columns = " and ".join(f"column {quote(names[0])} of {t.source}" for t, names in named)
        hint = f"{columns} could hold labels (--label names the same column in every source)"
    return [f"{what} by row position; {hint}"]


# --------------------------------------------------------------------------- checks


def is_close_to_integer(x: float) -> bool:
    return abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))


def probability_warning(dist: Distribution) -> str | None:
    """The spec's hint: values all <= 1 that sum to neither 1 nor an integer."""
    total = dist.total
    if dist.values.max() > 1.0 or is_close_to_integer(total):
        return None
    return f"{dist.name} sums to {total!r}, not 1; it was normalized (did you mean probabilities?)"


def check_normalized(dist: Distribution) -> None:
    """For ``--no-normalize``: the values must sum to 1 within a relative 1e-9."""
    if not math.isclose(dist.total, 1.0, rel_tol=1e-9, abs_tol=0.0):
        raise InvalidDataError(
            f"{dist.name} sums to {dist.total!r}, not 1 (--no-normalize needs probabilities)"
        )
