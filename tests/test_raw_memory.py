"""``--memory-limit`` and ``--spill-dir``: the raw-row engine's memory cap and spill
folder reach DuckDB, the folder is used past the cap and removed afterwards, and bad
values are usage errors (2) or a missing folder (66)."""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_run import kldiv

from kldiv_cli.commands.counted import parse_size, raw_options
from kldiv_cli.errors import UsageError
from kldiv_cli.readers import raw


def _rows(path: Path) -> Path:
    path.write_text("a,b\nx,1\ny,2\nx,3\ny,4\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("300MB", 300_000_000),
        ("2GB", 2_000_000_000),
        ("2gb", 2_000_000_000),
        ("1.5GiB", 3 << 29),
        ("64MB", 64_000_000),
        ("65536KiB", 64 << 20),
        ("1TB", 10**12),
    ],
)
def test_sizes_are_read_by_their_unit(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text", ["300", "300 MB", "MB", "-5MB", "1e3MB", "63MB", "300B", "3.MB", "", "300MBs", "0GB"]
)
def test_bad_sizes_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--memory-limit"):
        parse_size(text)


def test_the_limit_and_the_folder_reach_duckdb(tmp_path: Path) -> None:
    options = raw_options(memory_limit="300MB", spill_dir=str(tmp_path))
    with raw._connection(options) as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()
        folder = con.execute("SELECT current_setting('temp_directory')").fetchone()
        assert limit is not None
        assert folder is not None
        # DuckDB shows 300,000,000 bytes in MiB: 300e6 / 2**20 = 286.1.
        assert limit[0] == "286.1 MiB"
        inside = Path(folder[0])
        assert inside.parent == tmp_path
        assert inside.is_dir()
    assert not inside.exists()
    assert list(tmp_path.iterdir()) == []


def test_without_the_options_the_engine_keeps_its_default() -> None:
    with raw._connection(raw.RawOptions()) as con:
        row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    assert row is not None
    mib = float(row[0].split()[0])
    assert 64 <= mib <= raw.MEMORY_LIMIT >> 20


