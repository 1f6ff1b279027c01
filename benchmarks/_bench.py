"""Shared helpers of the benchmark scripts: find ``kldiv``, time whole processes.

Not a benchmark itself. The machine is small and noisy, so every comparison runs its
commands interleaved (a, b, c, a, b, c, ...) and reports medians.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def kldiv_command() -> list[str]:
    """The ``kldiv`` console script, as a command list.

    The interpreter's own scripts directory is searched before ``PATH``: on a pyenv
    machine the ``kldiv`` on ``PATH`` is a bash shim that spends ~100 ms in pyenv
    before it starts the real script, which would time pyenv, not kldiv. Falls back to
    ``python -m kldiv_cli``.
    """
    search = os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])
    exe = shutil.which("kldiv", path=search)
    return [exe] if exe else [sys.executable, "-m", "kldiv_cli"]


def path_kldiv_note(command: Sequence[str]) -> str | None:
    """A note when the ``kldiv`` on ``PATH`` is not the one timed (e.g. a pyenv shim)."""
    on_path = shutil.which("kldiv")
    if on_path and Path(on_path).resolve() != Path(command[0]).resolve():
        return f"(the kldiv on PATH, {on_path}, is a wrapper around it and is not timed)"
    return None


def run(
    command: Sequence[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run a command to completion, stdout and stderr captured to pipes (not a terminal)."""
    return subprocess.run(
        list(command),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd=REPO,
        env=env,
        check=False,
    )


def time_once(command: Sequence[str]) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    """Wall time in seconds of one whole process, and its result; it must succeed."""
    start = time.perf_counter()
    done = run(command)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()
        raise SystemExit(f"benchmark command failed ({done.returncode}): {command}\n{err}")
    return elapsed, done


def interleaved(
    commands: dict[str, Sequence[str]], runs: int, warmups: int
) -> tuple[dict[str, list[float]], dict[str, bytes]]:
    """Time each command ``runs`` times, interleaved, after ``warmups`` untimed rounds.

    Returns the times in seconds per name and each command's stdout from its first run
    (for checking what it printed).
    """
    outputs: dict[str, bytes] = {}
    for _ in range(warmups):
        for name, command in commands.items():
            _, done = time_once(command)
            outputs.setdefault(name, done.stdout)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            elapsed, done = time_once(command)
            outputs.setdefault(name, done.stdout)
            times[name].append(elapsed)
    return times, outputs


def median_ms(times: Sequence[float]) -> float:
    return statistics.median(times) * 1000.0


def spread_ms(times: Sequence[float]) -> str:
    """The quartiles, to show how noisy a median is."""
    q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return f"IQR {q1 * 1000:.0f}-{q3 * 1000:.0f} ms"


def verdict(met: bool) -> str:
    return "TARGET MET" if met else "TARGET MISSED"


def cached_file(path: Path, params: str, text: Callable[[], str]) -> str:
    """Write ``text()`` to ``path`` unless the cached file was built with ``params``
    (kept beside it in ``<name>.params``); returns "cached" or "built"."""
    stamp = path.with_name(path.name + ".params")
    if path.exists() and stamp.exists() and stamp.read_text() == params:
        return "cached"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text())
    tmp.replace(path)
    stamp.write_text(params)
    return "built"


def peak_mb(command: Sequence[str]) -> float:
    """The peak resident memory of one run of ``command``, in MB (``ru_maxrss`` of
    a fresh Python parent, whose only child it is)."""
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, cwd=REPO, check=True
    )
    return int(out.stdout) / 1024
