"""``kldiv matrix``: one measure for every pair of distributions, in bounded memory.

:func:`prepare` reads and validates the tables into a :class:`MatrixJob`, before any
pair is computed; the caller then asks for what its output needs:
:meth:`MatrixJob.stream` (CSV, TSV: ``(r0, rows)`` blocks, each computed when it is
taken, so memory stays near :data:`kldiv_cli.maths.pairwise.BLOCK_BYTES` whatever the
size), :meth:`MatrixJob.head` (a table on a terminal: its first rows, and no more
computed) or :meth:`MatrixJob.whole` (JSON, one document its reader must hold whole:
refused up front, with the size it would need, when that exceeds the memory
available). A long computation reports to the caller's ``progress(done, total)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from kldiv_cli.commands.common import (
    ReadOptions,
    align_stacks,
    probability_warnings,
    read_tables,
    stack,
    stacks_position_warning,
)
from kldiv_cli.commands.results import MatrixResult, MatrixStream
from kldiv_cli.errors import InvalidDataError, KldivError, UsageError
from kldiv_cli.maths import core
from kldiv_cli.readers import FloatArray, Table, size_text

#: The measures of ``kldiv matrix``.
MATRIX_MEASURES: Final = ("jsd", "js_distance", "kl", "cross_entropy")
#: Bytes per entry of ``--format json``: the matrix (8), its text (~20 characters an
#: entry) in the copies the JSON renderer makes (measured ~79) and the encoded output.
JSON_ENTRY_BYTES: Final = 112

Progress = Callable[[int, int], None]


def prepare(
    sources: list[str | None],
    read: ReadOptions,
    *,
    measure: str = "jsd",
    rows: bool = False,
    unit: str = "bits",
    pseudocount: float = 0.0,
) -> MatrixJob:
    """``kldiv matrix``: read TABLE (and TABLE2) and make the :class:`MatrixJob` of
    :func:`matrix_job`; its warnings are known before any entry is computed."""
    tables = read_tables(sources, read)
    return matrix_job(tables, measure=measure, rows=rows, unit=unit, pseudocount=pseudocount)


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

    def whole(self, progress: Progress | None = None) -> MatrixResult:
        """The whole matrix, for JSON: refused up front (:meth:`json_refusal`) when its
        document would not fit in the memory available."""
        from kldiv_cli.readers import resources

        m, n = self.shape
        free = resources.available_memory()
        if free is not None and m * n * JSON_ENTRY_BYTES > free:
            raise self.json_refusal(free)
        values = self.full(progress)
        return self.result(values, int(np.count_nonzero(np.isinf(values))))

    def stream(self, progress: Progress | None = None) -> MatrixStream:
        """The matrix as blocks of rows, each computed when it is taken; the count of
        its infinite entries (``late_warnings``) once the last block is taken."""
        out = MatrixStream(self.measure, self.unit, self.rows, self.columns, iter(()))
        out.blocks = self._counted(out, progress)
        return out

    def _counted(
        self, out: MatrixStream, progress: Progress | None
    ) -> Iterator[tuple[int, FloatArray]]:
        infinite = 0
        for r0, block in self.blocks(progress=progress):
            infinite += int(np.count_nonzero(np.isinf(block)))
            yield r0, block
        out.late_warnings += self.infinite_warning(infinite)

    def out_of_memory(self, json: bool) -> KldivError:
        """The error for an allocation that failed: the JSON document's size
        (``json``), or that of a block of rows."""
        from kldiv_cli.readers import resources

        free = resources.available_memory()
        return self.json_refusal(free) if json else self.block_refusal(free)

    def json_refusal(self, free: int | None) -> UsageError:
        """The error for a JSON matrix that does not fit: the size it needs, the remedy."""
        m, n = self.shape
        room = f"; {size_text(free)} are available" if free is not None else ""
        return UsageError(
            f"a {m:,} x {n:,} matrix in JSON needs about {size_text(m * n * JSON_ENTRY_BYTES)} "
            f"of memory{room}: --format csv or tsv (or --long) writes it block by block"
        )

    def block_refusal(self, free: int | None) -> InvalidDataError:
        """The error for a block of rows that cannot be allocated: the system is nearly
        out of memory (a block takes :data:`kldiv_cli.maths.pairwise.BLOCK_BYTES` or so)."""
        from kldiv_cli.maths.pairwise import BLOCK_BYTES

        m, n = self.shape
        room = f"; {size_text(free)} are available" if free is not None else ""
        return InvalidDataError(
            f"out of memory: each block of rows of the {m:,} x {n:,} matrix needs about "
            f"{size_text(BLOCK_BYTES)}{room}"
        )

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
            warnings += stacks_position_warning(stacks, rows)
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
    from kldiv_cli.readers import resources

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
