"""Results -> text: a rich table for people; JSON, CSV or TSV for programs.

Machine formats print floats as the shortest text that round-trips (``repr``) and
infinity as ``inf`` (the JSON string ``"inf"``); they are never coloured. rich is
imported only to draw a table.
"""

from __future__ import annotations

import codecs
import io
import json
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal

from kldiv_cli.commands.batch import EntropyResult, MatrixResult, MiResult, PairsResult
from kldiv_cli.commands.compare import Check, Comparison
from kldiv_cli.errors import visible
from kldiv_cli.maths.core import MEASURES
from kldiv_cli.maths.significance import GTest

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


def _output_encoding() -> str:
    """The encoding of standard output, by its codec's name (``utf-8``, ``ascii``)."""
    name = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def shown(text: str) -> str:
    r"""Text from data as a table shows it: control characters made visible
    (:func:`~kldiv_cli.errors.visible`), and, when the output's encoding cannot hold a
    character (``PYTHONIOENCODING=ascii``), that character as ``\xe9`` or ``\u2016``,
    before the table measures the widths (escaped later, the columns would not line up).
    """
    text = visible(text)
    encoding = _output_encoding()
    if encoding == "utf-8":
        return text
    return text.encode(encoding, "backslashreplace").decode(encoding)


def human(x: float) -> str:
    """A value for people: six significant digits, ``inf`` for infinity."""
    if math.isinf(x):
        return "inf"
    return f"{x + 0.0:.6g}"


# --------------------------------------------------------------------------- fitting a table
#
# Names and numbers are never cut: a table shows them whole or leaves their column out
# with a note. The descriptive columns ("what it is", "formula") give way first.


@dataclass(eq=False)  # columns are told apart by identity
class Col:
    """A column to fit: its header, its cells (text or rich Text), and how it gives way.

    ``give`` 0: names and numbers, always shown.
    ``give`` k > 0: the k-th column to be left out when the table is too wide.
    ``wrap`` 0: shown at full width, never wrapped; ``wrap`` w > 0: may wrap between
    words, down to width w (a description; or an interval, "[lo, hi]", whose numbers
    stay whole).
    """

    header: str
    cells: list[Any]
    justify: Literal["left", "right"] = "left"
    style: str = ""
    give: int = 0
    wrap: int = 0

    def __post_init__(self) -> None:
        # Names come from data: a label's ESC or BEL must reach the terminal as text,
        # and the widths are those of the text shown.
        self.header = shown(self.header)
        self.cells = [shown(c) if isinstance(c, str) else c for c in self.cells]

    def natural(self) -> int:
        from rich.cells import cell_len

        return max([cell_len(self.header), *(cell_len(str(c)) for c in self.cells)])


def _frame(columns: int, bare: bool) -> int:
    """The width a table spends beyond its cells: rich's default box has a space each
    side of a cell, a rule between columns and one at each edge; a bare table (no box,
    for a terminal too narrow for one) two spaces between columns."""
    return 2 * (columns - 1) if bare else 3 * columns + 1


@dataclass
class Fit:
    """The columns shown (with their widths), those left out, and the table's width."""

    shown: list[tuple[Col, int]]
    left_out: list[Col]
    width: int
    full_width: int  # the width that shows every column
    bare: bool = False  # drawn without a box

    def note(self, width: int, elsewhere: str = "") -> list[str]:
        """The line under a table that left columns out: which, and how to see them."""
        if not self.left_out:
            return []
        names = ", ".join(f"'{c.header}'" for c in self.left_out)
        them = "it" if len(self.left_out) == 1 else "them"
        return [
            f"(left out to fit {width} columns: {names}; {self.full_width} columns show "
            f"{them}{elsewhere})"
        ]


def fit(columns: list[Col], width: int, bare_ok: bool = True) -> Fit:
    """Which columns a table of at most ``width`` columns shows, and how wide each is.

    A description may wrap; when the table is still too wide, the columns that give
    way are left out in their order; only then may an interval wrap. Names and numbers
    keep their full width even when that is wider than ``width`` (the terminal then
    wraps the lines, which a reader can follow, where a cut number is lost). Before
    that, when ``bare_ok``, the table is drawn without its box.
    """
    boxed = _fit(columns, width, bare=False)
    if boxed.width <= width or not bare_ok:
        return boxed
    return _fit(columns, width, bare=True)


