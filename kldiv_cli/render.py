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

from kldiv_cli.batch import EntropyResult, MatrixResult, MiResult, PairsResult
from kldiv_cli.compare import Check, Comparison
from kldiv_cli.core import MEASURES
from kldiv_cli.significance import GTest

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


def test_doc(test: GTest) -> dict[str, Any]:
    """The ``"test"`` object of ``--test``."""
    return {
        "name": test.name,
        "kind": test.kind,
        "statistic": test.statistic,
        "df": test.df,
        "p_value": test.p_value,
    }


def test_rows(test: GTest | None, sep: str) -> list[str]:
    """CSV/TSV rows of ``--test``, after the measures: ``g_statistic``, ``g_df``, ``g_p_value``."""
    if test is None:
        return []
    return [
        f"g_statistic{sep}{number(test.statistic)}",
        f"g_df{sep}{test.df}",
        f"g_p_value{sep}{number(test.p_value)}",
    ]


def test_line(test: GTest) -> str:
    """``G-test of homogeneity: G = 6.79596, df = 1, p-value = 0.00913643``, for the table."""
    return (
        f"G-test of {test.kind.replace('-', ' ')}: G = {human(test.statistic)}, df = {test.df}, "
        f"p-value = {human(test.p_value)}"
    )


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
    if result.intervals is not None:
        doc["intervals"] = {key: list(result.intervals.bounds[key]) for key in MEASURES}
        doc["level"] = result.intervals.level
        doc["resamples"] = result.intervals.resamples
        doc["seed"] = result.intervals.seed
    if result.test is not None:
        doc["test"] = test_doc(result.test)
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
    """``measure,value`` and one row per measure (``sep`` is ``,`` or a tab); with
    ``--ci`` two more columns, ``lower`` and ``upper``; with ``--test`` three more rows."""
    if result.intervals is None:
        rows = [f"measure{sep}value"]
        rows += [f"{key}{sep}{number(result.measures[key])}" for key in MEASURES]
    else:
        bounds = result.intervals.bounds
        rows = [sep.join(("measure", "value", "lower", "upper"))]
        rows += [
            sep.join((key, number(result.measures[key]), *(number(b) for b in bounds[key])))
            for key in MEASURES
        ]
    rows += [row + sep * 2 if result.intervals else row for row in test_rows(result.test, sep)]
    return "\n".join(rows) + "\n"


def human(x: float) -> str:
    """A value for people: six significant digits, ``inf`` for infinity."""
    if math.isinf(x):
        return "inf"
    return f"{x + 0.0:.6g}"


