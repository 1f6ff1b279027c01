"""``samples``' result as JSON, CSV/TSV and a table: registered on the singledispatch
entry points of :mod:`kldiv_cli.render` when that package is imported."""

from __future__ import annotations

from typing import Final

from kldiv_cli.commands.results import SamplesResult
from kldiv_cli.render.delimited import to_delimited
from kldiv_cli.render.json import to_json
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
from kldiv_cli.render.text import dumps, human, lines, number, shown

#: What each measure is, for the table.
SAMPLES_DESCRIPTIONS: Final[dict[str, tuple[str, str]]] = {
    "kl_pq": ("D(P‖Q)", "KL divergence of Q from P (Wang-Kulkarni-Verdú)"),
    "kl_qp": ("D(Q‖P)", "KL divergence of P from Q (Wang-Kulkarni-Verdú)"),
    "entropy_p": ("h(P)", "differential entropy of P (Kozachenko-Leonenko; may be < 0)"),
    "entropy_q": ("h(Q)", "differential entropy of Q (Kozachenko-Leonenko; may be < 0)"),
}


@to_json.register(SamplesResult)
def samples_json(result: SamplesResult) -> str:
    return dumps(
        {
            "command": "samples",
            "unit": result.unit,
            "k": result.k,
            "dimensions": result.dimensions,
            "columns": result.columns,
            "p": {"source": result.p.source, "n": result.p.n, "dropped": result.p.dropped},
            "q": {"source": result.q.source, "n": result.q.n, "dropped": result.q.dropped},
            "jitter": result.jitter,
            "measures": result.measures,
            "warnings": result.warnings,
        }
    )


@to_delimited.register(SamplesResult)
def samples_delimited(result: SamplesResult, sep: str, *, long: bool = False) -> str:
    out = [f"measure{sep}value"]
    out += [f"{key}{sep}{number(value)}" for key, value in result.measures.items()]
    return lines(out)


@to_table.register(SamplesResult)
def samples_table(result: SamplesResult, width: int | None = None, color: bool = True) -> str:
    from rich.console import Group
    from rich.text import Text

    console = _console(width, color)
    keys = list(result.measures)
    layout = fit(
        [
            Col("measure", keys, style="bold"),
            Col("formula", [SAMPLES_DESCRIPTIONS[k][0] for k in keys], give=2),
            Col("what it is", [SAMPLES_DESCRIPTIONS[k][1] for k in keys], give=1, wrap=16),
            Col("value", [_styled(result.measures[k], human) for k in keys], "right"),
        ],
        console.width,
    )
    table = fitted_table(layout, f"kldiv samples · unit: {result.unit}")
    note = [
        *layout.note(console.width),
        f"the k-th nearest neighbour, k = {result.k} · d = {result.dimensions}: "
        f"{', '.join(result.columns)}",
        f"P: {result.p.source} ({result.p.n} points) · Q: {result.q.source} ({result.q.n} points)",
    ]
    if result.jitter is not None:
        note.append(
            f"jitter: uniform noise in ±{human(float(result.jitter['scale']) / 2)} on "
            f"every coordinate, seed {result.jitter['seed']}"
        )
    text = Text("\n".join(map(shown, note)))  # column and file names are data
    return _print(_widened(console, color, layout.width), Group(table, text))
