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
    "DriftColumn",
    "DriftResult",
    "EntropyResult",
    "GaussResult",
    "GaussSide",
    "MatrixResult",
    "MatrixStream",
    "MiResult",
    "PairsResult",
    "VaeResult",
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


@dataclass
class DriftColumn:
    """One column of ``drift``: how its values were counted, and their comparison.

    ``comparison`` is ``compare``'s result on the two count vectors with **P = CUR and
    Q = REF** (so ``kl_pq`` is D(CUR||REF)); its ``checks`` are this column's
    ``--max`` checks, its ``test`` the G-test of ``--test``, its ``contributions``
    those of ``--top``.
    """

    column: str
    #: ``categorical``, ``numeric`` (few values, each a label) or ``binned``.
    kind: str
    #: The bin edges e1 < ... < em of a binned column (bins (-inf, e1) ... [em, inf)).
    edges: list[float] | None
    #: Values counted on each side (reference, current): the totals of the count
    #: vectors, so missing values are in them unless ``--drop-missing``.
    n: tuple[int, int]
    #: Missing values on each side (reference, current), reported even when dropped.
    missing: tuple[int, int]
    #: The JSD that sampling alone exceeds 5% of the time when nothing has drifted,
    #: chi2_0.95(k - 1) (1/n_ref + 1/n_cur) / 8 nats, in the result's unit.
    jsd_noise: float
    comparison: Comparison

    @property
    def bins(self) -> int | None:
        """The number of bins of a binned column; None for the other kinds."""
        return None if self.edges is None else len(self.edges) + 1

    @property
    def support(self) -> tuple[int, int]:
        """Labels with mass (reference, current)."""
        pair = self.comparison.aligned
        return int((pair.q > 0).sum()), int((pair.p > 0).sum())

    @property
    def passed(self) -> bool:
        return self.comparison.passed


@dataclass(frozen=True)
class DriftSide:
    """A side of ``drift``: its source (a file, folder, glob, or a profile) and rows."""

    source: str
    rows: int
    #: True when the source is a saved profile (``--save-reference``), not raw rows.
    profile: bool = False


@dataclass
class DriftResult:
    """Everything ``drift REF CUR`` reports: one :class:`DriftColumn` per column
    compared, in the reference's column order, and the columns left out."""

    unit: str
    reference: DriftSide
    current: DriftSide
    columns: list[DriftColumn]
    #: Columns left out, each ``{"column": name, "reason": why}`` (identifiers).
    skipped: list[dict[str, str]] = field(default_factory=list)
    only_reference: list[str] = field(default_factory=list)
    only_current: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: ``--save-reference``: the file the reference's profile was written to.
    saved: str | None = None

    @property
    def failed(self) -> list[DriftColumn]:
        """The columns with a failing ``--max`` check."""
        return [c for c in self.columns if not c.passed]

    @property
    def passed(self) -> bool:
        return not self.failed


#: The measures of ``gauss`` (pair mode), in their order: every one of ``compare``'s
#: but the Jensen-Shannon pair, which has no closed form for Gaussians.
GAUSS_MEASURES = (
    "kl_pq",
    "kl_qp",
    "cross_entropy_pq",
    "cross_entropy_qp",
    "entropy_p",
    "entropy_q",
)


@dataclass(frozen=True)
class GaussSide:
    """A Gaussian of ``gauss``: its source and how it was given (``full``: a covariance
    matrix; ``diagonal``: variances; ``inline``: ``MEAN,VARIANCE``)."""

    source: str
    form: str


@dataclass
class GaussResult:
    """``gauss P Q``: the closed-form measures of two multivariate normals, in ``unit``
    (the entropies are differential entropies, negative for a narrow Gaussian)."""

    unit: str
    dimensions: int
    p: GaussSide
    q: GaussSide
    #: GAUSS_MEASURES -> value.
    measures: dict[str, float]
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


@dataclass
class VaeResult:
    """``gauss --vae FILE``: per row, D(N(mu, diag(exp(logvar))) || N(0, I)) in
    ``unit``, and their mean over the rows (the ELBO's KL term of a batch)."""

    unit: str
    source: str
    #: One name per row: its label, or its 1-based position (``positional``).
    rows: list[str]
    positional: bool
    dimensions: int
    kl: FloatArray
    #: The mean of ``kl`` over the rows.
    mean: float
    #: The columns read as mu and as logvar, in the order of j.
    mu_columns: list[str]
    logvar_columns: list[str]
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)