def compare_table(result: Comparison, width: int | None = None, color: bool = True) -> str:
    """The rich table of ``compare``: the measures, then totals and support, then the
    ``--top`` contributions and the checks."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    table = Table(title=f"kldiv compare · unit: {result.unit}", title_justify="left")
    table.add_column("measure", style="bold")
    table.add_column("formula")
    table.add_column("what it is")
    table.add_column("value", justify="right")
    intervals = result.intervals
    if intervals is not None:
        table.add_column(f"{intervals.level:.4g} interval", justify="right", no_wrap=True)
    for key in MEASURES:
        formula, what = DESCRIPTIONS[key]
        value = result.measures[key]
        cells: list[Any] = [
            key,
            formula,
            what,
            Text(human(value), style="red" if math.isinf(value) else ""),
        ]
        if intervals is not None:
            lo, hi = intervals.bounds[key]
            cells.append(Text(f"[{human(lo)}, {human(hi)}]"))  # not rich markup
        table.add_row(*cells)
    parts.append(table)
    notes = []
    if result.test is not None:
        notes.append(test_line(result.test))
    if intervals is not None:
        notes.append(
            f"intervals: percentile bootstrap, {intervals.resamples} resamples, "
            f"seed {intervals.seed}"
        )
    if notes:
        parts.append(Text("\n".join(notes)))

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

    return _print(_console(width, color), Group(*parts))


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


# --------------------------------------------------------------------------- many numbers


def number_rows(values: Any) -> list[str]:
    """Each row of a 2-D float array as ``repr`` texts joined by commas (``inf`` for
    infinity): what ``",".join(map(number, row))`` gives, about ten times faster.

    Python's ``repr`` costs ~0.6 µs a float: three seconds for a 2,000 x 2,000
    matrix. orjson writes the same shortest round-trip digits in C, and spells them
    exactly as ``repr`` does for 0 and for magnitudes in [1e-4, 1e16); the values of
    another magnitude (orjson writes ``0.00001`` and ``1e16``, ``repr`` ``1e-05`` and
    ``1e+16``), and -inf, are respelled one by one with :func:`number`.
    """
    import numpy as np
    import orjson

    a = np.ascontiguousarray(values, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] == 0:
        return [",".join(map(number, row)) for row in a.reshape(len(a), -1).tolist()]
    if np.isnan(a).any():
        raise ValueError("a NaN reached the output")  # never: the core returns no NaN
    magnitude = np.abs(a)
    odd = ((magnitude < 1e-4) & (a != 0.0)) | ((magnitude >= 1e16) & (a != np.inf))
    # orjson writes a non-finite number as null: a NaN stands for +inf (the only one left)
    blob = orjson.dumps(np.where(a == np.inf, np.nan, a), option=orjson.OPT_SERIALIZE_NUMPY)
    rows = blob[2:-2].decode("ascii").replace("null", "inf").split("],[")
    for i in np.flatnonzero(odd.any(axis=1)).tolist():
        cells = rows[i].split(",")
        for j in np.flatnonzero(odd[i]).tolist():
            cells[j] = number(float(a[i, j]))
        rows[i] = ",".join(cells)
    return rows


def _cell(text: str, sep: str) -> str:
    """A name as one CSV/TSV cell, quoted (RFC 4180) when it holds a separator, a
    quote or a line break."""
    if any(c in text for c in (sep, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _lines(rows: list[str]) -> str:
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------- matrix


def matrix_delimited(result: MatrixResult, sep: str, long: bool = False) -> str:
    """A header of column names (its first cell empty), then per row its name and its
    values; ``long``: ``row,column,value`` rows."""
    rows = number_rows(result.matrix)
    if sep != ",":
        rows = [r.replace(",", sep) for r in rows]
    names = [_cell(n, sep) for n in result.rows]
    columns = [_cell(n, sep) for n in result.columns]
    if long:
        out = [sep.join(("row", "column", "value"))]
        for name, row in zip(names, rows, strict=True):
            out += [
                f"{name}{sep}{col}{sep}{v}" for col, v in zip(columns, row.split(sep), strict=True)
            ]
        return _lines(out)
    out = [sep.join(["", *columns])]
    out += [f"{name}{sep}{row}" for name, row in zip(names, rows, strict=True)]
    return _lines(out)


def matrix_json(result: MatrixResult) -> str:
    head = dumps(
        {
            "command": "matrix",
            "measure": result.measure,
            "unit": result.unit,
            "rows": result.rows,
            "columns": result.columns,
        }
    )[:-2]
    body = ",".join("[" + r.replace("inf", '"inf"') + "]" for r in number_rows(result.matrix))
    tail = dumps({"warnings": result.warnings})[1:]
    return f'{head}, "matrix": [{body}], {tail}'


def matrix_table(
    result: MatrixResult, width: int | None = None, color: bool = True, most_rows: int = 40
) -> str:
    """A rich table of the matrix, cut (with a note) to what fits the terminal."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    console = _console(width, color)
    cell = 10  # "0.0123457" and its padding
    name_width = min(24, max(len(n) for n in result.rows) + 2)
    fit = max(1, (console.width - name_width) // (cell + 3))
    shown_cols = min(len(result.columns), fit)
    shown_rows = min(len(result.rows), most_rows)
    title = f"kldiv matrix · {result.measure} (row ‖ column) · unit: {result.unit}"
    table = Table(title=title, title_justify="left")
    table.add_column("", style="bold", overflow="ellipsis", max_width=name_width)
    for name in result.columns[:shown_cols]:
        table.add_column(Text(name), justify="right", overflow="ellipsis", max_width=cell + 2)
    for i in range(shown_rows):
        values = result.matrix[i, :shown_cols].tolist()
        table.add_row(
            Text(result.rows[i]),
            *(Text(human(v), style="red" if math.isinf(v) else "") for v in values),
        )
    parts: list[Any] = [table]
    cut = []
    if shown_cols < len(result.columns):
        cut.append(f"{shown_cols} of {len(result.columns)} columns")
    if shown_rows < len(result.rows):
        cut.append(f"{shown_rows} of {len(result.rows)} rows")
    if cut:
        parts.append(Text(f"showing {' and '.join(cut)}; --format csv prints them all"))
    return _print(console, Group(*parts))


def _console(width: int | None, color: bool) -> Any:
    from rich.console import Console

    return Console(
        file=io.StringIO(), width=width, force_terminal=color, no_color=not color, highlight=False
    )


def _print(console: Any, renderable: Any) -> str:
    console.print(renderable)
    return str(console.file.getvalue())


# --------------------------------------------------------------------------- pairs


def _pairs_rows(result: PairsResult) -> list[tuple[str, list[float]]]:
    rows = [
        (name, [float(result.measures[k][i]) for k in MEASURES])
        for i, name in enumerate(result.names)
    ]
    rows.append(("sum", [result.total(k) for k in MEASURES]))
    rows.append(("mean", [result.mean(k) for k in MEASURES]))
    return rows


def pairs_delimited(result: PairsResult, sep: str) -> str:
    out = [sep.join(("name", *MEASURES))]
    for name, values in _pairs_rows(result):
        out.append(sep.join([_cell(name, sep), *map(number, values)]))
    return _lines(out)


def pairs_json(result: PairsResult) -> str:
    doc: dict[str, Any] = {
        "command": "pairs",
        "unit": result.unit,
        "pairs": [
            {"name": name, "measures": dict(zip(MEASURES, values, strict=True))}
            for name, values in _pairs_rows(result)[:-2]
        ],
        "sum": {k: result.total(k) for k in MEASURES},
        "mean": {k: result.mean(k) for k in MEASURES},
        "checks": [{"pair": name, **_check_doc(c)} for name, c in result.checks],
        "passed": result.passed,
        "warnings": result.warnings,
    }
    return dumps(doc)


def pairs_table(result: PairsResult, width: int | None = None, color: bool = True) -> str:
    """The measures of every pair with their sum and mean: one column per pair when
    they fit the terminal, else one row per pair (with shorter numbers)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    console = _console(width, color)
    rows = _pairs_rows(result)
    title = f"kldiv pairs · P_i against Q_i · unit: {result.unit}"
    table = Table(title=title, title_justify="left")
    wide = 28 + 12 * len(rows) <= console.width
    if wide:  # measures down, pairs across
        table.add_column("measure", style="bold", no_wrap=True)
        table.add_column("formula", no_wrap=True)
        for n, (name, _) in enumerate(rows):
            total = n >= len(rows) - 2
            table.add_column(Text(name, style="bold" if total else ""), justify="right")
        for k, key in enumerate(MEASURES):
            values = [_styled(values[k], human) for _, values in rows]
            table.add_row(key, DESCRIPTIONS[key][0], *values)
    else:  # pairs down, measures across
        table.add_column("pair", style="bold", overflow="ellipsis", max_width=16)
        for key in MEASURES:
            table.add_column(DESCRIPTIONS[key][0], justify="right", no_wrap=True)
        for n, (name, values) in enumerate(rows):
            if n == len(rows) - 2:
                table.add_section()
            table.add_row(Text(name), *(_styled(v, _short) for v in values))
    parts: list[Any] = [table]
    failed = [(name, c) for name, c in result.checks if not c.passed]
    if result.checks:
        verdict = f"{len(failed)} failed" if failed else "all passed"
        parts.append(Text(f"checks: {len(result.checks)} ({verdict})"))
    return _print(console, Group(*parts))


def _short(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x + 0.0:.4g}"


def _styled(x: float, spell: Any) -> Any:
    from rich.text import Text

    return Text(spell(x), style="red" if math.isinf(x) else "")


def pair_check_failures(result: PairsResult) -> list[str]:
    """One line per failed check, naming the pair, for stderr."""
    return [
        f"check failed: pair {name!r}: {c.measure} = {number(c.value)} "
        f"is above the limit {number(c.limit)}"
        for name, c in result.checks
        if not c.passed
    ]


# --------------------------------------------------------------------------- entropy


def _entropy_extra(result: EntropyResult) -> tuple[str, Any] | None:
    """The estimator's second number per distribution: nsb's ``std``, shrink's ``lambda``."""
    if result.std is not None:
        return "std", result.std
    if result.lam is not None:
        return "lambda", result.lam
    return None


def entropy_delimited(result: EntropyResult, sep: str) -> str:
    extra = _entropy_extra(result)
    out = [sep.join(("name", "n", "support", "entropy", *(extra[:1] if extra else ())))]
    for i, name in enumerate(result.names):
        cells = [
            _cell(name, sep),
            number(float(result.n[i])),
            str(int(result.support[i])),
            number(float(result.entropy[i])),
        ]
        if extra:
            cells.append(number(float(extra[1][i])))
        out.append(sep.join(cells))
    return _lines(out)


def entropy_json(result: EntropyResult) -> str:
    extra = _entropy_extra(result)
    distributions = []
    for i, name in enumerate(result.names):
        doc = {
            "name": name,
            "n": float(result.n[i]),
            "support": int(result.support[i]),
            "entropy": float(result.entropy[i]),
        }
        if extra:
            doc[extra[0]] = float(extra[1][i])
        distributions.append(doc)
    return dumps(
        {
            "command": "entropy",
            "unit": result.unit,
            "estimator": result.estimator,
            "bins": result.bins,
            "distributions": distributions,
            "warnings": result.warnings,
        }
    )


def entropy_table(result: EntropyResult, width: int | None = None, color: bool = True) -> str:
    from rich.table import Table
    from rich.text import Text

    extra = _entropy_extra(result)
    title = f"kldiv entropy · estimator: {result.estimator} · unit: {result.unit}"
    if result.estimator != "plugin":  # the alphabet size K the estimate assumed
        title += f" · bins: {result.bins}"
    # min_width: a title wider than a narrow table would wrap mid-phrase
    table = Table(title=title, title_justify="left", min_width=len(title))
    for col in ("distribution", "n", "support", "entropy", *(extra[:1] if extra else ())):
        table.add_column(col, justify="left" if col == "distribution" else "right")
    for i, name in enumerate(result.names):
        cells: list[Any] = [
            Text(name),
            human(float(result.n[i])),
            str(int(result.support[i])),
            human(float(result.entropy[i])),
        ]
        if extra:
            cells.append(human(float(extra[1][i])))
        table.add_row(*cells)
    return _print(_console(width, color), table)


# --------------------------------------------------------------------------- mi

MI_DESCRIPTIONS: Final[dict[str, tuple[str, str]]] = {
    "entropy_x": ("H(X)", "entropy of X"),
    "entropy_y": ("H(Y)", "entropy of Y"),
    "joint_entropy": ("H(X,Y)", "joint entropy"),
    "conditional_entropy_x_given_y": ("H(X|Y)", "X once Y is known"),
    "conditional_entropy_y_given_x": ("H(Y|X)", "Y once X is known"),
    "mutual_information": ("I(X;Y)", "shared by X and Y"),
    "variation_of_information": ("VI", "H(X|Y) + H(Y|X), a metric"),
    "normalized_mutual_information": ("I/√(H(X)H(Y))", "in [0, 1], no unit"),
}


def mi_delimited(result: MiResult, sep: str) -> str:
    out = [f"measure{sep}value"]
    out += [f"{key}{sep}{number(value)}" for key, value in result.measures.items()]
    return _lines(out + test_rows(result.test, sep))


def mi_json(result: MiResult) -> str:
    return dumps(
        {
            "command": "mi",
            "unit": result.unit,
            "n": result.n,
            "measures": result.measures,
            "x": {"name": result.x, "values": result.shape[0]},
            "y": {"name": result.y, "values": result.shape[1]},
            **({} if result.test is None else {"test": test_doc(result.test)}),
            "warnings": result.warnings,
        }
    )


def mi_table(result: MiResult, width: int | None = None, color: bool = True) -> str:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"kldiv mi · unit: {result.unit}", title_justify="left")
    table.add_column("measure", style="bold", no_wrap=True)
    table.add_column("formula", no_wrap=True)
    table.add_column("what it is")
    table.add_column("value", justify="right", no_wrap=True)
    for key, value in result.measures.items():
        formula, what = MI_DESCRIPTIONS[key]
        table.add_row(key, formula, what, human(value))
    rows, cols = result.shape
    note = Text(
        f"n = {human(result.n)} observations · X: {result.x} ({rows} values) · "
        f"Y: {result.y} ({cols} values)"
        + ("" if result.test is None else "\n" + test_line(result.test))
    )
    return _print(_console(width, color), Group(table, note))
