"""The command line as people type it: -h, -p/-q, and help that can be read and copied.

Help is rendered by Typer's rich console, whose width is the COLUMNS variable (as on
a terminal); these tests render it at 80 and 60 columns.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import scipy.stats
import typer
from typer.testing import CliRunner

from kldiv_cli.cli import app

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["compare", "matrix", "pairs", "entropy", "mi", "drift", "samples", "gauss", "surprise"]
WIDTHS = [80, 60]
runner = CliRunner()


def run(*args: str, columns: int = 80) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns)})


def help_text(command: str | None, columns: int) -> str:
    result = run(*([command] if command else []), "--help", columns=columns)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return str(result.stdout)


def click_command(name: str) -> Any:
    group = typer.main.get_command(app)
    return group.commands[name]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- -h


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_dash_h_is_help_on_the_program_and_every_command(command: str | None) -> None:
    args = [command] if command else []
    short = run(*args, "-h")
    assert (short.exit_code, short.stderr) == (0, "")
    assert short.stdout == help_text(command, 80)
    assert "Usage: kldiv" in short.stdout


# --------------------------------------------------------------------------- -p and -q


def test_dash_q_names_qs_column_as_dash_dash_q_does() -> None:
    dice = ROOT / "samples" / "dice.csv"
    base = ["compare", str(dice), "--label", "face", "--value", "kl_pq"]
    long = run(*base, "--p", "fair", "--q", "loaded")
    mixed = run(*base, "--p", "fair", "-q", "loaded")
    short = run(*base, "-p", "fair", "-q", "loaded")
    assert mixed.exit_code == short.exit_code == long.exit_code == 0, mixed.stderr
    assert mixed.stdout == short.stdout == long.stdout
    fair = [102, 97, 99, 104, 96, 102]
    loaded = [61, 58, 63, 60, 57, 301]
    # the file's counts: the oracle is SciPy's relative entropy, to a tolerance
    # (its summation order differs from kldiv's)
    assert dice.read_text().splitlines()[1:] == [
        f"{i},{f},{q}" for i, (f, q) in enumerate(zip(fair, loaded, strict=True), 1)
    ]
    want = scipy.stats.entropy(fair, loaded, base=2)
    assert float(short.stdout) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("command", COMMANDS)
def test_quiet_is_long_only_so_dash_q_never_silences(command: str) -> None:
    quiet = [p for p in click_command(command).params if p.name == "quiet"]
    assert len(quiet) == 1
    assert quiet[0].opts == ["--quiet"]
    assert quiet[0].secondary_opts == []
    assert "-q" not in [
        o for p in click_command(command).params for o in p.opts if p.name != "q_col"
    ]


@pytest.mark.parametrize("command", ["matrix", "pairs", "entropy", "mi"])
def test_dash_q_elsewhere_is_a_usage_error(command: str) -> None:
    result = run(command, "1,2", "-q")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("kldiv: error: No such option: -q")


def test_quiet_still_silences_warnings() -> None:
    loud = run("compare", "0,1", "0.5,0.5", "--value", "kl_pq")
    quiet = run("compare", "0,1", "0.5,0.5", "--value", "kl_pq", "--quiet")
    assert "warning" in loud.stderr
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "1.0\n", "")


# --------------------------------------------------------------------------- usage and placeholders


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_no_brace_or_type_placeholders(command: str | None, columns: int) -> None:
    text = help_text(command, columns)
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage
    assert "}" not in usage
    for placeholder in ("<str>", "<float", "<int", "<bits", "<table", "<csv", "<jsd", "[x>"):
        assert placeholder not in text
    assert not re.search(r"<[a-z_ |-]+>", text)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_placeholder_is_explained_in_its_options_help(command: str) -> None:
    for param in click_command(command).params:
        if param.param_type_name != "option" or param.is_flag:
            continue
        assert param.metavar, f"{command} {param.opts}: no metavar"
        for word in re.findall(r"[A-Z][A-Z0-9]*", param.metavar):
            assert re.search(rf"\b{word}\b", param.help), (command, param.opts, word)


def test_usage_lines_name_the_arguments_plainly() -> None:
    usages = {c: help_text(c, 80).splitlines()[1].strip() for c in COMMANDS}
    assert usages == {
        "compare": "Usage: kldiv compare [OPTIONS] P [Q]",
        "matrix": "Usage: kldiv matrix [OPTIONS] TABLE [TABLE2]",
        "pairs": "Usage: kldiv pairs [OPTIONS] P Q",
        "entropy": "Usage: kldiv entropy [OPTIONS] TABLE",
        "mi": "Usage: kldiv mi [OPTIONS] TABLE",
        "drift": "Usage: kldiv drift [OPTIONS] REF CUR",
        "samples": "Usage: kldiv samples [OPTIONS] P Q",
        "gauss": "Usage: kldiv gauss [OPTIONS] [P] [Q]",
        "surprise": "Usage: kldiv surprise [OPTIONS] PRIOR DATA",
    }


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("command", COMMANDS)
def test_choice_lists_are_never_broken_inside_a_word(command: str, columns: int) -> None:
    text = help_text(command, columns)
    choices = [
        choice
        for param in click_command(command).params
        for choice in getattr(param.type, "choices", [])
    ]
    assert choices
    for choice in choices:
        # whole: not preceded or followed by a letter, digit, _ or -
        assert re.search(rf"(?<![\w-]){re.escape(str(choice))}(?![\w-])", text), choice


# --------------------------------------------------------------------------- examples


def examples_in(text: str) -> list[str]:
    """The lines under the help's "Examples:" line, up to the next blank line."""
    lines = [line.strip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.endswith("Examples:"))
    found = []
    for line in lines[start + 1 :]:
        if not line:
            break
        found.append(line)
    return found


def source_examples(command: str | None) -> list[str]:
    epilog = (typer.main.get_command(app) if command is None else click_command(command)).epilog
    return [line for line in epilog.splitlines() if not line.endswith(":")]


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_examples_come_one_whole_line_each(command: str | None, columns: int) -> None:
    shown = examples_in(help_text(command, columns))
    assert shown == source_examples(command)
    assert len(shown) >= 2
    assert all(line.startswith(("kldiv ", "cat ")) for line in shown)


ALL_EXAMPLES = [(c, line) for c in [None, *COMMANDS] for line in source_examples(c)]


@pytest.mark.parametrize(("command", "line"), ALL_EXAMPLES)
def test_every_help_example_runs(command: str | None, line: str) -> None:
    """Each example, pasted into a shell at the repository's root, computes: exit 0, or
    1 where the line says it shows a failing check (``# exit 1``)."""
    script = f'kldiv() {{ "{sys.executable}" -m kldiv_cli "$@"; }}\n{line}\n'
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    allowed = {0, 1} if "# exit 1" in line else {0}
    assert done.returncode in allowed, (line, done.stderr)
    assert done.stdout.strip()
    assert "Traceback" not in done.stderr
    assert "error:" not in done.stderr
