"""Many distributions at once: ``matrix``, ``pairs``, ``entropy`` and ``mi``.

Like :mod:`kldiv_cli.commands.compare`, this module ties the readers to the core and neither
reads arguments nor prints. A table becomes a :class:`Stack`: its distributions as
the rows of one array over shared bins (the table's numeric columns, or with
``rows=True`` its rows), validated once, so that the core works on whole arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np

from kldiv_cli.commands.compare import MAX_NAMED, Check, some_labels
from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths import core
from kldiv_cli.maths.counts import (
    check_count_total,
    check_row_count_totals,
    count_total,
    require_whole,
)
from kldiv_cli.readers import (
    FloatArray,
    Labels,
    Table,
    is_close_to_integer,
    position_warning,
    quote,
    require_exact_counts,
    union_of,
)

if TYPE_CHECKING:
    from kldiv_cli.maths.significance import GTest

#: The measures of ``kldiv matrix``.
MATRIX_MEASURES: Final = ("jsd", "js_distance", "kl", "cross_entropy")


@dataclass
class Stack:
    """The distributions of one table as the rows of ``values`` (shape ``(n, K)``).

    ``names`` names the distributions (column names, or with ``rows`` the row
    labels); ``bins`` labels the K entries they share.
    """

    table: Table
    names: list[str]
    bins: Labels
    values: FloatArray
    rows: bool

    @property
    def source(self) -> str:
        return self.table.source

    @property
    def totals(self) -> FloatArray:
        with np.errstate(over="ignore"):  # a total beyond the float range is reported as inf
            return np.asarray(self.values.sum(axis=1), dtype=np.float64)

    def where(self, i: int, k: int) -> str:
        """``a.csv: line 4, column 'n', label 'x'``: entry k of distribution i."""
        if self.rows:
            return f"{self.source}: {self.table.where(i, self.bins.take([k])[0])}"
        return f"{self.source}: {self.table.where(k, self.names[i] or None)}"

    def describe(self, i: int) -> str:
        """``a.csv, column 'n'`` or ``a.csv, row 'x'``: distribution i, for messages."""
        kind = "row" if self.rows else "column"
        name = self.names[i]
        return f"{self.source}, {kind} {quote(name)}" if name else self.source


def stack(table: Table, *, rows: bool = False, each_positive: bool = True) -> Stack:
    """The distributions of ``table``: its numeric columns, or with ``rows`` its rows.

    Every column but the label column must be numeric (a column that is not is an
    error naming its first bad cell, rather than a distribution silently left out).
    Every value must be finite and >= 0, and every distribution have a positive total
    (with ``each_positive=False``, only the whole table: a contingency table may hold
    a row of zeros).
    """
    names = list(table.columns)
    given = list(table.columns.values())
    if any(values is None for values in given):  # no lookup per column: 10^6 of them
        bad = next(name for name, values in zip(names, given, strict=True) if values is None)
        raise InvalidDataError(table.problem(bad))
    columns = cast(list[FloatArray], given)
    if rows:
        values = np.column_stack(columns) if columns else np.empty((table.labels.size, 0))
        found = Stack(table, table.labels.values, Labels.of(names), values, rows=True)
        if table.labels.positional:
            found.names = [str(i) for i in range(1, table.labels.size + 1)]
    else:
        # One concatenate, not vstack: vstack makes each of a million one-value columns a
        # 2-D array first (0.9 s of the 1.3 s that stacking such a table took).
        values = np.concatenate(columns).reshape(len(columns), -1)
        found = Stack(table, names, table.labels, values, rows=False)
    _validate(found, each_positive)
    return found


def _validate(s: Stack, each_positive: bool) -> None:
    """Finite, non-negative values and a positive total for every distribution."""
    v = s.values
    if v.size == 0:
        raise InvalidDataError(f"{s.source}: no values")
    lowest = v.min()  # NaN propagates through min: one pass screens everything
    if not (lowest >= 0.0 and np.isfinite(v.max())):
        for mask, what in (
            (np.isnan(v), "is NaN"),
            (np.isinf(v), "is infinite (or beyond the float range)"),
            (v < 0.0, "is negative"),
        ):
            bad = np.argwhere(mask)
            if bad.size:
                i, k = (int(x) for x in bad[0])
                raise InvalidDataError(f"{s.where(i, k)}: value {float(v[i, k])!r} {what}")
    if not each_positive:
        if not v.max() > 0.0:
            raise InvalidDataError(f"{s.source}: no positive value (all {v.size} are 0)")
        return
    empty = np.flatnonzero(~(v.max(axis=1) > 0.0))
    if empty.size:
        i = int(empty[0])
        raise InvalidDataError(f"{s.describe(i)}: no positive value (all {v.shape[1]} are 0)")


def require_counts(s: Stack, option: str, *, whole: bool = False) -> None:
    """Raise InvalidDataError naming the first value of ``s`` that is not a count, or
    a total of counts too large (of each distribution; with ``whole``, of the table)."""
    require_exact_counts(s.table, None, option)
    require_whole(s.values, s.where, option)
    if whole:
        check_count_total(count_total(s.values), s.source, option)
        return
    check_row_count_totals(s.values, s.totals, s.describe, option)


def align_stacks(a: Stack, b: Stack) -> tuple[Labels, FloatArray, FloatArray]:
    """Both stacks over one list of bins: the union of their labels (A's order, then
    B's new ones; absent = 0), or by position when neither is labelled."""
    if a.bins.positional or b.bins.positional:
        if not (a.bins.positional and b.bins.positional):
            bare, named = (a, b) if a.bins.positional else (b, a)
            raise InvalidDataError(
                f"{bare.source} has no labels and {named.source} has; give both labels or neither"
            )
        if a.values.shape[1] != b.values.shape[1]:
            raise InvalidDataError(
                f"lengths differ: {a.source} has {a.values.shape[1]} entries per distribution "
                f"and {b.source} has {b.values.shape[1]}"
            )
        return a.bins, a.values, b.values
    return union_of(a.bins, b.bins, a.values, b.values)


def _position_warning(stacks: list[Stack], rows: bool) -> list[str]:
    """Two tables whose entries (with ``rows``: whose rows, as pairs) go by row
    position: the warning naming a column that could hold labels. Every column is a
    distribution here, so the candidate is the first, as a year or a bin would be."""
    if not all(s.table.labels.positional for s in stacks):
        return []
    what = "the rows of both tables are paired" if rows else "the tables are aligned"
    return position_warning([(s.table, list(s.table.columns)[1:]) for s in stacks], what)


def probability_warnings(s: Stack) -> list[str]:
    """The spec's hint, once per stack: distributions whose values are all <= 1 and
    that sum to neither 1 nor an integer."""
    totals = s.totals
    odd = [
        i
        for i in np.flatnonzero(s.values.max(axis=1) <= 1.0).tolist()
        if not is_close_to_integer(float(totals[i]))
    ]
    if not odd:
        return []
    first = odd[0]
    more = f" ({len(odd)} distributions like it)" if len(odd) > 1 else ""
    return [
        f"{s.describe(first)} sums to {float(totals[first])!r}, not 1{more}; "
        "normalized (did you mean probabilities?)"
    ]


# --------------------------------------------------------------------------- matrix


@dataclass
class MatrixResult:
    measure: str
    unit: str
    rows: list[str]
    columns: list[str]
    #: The matrix; for a table on a terminal, only its first rows (see ``MatrixJob.head``).
    matrix: FloatArray
    warnings: list[str] = field(default_factory=list)


#: Bytes of working memory per value of the input tables while a matrix is computed:
#: the stacked values, a smoothed copy, the normalized rows, their logs and two
#: temporaries of the row sums, each 8 bytes.
INPUT_BYTES: Final = 48


@dataclass
class MatrixJob:
    """A matrix ready to be computed: the rows of ``p`` against those of ``q`` (None:
    against themselves), whole (:meth:`full`) or a block of rows at a time
    (:meth:`blocks`), so that the CSV/TSV output of a large matrix streams."""

    measure: str
    unit: str
    rows: list[str]
    columns: list[str]
    p: FloatArray
    q: FloatArray | None
    warnings: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.columns)

    # The names as pairwise's Literal types: matrix_job checked both.
    @property
    def _measure(self) -> Any:
        return self.measure

    @property
    def _unit(self) -> Any:
        return self.unit

    def blocks(
        self, stop: int | None = None, progress: Any = None
    ) -> Iterator[tuple[int, FloatArray]]:
        """``(r0, rows)`` blocks of the matrix from its first row to ``stop``."""
        from kldiv_cli.maths.pairwise import pairwise_blocks

        return pairwise_blocks(
            self.p, self.q, measure=self._measure, unit=self._unit, stop=stop, progress=progress
        )

    def full(self, progress: Any = None) -> FloatArray:
        """The whole ``(m, n)`` matrix (MemoryError if it cannot be allocated)."""
        from kldiv_cli.maths.pairwise import pairwise

        return pairwise(self.p, self.q, measure=self._measure, unit=self._unit, progress=progress)

    def head(self, rows: int) -> MatrixResult:
        """The first ``rows`` rows, and the warning counting the infinite entries of the
        whole matrix (found without computing it): what a table on a terminal shows."""
        from kldiv_cli.maths.pairwise import count_infinite

        parts = [block for _, block in self.blocks(stop=rows)]
        first = np.vstack(parts) if parts else np.empty((0, self.shape[1]))
        infinite = count_infinite(self.p, self.q) if self.measure in ("kl", "cross_entropy") else 0
        return self.result(first, infinite)

    def result(self, values: FloatArray, infinite: int) -> MatrixResult:
        """A :class:`MatrixResult` of ``values``, its warnings ending with the count of
        ``infinite`` entries."""
        warnings = [*self.warnings, *self.infinite_warning(infinite)]
        return MatrixResult(self.measure, self.unit, self.rows, self.columns, values, warnings)

    def infinite_warning(self, infinite: int) -> list[str]:
        if not infinite:
            return []
        m, n = self.shape
        return [
            f"{infinite} of {m * n} entries are infinite: the column's distribution is 0 "
            "where the row's is not (--pseudocount A smooths)"
        ]


