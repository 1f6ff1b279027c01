"""Results as CSV or TSV (``sep`` ``,`` or a tab): :func:`to_delimited`, chosen by the
result's type. A streamed matrix is written a block of rows at a time."""

from __future__ import annotations

from collections.abc import Iterator
from functools import singledispatch
from typing import TYPE_CHECKING

from kldiv_cli.commands.results import (
    MEASURES,
    Comparison,
    DriftResult,
    EntropyResult,
    MatrixResult,
    MatrixStream,
    MiResult,
    PairsResult,
)
from kldiv_cli.render.text import (
    cell,
    cells,
    entropy_blocks,
    entropy_extra,
    lines,
    number,
    number_rows,
    pairs_rows,
)

if TYPE_CHECKING:
    from kldiv_cli.commands.results import GTest


@singledispatch
def to_delimited(result: object, sep: str, *, long: bool = False) -> str | Iterator[str]:
    """The CSV (``sep`` ``,``) or TSV (a tab) text of ``result``; for a
    :class:`~kldiv_cli.commands.results.MatrixStream`, its pieces, one per block of
    rows. ``long``: a matrix as ``row,column,value`` lines."""
    raise TypeError(f"no CSV/TSV for a {type(result).__name__}")


def test_rows(test: GTest | None, sep: str) -> list[str]:
    """CSV/TSV rows of ``--test``, after the measures: ``g_statistic``, ``g_df``, ``g_p_value``."""
    if test is None:
        return []
    return [
        f"g_statistic{sep}{number(test.statistic)}",
        f"g_df{sep}{test.df}",
        f"g_p_value{sep}{number(test.p_value)}",
    ]


@to_delimited.register(Comparison)
def compare_delimited(result: Comparison, sep: str, *, long: bool = False) -> str:
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


@to_delimited.register(MatrixResult)
def matrix_delimited(result: MatrixResult, sep: str, *, long: bool = False) -> str:
    """A header of column names (its first cell empty), then per row its name and its
    values; ``long``: ``row,column,value`` rows."""
    rows = number_rows(result.matrix)
    if sep != ",":
        rows = [r.replace(",", sep) for r in rows]
    names = [cell(n, sep) for n in result.rows]
    columns = [cell(n, sep) for n in result.columns]
    if long:
        out = [sep.join(("row", "column", "value"))]
        for name, row in zip(names, rows, strict=True):
            out += [
                f"{name}{sep}{col}{sep}{v}" for col, v in zip(columns, row.split(sep), strict=True)
            ]
        return lines(out)
    out = [sep.join(["", *columns])]
    out += [f"{name}{sep}{row}" for name, row in zip(names, rows, strict=True)]
    return lines(out)


@to_delimited.register(PairsResult)
def pairs_delimited(result: PairsResult, sep: str, *, long: bool = False) -> str:
    out = [sep.join(("name", *MEASURES))]
    for name, values in pairs_rows(result):
        out.append(sep.join([cell(name, sep), *map(number, values)]))
    return lines(out)


@to_delimited.register(EntropyResult)
def entropy_delimited(result: EntropyResult, sep: str, *, long: bool = False) -> str:
    extra = entropy_extra(result)
    out = [sep.join(("name", "n", "support", "entropy", *(extra[:1] if extra else ())))]
    for names, columns in entropy_blocks(result):
        out.append("\n".join(map(sep.join, zip(cells(names, sep), *columns, strict=True))))
    out.append("")  # the last line's end, without copying the text once more
    return "\n".join(out)


@to_delimited.register(MiResult)
def mi_delimited(result: MiResult, sep: str, *, long: bool = False) -> str:
    out = [f"measure{sep}value"]
    out += [f"{key}{sep}{number(value)}" for key, value in result.measures.items()]
    return lines(out + test_rows(result.test, sep))


@to_delimited.register(DriftResult)
def drift_delimited(result: DriftResult, sep: str, *, long: bool = False) -> str:
    """One row per column compared: ``column,kind,n_reference,n_current``, every
    measure (``kl_pq`` is D(CUR||REF)), ``jsd_noise`` and ``passed`` (``true`` or
    ``false``, as JSON spells them)."""
    header = ("column", "kind", "n_reference", "n_current", *MEASURES, "jsd_noise", "passed")
    out = [sep.join(header)]
    for c in result.columns:
        measures = c.comparison.measures
        out.append(
            sep.join(
                [
                    cell(c.column, sep),
                    c.kind,
                    str(int(c.n[0])),
                    str(int(c.n[1])),
                    *(number(measures[key]) for key in MEASURES),
                    number(c.jsd_noise),
                    "true" if c.passed else "false",
                ]
            )
        )
    return lines(out)


@to_delimited.register(MatrixStream)
def matrix_pieces(result: MatrixStream, sep: str, *, long: bool = False) -> Iterator[str]:
    """The text of :func:`matrix_delimited`, byte for byte, as the header and then one
    piece per block of rows, each spelled when its block is taken and then dropped: a
    writer that writes (and flushes) each piece holds one block at a time."""
    names = [cell(name, sep) for name in result.rows]
    columns = [cell(name, sep) for name in result.columns]
    yield sep.join(("row", "column", "value") if long else ["", *columns]) + "\n"
    middles = [f"{sep}{col}{sep}" for col in columns] if long else []
    for r0, block in result.blocks:
        rows = number_rows(block)
        del block
        if sep != ",":
            rows = [r.replace(",", sep) for r in rows]
        if long:
            out = [
                name + middle + value
                for name, row in zip(names[r0 : r0 + len(rows)], rows, strict=True)
                for middle, value in zip(middles, row.split(sep), strict=True)
            ]
        else:
            out = [
                f"{name}{sep}{row}"
                for name, row in zip(names[r0 : r0 + len(rows)], rows, strict=True)
            ]
        del rows
        yield "\n".join(out) + "\n"
