"""``kldiv surprise`` as JSON, CSV/TSV, a table for people, and its failed ``--max``
checks: registered on the entry points of :mod:`kldiv_cli.render`."""

from __future__ import annotations

from typing import Any

from kldiv_cli.commands.results import SurpriseResult
from kldiv_cli.render.checks import _failure, failed_checks
from kldiv_cli.render.delimited import to_delimited
from kldiv_cli.render.json import check_doc, to_json
from kldiv_cli.render.table import (
    Col,
    _console,
    _count,
    _print,
    _styled,
    _widened,
    fitted_table,
    split,
    to_table,
)
from kldiv_cli.render.text import cell, dumps, human, lines, number, shown


def _prior_name(result: SurpriseResult) -> str:
    column = result.prior_column
    return result.prior_source + (f", column {column!r}" if column else "")


@to_json.register(SurpriseResult)
def surprise_json(result: SurpriseResult) -> str:
    doc: dict[str, Any] = {
        "command": "surprise",
        "unit": result.unit,
        "prior": {
            "source": result.prior_source,
            "column": result.prior_column,
            "total": result.prior_total,
            "size": result.prior_size,
            "add": result.add,
        },
        "batches": [
            {"name": name, "n": float(n), "surprise": float(s)}
            for name, n, s in zip(result.names, result.n, result.surprise, strict=True)
        ],
        "total": result.total,
        "checks": [{"batch": name, **check_doc(c)} for name, c in result.checks],
        "passed": result.passed,
        "warnings": result.warnings,
    }
    return dumps(doc)


@to_delimited.register(SurpriseResult)
def surprise_delimited(result: SurpriseResult, sep: str, *, long: bool = False) -> str:
    """``name,n,surprise``, one row per batch (the total is in the JSON and the table)."""
    out = [sep.join(("name", "n", "surprise"))]
    out += [
        sep.join((cell(name, sep), number(float(n)), number(float(s))))
        for name, n, s in zip(result.names, result.n, result.surprise, strict=True)
    ]
    return lines(out)


@to_table.register(SurpriseResult)
def surprise_table(result: SurpriseResult, width: int | None = None, color: bool = True) -> str:
    """One row per batch (n, surprise), then the prior and the total."""
    from rich.console import Group
    from rich.text import Text

    console = _console(width, color)
    title = f"kldiv surprise · unit: {result.unit}"
    columns = [
        Col("n", [_count(float(n)) for n in result.n], "right"),
        Col("surprise", [_styled(float(s), human) for s in result.surprise], "right"),
    ]
    layouts = split(Col("batch", result.names, style="bold"), columns, console.width)
    tables = [fitted_table(layouts[0], title), *(fitted_table(t) for t in layouts[1:])]
    added = f" + {human(result.add)}" if result.add else ""
    notes = [
        f"prior: {_prior_name(result)}{added} · α₀ = {human(result.prior_total)} · "
        f"{result.prior_size} categories",
        f"total, all batches at once: {human(result.total)} "
        f"(not their sum, {human(float(result.surprise.sum()))})",
    ]
    if result.checks:
        failed = sum(not c.passed for _, c in result.checks)
        notes.append(
            f"checks: {len(result.checks)} ({f'{failed} failed' if failed else 'all passed'})"
        )
    note = Text("\n".join(map(shown, notes)))  # the source is the user's text
    return _print(_widened(console, color, *(t.width for t in layouts)), Group(*tables, note))


@failed_checks.register(SurpriseResult)
def surprise_check_failures(result: SurpriseResult) -> list[str]:
    """One line per failed check: ``check failed: batch 'b2': surprise = 3.1 > 1 (bits)``."""
    return [
        "check failed: "
        + ("" if name is None else f"batch {name!r}: ")
        + f"{_failure(c)} ({result.unit})"
        for name, c in result.checks
        if not c.passed
    ]
