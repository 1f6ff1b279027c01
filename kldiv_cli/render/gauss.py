"""``gauss``'s results in every format: registered on the singledispatch entry points
(:func:`~kldiv_cli.render.json.to_json`, :func:`~kldiv_cli.render.delimited.to_delimited`,
:func:`~kldiv_cli.render.table.to_table`, :func:`~kldiv_cli.render.checks.failed_checks`)
when :mod:`kldiv_cli.render` is imported."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from kldiv_cli.commands.results import GAUSS_MEASURES, Check, GaussResult, VaeResult
from kldiv_cli.render.checks import failed_checks
from kldiv_cli.render.delimited import to_delimited
from kldiv_cli.render.json import check_doc, to_json
from kldiv_cli.render.table import (
    Col,
    _console,
    _print,
    _styled,
    _widened,
    fit,
    fitted_table,
    to_table,
)
from kldiv_cli.render.text import cells, dumps, human, lines, number, number_texts, shown

#: What each measure is, for the table.
GAUSS_DESCRIPTIONS: Final[dict[str, tuple[str, str]]] = {
    "kl_pq": ("D(P‖Q)", "KL divergence of Q from P"),
    "kl_qp": ("D(Q‖P)", "KL divergence of P from Q"),
    "cross_entropy_pq": ("H(P,Q)", "H(P) + D(P‖Q)"),
    "cross_entropy_qp": ("H(Q,P)", "H(Q) + D(Q‖P)"),
    "entropy_p": ("H(P)", "differential entropy of P"),
    "entropy_q": ("H(Q)", "differential entropy of Q"),
}

#: The header of the VAE table's value column.
VAE_HEADER: Final = "D(N(mu, diag(exp(logvar))) ‖ N(0, I))"

#: The rows of a VAE batch a table shows before the mean (every row: csv, tsv, json).
VAE_TABLE_ROWS: Final = 20


# --------------------------------------------------------------------------- pair


@to_json.register(GaussResult)
def gauss_json(result: GaussResult) -> str:
    doc: dict[str, Any] = {
        "command": "gauss",
        "mode": "pair",
        "unit": result.unit,
        "dimensions": result.dimensions,
        "p": {"source": result.p.source, "form": result.p.form},
        "q": {"source": result.q.source, "form": result.q.form},
        "measures": {key: result.measures[key] for key in GAUSS_MEASURES},
    }
    if result.checks:
        doc["checks"] = [check_doc(c) for c in result.checks]
        doc["passed"] = result.passed
    doc["warnings"] = result.warnings
    return dumps(doc)


@to_delimited.register(GaussResult)
def gauss_delimited(result: GaussResult, sep: str, *, long: bool = False) -> str:
    """``measure,value`` and one row per measure."""
    rows = [f"measure{sep}value"]
    rows += [f"{key}{sep}{number(result.measures[key])}" for key in GAUSS_MEASURES]
    return lines(rows)


@to_table.register(GaussResult)
def gauss_table(result: GaussResult, width: int | None = None, color: bool = True) -> str:
    from rich.console import Group
    from rich.text import Text

    console = _console(width, color)
    keys = list(GAUSS_MEASURES)
    layout = fit(
        [
            Col("measure", keys, style="bold"),
            Col("formula", [GAUSS_DESCRIPTIONS[k][0] for k in keys], give=2),
            Col("what it is", [GAUSS_DESCRIPTIONS[k][1] for k in keys], give=1, wrap=16),
            Col("value", [_styled(result.measures[k], human) for k in keys], "right"),
        ],
        console.width,
    )
    table = fitted_table(layout, f"kldiv gauss · unit: {result.unit}")
    notes = [
        *layout.note(console.width),
        f"P: {result.p.source} · Q: {result.q.source} · {result.dimensions} "
        f"dimension{'s' if result.dimensions > 1 else ''}",
        "entropies: differential, negative for a narrow Gaussian",
        "JSD: no closed form for Gaussians, not computed",
        *_check_lines(result.checks),
    ]
    note = Text("\n".join(map(shown, notes)))  # source names
    return _print(_widened(console, color, layout.width), Group(table, note))


@failed_checks.register(GaussResult)
def gauss_failures(result: GaussResult) -> list[str]:
    return _failures(result.checks, result.unit)


# --------------------------------------------------------------------------- vae


@to_json.register(VaeResult)
def vae_json(result: VaeResult) -> str:
    doc: dict[str, Any] = {
        "command": "gauss",
        "mode": "vae",
        "unit": result.unit,
        "source": result.source,
        "rows": len(result.rows),
        "dimensions": result.dimensions,
        "mu_columns": result.mu_columns,
        "logvar_columns": result.logvar_columns,
    }
    if not result.positional:
        doc["labels"] = result.rows
    doc["kl"] = result.kl.tolist()
    doc["mean"] = result.mean
    if result.checks:
        doc["checks"] = [check_doc(c) for c in result.checks]
        doc["passed"] = result.passed
    doc["warnings"] = result.warnings
    return dumps(doc)


@to_delimited.register(VaeResult)
def vae_delimited(result: VaeResult, sep: str, *, long: bool = False) -> Iterator[str]:
    """``row,kl``: one row per input row (its label, or its 1-based position), then
    ``mean`` and the batch mean."""
    yield f"row{sep}kl\n"
    texts = number_texts(result.kl)
    step = 1 << 16
    for first in range(0, len(texts), step):
        names = cells(result.rows[first : first + step], sep)
        yield lines(
            [
                f"{name}{sep}{value}"
                for name, value in zip(names, texts[first : first + step], strict=True)
            ]
        )
    yield f"mean{sep}{number(result.mean)}\n"


@to_table.register(VaeResult)
def vae_table(result: VaeResult, width: int | None = None, color: bool = True) -> str:
    from rich.console import Group
    from rich.text import Text

    console = _console(width, color)
    shown_rows = min(len(result.rows), VAE_TABLE_ROWS)
    names = [*result.rows[:shown_rows], "mean"]
    values = [*result.kl[:shown_rows].tolist(), result.mean]
    header = "position" if result.positional else "label"
    layout = fit(
        [
            Col(header, names, style="bold"),
            Col(
                "D(N(mu, diag(exp(logvar))) ‖ N(0, I))",
                [_styled(v, human) for v in values],
                "right",
            ),
        ],
        console.width,
    )
    table = fitted_table(layout, f"kldiv gauss --vae · unit: {result.unit}", (shown_rows,))
    rest = len(result.rows) - shown_rows
    notes = [
        *layout.note(console.width),
        *(
            [f"({rest} more rows not shown; --format csv or json gives every row)"]
            if rest > 0
            else []
        ),
        f"{result.source} · {len(result.rows)} rows · {result.dimensions} dimensions · "
        f"mu: {_span(result.mu_columns)} · logvar: {_span(result.logvar_columns)}",
        "mean: the batch mean, the KL term of the ELBO",
        *_check_lines(result.checks),
    ]
    note = Text("\n".join(map(shown, notes)))
    return _print(_widened(console, color, layout.width), Group(table, note))


@failed_checks.register(VaeResult)
def vae_failures(result: VaeResult) -> list[str]:
    return _failures(result.checks, result.unit)


# --------------------------------------------------------------------------- shared


def _span(columns: list[str]) -> str:
    return columns[0] if len(columns) == 1 else f"{columns[0]}..{columns[-1]}"


def _check_lines(checks: list[Check]) -> list[str]:
    return [
        f"check {c.measure} <= {human(c.limit)}: {'pass' if c.passed else 'FAIL'} "
        f"({human(c.value)})"
        for c in checks
    ]


def _failures(checks: list[Check], unit: str) -> list[str]:
    return [
        f"check failed: {c.measure} = {number(c.value)} is above the limit "
        f"{number(c.limit)} ({unit})"
        for c in checks
        if not c.passed
    ]
