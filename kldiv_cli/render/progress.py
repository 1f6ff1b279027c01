"""How long work is announced: the one progress mechanism of kldiv, on the output side.

A long computation (the blocks of a matrix, the resamples of ``--ci``) takes a
``progress(done, total)`` callable from its caller and does no I/O; the CLI passes a
:class:`Meter`. After :data:`PACE_AFTER` seconds the pace is known; when the whole run
will take over :data:`WARN_AFTER` seconds a warning gives the expected time (if the
meter has somewhere to say it), and over :data:`BAR_AFTER` seconds a transient
progress bar (rich, imported only then) runs on stderr, but only where a person is
watching (:func:`watched`): a terminal, not a pipe, a file, ``TERM=dumb`` or a CI log.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, Final

#: The pace is measured over this much time before anything is announced (seconds).
PACE_AFTER: Final = 0.5
#: A progress bar when the whole run is expected to take longer (seconds).
BAR_AFTER: Final = 2.0
#: A warning with the expected time when the run is expected to take longer (seconds).
WARN_AFTER: Final = 60.0
#: The clock of :class:`Meter` (a test may replace it).
_clock: Callable[[], float] = time.monotonic

Progress = Callable[[int, int], None]


def _isatty(stream: Any) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # not a file, or a closed one
        return False


def watched(stderr: Any = None) -> bool:
    """``stderr`` (default: the process's) is a terminal that can draw a bar, outside CI."""
    tty = _isatty(sys.stderr if stderr is None else stderr)
    return tty and os.environ.get("TERM") != "dumb" and not os.environ.get("CI")


def wants_bar(streamed: bool, stdout: Any, stderr: Any) -> bool:
    """A progress bar goes to stderr when it is :func:`watched`, unless streamed
    results go to that terminal too (the bar would be torn by them)."""
    return stderr is not None and watched(stderr) and not (streamed and _isatty(stdout))


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
    ``warn``, when given) when the whole run will take over :data:`WARN_AFTER` seconds,
    and with ``bar`` shows a progress bar on stderr when it will take over
    :data:`BAR_AFTER`.

    A call with ``done`` 0 marks the start of the work, when something else (reading)
    came between the meter's making and the work. ``what`` names the work in both
    (``the 50,000 x 50,000 matrix``). :meth:`close`
    (or the end of a ``with`` block) removes the bar.
    """

    def __init__(
        self,
        what: str,
        warn: Callable[[str], None] | None,
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
        if done == 0 and not self.judged:  # the work starts now: its pace is from here
            self.start = self.clock()
        if not self.judged and done > 0:
            elapsed = self.clock() - self.start
            if elapsed >= PACE_AFTER or done >= total:
                self.judged = True
                expected = elapsed * total / done
                if self.warn is not None and expected > WARN_AFTER and done < total:
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
            transient=True,  # gone when done: stderr keeps only warnings and errors
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

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
