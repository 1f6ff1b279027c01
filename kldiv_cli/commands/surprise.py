r"""``kldiv surprise PRIOR DATA``: Bayesian surprise of batches of counts under a
Dirichlet prior.

PRIOR's column holds pseudocounts :math:`\alpha_i > 0` (plus ``--add``), DATA's numeric
columns (with ``rows``: its rows) are batches of counts over the same categories, in
order. Each batch is measured against the prior updated by the batches before it
(:func:`~kldiv_cli.maths.dirichlet.sequential_surprise`).
"""

from __future__ import annotations

import math

import numpy as np

from kldiv_cli.commands.common import (
    ReadOptions,
    Stack,
    read_tables,
    require_counts,
    stack,
)
from kldiv_cli.commands.results import Check, SurpriseResult
from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths import core
from kldiv_cli.readers import (
    FloatArray,
    Table,
    label_hint,
    parse_number,
    position_warning,
    quote,
    union_of,
)

#: What ``--max`` may limit: each batch's surprise, or the total.
CHECKED = ("surprise", "total")


def parse_check(text: str) -> Check:
    """``surprise=2`` -> ``Check("surprise", 2.0)``; a usage error for anything else."""
    measure, sep, limit = text.partition("=")
    measure = measure.strip()
    if not sep:
        raise UsageError(f"--max {text!r}: expected MEASURE=LIMIT, e.g. surprise=1")
    if measure not in CHECKED:
        raise UsageError(f"--max {text!r}: unknown measure {measure!r}; choose surprise or total")
    value = parse_number(limit)
    if value is None or math.isnan(value):
        raise UsageError(f"--max {text!r}: the limit {limit!r} is not a number")
    return Check(measure, value)


def run(
    prior: str,
    data: str,
    read: ReadOptions,
    *,
    prior_column: str | None = None,
    rows: bool = False,
    add: float = 0.0,
    unit: str = "bits",
    checks: list[Check] | None = None,
) -> SurpriseResult:
    """``kldiv surprise``: read PRIOR and DATA, then :func:`surprise`."""
    prior_table, data_table = read_tables([prior, data], read)
    return surprise(
        prior_table,
        data_table,
        prior_column=prior_column,
        rows=rows,
        add=add,
        unit=unit,
        checks=checks,
    )


def surprise(
    prior: Table,
    data: Table,
    *,
    prior_column: str | None = None,
    rows: bool = False,
    add: float = 0.0,
    unit: str = "bits",
    checks: list[Check] | None = None,
) -> SurpriseResult:
    r"""The surprise of each batch of ``data`` given ``prior`` and the batches before it.

    The prior is :math:`\mathrm{Dir}(\alpha)`, :math:`\alpha` = ``prior``'s column plus
    ``add``; batch t's surprise is :math:`D(\mathrm{Dir}(\alpha + \sum_{s \le t} n_s)
    \,\|\, \mathrm{Dir}(\alpha + \sum_{s < t} n_s))` and the total
    :math:`D(\mathrm{Dir}(\alpha + \sum_t n_t) \,\|\, \mathrm{Dir}(\alpha))`.

    Raises
    ------
    InvalidDataError
        A pseudocount (plus ``add``) that is not > 0, a value of DATA that is not a
        count, a category of DATA that PRIOR lacks; each named.
    """
    from kldiv_cli.maths.dirichlet import sequential_surprise

    core.unit_scale(unit)  # an unknown unit fails before any work
    if not (math.isfinite(add) and add >= 0):
        raise UsageError(f"--add {add!r}: must be a finite number >= 0")
    column = _prior_column(prior, prior_column)
    alpha = _pseudocounts(prior, column, add)
    batches = stack(data, rows=rows, each_positive=False)
    require_counts(batches, "surprise", whole=True)
    counts = _aligned(prior, alpha, batches)
    warnings: list[str] = []
    if prior.labels.positional and data.labels.positional and not rows:
        warnings += position_warning(
            [(prior, {column}), (data, set(batches.names))], "PRIOR and DATA are aligned"
        )
    surprises, total = sequential_surprise(alpha, counts, unit=unit)
    names = [name or batches.source for name in batches.names]
    found: list[tuple[str | None, Check]] = []
    for check in checks or []:
        if check.measure == "total":
            found.append((None, Check("total", check.limit, total)))
        else:
            found += [
                (name, Check("surprise", check.limit, float(value)))
                for name, value in zip(names, surprises.tolist(), strict=True)
            ]
    with np.errstate(over="ignore"):
        alpha0 = float(alpha.sum())
    return SurpriseResult(
        unit=unit,
        prior_source=prior.source,
        prior_column=column or None,
        prior_total=alpha0,
        prior_size=int(alpha.size),
        add=add,
        names=names,
        n=counts.sum(axis=1),
        surprise=surprises,
        total=total,
        checks=found,
        warnings=warnings,
    )


