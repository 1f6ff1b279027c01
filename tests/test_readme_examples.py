"""Every ``$ kldiv ...`` example of the README runs and prints what the README shows.

Each ``console`` block of the README is a list of commands (``$ ...``) each followed by
its output. The command runs in a shell from the repository's root, with ``kldiv``
on the PATH as this Python's ``-m kldiv_cli`` and the width the README states
(``COLUMNS=100``). Output lines that start with ``kldiv: `` are the command's
standard error; the others are its standard output.

Numbers are compared to 1e-12 relative, everything else to the letter: the values are
sums of logs taken by NumPy's SIMD loops and OpenBLAS's dot kernels, whose last bits
differ between CPUs with AVX-512 and those with AVX2 only (0.052932501298081136 on
one, 0.05293250129808113 on the other), while a value 1e-12 off is a real change.
Inside a line the spacing is compared exactly, so a table drawn differently fails; a
JSON document, which the README wraps by hand and shortens with ``...``, is compared
with the spacing between its tokens left free and ``...`` standing for any text.
"""

from __future__ import annotations

import math
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: The terminal width at which the README's tables are drawn (the README says so).
WIDTH = 100
NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
TOKEN = re.compile(rf"(?P<number>{NUMBER})|(?P<dots>\.\.\.)|(?P<space>\s+)|(?P<text>.)", re.S)


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"README line {self.line}: $ {self.command}"


def examples() -> list[Example]:
    text = README.read_text(encoding="utf-8")
    found: list[Example] = []
    for block in re.finditer(r"```console\n(.*?)```", text, flags=re.S):
        first = text.count("\n", 0, block.start()) + 2
        command: str | None = None
        out: list[str] = []
        err: list[str] = []
        start = first
        for i, line in enumerate([*block.group(1).splitlines(), "$ "]):
            if line.startswith("$ "):
                if command:
                    found.append(Example(start, command, "".join(out), "".join(err)))
                command, out, err, start = line[2:], [], [], first + i
            else:
                (err if line.startswith("kldiv: ") else out).append(line + "\n")
    return found


def pattern(expected: str, *, loose: bool) -> tuple[str, list[float]]:
    """A regex for ``expected`` with each number a group, and the numbers it expects."""
    parts: list[str] = []
    numbers: list[float] = []
    for token in TOKEN.finditer(expected):
        if token["number"]:
            parts.append(f"({NUMBER})")
            numbers.append(float(token["number"]))
        elif token["dots"] and loose:
            parts.append(".*?")
        elif token["space"]:
            parts.append(r"\s*" if loose else re.escape(token["space"]))
        else:
            parts.append(re.escape(token.group()))
    return "".join(parts), numbers


def _rstrip_lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.split("\n"))


def assert_shows(actual: str, expected: str, what: str) -> None:
    # A one-line JSON document that the README wraps or shortens is matched loosely.
    loose = actual.lstrip().startswith("{") and actual.count("\n") <= 1
    # rich pads a table's title to the terminal's width; the README keeps no trailing
    # spaces.
    actual, expected = _rstrip_lines(actual), _rstrip_lines(expected)
    regex, numbers = pattern(expected.strip() if loose else expected, loose=loose)
    found = re.fullmatch(regex, actual.strip() if loose else actual, flags=re.S)
    assert found is not None, f"{what} differs:\n--- README\n{expected}--- actual\n{actual}"
    for want, got in zip(numbers, found.groups(), strict=True):
        assert math.isclose(float(got), want, rel_tol=1e-12), f"{what}: {got} is not {want}"


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose ``kldiv`` runs this interpreter's ``kldiv_cli``."""
    folder = tmp_path_factory.mktemp("bin")
    shim = folder / "kldiv"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kldiv_cli "$@"\n', encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return folder


def test_the_readme_has_examples_and_states_their_width() -> None:
    assert len(examples()) >= 15
    assert f"COLUMNS={WIDTH}" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("example", examples(), ids=str)
def test_readme_example_prints_what_the_readme_shows(example: Example, bin_dir: Path) -> None:
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.update(COLUMNS=str(WIDTH), LINES="50", PYTHONIOENCODING="utf-8")
    env.pop("NO_COLOR", None)
    done = subprocess.run(
        ["bash", "-c", example.command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert_shows(done.stderr, example.stderr, f"{example}: stderr")
    assert_shows(done.stdout, example.stdout, f"{example}: stdout")
    # The README shows an error only where the command is meant to fail.
    failed = example.stderr.startswith("kldiv: error:") or "check failed" in example.stderr
    assert (done.returncode != 0) == failed, f"{example}: exit status {done.returncode}"


def test_numbers_are_compared_to_a_tolerance_and_text_exactly() -> None:
    """The comparison itself: 1e-12 relative passes, 1e-10 and a changed word fail."""
    assert_shows("kl_pq\t0.05293250129808113\n", "kl_pq\t0.052932501298081136\n", "t")
    with pytest.raises(AssertionError):
        assert_shows("kl_pq\t0.0529325012986\n", "kl_pq\t0.052932501298081136\n", "t")
    with pytest.raises(AssertionError):
        assert_shows("kl_qp\t0.05293250129808113\n", "kl_pq\t0.05293250129808113\n", "t")
    # A table cell that moved by one space is a different table.
    with pytest.raises(AssertionError):
        assert_shows("│  0.5 │\n", "│ 0.5 │\n", "t")
    # JSON: the README wraps it and elides with "...".
    assert_shows(
        '{"a": 1.0000000000000002, "b": [1, 2, 3], "c": "x"}\n',
        '{"a": 1.0,\n "b": [1, ...],\n "c": "x"}\n',
        "t",
    )
