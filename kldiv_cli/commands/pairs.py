"""``kldiv pairs``: each distribution of P against the one of Q with the same name,
with every measure of ``compare``, and their ``--max`` checks."""

from __future__ import annotations

import numpy as np

from kldiv_cli.commands.common import (
    MAX_NAMED,
    ReadOptions,
    align_stacks,
    probability_warnings,
    read_tables,
    some_labels,
    stack,
    stacks_position_warning,
)
from kldiv_cli.commands.results import Check, PairsResult
from kldiv_cli.errors import InvalidDataError
from kldiv_cli.maths import core
from kldiv_cli.readers import FloatArray, Labels, Table, quote


def run(
    sources: list[str | None],
    read: ReadOptions,
    *,
    rows: bool = False,
    unit: str = "bits",
    pseudocount: float = 0.0,
    checks: list[Check] | None = None,
) -> PairsResult:
    """``kldiv pairs``: read P and Q, then :func:`pairs`."""
    tables = read_tables(sources, read)
    return pairs(tables, rows=rows, unit=unit, pseudocount=pseudocount, checks=checks)


def pairs(
    tables: list[Table],
    *,
    rows: bool = False,
    unit: str = "bits",
    pseudocount: float = 0.0,
    checks: list[Check] | None = None,
) -> PairsResult:
    """The i-th distribution of P against the one of Q with the same name: every
    measure of ``compare`` per pair."""
    core.unit_scale(unit)
    a, b = (stack(t, rows=rows) for t in tables)
    a_index = {name: i for i, name in enumerate(a.names)}
    b_index = {name: j for j, name in enumerate(b.names)}
    missing = [(a, i, b) for name, i in a_index.items() if name not in b_index]
    missing += [(b, j, a) for name, j in b_index.items() if name not in a_index]
    if missing:
        has, i, lacks = missing[0]
        more = f" ({len(missing)} unmatched in all)" if len(missing) > 1 else ""
        raise InvalidDataError(
            f"{has.describe(i)} has no match in {lacks.source}{more}; pairs are matched by name"
        )
    labels, p, q = align_stacks(a, b)
    position = stacks_position_warning([a, b], rows)
    if a.names != b.names:
        q = q[[b_index[name] for name in a.names]]
    if pseudocount:
        p, q = p + pseudocount, q + pseudocount
    values = core.measures(p, q, unit=unit, axis=-1)  # type: ignore[arg-type]
    measures = {key: np.atleast_1d(np.asarray(values[key])) for key in core.MEASURES}
    warnings = position + probability_warnings(a) + probability_warnings(b)
    warnings += _infinite_warnings(a.names, labels, p, q)
    results = [
        (name, Check(c.measure, c.limit, float(measures[c.measure][i])))
        for c in checks or []
        for i, name in enumerate(a.names)
    ]
    return PairsResult(unit, a.names, measures, results, warnings)


def _infinite_warnings(names: list[str], labels: Labels, p: FloatArray, q: FloatArray) -> list[str]:
    """Per direction, the first few pairs whose KL is infinite and the labels why."""
    out = []
    for x, y, direction, zero in ((p, q, "D(P||Q)", "q = 0 < p"), (q, p, "D(Q||P)", "p = 0 < q")):
        where = (x > 0) & ~(y > 0)
        infinite = np.flatnonzero(where.any(axis=1)).tolist()
        for i in infinite[:MAX_NAMED]:
            at = labels.take(np.flatnonzero(where[i]))
            out.append(
                f"pair {quote(names[i])}: {direction} is infinite: {zero} at "
                f"{some_labels(at, labels.positional)}"
            )
        if len(infinite) > MAX_NAMED:
            out.append(f"{direction} is infinite in {len(infinite) - MAX_NAMED} more pairs")
    return out
