"""What the commands return: one dataclass per kind of result, and the parts of them.

The only module of :mod:`kldiv_cli.commands` that :mod:`kldiv_cli.render` imports: a
renderer knows a result by its type (``functools.singledispatch``), never how it was
computed. Nothing here reads, computes or prints.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kldiv_cli.maths.core import MEASURES

if TYPE_CHECKING:
    from kldiv_cli.maths.bootstrap import Intervals
    from kldiv_cli.maths.significance import GTest as GTest
    from kldiv_cli.readers import Aligned, Distribution, FloatArray

__all__ = [
    "MEASURES",
    "Check",
    "Comparison",
    "EntropyResult",
    "MatrixResult",
    "MatrixStream",
    "MiResult",
    "PairsResult",
]


@dataclass(frozen=True)
class Check:
    """A ``--max MEASURE=LIMIT`` check: passed when the value is at most the limit."""

    measure: str
    limit: float
    value: float = math.nan

    @property
    def passed(self) -> bool:
        # An infinite value fails every limit, even an infinite one.
        return math.isfinite(self.value) and self.value <= self.limit


@dataclass
class Comparison:
    """Everything ``compare`` reports about one pair."""

    unit: str
    p: Distribution
    q: Distribution
    aligned: Aligned
    measures: dict[str, float]
    only_p: list[str]
    only_q: list[str]
    pseudocount: float
    normalized: bool
    checks: list[Check] = field(default_factory=list)
    contributions: list[dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)
    #: ``--test``: the G-test on the counts as read (before any pseudocount).
    test: GTest | None = None
    #: ``--ci``: percentile bootstrap intervals of every measure.
    intervals: Intervals | None = None

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


@dataclass
class MatrixResult:
    measure: str
    unit: str
    rows: list[str]
    columns: list[str]
    #: The matrix; for a table on a terminal, only its first rows (see ``MatrixJob.head``).
    matrix: FloatArray
    warnings: list[str] = field(default_factory=list)


@dataclass
class MatrixStream:
    """A matrix too large to hold, as ``(r0, rows)`` blocks computed one at a time.

    ``warnings`` are known before the first block; ``late_warnings`` (the count of
    infinite entries) once ``blocks`` is exhausted, so they follow the output.
    """

    measure: str
    unit: str
    rows: list[str]
    columns: list[str]
    blocks: Iterator[tuple[int, FloatArray]]
    warnings: list[str] = field(default_factory=list)
    late_warnings: list[str] = field(default_factory=list)


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