def matrix_job(
    tables: list[Table],
    *,
    measure: str = "jsd",
    rows: bool = False,
    unit: str = "bits",
    pseudocount: float = 0.0,
) -> MatrixJob:
    """The distributions of one table against themselves, or of the first of two tables
    against those of the second over the union of their labels, validated and
    aligned, before any pair is computed.

    Raises InvalidDataError, naming the size, when the tables are too large for the
    memory available to compute with them (a matrix of any size may stream).
    """
    if measure not in MATRIX_MEASURES:
        raise UsageError(f"unknown measure {measure!r}; choose {', '.join(MATRIX_MEASURES)}")
    core.unit_scale(unit)
    _check_input_fits(tables, rows)
    try:
        stacks = [stack(t, rows=rows) for t in tables]
        warnings = [w for s in stacks for w in probability_warnings(s)]
        if len(stacks) == 1:
            (a,) = stacks
            p = a.values + pseudocount if pseudocount else a.values
            return MatrixJob(measure, unit, a.names, a.names, p, None, warnings)
        a, b = stacks
        _, p, q = align_stacks(a, b)
        if not rows:  # rows against rows: every pair is shown, none is matched
            warnings += _position_warning(stacks, rows)
        if pseudocount:
            p, q = p + pseudocount, q + pseudocount
        return MatrixJob(measure, unit, a.names, b.names, p, q, warnings)
    except MemoryError:
        _check_input_fits(tables, rows, ran_out=True)
        raise  # pragma: no cover - the check above always raises


