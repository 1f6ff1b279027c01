"""Issue 15, item 2 (the bootstrap): work that would take hours is refused up front,
memory that cannot be had is named, and a long interval shows a progress bar on a
terminal only.

Through the real program (``python -m kldiv_cli``) where the exit status, stdout and
stderr are the point; the callback's contract on bootstrap_intervals itself.
"""

from __future__ import annotations

import json
import math
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kldiv_cli.errors import UsageError
from kldiv_cli.maths import bootstrap as bs
from kldiv_cli.maths.bootstrap import MAX_WORK, bootstrap_intervals
from kldiv_cli.render.progress import BAR_AFTER, Meter, watched

#: Label-resamples of --ci that take about a second on this machine (~3e7 a second).
WORK = 10**7
#: Resamples of 1,000 labels that take many seconds (~12 s here), over BAR_AFTER on
#: any machine: a bar needs a run expected to last longer than that. 60,000 took 4 s
#: until the kernels got faster, then 1.9 s: under BAR_AFTER, and no bar, rightly.
LONG_RESAMPLES = 400_000


def kldiv(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kldiv_cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def counts_file(path: Path, k: int, seed: int) -> Path:
    values = np.random.default_rng(seed).integers(1, 50, k)
    path.write_text("label,n\n" + "".join(f"l{i},{x}\n" for i, x in enumerate(values)))
    return path


def test_days_of_resamples_are_refused_up_front(tmp_path: Path) -> None:
    # The case: 10^7 resamples of 100,000 labels, 10^12 label-resamples.
    p = counts_file(tmp_path / "p.csv", 100_000, 1)
    q = counts_file(tmp_path / "q.csv", 100_000, 2)
    start = time.monotonic()
    run = kldiv("compare", str(p), str(q), "--ci", "0.95", "--resamples", "10000000")
    elapsed = time.monotonic() - start
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("kldiv: error: --resamples 10,000,000 on 100,000 labels")
    assert "1.0e+12 label-resamples" in lines[0]
    assert "use --resamples 100,000 or fewer" in lines[0]  # 10^10 / 10^5
    assert "Traceback" not in run.stderr
    assert elapsed < 30  # reading 2 x 100,000 rows and refusing: no resampling at all


def test_the_limit_is_inclusive() -> None:
    # B * K == MAX_WORK passes the check (and the refusal names the largest B that does).
    bs._check_work(MAX_WORK // 1000, 1000)
    with pytest.raises(UsageError, match=r"use --resamples 10,000,000 or fewer"):
        bs._check_work(MAX_WORK // 1000 + 1, 1000)


def test_values_that_cannot_be_allocated_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # A MemoryError from the (8, B) array of values is exit 2 naming its size, never 70.
    real_empty = np.empty

    def empty(shape: object, *args: object, **kwargs: object) -> np.ndarray:
        if shape == (8, 3000):
            raise MemoryError
        return real_empty(shape, *args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(bs.np, "empty", empty)
    with pytest.raises(UsageError, match=r"--resamples 3,000 needs 0 MiB") as caught:
        bootstrap_intervals([3, 4], [4, 3], resample_p=True, resample_q=True, resamples=3000)
    assert caught.value.exit_status == 2


def test_progress_is_called_with_increasing_counts_ending_at_the_total() -> None:
    calls: list[tuple[int, int]] = []
    k = 5000  # CHUNK_ENTRIES // 5000 = 26 resamples a chunk: 39 chunks, on 2 threads
    rng = np.random.default_rng(3)
    p, q = rng.integers(1, 20, k), rng.integers(1, 20, k)
    plain = bootstrap_intervals(p, q, resample_p=True, resample_q=True, resamples=1000, seed=4)
    ci = bootstrap_intervals(
        p,
        q,
        resample_p=True,
        resample_q=True,
        resamples=1000,
        seed=4,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert ci == plain  # the callback changes nothing
    assert len(calls) == math.ceil(1000 / (bs.CHUNK_ENTRIES // k))
    assert all(total == 1000 for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert len(set(done)) == len(done)  # strictly increasing
    assert done[0] > 0
    assert done[-1] == 1000


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    # Under pytest stderr is captured, not a terminal: no bar, however large the work.
    assert not watched()
    now = iter(range(0, 10**6, 100))  # a fake clock: 100 s a call, hours of work
    meter = Meter("work", None, bar=watched(), clock=lambda: float(next(now)))
    meter(1, 1000)
    assert meter.judged
    assert meter._progress is None
    meter.close()


def test_no_bar_in_a_pipe_through_the_real_program(tmp_path: Path) -> None:
    # Work of about a second, with stderr a pipe: nothing on it.
    k = 1000
    p = counts_file(tmp_path / "p.csv", k, 5)
    q = counts_file(tmp_path / "q.csv", k, 6)
    resamples = str(WORK // k)
    run = kldiv(
        "compare",
        str(p),
        str(q),
        "--ci",
        "0.9",
        "--resamples",
        resamples,
        "--seed",
        "1",
        "--format",
        "json",
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert json.loads(run.stdout)["resamples"] == WORK // k


@pytest.mark.slow
def test_a_bar_on_a_terminal(tmp_path: Path) -> None:
    # stderr on a pseudo-terminal and a run of seconds (over BAR_AFTER): the bar is
    # drawn there (and cleared), stdout is the result alone.
    assert BAR_AFTER < 4
    k = 1000
    p = counts_file(tmp_path / "p.csv", k, 7)
    q = counts_file(tmp_path / "q.csv", k, 8)
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TERM"] = "xterm"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kldiv_cli",
            "compare",
            str(p),
            str(q),
            "--ci",
            "0.9",
            "--resamples",
            str(LONG_RESAMPLES),
            "--seed",
            "1",
            "--value",
            "jsd",
        ],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the follower side closed: the program ended
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=120)
    os.close(leader)
    assert proc.returncode == 0
    assert b"bootstrap resamples" in seen
    assert float(out) > 0.0
