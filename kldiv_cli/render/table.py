"""Results as rich tables for people: :func:`to_table`, chosen by the result's type.

Names and numbers are never cut: a table shows them whole or leaves their column out
with a note. The descriptive columns ("what it is", "formula") give way first. rich is
imported only to draw a table.
"""

from __future__ import annotations

import io
import math
import sys
from dataclasses import dataclass
from functools import singledispatch
from typing import TYPE_CHECKING, Any, Final, Literal

from kldiv_cli.commands.results import (
    MEASURES,
    Comparison,
    DriftColumn,
    DriftResult,
    EntropyResult,
    MatrixResult,
    MiResult,
    PairsResult,
)
from kldiv_cli.render.text import entropy_extra, human, output_encoding, pairs_rows, shown

if TYPE_CHECKING:
    from kldiv_cli.commands.results import GTest

#: The rows a matrix table shows (a table on a terminal computes no more).
TABLE_ROWS: Final = 40


@singledispatch
def to_table(result: object, width: int | None = None, color: bool = True) -> str:
    """The rich table of ``result``, drawn at ``width`` columns (None: the terminal's),
    coloured with ``color``."""
    raise TypeError(f"no table for a {type(result).__name__}")


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


def test_line(test: GTest) -> str:
    """``G-test of homogeneity: G = 6.79596, df = 1, p-value = 0.00913643``, for the table."""
    return (
        f"G-test of {test.kind.replace('-', ' ')}: G = {human(test.statistic)}, df = {test.df}, "
        f"p-value = {human(test.p_value)}"
    )


@dataclass(eq=False)  # columns are told apart by identity
class Col:
    """A column to fit: its header, its cells (text or rich Text), and how it gives way.

    ``give`` 0: names and numbers, always shown.
    ``give`` k > 0: the k-th column to be left out when the table is too wide.
    ``wrap`` 0: shown at full width, never wrapped; ``wrap`` w > 0: may wrap between
    words, down to width w (a description; or an interval, "[lo, hi]", whose numbers
    stay whole). ``under``: a second header line.
    """

    header: str
    cells: list[Any]
    justify: Literal["left", "right"] = "left"
    style: str = ""
    give: int = 0
    wrap: int = 0
    #: A second line under the header (drift's "ref/cur" under "n"): our text, not data.
    under: str = ""

    def __post_init__(self) -> None:
        # Names come from data: a label's ESC or BEL must reach the terminal as text,
        # and the widths are those of the text shown.
        self.header = shown(self.header)
        self.under = shown(self.under)
        self.cells = [shown(c) if isinstance(c, str) else c for c in self.cells]

    def natural(self) -> int:
        from rich.cells import cell_len

        header = max(cell_len(self.header), cell_len(self.under))
        return max([header, *(cell_len(str(c)) for c in self.cells)])


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
        names = ", ".join(f"'{c.header} {c.under}'".replace(" '", "'") for c in self.left_out)
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
            _text(c.header + "\n" + c.under if c.under else c.header),
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


def _styled(x: float, spell: Any) -> Any:
    from rich.text import Text

    return Text(spell(x), style="red" if math.isinf(x) else "")


def _few(labels: list[str], most: int = 10) -> str:
    if not labels:
        return "none"
    more = len(labels) - most
    return ", ".join(labels[:most]) + (
        f" and {more} more ({len(labels)} in all)" if more > 0 else ""
    )


@to_table.register(Comparison)
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


