"""A matrix too large to hold: written block by block, refused when it cannot fit, timed.

``kldiv matrix`` on m x n distributions has m * n entries: 50,000 distributions make
2.5e9, 18.6 GiB of floats and ~50 GB of CSV. CSV, TSV and ``--long`` are written a
block of rows at a time (:func:`write_delimited`), each block computed, spelled,
written, flushed and dropped, so memory stays near
:data:`kldiv_cli.maths.pairwise.BLOCK_BYTES` whatever m is. JSON is one document, which its
reader must hold whole anyway: it is built in memory, and refused up front, with the
size it would need, when that exceeds the memory available
(:func:`kldiv_cli.readers.resources.available_memory`).
A table on a terminal shows its first rows only, and computes no more.

Work that will take long is announced (:class:`Meter`): after half a second the pace
is known; past a minute a warning gives the expected time, and past two seconds, when
stderr is a terminal, a progress bar (rich, imported only then) runs on stderr.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.readers import resources, size_text

if TYPE_CHECKING:
    from kldiv_cli.commands.batch import MatrixJob

#: The rows a table on a terminal shows (render.matrix_table cuts to as many).
TABLE_ROWS: Final = 40
#: Bytes per entry of ``--format json``: the matrix (8), its text (~20 characters an
#: entry) in the copies render.matrix_json makes (measured ~79) and the encoded output.
JSON_ENTRY_BYTES: Final = 112
#: The pace is measured over this much time before anything is announced (seconds).
PACE_AFTER: Final = 0.5
#: A progress bar when the whole run is expected to take longer (seconds).
BAR_AFTER: Final = 2.0
#: A warning with the expected time when the run is expected to take longer (seconds).
WARN_AFTER: Final = 60.0
#: The clock of :class:`Meter` (a test may replace it).
_clock: Callable[[], float] = time.monotonic


# --------------------------------------------------------------------------- memory


def json_refusal(job: MatrixJob, free: int | None) -> UsageError:
    """The error for a JSON matrix that does not fit: the size it needs, the remedy."""
    m, n = job.shape
    room = f"; {size_text(free)} are available" if free is not None else ""
    return UsageError(
        f"a {m:,} x {n:,} matrix in JSON needs about {size_text(m * n * JSON_ENTRY_BYTES)} "
        f"of memory{room}: --format csv or tsv (or --long) writes it block by block"
    )


# --------------------------------------------------------------------------- time


def duration_text(seconds: float) -> str:
    """``45 seconds``, ``14 minutes``, ``3.2 hours``, ``2.5 days``."""
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


class Meter:
    """A ``progress(done, total)`` callback: it measures the pace, warns once (through
    ``warn``) when the whole run will take over :data:`WARN_AFTER` seconds, and with
    ``bar`` shows a progress bar on stderr when it will take over :data:`BAR_AFTER`.

    ``what`` names the work in both (``the 50,000 x 50,000 matrix``). :meth:`close`
    removes the bar.
    """

    def __init__(
        self,
        what: str,
        warn: Callable[[str], None],
        bar: bool,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.what = what
        self.warn = warn
        self.bar = bar
        self.clock = clock or _clock
        self.start = self.clock()
        self.judged = False
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.judged and done > 0:
            elapsed = self.clock() - self.start
            if elapsed >= PACE_AFTER or done >= total:
                self.judged = True
                expected = elapsed * total / done
                if expected > WARN_AFTER and done < total:
                    left = duration_text(expected - elapsed)
                    self.warn(f"{self.what} will take about {left} more")
                if self.bar and expected > BAR_AFTER and done < total:
                    self._start_bar(total)
        if self._progress is not None:
            self._progress.update(self._task, completed=done)

    def _start_bar(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn(self.what.replace("[", r"\[")),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            transient=True,
            # stdout carries the results: rich must not capture it.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._progress.add_task("", total=total)
        self._progress.start()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


# --------------------------------------------------------------------------- output


def write_delimited(
    job: MatrixJob,
    sep: str,
    long: bool,
    write: Callable[[str], None],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the matrix as CSV/TSV, a block of rows at a time, and return how many of
    its entries are infinite.

    The text is render.matrix_delimited's, byte for byte: a header of column names
    (its first cell empty), then per row its name and its values; ``long``: a
    ``row,column,value`` header and one line per entry. ``write`` gets the header,
    then each block's lines (it should flush: a reader sees each block as it is done).
    """
    from kldiv_cli.render import _cell, number_rows

    names = [_cell(name, sep) for name in job.rows]
    columns = [_cell(name, sep) for name in job.columns]
    write(sep.join(("row", "column", "value") if long else ["", *columns]) + "\n")
    middles = [f"{sep}{col}{sep}" for col in columns] if long else []
    infinite = 0
    for r0, block in job.blocks(progress=progress):
        infinite += int(np.count_nonzero(np.isinf(block)))
        rows = number_rows(block)
        del block
        if sep != ",":
            rows = [r.replace(",", sep) for r in rows]
        if long:
            lines = [
                name + middle + value
                for name, row in zip(names[r0 : r0 + len(rows)], rows, strict=True)
                for middle, value in zip(middles, row.split(sep), strict=True)
            ]
        else:
            lines = [
                f"{name}{sep}{row}"
                for name, row in zip(names[r0 : r0 + len(rows)], rows, strict=True)
            ]
        del rows
        write("\n".join(lines) + "\n")
    return infinite