def _fit(columns: list[Col], width: int, bare: bool) -> Fit:
    natural = {id(c): c.natural() for c in columns}

    def least(c: Col, squeeze: bool) -> int:
        narrowest = min(c.wrap, natural[id(c)]) if c.wrap else natural[id(c)]
        return narrowest if c.give or squeeze else natural[id(c)]

    def needs(shown: list[Col], squeeze: bool = False) -> int:
        return sum(least(c, squeeze) for c in shown) + _frame(len(shown), bare)

    # the width that shows every column, in a box
    full = sum(least(c, False) for c in columns) + _frame(len(columns), False)
    shown = list(columns)
    order = sorted((c for c in columns if c.give), key=lambda c: c.give)
    while needs(shown) > width and order:
        shown.remove(order.pop(0))
    squeeze = needs(shown) > width
    room = width - needs(shown, squeeze)  # to share among the columns that wrap
    widths: list[tuple[Col, int]] = []
    for c in shown:
        w = least(c, squeeze)
        if c.wrap and room > 0:
            extra = min(room, natural[id(c)] - w)
            w, room = w + extra, room - extra
        widths.append((c, w))
    total = sum(w for _, w in widths) + _frame(len(widths), bare)
    return Fit(widths, [c for c in columns if c not in shown], total, full, bare)


def fitted_table(
    layout: Fit, title: str | None = None, sections: tuple[int, ...] = (), **options: Any
) -> Any:
    """A rich table of the fitted columns, each at its width; a rule above each row
    whose index is in ``sections``."""
    from rich.table import Table

    if layout.bare:
        options = {"box": None, "pad_edge": False, **options}
    table = Table(title=title, title_justify="left", **options)
    for c, w in layout.shown:
        table.add_column(
            _text(c.header),
            justify=c.justify,
            style=c.style,
            width=w,
            no_wrap=not c.wrap,
            # fold: never needed by a column at its full width; "ignore" breaks justify
            overflow="fold",
        )
    rows = len(layout.shown[0][0].cells) if layout.shown else 0
    for i in range(rows):
        if i in sections:
            table.add_section()
        # Text(): names are data, never rich markup ("[/]" would raise, "[red]" restyle)
        table.add_row(*(_text(c.cells[i]) for c, _ in layout.shown))
    return table


def _text(cell: Any) -> Any:
    from rich.text import Text

    return cell if isinstance(cell, Text) else Text(str(cell))


def split(first: Col, rest: list[Col], width: int) -> list[Fit]:
    """``first`` (the names) and the ``rest`` over as many tables as the width needs,
    each with the names and as many of the rest, in order, as fit (at least one)."""
    groups: list[list[Col]] = [[]]
    for c in rest:
        if groups[-1] and fit([first, *groups[-1], c], width, bare_ok=False).width > width:
            groups.append([])
        groups[-1].append(c)
    return [fit([first, *group], width) for group in groups]


def _widened(console: Any, color: bool, *needed: int) -> Any:
    """``console``, or one wide enough for the widest table: names and numbers stay
    whole even where the terminal is narrower (it wraps the lines)."""
    widest = max(needed, default=0)
    return console if widest <= console.width else _console(widest, color)


