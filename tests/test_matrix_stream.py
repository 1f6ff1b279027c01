"""``kldiv matrix`` in bounded memory: output streamed block by block, refusals that
name the size they would need, and the announcement of long runs.

The streamed output is compared with the renderer that holds the whole matrix
(render.to_delimited of a MatrixResult), byte for byte, on blocks of a few rows. Both compute the
matrix over the same blocks of rows, so every entry has the same bits either way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kldiv_cli.commands.matrix as matrix_module
import kldiv_cli.maths.pairwise as pairwise_module
import kldiv_cli.readers.resources as resources
import kldiv_cli.render.progress as progress_module
from kldiv_cli import render
from kldiv_cli.readers import size_text
from kldiv_cli.readers.tables import read_table
from kldiv_cli.render.progress import Meter
from tests.test_cli import SAMPLES, assert_error, kldiv, write

LETTERS = str(SAMPLES / "letters-europe.csv")
MEASURES = ("jsd", "js_distance", "kl", "cross_entropy")


def counts_table(tmp_path: Path, name: str, distributions: int, bins: int, seed: int) -> str:
    """A CSV of ``distributions`` rows (``--rows``) of counts over ``bins`` columns,
    a quarter of the counts 0, so that some KL entries are infinite."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 50, size=(distributions, bins))
    x[rng.random(x.shape) < 0.25] = 0
    x[:, 0] += 1  # every row has a positive count
    lines = ["id," + ",".join(f"b{k}" for k in range(bins))]
    lines += [f"d{i}," + ",".join(map(str, row)) for i, row in enumerate(x.tolist())]
    return write(tmp_path, name, "\n".join(lines) + "\n")


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 3 rows or so (fewer with many columns): many blocks and a short last one."""
    monkeypatch.setattr(pairwise_module, "BLOCK_BYTES", 3 * 40 * pairwise_module.ENTRY_BYTES)


# --------------------------------------------------------------------------- the same bytes


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize(
    "shape",
    ["letters", "letters-rows", "two-tables", "two-tables-rows"],
)
def test_streamed_csv_tsv_and_long_are_the_whole_matrix_rendered(
    tmp_path: Path, shape: str, measure: str
) -> None:
    a = counts_table(tmp_path, "a.csv", 40, 6, 1)
    b = counts_table(tmp_path, "b.csv", 23, 6, 2)
    sources, rows = {
        "letters": ([LETTERS], False),
        "letters-rows": ([LETTERS], True),
        "two-tables": ([a, b], False),
        "two-tables-rows": ([a, b], True),
    }[shape]
    tables = [read_table(s) for s in sources]
    whole = matrix_module.matrix(tables, measure=measure, rows=rows)
    flags = ["--rows"] if rows else []
    for fmt, sep in (("csv", ","), ("tsv", "\t")):
        for long in (False, True):
            run = kldiv(
                "matrix", *sources, *flags, "--measure", measure, "--format", fmt,
                *(["--long"] if long else []),
            )  # fmt: skip
            assert run.status == 0, run.err
            assert run.out == render.to_delimited(whole, sep, long=long)
            # The count of infinite entries comes after the streamed output, the same.
            assert run.err == "".join(f"kldiv: warning: {w}\n" for w in whole.warnings)


def test_the_streamed_output_did_stream_in_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = counts_table(tmp_path, "a.csv", 50, 4, 3)
    monkeypatch.setattr(pairwise_module, "BLOCK_BYTES", 7 * 50 * pairwise_module.ENTRY_BYTES)
    job = matrix_module.matrix_job([read_table(path)], rows=True)
    writes = list(render.to_delimited(job.stream(), ",", long=False))
    # The header, then 8 blocks: 7 of 7 rows and one of 1.
    assert [w.count("\n") for w in writes] == [1, 7, 7, 7, 7, 7, 7, 7, 1]
    names = [line.split(",")[0] for w in writes[1:] for line in w.splitlines()]
    assert names == [f"d{i}" for i in range(50)]


def test_a_small_matrix_is_one_block() -> None:
    # 12 distributions: the 64 MiB budget holds the whole matrix, as before streaming.
    assert pairwise_module.block_rows(12, 26, "jsd") >= 12
    assert pairwise_module.block_rows(50_000, 3, "kl") == 6  # 64 MiB / (50,000 x 192 B)


# --------------------------------------------------------------------------- bounded memory


def peak_rss_of(args: list[str]) -> tuple[int, int, int, str]:
    """(exit status, peak RSS in bytes, bytes written to the pipe, stderr) of
    ``kldiv ARGS``, run by a fresh Python whose only child it is (ru_maxrss of
    RUSAGE_CHILDREN is the largest child's ever)."""
    script = textwrap.dedent(
        """
        import resource, subprocess, sys
        proc = subprocess.Popen([sys.executable, "-m", "kldiv_cli", *sys.argv[1:]],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        written = 0
        while chunk := proc.stdout.read(1 << 20):
            written += len(chunk)
        err = proc.stderr.read().decode()
        status = proc.wait()
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
        print(status, peak, written)
        print(err, end="")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    first, _, err = done.stdout.partition("\n")
    status, peak, written = (int(x) for x in first.split())
    return status, peak, written, err


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_a_matrix_larger_than_its_memory_streams_to_a_pipe(tmp_path: Path) -> None:
    path = counts_table(tmp_path, "a.csv", 3000, 3, 4)
    status, peak, written, err = peak_rss_of(["matrix", path, "--rows", "--format", "csv"])
    assert status == 0, err
    assert written > 3000 * 3000 * 10  # every entry, ~20 characters each
    # Held whole, the 9e6 entries took 8 B as floats and ~80 B as text: ~790 MB. The
    # blocks take 64 MiB at most, next to the ~60-90 MB of Python, NumPy and pandas.
    assert peak < 250e6, size_text(peak)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_twenty_thousand_distributions_stream_in_bounded_memory(tmp_path: Path) -> None:
    path = counts_table(tmp_path, "a.csv", 20_000, 3, 5)
    status, peak, written, err = peak_rss_of(
        ["matrix", path, "--rows", "--measure", "kl", "--format", "csv", "--quiet"]
    )
    assert status == 0, err
    assert written > 20_000**2 * 10
    # The matrix alone is 20,000^2 x 8 B = 3.2 GB.
    assert peak < 1e9, size_text(peak)


# --------------------------------------------------------------------------- refusals


def test_json_that_cannot_fit_is_refused_with_the_size_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = counts_table(tmp_path, "a.csv", 300, 3, 6)
    # 300 x 3 values need ~43 KB to compare; the JSON matrix, 90,000 x 112 B = 9.6 MiB.
    monkeypatch.setattr(resources, "available_memory", lambda: 1 << 20)
    run = kldiv("matrix", path, "--rows", "--format", "json")
    assert_error(
        run, 2, "a 300 x 300 matrix in JSON needs about 9.6 MiB of memory",
        "1.0 MiB are available", "--format csv or tsv",
    )  # fmt: skip
    # What streams, or shows only its first rows, still runs in that memory.
    for fmt in ("csv", "tsv", "table"):
        assert kldiv("matrix", path, "--rows", "--format", fmt).status == 0


def test_a_json_matrix_whose_allocation_fails_is_the_same_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = counts_table(tmp_path, "a.csv", 30, 3, 7)

    def no_memory(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError

    # Nothing says how much memory there is, and then the allocation fails anyway.
    monkeypatch.setattr(resources, "available_memory", lambda: None)
    monkeypatch.setattr(pairwise_module, "pairwise", no_memory)
    run = kldiv("matrix", path, "--rows", "--format", "json")
    assert_error(run, 2, "a 30 x 30 matrix in JSON needs about 98.4 KiB of memory:")


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc are Linux's")
def test_json_beyond_the_address_space_limit_is_refused_not_exit_70(tmp_path: Path) -> None:
    """No fake: ``ulimit -v`` 2 GB, and a 20,000 x 20,000 JSON matrix (45 GB)."""
    path = counts_table(tmp_path, "a.csv", 20_000, 3, 8)
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, resource.RLIM_INFINITY))

    done = subprocess.run(
        [sys.executable, "-m", "kldiv_cli", "matrix", path, "--rows", "--format", "json"],
        capture_output=True, text=True, preexec_fn=limit, timeout=120,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        "kldiv: error: a 20,000 x 20,000 matrix in JSON needs about 41.7 GiB"
    )
    assert "GiB are available" in lines[0]


def test_input_too_large_to_compare_is_refused_with_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = counts_table(tmp_path, "a.csv", 1000, 4, 9)
    # 1,000 distributions of 4 entries at 48 B a value: 192,000 B = 187.5 KiB, said as 188 KiB.
    monkeypatch.setattr(resources, "available_memory", lambda: 100_000)
    run = kldiv("matrix", path, "--rows", "--format", "csv")
    assert_error(
        run, 65, f"{path}: 1,000 distributions of 4 entries need about 188 KiB of memory",
        "97.7 KiB are available",
    )  # fmt: skip


def test_a_memory_error_while_stacking_is_the_same_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = counts_table(tmp_path, "a.csv", 10, 4, 10)

    def no_memory(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(matrix_module, "stack", no_memory)
    run = kldiv("matrix", path, "--rows")
    assert_error(
        run, 65, "10 distributions of 4 entries need about 1.9 KiB of memory to compare, "
        "more than could be allocated",
    )  # fmt: skip


def test_a_memory_error_in_a_streamed_block_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = counts_table(tmp_path, "a.csv", 10, 4, 10)

    def no_memory(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(pairwise_module, "pairwise_blocks", no_memory)
    monkeypatch.setattr(resources, "available_memory", lambda: 50 << 20)
    for fmt in ("csv", "table"):
        run = kldiv("matrix", path, "--rows", "--format", fmt)
        assert run.status == 65, run.err
        lines = run.err.splitlines()
        assert lines == [
            "kldiv: error: out of memory: each block of rows of the 10 x 10 matrix needs "
            "about 64.0 MiB; 50.0 MiB are available"
        ]


def test_the_bar_is_for_a_terminal_that_results_do_not_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)  # a terminal that can draw a bar, outside CI
    monkeypatch.setenv("TERM", "xterm")

    class Tty:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    yes, no = Tty(True), Tty(False)
    assert progress_module.wants_bar(True, no, yes)  # csv > file, stderr on the terminal
    assert progress_module.wants_bar(False, yes, yes)  # a table or JSON comes after the bar
    assert not progress_module.wants_bar(True, yes, yes)  # csv on the terminal: no bar
    assert not progress_module.wants_bar(True, no, no)  # a pipe or a CI log
    assert not progress_module.wants_bar(False, yes, None)  # no stderr at all


def test_no_bar_on_a_dumb_terminal_or_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    # One rule for every bar (the matrix's and --ci's): a terminal that can draw one,
    # outside CI. The matrix's bar once asked only isatty.
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert progress_module.wants_bar(False, Tty(), Tty())
    monkeypatch.setenv("TERM", "dumb")
    assert not progress_module.wants_bar(False, Tty(), Tty())
    assert not progress_module.watched(Tty())
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("CI", "true")
    assert not progress_module.wants_bar(False, Tty(), Tty())
    assert not progress_module.watched(Tty())


def test_available_memory_is_the_least_of_what_limits_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "_meminfo", lambda: 8 << 30)
    monkeypatch.setattr(resources, "_cgroup_room", lambda: 3 << 30)
    monkeypatch.setattr(resources, "_address_space_room", lambda: None)
    assert resources.available_memory() == 3 << 30
    monkeypatch.setattr(resources, "_address_space_room", lambda: -5)  # over the limit already
    assert resources.available_memory() == 0
    for name in ("_meminfo", "_cgroup_room", "_address_space_room"):
        monkeypatch.setattr(resources, name, lambda: None)
    assert resources.available_memory() is None


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="Linux's /proc")
def test_available_memory_reads_meminfo() -> None:
    text = Path("/proc/meminfo").read_text()
    kib = next(
        int(line.split()[1]) for line in text.splitlines() if line.startswith("MemAvailable")
    )
    free = resources._meminfo()
    assert free is not None
    # MemAvailable moves as other processes run: within 10% of the value read just now.
    assert abs(free - kib * 1024) < 0.1 * kib * 1024


def test_sizes_and_durations_in_words() -> None:
    assert size_text(50_000**2 * 8) == "18.6 GiB"
    assert size_text(1 << 20) == "1.0 MiB"
    assert size_text(300 << 30) == "300 GiB"
    assert size_text(12) == "12 bytes"
    assert progress_module.duration_text(45) == "45 seconds"
    assert progress_module.duration_text(14 * 60) == "14 minutes"
    assert progress_module.duration_text(3.2 * 3600) == "3.2 hours"
    assert progress_module.duration_text(60 * 3600) == "2.5 days"


# --------------------------------------------------------------------------- table


def test_a_table_computes_its_first_rows_and_counts_every_infinity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = counts_table(tmp_path, "a.csv", 120, 5, 11)
    whole = matrix_module.matrix([read_table(path)], measure="kl", rows=True)
    infinite = int(np.isinf(whole.matrix).sum())
    assert infinite > 0
    head = matrix_module.matrix_job([read_table(path)], measure="kl", rows=True).head(40)
    # The head is computed in blocks of its own (rows 0-39): a GEMM of another number
    # of rows may round otherwise, so the KL agrees to rounding, not to the bit.
    assert head.matrix.shape == (40, 120)
    np.testing.assert_array_equal(np.isinf(head.matrix), np.isinf(whole.matrix[:40]))
    finite = np.isfinite(head.matrix)
    np.testing.assert_allclose(head.matrix[finite], whole.matrix[:40][finite], rtol=1e-13)
    assert head.warnings == whole.warnings
    run = kldiv("matrix", path, "--rows", "--measure", "kl", "--format", "table")
    assert run.status == 0, run.err
    assert "40 of 120 rows" in run.out
    assert f"{infinite} of 14400 entries are infinite" in run.err


# --------------------------------------------------------------------------- time


class FakeClock:
    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_meter_warns_once_when_the_run_will_take_over_a_minute() -> None:
    said: list[str] = []
    # Each block takes 1 s of the fake clock; 100 blocks: about 99 s are left.
    meter = Meter("the 9 x 9 matrix", said.append, bar=False, clock=FakeClock(1.0))
    for done in range(1, 101):
        meter(done, 100)
    meter.close()
    assert said == ["the 9 x 9 matrix will take about 2 minutes more"]


def test_meter_is_silent_for_short_runs() -> None:
    said: list[str] = []
    meter = Meter("m", said.append, bar=True, clock=FakeClock(0.01))
    for done in range(1, 101):
        meter(done, 100)
    assert said == []
    assert meter._progress is None  # 1 s in all: no bar


def test_meter_shows_a_bar_on_stderr_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    meter = Meter("the 5 x 5 matrix", lambda line: None, bar=True, clock=FakeClock(0.5))
    meter(1, 10)  # 0.5 s for a tenth: 5 s in all, over the 2 s of a bar
    assert meter._progress is not None
    meter(10, 10)
    meter.close()
    assert meter._progress is None


def test_a_long_matrix_warns_on_stderr_without_a_bar_in_a_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = counts_table(tmp_path, "a.csv", 60, 3, 12)
    monkeypatch.setattr(pairwise_module, "BLOCK_BYTES", 6 * 60 * pairwise_module.ENTRY_BYTES)
    monkeypatch.setattr(progress_module, "_clock", FakeClock(8.0))  # 8 s a block: 80 s in all
    run = kldiv("matrix", path, "--rows", "--format", "csv")
    assert run.status == 0, run.err
    # Standard error is not a terminal here: the warning, and no bar.
    assert run.err == "kldiv: warning: the 60 x 60 matrix will take about 72 seconds more\n"
    assert len(run.out.splitlines()) == 61
    quiet = kldiv("matrix", path, "--rows", "--format", "csv", "--quiet")
    assert quiet.err == ""