@to_table.register(MatrixResult)
def matrix_table(
    result: MatrixResult, width: int | None = None, color: bool = True, most_rows: int = TABLE_ROWS
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


@to_table.register(PairsResult)
def pairs_table(result: PairsResult, width: int | None = None, color: bool = True) -> str:
    """The measures of every pair with their sum and mean: one column per pair when
    they fit the terminal (the formula column gives way first), else one row per pair,
    the measures split over as many tables as the width needs."""
    from rich.console import Group
    from rich.text import Text

    console = _console(width, color)
    rows = pairs_rows(result)
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


@to_table.register(EntropyResult)
def entropy_table(result: EntropyResult, width: int | None = None, color: bool = True) -> str:
    """One row per distribution: n, support, entropy (and nsb's std or shrink's
    lambda), split over several tables where the width needs it."""
    from rich.console import Group

    extra = entropy_extra(result)
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


@to_table.register(MiResult)
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


def _count(x: float) -> str:
    """A count for people: whole numbers in full (``human`` would write 1.23457e+06)."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else human(x)


def _brief(x: float) -> str:
    """A drift measure for people: four significant digits, ``inf`` for infinity.

    Fewer than :func:`~kldiv_cli.render.text.human`'s six, so that a row of nine
    numbers fits 100 columns: on samples of a few hundred rows the JSD's own sampling
    spread (``jsd_noise``) is far above the fourth digit. JSON and CSV keep every digit.
    """
    if math.isinf(x):
        return "inf"
    return f"{x + 0.0:.4g}"


@to_table.register(DriftResult)
def drift_table(result: DriftResult, width: int | None = None, color: bool = True) -> str:
    """One row per column compared (P = CUR, Q = REF): its kind, counts, JSD against
    ``jsd_noise``, both KL divergences and the JS distance, and its checks; then the
    sides, the columns left out, and the ``--top`` labels and ``--test`` per column.

    The measures' columns give way, rarest first (the JS distance, D(REF‖CUR), the
    missing counts, D(CUR‖REF)), to fit the width, with a note that says so.
    """
    from rich.console import Group
    from rich.text import Text

    console = _console(width, color)
    glyphs = _Glyphs.of_output()
    columns = result.columns

    def jsd_cell(c: DriftColumn) -> Any:
        # colour only: a JSD above what sampling alone gives 95% of the time
        jsd = c.comparison.measures["jsd"]
        return Text(_brief(jsd), style="bold yellow" if jsd > c.jsd_noise else "")

    def measure(key: str) -> list[Any]:
        return [_styled(c.comparison.measures[key], _brief) for c in columns]

    bar = glyphs.bar
    layout_columns = [
        Col("column", [c.column for c in columns], style="bold"),
        Col(
            "kind",
            [c.kind if c.bins is None else f"{c.kind} ({c.bins})" for c in columns],
            under="(bins)",
        ),
        Col("n", [f"{_count(c.n[0])}/{_count(c.n[1])}" for c in columns], "right", under="ref/cur"),
        Col(
            "missing",
            [f"{c.missing[0]}/{c.missing[1]}" for c in columns],
            "right",
            give=3,
            under="ref/cur",
        ),
        Col("JSD", [jsd_cell(c) for c in columns], "right"),
        Col("noise", [_brief(c.jsd_noise) for c in columns], "right", under="(JSD)"),
        Col("KL", measure("kl_pq"), "right", give=4, under=f"CUR{bar}REF"),
        Col("KL", measure("kl_qp"), "right", give=2, under=f"REF{bar}CUR"),
        Col(f"{glyphs.root}JSD", measure("js_distance"), "right", give=1),
    ]
    # Unless --drop-missing left values out, every column's n is its side's rows: the
    # line under the table says so once, and the column's room goes to the measures.
    every_row = all(
        (float(c.n[0]), float(c.n[1])) == (result.reference.rows, result.current.rows)
        for c in columns
    )
    if every_row and columns:
        layout_columns.pop(2)
    checked = any(c.comparison.checks for c in columns)
    if checked:
        verdicts = [
            Text("pass", style="green") if c.passed else Text("FAIL", style="bold red")
            for c in columns
        ]
        layout_columns.append(Col("check", verdicts))
    layout = fit(layout_columns, console.width)
    dot = glyphs.dot
    title = f"kldiv drift {dot} REF {glyphs.arrow} CUR {dot} unit: {result.unit}"
    parts: list[Any] = [fitted_table(layout, title) if columns else Text(title)]
    if not columns:
        parts.append(Text("no column was compared"))
    lines = layout.note(console.width, ", as does --format json")
    parts.append(Text("\n".join(lines + _drift_lines(result, glyphs, checked, every_row))))
    widths = [layout.width]
    for extra in (_drift_top(result, console.width), _drift_tests(result, console.width)):
        if extra is not None:
            parts.append(extra[0])
            widths.append(extra[1])
    return _print(_widened(console, color, *widths), Group(*parts))


@dataclass(frozen=True)
class _Glyphs:
    """The symbols of drift's table, in ASCII where the output cannot hold them."""

    bar: str = "‖"
    arrow: str = "→"
    root: str = "√"
    dot: str = "·"

    @classmethod
    def of_output(cls) -> _Glyphs:
        fancy = cls()
        try:
            "".join(vars(fancy).values()).encode(output_encoding())
        except UnicodeEncodeError:
            return cls("||", "->", "sqrt ", "-")
        return fancy