def _check_input_fits(tables: list[Table], rows: bool, ran_out: bool = False) -> None:
    """InvalidDataError naming the sizes when the tables' values, at
    :data:`INPUT_BYTES` each, exceed the memory available (or, ``ran_out``, when an
    allocation already failed)."""
    from kldiv_cli.readers import resources, size_text

    shapes = []
    for t in tables:
        k, n = t.labels.size, len(t.columns)
        shapes.append((n, k) if not rows else (k, n))
    bins = max(k for _, k in shapes) if len(shapes) == 1 else sum(k for _, k in shapes)
    values = sum(n for n, _ in shapes) * bins
    need = values * INPUT_BYTES
    free = resources.available_memory()
    if not ran_out and (free is None or need <= free):
        return
    what = " and ".join(f"{n:,} distributions of {k:,} entries" for n, k in shapes)
    source = ", ".join(t.source for t in tables)
    room = "" if free is None else f"; {size_text(free)} are available"
    if ran_out:
        room = f", more than could be allocated{room}"
    raise InvalidDataError(
        f"{source}: {what} need about {size_text(need)} of memory to compare{room}"
    )


def matrix(
    tables: list[Table],
    *,
    measure: str = "jsd",
    rows: bool = False,
    unit: str = "bits",
    pseudocount: float = 0.0,
) -> MatrixResult:
    """One measure for every pair: entry (i, j) is measure(row i, column j).

    With one table, its distributions against themselves; with two, every
    distribution of the first against every one of the second, over the union of
    their labels. The whole matrix, in memory: ``kldiv matrix`` streams CSV and TSV
    with :meth:`MatrixJob.blocks` instead.
    """
    job = matrix_job(tables, measure=measure, rows=rows, unit=unit, pseudocount=pseudocount)
    values = job.full()
    return job.result(values, int(np.isinf(values).sum()))