def run_matrix(
    job: MatrixJob,
    out_format: str,
    *,
    long: bool,
    write: Callable[[str], None],
    warn: Callable[[str], None],
    color: bool,
) -> int:
    """Compute ``job`` and write it in ``out_format`` (table, json, csv or tsv):
    CSV/TSV stream, a table computes only the rows it shows, JSON is refused up front
    when it cannot fit. Warnings about the result go to ``warn`` (after a streamed
    output, which they cannot precede). Returns the exit status, 0."""
    m, n = job.shape
    streamed = out_format in ("csv", "tsv")
    meter = Meter(f"the {m:,} x {n:,} matrix", warn, wants_bar(streamed, sys.stdout, sys.stderr))
    try:
        return _run(job, out_format, long, write, warn, color, meter)
    except MemoryError:
        if out_format == "json":
            raise json_refusal(job, resources.available_memory()) from None
        raise block_refusal(job) from None
    finally:
        meter.close()


def wants_bar(streamed: bool, stdout: Any, stderr: Any) -> bool:
    """A progress bar goes to stderr when it is a terminal, unless streamed results
    go to that terminal too (the bar would be torn by them)."""
    return _isatty(stderr) and not (streamed and _isatty(stdout))


def block_refusal(job: MatrixJob) -> InvalidDataError:
    """The error for a block of rows that cannot be allocated: the system is nearly out
    of memory (a block takes :data:`kldiv_cli.maths.pairwise.BLOCK_BYTES` or so)."""
    from kldiv_cli.maths.pairwise import BLOCK_BYTES

    m, n = job.shape
    free = resources.available_memory()
    room = f"; {size_text(free)} are available" if free is not None else ""
    return InvalidDataError(
        f"out of memory: each block of rows of the {m:,} x {n:,} matrix needs about "
        f"{size_text(BLOCK_BYTES)}{room}"
    )


def _run(
    job: MatrixJob,
    out_format: str,
    long: bool,
    write: Callable[[str], None],
    warn: Callable[[str], None],
    color: bool,
    meter: Meter,
) -> int:
    """The body of :func:`run_matrix`."""
    from kldiv_cli import render

    m, n = job.shape
    if out_format in ("csv", "tsv"):
        sep = "," if out_format == "csv" else "\t"
        infinite = write_delimited(job, sep, long, write, meter)
        for line in job.infinite_warning(infinite):
            warn(line)
        return 0
    if out_format == "table":
        result = job.head(TABLE_ROWS)
        for line in result.warnings[len(job.warnings) :]:
            warn(line)
        write(render.matrix_table(result, color=color, most_rows=TABLE_ROWS))
        return 0
    free = resources.available_memory()
    if free is not None and m * n * JSON_ENTRY_BYTES > free:
        raise json_refusal(job, free)
    values = job.full(meter)
    meter.close()
    result = job.result(values, int(np.count_nonzero(np.isinf(values))))
    for line in result.warnings[len(job.warnings) :]:
        warn(line)
    text = render.matrix_json(result)
    del values, result
    write(text)
    return 0


def _isatty(stream: Any) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (ValueError, OSError):  # closed
        return False