def _drift_lines(result: DriftResult, glyphs: _Glyphs, checked: bool, every_row: bool) -> list[str]:
    """The lines under drift's table: the sides (``every_row``: and that their rows
    are every column's n), what the numbers are, the columns left out or seen on one
    side only, the profile saved, the checks."""
    lines = []
    for name, side in (("REF", result.reference), ("CUR", result.current)):
        rows = f"{side.rows} row{'s' * (side.rows != 1)}"
        if every_row and result.columns:
            rows += ", n of every column"
        what = " (a saved profile)" if side.profile else ""
        lines.append(f"{name}: {shown(side.source)} {glyphs.dot} {rows}{what}")
    lines += [
        f"JSD, KL: divergences in {result.unit}; {glyphs.root}JSD: the Jensen-Shannon distance",
        "noise: the JSD that sampling alone exceeds 5% of the time when nothing has drifted",
    ]
    for this, other, only in (("CUR", "REF", "only_p"), ("REF", "CUR", "only_q")):
        infinite = [c.column for c in result.columns if getattr(c.comparison, only)]
        if infinite:
            lines.append(
                f"KL {this}{glyphs.bar}{other} is infinite where {this} has a value {other} "
                f"never had: {shown(_few(infinite))}"
            )
    for skipped in result.skipped:
        lines.append(f"skipped: {shown(skipped['column'])} ({shown(skipped['reason'])})")
    for name, names in (("REF", result.only_reference), ("CUR", result.only_current)):
        if names:
            lines.append(f"only in {name}: {shown(_few(names))}")
    if result.saved is not None:
        lines.append(f"REF's profile saved to {shown(result.saved)}")
    if checked:
        failed = [c.column for c in result.failed]
        total = len(result.columns)
        lines.append(
            f"checks: {len(failed)} of {total} columns failed: {shown(_few(failed))}"
            if failed
            else f"checks: all {total} columns passed"
        )
    return lines


def _titled(layout: Fit, title: str, width: int, sections: tuple[int, ...] = ()) -> Any:
    # min_width: a title wider than a narrow table would wrap mid-phrase
    return fitted_table(layout, title, sections, min_width=min(len(title), width))


def _drift_top(result: DriftResult, width: int) -> tuple[Any, int] | None:
    """``--top``: one table of every column's labels, a section per column (its name
    on its first row), each label's shares of CUR and REF and its JSD term."""
    rows = [(c.column, row) for c in result.columns for row in c.comparison.contributions or []]
    if not rows:
        return None
    starts = [i for i, (name, _) in enumerate(rows) if i == 0 or rows[i - 1][0] != name]
    layout = fit(
        [
            Col("column", [name if i in starts else "" for i, (name, _) in enumerate(rows)]),
            Col("label", [row["label"] for _, row in rows]),
            Col("CUR", [_styled(row["p"], _brief) for _, row in rows], "right"),
            Col("REF", [_styled(row["q"], _brief) for _, row in rows], "right"),
            Col("JSD term", [_styled(row["jsd"], _brief) for _, row in rows], "right"),
        ],
        width,
    )
    title = "labels that contribute most to each column's JSD"
    return _titled(layout, title, width, tuple(starts[1:])), layout.width


def _drift_tests(result: DriftResult, width: int) -> tuple[Any, int] | None:
    """``--test``: the G-test of each column, one row each."""
    tested = [(c.column, c.comparison.test) for c in result.columns if c.comparison.test]
    if not tested:
        return None
    layout = fit(
        [
            Col("column", [name for name, _ in tested]),
            Col("G", [_styled(t.statistic, _brief) for _, t in tested], "right"),
            Col("df", [str(t.df) for _, t in tested], "right"),
            Col("p-value", [_brief(t.p_value) for _, t in tested], "right"),
        ],
        width,
    )
    kind = tested[0][1].kind.replace("-", " ")
    return _titled(layout, f"G-test of {kind}, per column", width), layout.width