@contextmanager
def _recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Every connection the engine opens, as (memory_limit, temp_directory)."""
    seen: list[tuple[str, str]] = []
    opened = raw._connection

    @contextmanager
    def spying(options: Any = None) -> Iterator[Any]:
        with opened(options) as con:
            row = con.execute(
                "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
            ).fetchone()
            seen.append((row[0], row[1]))
            yield con

    monkeypatch.setattr(raw, "_connection", spying)
    yield seen


@pytest.mark.parametrize(
    "command",
    [
        ["drift", "{f}", "{f}"],
        ["compare", "{f}", "{f}", "--count", "a"],
        ["entropy", "{f}", "--count", "a"],
    ],
)
def test_the_cli_options_reach_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    data = _rows(tmp_path / "rows.csv")
    spill = tmp_path / "spill"
    spill.mkdir()
    args = [a.format(f=data) for a in command]
    with _recorded(monkeypatch) as seen:
        run = kldiv(*args, "--memory-limit", "2GB", "--spill-dir", str(spill), "--format", "json")
    assert run.status == 0, run.err
    assert seen, "no connection opened"
    # 2e9 bytes / 2**20 = 1907.3 MiB.
    assert all(limit == "1.8 GiB" for limit, _ in seen)
    assert all(Path(folder).parent == spill for _, folder in seen)
    assert list(spill.iterdir()) == []  # each connection's folder removed


@pytest.mark.parametrize(
    "command",
    [
        ["drift", "{f}", "{f}"],
        ["compare", "{f}", "{f}", "--count", "a"],
        ["entropy", "{f}", "--count", "a"],
    ],
)
@pytest.mark.parametrize("size", ["300", "63MB", "2 GB", "lots"])
def test_bad_limits_on_the_cli_are_usage_errors(
    tmp_path: Path, command: list[str], size: str
) -> None:
    data = _rows(tmp_path / "rows.csv")
    run = kldiv(*[a.format(f=data) for a in command], "--memory-limit", size)
    assert run.status == 2
    assert run.out == ""
    assert run.err.startswith("kldiv: error: --memory-limit")
    assert run.err.count("\n") == 1


def test_a_spill_folder_that_is_missing_is_66(tmp_path: Path) -> None:
    data = _rows(tmp_path / "rows.csv")
    for where in (tmp_path / "nowhere", data):  # absent; a file, not a folder
        run = kldiv("drift", str(data), str(data), "--spill-dir", str(where))
        assert run.status == 66, run.err
        assert run.out == ""
        assert run.err == f"kldiv: error: --spill-dir {where}: no such folder\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
def test_a_spill_folder_that_is_not_writable_is_66(tmp_path: Path) -> None:
    data = _rows(tmp_path / "rows.csv")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    run = kldiv("drift", str(data), str(data), "--spill-dir", str(locked))
    assert run.status == 66, run.err
    assert run.err.startswith(f"kldiv: error: --spill-dir {locked}: cannot make a folder")


def test_the_options_need_raw_rows(tmp_path: Path) -> None:
    data = _rows(tmp_path / "rows.csv")
    for option, value in (("--memory-limit", "300MB"), ("--spill-dir", str(tmp_path))):
        run = kldiv("compare", str(data), str(data), option, value)
        assert run.status == 2
        assert run.err == f"kldiv: error: {option} goes with --count COL (raw rows)\n"


@pytest.mark.slow
def test_a_count_past_the_limit_spills_and_cleans_up(tmp_path: Path) -> None:
    # 2M distinct strings: DuckDB's grouping of them needs about 100 MB, over a 64MB
    # limit, so it spills to the folder; the counts are still exact (each value once).
    n = 2_000_000
    path = tmp_path / "distinct.csv"
    values = np.char.add("s", np.arange(n).astype(str))
    path.write_text("k\n" + "\n".join(values.tolist()) + "\n", encoding="utf-8")
    spill = tmp_path / "spill"
    spill.mkdir()
    most = [0]
    stop = threading.Event()

    def watch() -> None:  # the bytes in the spill folder, at their most
        while not stop.is_set():
            total = 0
            for root, _, files in os.walk(spill):
                for name in files:
                    with contextlib.suppress(OSError):  # removed in between
                        total += os.path.getsize(os.path.join(root, name))
            most[0] = max(most[0], total)
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run = kldiv(
            "entropy",
            str(path),
            "--count",
            "k",
            "--memory-limit",
            "64MB",
            "--spill-dir",
            str(spill),
            "--format",
            "json",
        )
    finally:
        stop.set()
        watcher.join()
    found = run.json()
    assert most[0] > 0, "nothing spilled"
    assert list(spill.iterdir()) == []
    # n values, each once: the plug-in entropy is log2(n) bits; the sum of n terms
    # rounds, hence the tolerance.
    (entropy,) = [d["entropy"] for d in found["distributions"]]
    assert math.isclose(entropy, math.log2(n), rel_tol=1e-12)


@pytest.mark.parametrize("at", [4096 - 1, 4096, 4096 * 2 - 1, 4096 * 3 + 5])
def test_the_byte_search_by_windows_finds_a_pattern_across_an_edge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    # The CSV is searched for '+-' (which DuckDB's parser reads as a number, kldiv's
    # grammar not) by windows of mapped bytes, so that its pages leave the resident
    # memory; a window of 4096 bytes here puts '+-' across or at an edge.
    monkeypatch.setattr(raw, "_WINDOW", 4096)
    head = b"x_a,y\n"
    filler = b"1,2\n" * (5 * 4096 // 4)
    plain = tmp_path / "plain.csv"
    plain.write_bytes(head + filler)
    assert raw._plain_bytes([str(plain)]) is True  # '_' in the header only
    body = bytearray(head + filler)
    body[at : at + 2] = b"+-"
    marked = tmp_path / "marked.csv"
    marked.write_bytes(bytes(body))
    assert raw._plain_bytes([str(marked)]) is False


def test_a_small_limit_runs_on_one_thread_and_counts(tmp_path: Path) -> None:
    """Each thread's CSV reader holds a ~32 MiB block: under SMALL_LIMIT the engine
    takes one thread, so a 64MB limit spills rather than fails (it failed at 100MB
    with two threads on a three-column drift)."""
    from kldiv_cli.readers import RawOptions
    from kldiv_cli.readers.raw import _connection

    with _connection(RawOptions(memory_limit=64_000_000)) as con:
        row = con.execute("SELECT current_setting('threads')").fetchone()
    assert row is not None
    assert int(row[0]) == 1
    with _connection(RawOptions(memory_limit=1 << 30)) as con:
        row = con.execute("SELECT current_setting('threads')").fetchone()
    assert row is not None
    assert int(row[0]) >= 1  # DuckDB's own choice: the cores


def test_memory_options_are_not_the_dask_engines(tmp_path: Path) -> None:
    from kldiv_cli.commands.drift import drift
    from kldiv_cli.errors import UsageError

    data = tmp_path / "a.csv"
    data.write_text("x\n1\n")
    with pytest.raises(UsageError, match="bound the embedded engine"):
        drift(str(data), str(data), engine="dask", memory_limit="300MB")
