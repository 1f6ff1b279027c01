"""``kldiv mi``: mutual information of X and Y, from a contingency table or from raw
observations cross-tabulated, with the G-test of independence."""

from __future__ import annotations

from kldiv_cli.commands.common import ReadOptions, read_tables, require_counts, stack
from kldiv_cli.commands.results import MiResult
from kldiv_cli.readers import FloatArray, Table, read_joint_counts


def run(
    source: str,
    read: ReadOptions,
    *,
    x: str | None = None,
    y: str | None = None,
    unit: str = "bits",
    test: bool = False,
) -> MiResult:
    """``kldiv mi``: with ``x`` and ``y``, the raw observations of those two columns
    cross-tabulated (:func:`mi_of_counts`); otherwise a contingency table
    (:func:`mi_of_table`)."""
    if x is not None and y is not None:
        counts = read_joint_counts(
            source,
            x,
            y,
            input_format=read.input_format,
            no_header=read.no_header,
            delimiter=read.delimiter,
            stdin=read.stdin,
        )
        return mi_of_counts(counts, unit=unit, x=x, y=y, test=test)
    (table,) = read_tables([source], read)
    return mi_of_table(table, unit=unit, test=test)


def mi_of_table(table: Table, *, unit: str = "bits", test: bool = False) -> MiResult:
    """Mutual information of a contingency table: rows are the values of X, numeric
    columns the values of Y, cells counts. ``test`` adds the G-test of independence,
    which needs counts."""
    s = stack(table, rows=True, each_positive=False)
    if test:
        require_counts(s, "--test", whole=True)
    x = table.label_column or "rows"
    return mi_of_counts(s.values, unit=unit, x=x, y="columns", test=test)


def mi_of_counts(
    counts: FloatArray,
    *,
    unit: str = "bits",
    x: str = "rows",
    y: str = "columns",
    test: bool = False,
) -> MiResult:
    """Mutual information of a validated joint count table (rows X, columns Y)."""
    from kldiv_cli.maths.information import mutual_information

    values = mutual_information(counts, unit=unit)
    rows, cols = counts.shape
    result = MiResult(unit, float(counts.sum()), values, (rows, cols), x, y)
    if test:
        from kldiv_cli.maths.significance import g_independence

        result.test = g_independence(counts)
    return result
