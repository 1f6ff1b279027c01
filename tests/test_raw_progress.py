"""The raw-row engine's progress: ``RawOptions.progress`` is told (percent, 100) from
DuckDB's ``query_progress()`` while the counting runs, rising to 100; the CLI draws a
bar on a terminal only, never in a pipe."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kldiv_cli.readers import raw
from kldiv_cli.render.progress import Meter, watched


def _numbers(path: Path, n: int, seed: int) -> Path:
    """``n`` rows of a float column and a category column: a count of a few seconds
    at n in the millions."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    c = rng.integers(0, 50, size=n)
    body = "\n".join(f"{a!r},c{b}" for a, b in zip(x.tolist(), c.tolist(), strict=True))
    path.write_text("x,c\n" + body + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _numbers(tmp_path_factory.mktemp("progress") / "big.csv", 1_000_000, 1)


def test_a_long_count_reports_rising_progress_ending_at_100(
    big: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(raw, "POLL_INTERVAL", 0.005)
    calls: list[tuple[int, int]] = []
    options = raw.RawOptions(progress=lambda done, total: calls.append((done, total)))
    source = raw.open_raw(str(big), options)
    found = raw.count_columns(source, source, ["x", "c"], options)
    plain = raw.count_columns(source, source, ["x", "c"], raw.RawOptions())
    for a, b in zip(found, plain, strict=True):  # watching changes no count
        assert a.labels == b.labels
        assert np.array_equal(a.reference, b.reference)
    assert all(total == 100 for _, total in calls)
    done = [d for d, _ in calls]
    assert done[0] == 0  # the start of the work
    assert done[-1] == 100
    assert done == sorted(done)
    assert len(set(done)) == len(done)  # strictly rising
    assert any(0 < d < 100 for d in done), done  # something between: it was polled


def test_progress_ends_at_100_after_an_error_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The end of the work takes the bar away before the error is told.
    calls: list[int] = []
    data = tmp_path / "x.csv"
    data.write_text("x\n(missing)\nNA\n", encoding="utf-8")
    options = raw.RawOptions(progress=lambda done, total: calls.append(done))
    source = raw.open_raw(str(data), options)
    with pytest.raises(ValueError, match="label of missing values"):
        raw.count_columns(source, None, ["x"], options)
    assert calls[0] == 0
    assert calls[-1] == 100


def test_the_phases_never_go_back() -> None:
    watch = raw._Watch(3)
    assert watch.done(50.0) == 16  # half of the first third
    watch.phase = 1
    assert watch.done(0.0) == 33
    watch.phase = 2
    assert watch.done(100.0) == 99  # 100 is said at the end only
    assert watch.done(-1.0) == 66


def test_no_bar_when_stderr_is_not_watched() -> None:
    # Under pytest stderr is captured, not a terminal: the meter the CLI gives the
    # engine draws nothing, however long the counting.
    assert not watched()
    now = iter(range(0, 10**6, 100))  # a fake clock: 100 s a call
    meter = Meter("kldiv: counting", None, bar=watched(), clock=lambda: float(next(now)))
    meter(0, 100)
    meter(1, 100)
    assert meter.judged
    assert meter._progress is None
    meter.close()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TERM"] = "xterm"
    return env


@pytest.mark.slow
def test_no_bar_in_a_pipe_through_the_real_program(big: Path) -> None:
    # Counting of seconds, stderr a pipe (and no CI variable): nothing on it.
    run = subprocess.run(
        [sys.executable, "-m", "kldiv_cli", "drift", str(big), str(big), "--format", "json"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert json.loads(run.stdout)["current"]["rows"] == 1_000_000


@pytest.mark.slow
def test_a_bar_on_a_terminal(tmp_path: Path) -> None:
    # stderr on a pseudo-terminal and a count of several seconds (over BAR_AFTER): the
    # bar is drawn there, and stdout is the result alone.
    data = _numbers(tmp_path / "long.csv", 4_000_000, 2)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kldiv_cli", "drift", str(data), str(data), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=_env(),
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
    out, _ = proc.communicate(timeout=300)
    os.close(leader)
    assert proc.returncode == 0
    assert b"kldiv: counting" in seen
    assert json.loads(out)["current"]["rows"] == 4_000_000


@pytest.mark.slow
def test_ctrl_c_during_a_count_is_130(tmp_path: Path) -> None:
    # DuckDB takes the SIGINT during its query and raises RuntimeError('Query
    # interrupted'): the program must end as interrupted (130), with no traceback nor
    # "internal error", and leave no spill folder behind.
    import signal
    import time

    data = _numbers(tmp_path / "long.csv", 4_000_000, 3)
    spill = tmp_path / "spill"
    spill.mkdir()
    command = ["drift", str(data), str(data), "--spill-dir", str(spill)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kldiv_cli", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    time.sleep(2.0)  # the imports done, the count under way (it takes several seconds)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert b"internal error" not in err
    assert b"Traceback" not in err
    assert out == b""
    assert list(spill.iterdir()) == []