def compare_table(result: Comparison, width: int | None = None, color: bool = True) -> str:
    """The rich table of ``compare``: the measures, then totals and support, then the
    ``--top`` contributions and the checks."""
    from rich.console import Group
    from rich.text import Text

    console = _console(width, color)
    intervals = result.intervals
    columns = [
        Col("measure", list(MEASURES), style="bold"),
        Col("formula", [DESCRIPTIONS[k][0] for k in MEASURES], give=2),
        Col("what it is", [DESCRIPTIONS[k][1] for k in MEASURES], give=1, wrap=16),
        Col("value", [_styled(result.measures[k], human) for k in MEASURES], "right"),
    ]
    if intervals is not None:
        spans = [intervals.bounds[k] for k in MEASURES]
        columns.append(
            Col(
                f"{intervals.level:.4g} interval",
                [f"[{human(lo)}, {human(hi)}]" for lo, hi in spans],
                "right",
                wrap=max(len(f"[{human(lo)},") for lo, _ in spans) + 1,
            )
        )
    layout = fit(columns, console.width)
    table = fitted_table(layout, f"kldiv compare · unit: {result.unit}")
    parts: list[Any] = []
    parts.append(table)
    notes = layout.note(console.width)
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
    parts.append(Text("\n".join(map(shown, lines))))  # source names and labels

    widths = [layout.width]
    if result.contributions is not None:
        rows = result.contributions

        def terms(key: str) -> list[Any]:
            return [_styled(row[key], human) for row in rows]

        top = fit(
            [
                Col("label", [row["label"] for row in rows]),
                Col("p", terms("p"), "right"),
                Col("q", terms("q"), "right"),
                Col("kl_pq term", terms("kl_pq"), "right", give=2),
                Col("kl_qp term", terms("kl_qp"), "right", give=1),
                Col("jsd term", terms("jsd"), "right"),
            ],
            console.width,
        )
        parts.append(fitted_table(top, "labels that contribute most to the JSD"))
        if top.left_out:
            parts.append(Text("\n".join(top.note(console.width, ", as does --format json"))))
        widths.append(top.width)

    if result.checks:
        verdicts = [
            Text("pass", style="green") if c.passed else Text("FAIL", style="bold red")
            for c in result.checks
        ]
        checks = fit(
            [
                Col("measure", [c.measure for c in result.checks]),
                Col("value", [_styled(c.value, human) for c in result.checks], "right"),
                Col("limit", [f"<= {c.limit!r}" for c in result.checks]),
                Col("result", verdicts),
            ],
            console.width,
        )
        parts.append(fitted_table(checks, "checks"))
        widths.append(checks.width)

    return _print(_widened(console, color, *widths), Group(*parts))


def _few(labels: list[str], most: int = 10) -> str:
    if not labels:
        return "none"
    more = len(labels) - most
    return ", ".join(labels[:most]) + (
        f" and {more} more ({len(labels)} in all)" if more > 0 else ""
    )


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
    from rich.text import Text

    console = _console(width, color)
    shown_rows = min(len(result.rows), most_rows)

    def column(j: int) -> Col:
        values = result.matrix[:shown_rows, j].tolist()
        return Col(result.columns[j], [_styled(v, human) for v in values], "right")

    # As many whole columns as fit, at least one: the rest are left out with a note.
    columns = [Col("", result.rows[:shown_rows], style="bold"), column(0)]
    while len(columns) - 1 < len(result.columns):
        wider = [*columns, column(len(columns) - 1)]
        if fit(wider, console.width, bare_ok=False).width > console.width:
            break
        columns = wider
    shown_cols = len(columns) - 1
    layout = fit(columns, console.width)
    title = f"kldiv matrix · {result.measure} (row ‖ column) · unit: {result.unit}"
    table = fitted_table(layout, title)
    parts: list[Any] = [table]
    cut = []
    if shown_cols < len(result.columns):
        cut.append(f"{shown_cols} of {len(result.columns)} columns")
    if shown_rows < len(result.rows):
        cut.append(f"{shown_rows} of {len(result.rows)} rows")
    if cut:
        parts.append(Text(f"showing {' and '.join(cut)}; --format csv prints them all"))
    return _print(_widened(console, color, layout.width), Group(*parts))


class _Page(io.StringIO):
    """Where a table is drawn: text, with the encoding of the output it is meant for,
    so that rich draws its box in ASCII when that encoding has no box characters."""

    def __init__(self) -> None:
        super().__init__()
        self._encoding = getattr(sys.stdout, "encoding", None) or "utf-8"

    @property
    def encoding(self) -> str:  # type: ignore[override]  # StringIO's is None
        return self._encoding


