"""How sources are read, through the real program (issue 10): inline numbers of any
length, tables aligned by row position, strict raw rows and ``--delimiter``."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import assert_error, kldiv


def write(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- inline numbers


def test_ten_thousand_inline_numbers_are_numbers_not_a_file_name() -> None:
    # A real argv (not CliRunner): the name is far beyond NAME_MAX (255), where the
    # check for a file of that name fails with ENAMETOOLONG instead of "no such file".
    p = ",".join(["1"] * 10_000)
    q = ",".join(["1", "3"] * 5_000)
    run = subprocess.run(
        [sys.executable, "-m", "kldiv_cli", "compare", p, q, "--value", "kl_pq"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.stderr == ""
    assert run.returncode == 0
    # P uniform over 10,000; Q puts 1/20,000 and 3/20,000 on alternate entries:
    # D(P||Q) = sum p log2(p/q) = 1/2 log2(2) + 1/2 log2(2/3) = 1 - log2(3)/2.
    assert float(run.stdout) == pytest.approx(1 - math.log2(3) / 2, rel=1e-12)


def test_a_long_bad_entry_in_inline_numbers_is_65_naming_it() -> None:
    p = ",".join(["1"] * 5_000) + ",x"
    run = kldiv("compare", p, "1,2")
    assert_error(run, 65, "inline numbers", "entry 5001 ('x') is not a number")
    assert len(run.err) < 200  # the message quotes the numbers shortened, on one line


def test_a_long_name_that_is_not_numbers_is_66() -> None:
    run = kldiv("compare", "x" * 400, "1,2")
    assert_error(run, 66, "x" * 20 + "...", "cannot read", "too long")