def _prior_column(table: Table, name: str | None) -> str:
    """PRIOR's column of pseudocounts: ``name``, or its only numeric column."""
    if name is not None:
        if name == table.label_column:
            raise UsageError(
                f"{table.source}: column {quote(name)} (--prior-column) is the label column"
            )
        if name not in table.columns:
            raise UsageError(
                f"{table.source}: no column {quote(name)} for --prior-column; columns: "
                f"{', '.join(quote(c) for c in table.columns)}"
            )
        return name
    numeric = table.numeric
    if len(numeric) == 1:
        return numeric[0]
    if not numeric:
        if table.problems:  # say why the likeliest column is not numeric
            raise InvalidDataError(table.problem(next(iter(table.problems))))
        raise InvalidDataError(f"{table.source} has no numeric column of pseudocounts")
    raise UsageError(
        f"{table.source} has {len(numeric)} numeric columns "
        f"({', '.join(quote(c) for c in numeric)}); choose the prior's with --prior-column"
        f"{label_hint(table)}"
    )


def _pseudocounts(table: Table, column: str, add: float) -> FloatArray:
    """The Dirichlet's alpha: the column plus ``add``, each finite and > 0."""
    values = table.columns[column]
    if values is None:
        raise InvalidDataError(table.problem(column))
    if values.size == 0:
        raise InvalidDataError(f"{table.source}: no pseudocounts")
    with np.errstate(over="ignore"):  # named below
        alpha = values + add
    named = column or None
    for mask, what in (
        (np.isnan(values), "is NaN"),
        (~np.isfinite(alpha), "is infinite (or beyond the float range)"),
    ):
        if mask.any():
            row = int(np.argmax(mask))
            where = table.where(row, named)
            raise InvalidDataError(
                f"{table.source}: {where}: pseudocount {float(values[row])!r} {what}"
            )
    bad = ~(alpha > 0.0)
    if bad.any():
        row = int(np.argmax(bad))
        where = table.where(row, named)
        given = f" plus --add {add!r}" if add else ""
        hint = "" if add else "; --add A adds A to every pseudocount (e.g. --add 1)"
        raise InvalidDataError(
            f"{table.source}: {where}: pseudocount {float(values[row])!r}{given} is not > 0: "
            f"a Dirichlet prior needs every pseudocount > 0{hint}"
        )
    with np.errstate(over="ignore"):
        if not math.isfinite(float(alpha.sum())):
            raise InvalidDataError(
                f"{table.source}: the pseudocounts total beyond the float range (1.8e308)"
            )
    return alpha


def _aligned(prior: Table, alpha: FloatArray, batches: Stack) -> FloatArray:
    """DATA's batches, shape (T, K), over PRIOR's categories in PRIOR's order (a
    category DATA lacks counts 0); a category PRIOR lacks is an error naming it."""
    labels, bins = prior.labels, batches.bins
    if labels.positional or bins.positional:
        if not (labels.positional and bins.positional):
            bare, named = (prior.source, batches.source)
            if bins.positional:
                bare, named = named, bare
            raise InvalidDataError(
                f"{bare} has no labels and {named} has; give both labels or neither"
            )
        if bins.size != labels.size:
            raise InvalidDataError(
                f"lengths differ: the prior {prior.source} has {labels.size} categories "
                f"and {batches.source} has {bins.size} entries per batch"
            )
        return batches.values
    union, _, counts = union_of(labels, bins, alpha, batches.values)
    if union.size > labels.size:
        new = union.take(np.arange(labels.size, union.size))
        first = new[0]
        k = bins.values.index(first)
        more = f" (and {len(new) - 1} more new)" if len(new) > 1 else ""
        raise InvalidDataError(
            f"{_where_category(batches, k)}: category {quote(first)}{more} is not in the "
            f"prior {prior.source}: a Dirichlet prior is over fixed categories and cannot "
            f"take a new one; add it to the prior with a pseudocount (e.g. 1)"
        )
    return counts


def _where_category(batches: Stack, k: int) -> str:
    """Where category ``k`` of DATA is: its line (a row's label) or its column."""
    table = batches.table
    if batches.rows:
        return f"{table.source}: column {quote(batches.bins.take([k])[0])}"
    return f"{table.source}: {table.where(k)}"
