"""Results -> text: a rich table for people; JSON, CSV or TSV for programs.

Machine formats print floats as the shortest text that round-trips (``repr``) and
infinity as ``inf`` (the JSON string ``"inf"``); they are never coloured. rich is
imported only to draw a table.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any, Final

from kldiv_cli.compare import Check, Comparison
from kldiv_cli.core import MEASURES

#: What each measure is, for the table.
DESCRIPTIONS: Final[dict[str, tuple[str, str]]] = {
    "entropy_p": ("H(P)", "entropy of P"),
    "entropy_q": ("H(Q)", "entropy of Q"),
    "cross_entropy_pq": ("H(P,Q)", "cross-entropy: coding P with a code built for Q"),
    "cross_entropy_qp": ("H(Q,P)", "cross-entropy: coding Q with a code built for P"),
    "kl_pq": ("D(P‖Q)", "KL divergence of Q from P"),
    "kl_qp": ("D(Q‖P)", "KL divergence of P from Q"),
    "jsd": ("JSD(P,Q)", "Jensen-Shannon divergence, in [0, 1] bit"),
    "js_distance": ("√JSD", "Jensen-Shannon distance, a metric"),
}


def number(x: float) -> str:
    """The shortest text that reads back as ``x``; ``inf`` for infinity; never ``-0.0``."""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(float(x) + 0.0)


def json_value(x: Any) -> Any:
    """Floats made JSON-safe: infinity as the string ``"inf"`` (never ``Infinity``)."""
    if isinstance(x, float):
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x + 0.0
    if isinstance(x, dict):
        return {k: json_value(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_value(v) for v in x]
    return x


def dumps(doc: dict[str, Any]) -> str:
    # allow_nan=False: a NaN or infinity that escaped json_value is a bug, not output.
    return json.dumps(json_value(doc), ensure_ascii=False, allow_nan=False) + "\n"


def _check_doc(check: Check) -> dict[str, Any]:
    return {
        "measure": check.measure,
        "limit": check.limit,
        "value": check.value,
        "passed": check.passed,
    }


def compare_doc(result: Comparison) -> dict[str, Any]:
    """The JSON object of ``compare``, in the spec's schema."""
    doc: dict[str, Any] = {
        "command": "compare",
        "unit": result.unit,
        "p": _side(result, "p"),
        "q": _side(result, "q"),
        "support": {"size": result.aligned.size, "only_p": result.only_p, "only_q": result.only_q},
        "measures": {key: result.measures[key] for key in MEASURES},
    }
    if result.contributions is not None:
        doc["contributions"] = result.contributions
    doc["checks"] = [_check_doc(c) for c in result.checks]
    doc["passed"] = result.passed
    doc["warnings"] = result.warnings
    doc["pseudocount"] = result.pseudocount
    doc["normalized"] = result.normalized
    return doc


def _side(result: Comparison, which: str) -> dict[str, Any]:
    dist = result.p if which == "p" else result.q
    return {
        "source": dist.source,
        "column": dist.column,
        "total": dist.total,
        "size": dist.size,
    }


def compare_json(result: Comparison) -> str:
    return dumps(compare_doc(result))


def compare_delimited(result: Comparison, sep: str) -> str:
    """``measure,value`` and one row per measure (``sep`` is ``,`` or a tab)."""
    rows = [f"measure{sep}value"]
    rows += [f"{key}{sep}{number(result.measures[key])}" for key in MEASURES]
    return "\n".join(rows) + "\n"


def human(x: float) -> str:
    """A value for people: six significant digits, ``inf`` for infinity."""
    if math.isinf(x):
        return "inf"
    return f"{x + 0.0:.6g}"


def compare_table(result: Comparison, width: int | None = None, color: bool = True) -> str:
    """The rich table of ``compare``: the measures, then totals and support, then the
    ``--top`` contributions and the checks."""
    from rich.console import Console, Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    table = Table(title=f"kldiv compare · unit: {result.unit}", title_justify="left")
    table.add_column("measure", style="bold")
    table.add_column("formula")
    table.add_column("what it is")
    table.add_column("value", justify="right")
    for key in MEASURES:
        formula, what = DESCRIPTIONS[key]
        value = result.measures[key]
        table.add_row(
            key, formula, what, Text(human(value), style="red" if math.isinf(value) else "")
        )
    parts.append(table)

    lines = []
    for name, dist in (("P", result.p), ("Q", result.q)):
        lines.append(f"{name}: {dist.name} · total {human(dist.total)} · {dist.size} entries")
    only = [
        f"only in {side}: {_few(labels)}"
        for side, labels in (("P", result.only_p), ("Q", result.only_q))
    ]
    lines.append(f"support: {result.aligned.size} labels · {' · '.join(only)}")
    if result.pseudocount:
        lines.append(f"pseudocount: {result.pseudocount!r} added to every entry of both")
    parts.append(Text("\n".join(lines)))

    if result.contributions is not None:
        top = Table(title="labels that contribute most to the JSD", title_justify="left")
        for col in ("label", "p", "q", "kl_pq term", "kl_qp term", "jsd term"):
            top.add_column(col, justify="left" if col == "label" else "right")
        for row in result.contributions:
            # Text(): a label is data, never rich markup ("[/]" would raise, "[red]" restyle)
            values = (human(row[k]) for k in ("p", "q", "kl_pq", "kl_qp", "jsd"))
            top.add_row(Text(row["label"]), *values)
        parts.append(top)

    if result.checks:
        checks = Table(title="checks", title_justify="left")
        for col in ("measure", "value", "limit", "result"):
            checks.add_column(col)
        for c in result.checks:
            verdict = Text("pass", style="green") if c.passed else Text("FAIL", style="bold red")
            checks.add_row(c.measure, human(c.value), f"<= {c.limit!r}", verdict)
        parts.append(checks)

    out = io.StringIO()
    console = Console(
        file=out, width=width, force_terminal=color, no_color=not color, highlight=False
    )
    console.print(Group(*parts))
    return out.getvalue()


def _few(labels: list[str], most: int = 10) -> str:
    if not labels:
        return "none"
    return ", ".join(labels[:most]) + (f" … ({len(labels)} in all)" if len(labels) > most else "")


def check_failures(checks: list[Check]) -> list[str]:
    """One line per failed check, for stderr."""
    return [
        f"check failed: {c.measure} = {number(c.value)} is above the limit {number(c.limit)}"
        for c in checks
        if not c.passed
    ]