# --------------------------------------------------------------------------- pairs


@dataclass
class PairsResult:
    unit: str
    names: list[str]
    measures: dict[str, FloatArray]  # key -> one value per pair
    checks: list[tuple[str, Check]]  # (pair name, check with its value)
    warnings: list[str] = field(default_factory=list)

    def total(self, key: str) -> float:
        return float(self.measures[key].sum())

    def mean(self, key: str) -> float:
        return float(self.measures[key].mean())

    @property
    def passed(self) -> bool:
        return all(check.passed for _, check in self.checks)


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
    position = _position_warning([a, b], rows)
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


# --------------------------------------------------------------------------- entropy


@dataclass
class EntropyResult:
    unit: str
    estimator: str
    names: list[str]
    n: FloatArray
    support: Any  # int array
    entropy: FloatArray
    warnings: list[str] = field(default_factory=list)
    #: ``nsb``: the posterior standard deviation of each entropy, in ``unit``.
    std: FloatArray | None = None
    #: ``shrink``: the shrinkage intensity of each distribution, in [0, 1].
    lam: FloatArray | None = None
    #: The alphabet size the estimators assumed: the bins, or ``--bins``.
    bins: int = 0


def entropies(
    table: Table,
    *,
    rows: bool = False,
    unit: str = "bits",
    estimator: str = "plugin",
    bins: int | None = None,
) -> EntropyResult:
    """Per distribution: its total ``n``, its support (non-zero entries), its entropy
    by ``estimator`` (see :mod:`kldiv_cli.maths.estimators`; every one but ``plugin`` needs
    counts). ``bins`` declares an alphabet larger than the table's bins."""
    from kldiv_cli.maths.estimators import ESTIMATORS, estimate_entropy

    scale = core.unit_scale(unit)
    if estimator not in ESTIMATORS:
        raise UsageError(f"unknown estimator {estimator!r}; choose {', '.join(ESTIMATORS)}")
    s = stack(table, rows=rows)
    k = s.values.shape[1]
    if bins is not None and bins < k:
        raise UsageError(f"--bins {bins}: {s.source} already has {k} bins; --bins may only add")
    if estimator != "plugin":
        require_counts(s, f"--estimator {estimator}")
    support = np.count_nonzero(s.values, axis=1)
    if estimator == "plugin":  # any values, not only counts; extra empty bins change nothing
        h = np.atleast_1d(np.asarray(core.entropy(s.values, unit=unit, axis=1)))  # type: ignore[arg-type]
        return EntropyResult(
            unit, estimator, s.names, s.totals, support, h, probability_warnings(s), bins=bins or k
        )
    estimate = estimate_entropy(s.values, estimator, bins=bins)
    std = None if estimate.std is None else estimate.std / scale
    return EntropyResult(
        unit,
        estimator,
        s.names,
        s.totals,
        support,
        estimate.entropy / scale,
        std=std,
        lam=estimate.lam,
        bins=bins or k,
    )


# --------------------------------------------------------------------------- mi


@dataclass
class MiResult:
    unit: str
    n: float
    measures: dict[str, float]
    shape: tuple[int, int]
    #: What X and Y are: column names, or "rows" and "columns" of a table.
    x: str = "rows"
    y: str = "columns"
    warnings: list[str] = field(default_factory=list)
    #: ``--test``: the G-test of independence.
    test: GTest | None = None


def mi_of_table(table: Table, *, unit: str = "bits", test: bool = False) -> MiResult:
    """Mutual information of a contingency table: rows are the values of X, numeric
    columns the values of Y, cells counts. ``test`` adds the G-test of independence,
    which needs counts."""
    s = stack(table, rows=True, each_positive=False)
    if test:
        require_counts(s, "--test", whole=True)
    x = table.label_column or "rows"
    return mi_of_counts(s.values, unit=unit, x=x, y="columns", test=test)


def mi_of_counts(
    counts: FloatArray,
    *,
    unit: str = "bits",
    x: str = "rows",
    y: str = "columns",
    test: bool = False,
) -> MiResult:
    """Mutual information of a validated joint count table (rows X, columns Y)."""
    from kldiv_cli.maths.information import mutual_information

    values = mutual_information(counts, unit=unit)
    rows, cols = counts.shape
    result = MiResult(unit, float(counts.sum()), values, (rows, cols), x, y)
    if test:
        from kldiv_cli.maths.significance import g_independence

        result.test = g_independence(counts)
    return result