def _console(width: int | None, color: bool) -> Any:
    from rich.console import Console

    return Console(
        file=_Page(), width=width, force_terminal=color, no_color=not color, highlight=False
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
    they fit the terminal (the formula column gives way first), else one row per pair,
    the measures split over as many tables as the width needs."""
    from rich.console import Group
    from rich.text import Text

    console = _console(width, color)
    rows = _pairs_rows(result)
    title = f"kldiv pairs · P_i against Q_i · unit: {result.unit}"
    # measures down, pairs across
    across = [
        Col("measure", list(MEASURES), style="bold"),
        Col("formula", [DESCRIPTIONS[k][0] for k in MEASURES], give=1),
        *(Col(name, [_styled(v, human) for v in values], "right") for name, values in rows),
    ]
    wide = fit(across, console.width, bare_ok=False)
    parts: list[Any] = []
    if wide.width <= console.width:
        parts.append(fitted_table(wide, title))
        parts += [Text(line) for line in wide.note(console.width)]
        widths = [wide.width]
    else:  # pairs down, measures across, in as many tables as it takes
        names = Col("pair", [name for name, _ in rows], style="bold")
        measures = [
            Col(DESCRIPTIONS[k][0], [_styled(values[i], human) for _, values in rows], "right")
            for i, k in enumerate(MEASURES)
        ]
        widths = []
        for n, layout in enumerate(split(names, measures, console.width)):
            parts.append(fitted_table(layout, title if n == 0 else None, sections=(len(rows) - 2,)))
            widths.append(layout.width)
    failed = [(name, c) for name, c in result.checks if not c.passed]
    if result.checks:
        verdict = f"{len(failed)} failed" if failed else "all passed"
        parts.append(Text(f"checks: {len(result.checks)} ({verdict})"))
    return _print(_widened(console, color, *widths), Group(*parts))


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


def _number_texts(values: Any) -> list[str]:
    """:func:`number` of each value of a 1-D array, written in C by
    :func:`number_rows` (a million ``repr`` calls took a second); a NaN, which no
    estimator should give, is spelled ``nan`` one by one, as :func:`number` does."""
    import numpy as np

    a = np.asarray(values, dtype=np.float64).reshape(1, -1) + 0.0  # -0.0 -> 0.0
    if a.size == 0:
        return []
    if np.isnan(a).any():
        return [number(x) for x in a[0].tolist()]
    return number_rows(a)[0].split(",")


#: What ``json.dumps(text, ensure_ascii=False)`` escapes in a string.
_JSON_ESCAPED: Final = re.compile(r'[\x00-\x1f"\\]')


def _json_strings(texts: list[str]) -> list[str]:
    """Each text as ``json.dumps(text, ensure_ascii=False)`` writes it: between
    quotes, escaped only where one holds a character that needs it."""
    if not _JSON_ESCAPED.search("".join(texts)):  # one pass over all, in C
        return [f'"{t}"' for t in texts]
    return [
        json.dumps(t, ensure_ascii=False) if _JSON_ESCAPED.search(t) else f'"{t}"' for t in texts
    ]


def _cells(texts: list[str], sep: str) -> list[str]:
    """:func:`_cell` of each text; a million names are first searched as one text."""
    joined = "".join(texts)
    if not any(c in joined for c in (sep, '"', "\n", "\r")):
        return texts
    return [_cell(t, sep) for t in texts]


#: Distributions written per block: the texts of a block are joined before the next
#: is made, so that a million distributions never hold five million small strings.
_BLOCK: Final = 1 << 16


def _entropy_blocks(result: EntropyResult) -> Iterator[tuple[list[str], list[list[str]]]]:
    """Per block of distributions: their names, and their n, support, entropy (and
    the extra number) as texts, one list per column, each written at once."""
    import numpy as np

    extra = _entropy_extra(result)
    support = np.asarray(result.support, dtype=np.int64)
    for i in range(0, len(result.names), _BLOCK):
        cut = slice(i, i + _BLOCK)
        columns = [
            _number_texts(result.n[cut]),
            list(map(str, support[cut].tolist())),
            _number_texts(result.entropy[cut]),
        ]
        if extra:
            columns.append(_number_texts(extra[1][cut]))
        yield result.names[cut], columns


def entropy_delimited(result: EntropyResult, sep: str) -> str:
    extra = _entropy_extra(result)
    out = [sep.join(("name", "n", "support", "entropy", *(extra[:1] if extra else ())))]
    for names, columns in _entropy_blocks(result):
        out.append("\n".join(map(sep.join, zip(_cells(names, sep), *columns, strict=True))))
    out.append("")  # the last line's end, without copying the text once more
    return "\n".join(out)


def entropy_json(result: EntropyResult) -> str:
    """The document ``dumps`` would write of the result, assembled from texts: for a
    million distributions a million dicts, and json_value over each, took seconds."""
    extra = _entropy_extra(result)
    keys = ["n", "support", "entropy", *(extra[:1] if extra else ())]
    template = '{{"name": {}' + "".join(f', "{key}": {{}}' for key in keys) + "}}"
    blocks: list[str] = []
    for names, (n, support, *floats) in _entropy_blocks(result):
        if any("nan" in column for column in (n, *floats)):
            raise ValueError("a NaN reached the output")  # as json.dumps(allow_nan=False)
        values = [_json_numbers(n), support, *map(_json_numbers, floats)]
        blocks += (", ", ", ".join(map(template.format, _json_strings(names), *values)))
    head = dumps(
        {
            "command": "entropy",
            "unit": result.unit,
            "estimator": result.estimator,
            "bins": result.bins,
        }
    )[:-2]
    tail = dumps({"warnings": result.warnings})[1:]
    # One join of all the pieces: the text of a million distributions is copied once.
    return "".join([head, ', "distributions": [', *blocks[1:], "], ", tail])


def _json_numbers(texts: list[str]) -> list[str]:
    """Number texts as JSON values: ``inf`` and ``-inf`` as strings (see :func:`json_value`)."""
    if "inf" not in texts and "-inf" not in texts:
        return texts
    return [f'"{t}"' if t.endswith("inf") else t for t in texts]


def entropy_table(result: EntropyResult, width: int | None = None, color: bool = True) -> str:
    """One row per distribution: n, support, entropy (and nsb's std or shrink's
    lambda), split over several tables where the width needs it."""
    from rich.console import Group

    extra = _entropy_extra(result)
    title = f"kldiv entropy · estimator: {result.estimator} · unit: {result.unit}"
    if result.estimator != "plugin":  # the alphabet size K the estimate assumed
        title += f" · bins: {result.bins}"
    console = _console(width, color)
    columns = [
        Col("n", [human(float(x)) for x in result.n], "right"),
        Col("support", [str(int(x)) for x in result.support], "right"),
        Col("entropy", [human(float(x)) for x in result.entropy], "right"),
    ]
    if extra:
        columns.append(Col(extra[0], [human(float(x)) for x in extra[1]], "right"))
    layouts = split(Col("distribution", result.names), columns, console.width)
    # min_width: a title wider than a narrow table would wrap mid-phrase
    tables = [
        fitted_table(layouts[0], title, min_width=min(len(title), console.width)),
        *(fitted_table(layout) for layout in layouts[1:]),
    ]
    return _print(_widened(console, color, *(t.width for t in layouts)), Group(*tables))


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
    from rich.text import Text

    console = _console(width, color)
    keys = list(result.measures)
    layout = fit(
        [
            Col("measure", keys, style="bold"),
            Col("formula", [MI_DESCRIPTIONS[k][0] for k in keys], give=2),
            Col("what it is", [MI_DESCRIPTIONS[k][1] for k in keys], give=1, wrap=16),
            Col("value", [_styled(result.measures[k], human) for k in keys], "right"),
        ],
        console.width,
    )
    table = fitted_table(layout, f"kldiv mi · unit: {result.unit}")
    rows, cols = result.shape
    lines = [
        *layout.note(console.width),
        f"n = {human(result.n)} observations · X: {result.x} ({rows} values) · "
        f"Y: {result.y} ({cols} values)",
        *([] if result.test is None else [test_line(result.test)]),
    ]
    note = Text("\n".join(map(shown, lines)))  # X and Y are column names
    return _print(_widened(console, color, layout.width), Group(table, note))
