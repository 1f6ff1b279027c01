"""``kldiv compare``: from two sources to every measure, its checks and warnings.

:func:`run` reads the sources (:mod:`kldiv_cli.readers`), :func:`compare` computes with
:mod:`kldiv_cli.maths.core` and returns a :class:`~kldiv_cli.commands.results.Comparison`,
which :mod:`kldiv_cli.render` turns into text. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from kldiv_cli.commands.common import ReadOptions, read_tables, some_labels
from kldiv_cli.commands.results import Check, Comparison
from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths import core
from kldiv_cli.maths.counts import check_count_total, count_total, is_counts, require_whole
from kldiv_cli.readers import (
    Aligned,
    Distribution,
    FloatArray,
    Table,
    align,
    check_normalized,
    label_hint,
    position_warning,
    probability_warning,
    quote,
    require_exact_counts,
)

if TYPE_CHECKING:
    from kldiv_cli.maths.bootstrap import Intervals
    from kldiv_cli.maths.significance import GTest

#: A ``progress(done, total)`` callback, given by the caller (the CLI's meter).
Progress = Callable[[int, int], None]


def run(
    sources: list[str | None],
    read: ReadOptions,
    *,
    p_col: str | None = None,
    q_col: str | None = None,
    unit: str = "bits",
    pseudocount: float = 0.0,
    normalize: bool = True,
    top: int | None = None,
    checks: list[Check] | None = None,
    test: bool = False,
    ci: float | None = None,
    resamples: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """``kldiv compare``: read P's and Q's ``sources`` (Q's None: P's holds both) and
    :func:`compare` them; ``progress`` follows the ``--ci`` resamples."""
    tables = read_tables(sources, read)
    return compare(
        tables,
        p_col=p_col,
        q_col=q_col,
        unit=unit,
        pseudocount=pseudocount,
        normalize=normalize,
        top=top,
        checks=checks,
        test=test,
        ci=ci,
        resamples=resamples,
        seed=seed,
        progress=progress,
    )


def pick_columns(
    tables: list[Table], p_col: str | None, q_col: str | None
) -> tuple[Distribution, Distribution]:
    """P and Q by the spec: a column of each of two sources, or two of one source."""
    if len(tables) == 2:
        return _one_column(tables[0], p_col, "--p"), _one_column(tables[1], q_col, "--q")
    (table,) = tables
    for option, name in (("--p", p_col), ("--q", q_col)):
        if name is not None:
            _require(table, name, option)
    candidates = [c for c in table.numeric if c not in (p_col, q_col)]
    if p_col is not None and q_col is not None:
        if p_col == q_col:
            raise UsageError(f"--p and --q both name {quote(p_col)}; compare two columns")
        return table.column(p_col), table.column(q_col)
    needed = 2 - (p_col is not None) - (q_col is not None)
    if len(candidates) < needed:
        _no_numeric(table, f"needs two numeric columns, found {len(table.numeric)}")
    if len(candidates) > needed:
        raise UsageError(
            f"{table.source} has {len(candidates) + 2 - needed} numeric columns "
            f"({', '.join(quote(c) for c in table.numeric)}); choose two with --p and --q"
            f"{label_hint(table)}"
        )
    p_name = p_col if p_col is not None else candidates.pop(0)
    q_name = q_col if q_col is not None else candidates.pop(0)
    return table.column(p_name), table.column(q_name)


def _one_column(table: Table, name: str | None, option: str) -> Distribution:
    if name is not None:
        _require(table, name, option)
        return table.column(name)
    numeric = table.numeric
    if len(numeric) == 1:
        return table.column(numeric[0])
    if not numeric:
        _no_numeric(table, "has no numeric column")
    raise UsageError(
        f"{table.source} has {len(numeric)} numeric columns "
        f"({', '.join(quote(c) for c in numeric)}); choose one with {option}{label_hint(table)}"
    )


def _require(table: Table, name: str, option: str) -> None:
    if name == table.label_column:
        raise UsageError(
            f"{table.source}: column {quote(name)} ({option}) is the label column; "
            "to use it as data, name another with --label"
        )
    if name not in table.columns:
        names = list(table.columns)
        raise UsageError(
            f"{table.source}: no column {quote(name)} for {option}; columns: "
            f"{', '.join(quote(c) for c in names)}"
        )


def _no_numeric(table: Table, what: str) -> None:
    if table.problems:  # say why the likeliest column is not numeric
        raise InvalidDataError(table.problem(next(iter(table.problems))))
    raise InvalidDataError(f"{table.source} {what}")


def compare(
    tables: list[Table],
    *,
    p_col: str | None = None,
    q_col: str | None = None,
    unit: str = "bits",
    pseudocount: float = 0.0,
    normalize: bool = True,
    top: int | None = None,
    checks: list[Check] | None = None,
    test: bool = False,
    ci: float | None = None,
    resamples: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    infinite_warnings: bool = True,
) -> Comparison:
    """Compare P and Q, chosen from ``tables`` by :func:`pick_columns`.

    ``infinite_warnings`` False leaves the warnings of an infinite KL to the caller,
    which words them in its own terms (``drift``: CUR and REF); ``only_p`` and
    ``only_q`` name the labels all the same.

    With ``test``, add the G-test of P's counts: of homogeneity with Q's counts, or of
    goodness of fit to Q as a model when Q is not counts. With ``ci`` (a level such as
    0.95), add percentile bootstrap intervals from ``resamples`` (None: the default of
    :func:`~kldiv_cli.maths.bootstrap.bootstrap_intervals`) multinomial resamples of each
    side that is counts (a side that is not stays fixed), drawn from ``seed``, calling
    ``progress(done, total)`` as they are drawn.
    """
    core.unit_scale(unit)  # an unknown unit fails before any work
    p, q = pick_columns(tables, p_col, q_col)
    warnings: list[str] = []
    if normalize:
        warnings += [w for w in (probability_warning(p), probability_warning(q)) if w]
    else:
        check_normalized(p)
        check_normalized(q)
    raw = align(p, q)
    if p.table is not q.table and p.labels.positional and q.labels.positional:
        sides = [(p.table, {p.column or ""}), (q.table, {q.column or ""})]
        warnings += position_warning(sides, "P and Q are aligned")
    pair = raw
    if pseudocount:
        with np.errstate(over="ignore"):  # named below
            pair = Aligned(raw.labels, raw.p + pseudocount, raw.q + pseudocount)
        for dist, shifted in ((p, pair.p), (q, pair.q)):
            if not np.isfinite(shifted).all():
                raise InvalidDataError(
                    f"{dist.name}: a value plus --pseudocount {pseudocount!r} is beyond "
                    "the float range (1.8e308)"
                )
    values = core.measures(pair.p, pair.q, unit=unit, normalize=normalize)  # type: ignore[arg-type]
    measures = {key: float(values[key]) for key in core.MEASURES}
    pos_p, pos_q = pair.p > 0, pair.q > 0
    only_p = pair.labels.take(np.flatnonzero(pos_p & ~pos_q))
    only_q = pair.labels.take(np.flatnonzero(pos_q & ~pos_p))
    for labels, direction, zero in (
        (only_p, "D(P||Q)", "q = 0 < p"),
        (only_q, "D(Q||P)", "p = 0 < q"),
    ):
        if labels and infinite_warnings:
            warnings.append(
                f"{direction} is infinite: {zero} at {some_labels(labels, pair.labels.positional)}"
            )
    result = Comparison(
        unit=unit,
        p=p,
        q=q,
        aligned=pair,
        measures=measures,
        only_p=only_p,
        only_q=only_q,
        pseudocount=pseudocount,
        normalized=normalize,
        checks=[Check(c.measure, c.limit, measures[c.measure]) for c in checks or []],
        warnings=warnings,
    )
    if top is not None:
        result.contributions = _top(pair, unit, top, normalize)
    if test:
        result.test = _g_test(p, q, raw)
    if ci is not None:
        result.intervals = _intervals(p, q, raw, ci, resamples, seed, pseudocount, unit, progress)
    return result


def require_counts(dist: Distribution, option: str) -> None:
    """Raise InvalidDataError naming the first value of ``dist`` that is not a count,
    or its total when that is beyond :data:`~kldiv_cli.maths.counts.MAX_COUNT_TOTAL`."""
    require_exact_counts(dist.table, [dist.column], option)
    require_whole(
        dist.values, lambda row: f"{dist.source}: {dist.table.where(row, dist.column)}", option
    )
    check_count_total(count_total(dist.values), dist.name, option)


def _g_test(p: Distribution, q: Distribution, raw: Aligned) -> GTest:
    from kldiv_cli.maths.significance import g_goodness_of_fit, g_homogeneity

    require_counts(p, "--test")
    if is_counts(q.values):
        require_counts(q, "--test")
        return g_homogeneity(raw.p, raw.q)
    return g_goodness_of_fit(raw.p, raw.q)


def _intervals(
    p: Distribution,
    q: Distribution,
    raw: Aligned,
    level: float,
    resamples: int | None,
    seed: int | None,
    pseudocount: float,
    unit: str,
    progress: Progress | None,
) -> Intervals:
    from kldiv_cli.maths.bootstrap import DEFAULT_RESAMPLES, bootstrap_intervals

    resample_p, resample_q = is_counts(p.values), is_counts(q.values)
    if not (resample_p or resample_q):
        require_counts(p, "--ci")  # names P's first value that is not a count
    for dist, resampled in ((p, resample_p), (q, resample_q)):
        if resampled:
            require_counts(dist, "--ci")
    b = DEFAULT_RESAMPLES if resamples is None else resamples
    if progress is not None:
        progress(0, b)  # the work starts now: what took time before (reading) is not its pace
    return bootstrap_intervals(
        raw.p,
        raw.q,
        resample_p=resample_p,
        resample_q=resample_q,
        level=level,
        resamples=b,
        seed=seed,
        pseudocount=pseudocount,
        unit=unit,
        progress=progress,
    )


def _top(pair: Aligned, unit: str, n: int, normalize: bool) -> list[dict[str, Any]]:
    """The ``n`` labels that contribute most to the JSD, largest first."""
    terms = core.contributions(pair.p, pair.q, unit=unit, normalize=normalize)  # type: ignore[arg-type]
    order = largest(terms["jsd"], n)
    labels = pair.labels.take(order)
    keys = ("p", "q", "kl_pq", "kl_qp", "jsd")
    return [
        {"label": label, **{key: float(terms[key][i]) for key in keys}}
        for label, i in zip(labels, order.tolist(), strict=True)
    ]


def largest(values: FloatArray, n: int) -> NDArray[np.intp]:
    """The indices of the ``n`` largest of ``values`` (1-D, no NaN), largest first, and
    of equal values the first first: ``np.argsort(-values, kind="stable")[:n]``.

    Found by a partition, O(K), then a sort of those ``n`` alone: a full sort of 10M
    JSD terms took about a second for a ``--top`` of 10.
    """
    size = values.size
    if n >= size:
        return np.argsort(-values, kind="stable")
    if n <= 0:
        return np.empty(0, dtype=np.intp)
    kth = np.partition(values, size - n)[size - n]  # the n-th largest value
    above = np.flatnonzero(values > kth)
    ties = np.flatnonzero(values == kth)[: n - above.size]  # the first of the equal
    chosen = np.sort(np.concatenate([above, ties]))
    return chosen[np.argsort(-values[chosen], kind="stable")]
