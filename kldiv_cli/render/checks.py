"""The lines that name each failed ``--max`` check, for standard error:
:func:`failed_checks`, chosen by the result's type."""

from __future__ import annotations

import math
from functools import singledispatch

from kldiv_cli.commands.results import Check, Comparison, DriftResult, PairsResult
from kldiv_cli.render.text import number


@singledispatch
def failed_checks(result: object) -> list[str]:
    """One line per failed check of ``result``; none for a result without checks."""
    return []


@failed_checks.register(Comparison)
def compare_failures(result: Comparison) -> list[str]:
    """One line per failed check, for stderr."""
    return [
        f"check failed: {c.measure} = {number(c.value)} is above the limit {number(c.limit)}"
        for c in result.checks
        if not c.passed
    ]


@failed_checks.register(PairsResult)
def pair_check_failures(result: PairsResult) -> list[str]:
    """One line per failed check, naming the pair, for stderr."""
    return [
        f"check failed: pair {name!r}: {c.measure} = {number(c.value)} "
        f"is above the limit {number(c.limit)}"
        for name, c in result.checks
        if not c.passed
    ]


@failed_checks.register(DriftResult)
def drift_check_failures(result: DriftResult) -> list[str]:
    """One line per column with a failed check, its failures joined by ``; ``:
    ``check failed: column 'x': jsd = 0.0712 > 0.05; kl_pq = inf > 1 (bits)``."""
    return [
        f"check failed: column {column.column!r}: "
        + "; ".join(_failure(c) for c in column.comparison.checks if not c.passed)
        + f" ({result.unit})"
        for column in result.failed
    ]


def _failure(check: Check) -> str:
    if math.isinf(check.limit):  # only an infinite value fails an infinite limit
        return f"{check.measure} = {number(check.value)}, infinite, which fails every limit"
    return f"{check.measure} = {number(check.value)} > {number(check.limit)}"
