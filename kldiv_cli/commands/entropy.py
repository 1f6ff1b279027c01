"""``kldiv entropy``: the entropy of each distribution of a table, by an estimator."""

from __future__ import annotations

import numpy as np

from kldiv_cli.commands.common import (
    ReadOptions,
    probability_warnings,
    read_tables,
    require_counts,
    stack,
)
from kldiv_cli.commands.results import EntropyResult
from kldiv_cli.errors import UsageError
from kldiv_cli.maths import core
from kldiv_cli.readers import Table


def run(
    source: str,
    read: ReadOptions,
    *,
    rows: bool = False,
    unit: str = "bits",
    estimator: str = "plugin",
    bins: int | None = None,
) -> EntropyResult:
    """``kldiv entropy``: read TABLE, then :func:`entropies`."""
    (table,) = read_tables([source], read)
    return entropies(table, rows=rows, unit=unit, estimator=estimator, bins=bins)


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
