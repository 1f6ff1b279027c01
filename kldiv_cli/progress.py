"""A progress bar on stderr for long work, only where a person is watching.

The measures layer does no I/O: a long computation takes a ``progress(done, total)``
callable, and its caller opens the bar with :func:`progress_bar`. The bar shows only
when stderr is a terminal (never in a pipe, a file or a CI log) and the work is large
enough to take seconds; rich is imported only then.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

#: Work (in the caller's units) below which no bar is shown: for ``--ci``,
#: label-resamples, of which this machine measures 1.3 to 8 million a second, so the
#: bar appears for work of about 2 seconds and more.
BAR_FROM: Final = 10**7

Progress = Callable[[int, int], None]


def _watched() -> bool:
    """stderr is a terminal that can draw a bar, outside CI."""
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stderr, or a closed one
        return False
    return tty and os.environ.get("TERM") != "dumb" and not os.environ.get("CI")


@contextmanager
def progress_bar(description: str, work: int) -> Iterator[Progress | None]:
    """A ``progress(done, total)`` callable that draws a transient bar on stderr, or
    None (draw nothing) when ``work < BAR_FROM`` or stderr is not a terminal."""
    if work < BAR_FROM or not _watched():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

    bar = Progress(
        f"kldiv: {description}",
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,  # gone when done: stderr keeps only warnings and errors
    )
    with bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
