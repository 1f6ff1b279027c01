"""The program in this process (Typer's runner), for the tests that feed it hostile
input: its exit status, stdout and stderr, apart."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from typer.testing import CliRunner

from kldiv_cli.cli import app

runner = CliRunner()


@dataclass
class Run:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.status == 0, (self.status, self.err)
        return json.loads(self.out)


def kldiv(*args: str, stdin: str | bytes | None = None) -> Run:
    """The program in this process (Typer's runner): fast, for most cases."""
    result = runner.invoke(app, list(args), input=stdin)
    return Run(result.exit_code, result.stdout, result.stderr)
