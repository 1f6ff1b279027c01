"""``--count COL`` on ``compare`` and ``entropy``: raw rows counted, then measured.

The counting is the readers' (:func:`~kldiv_cli.readers.count_columns`, by DuckDB,
imported only there); what is done with the counts is the existing commands': the
counts of a column become a :class:`~kldiv_cli.readers.Table` of one column over its
labels, which :func:`kldiv_cli.commands.compare.compare` and
:func:`kldiv_cli.commands.entropy.entropies` take as they take a table read from a
file, so every option and every renderer works unchanged. Nothing here prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any, BinaryIO, Final

import numpy as np

from kldiv_cli.commands import compare as compare_command
from kldiv_cli.commands import entropy as entropy_command
from kldiv_cli.commands.common import one_stdin, parse_number
from kldiv_cli.commands.results import Comparison, EntropyResult
from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.readers import (
    DEFAULT_NA,
    MISSING,
    ColumnCounts,
    Labels,
    RawOptions,
    Table,
    count_columns,
    open_raw,
    quote,
)

#: A size: a whole or decimal number, then its unit (KB, MB, GB, TB by 1000, as DuckDB
#: counts them; KiB, MiB, GiB, TiB by 1024), in any case, with no blank between.
_SIZE: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)([KMGT])(i?)B", re.ASCII | re.IGNORECASE)
#: The least --memory-limit (64MB: below it DuckDB fails rather than spills).
_MIN_SIZE: Final = 64_000_000


def parse_size(text: str, option: str = "--memory-limit") -> int:
    """The bytes of ``text``, a size such as ``300MB``, ``2GB`` or ``1.5GiB``: a unit
    of 1000^k bytes (KB, MB, GB, TB) or 1024^k (KiB, MiB, GiB, TiB), in any case; at
    least 64MB.

    Raises
    ------
    UsageError
        Anything else (no unit, a blank, a sign, ``B`` alone), or less than 64MB.
    """
    found = _SIZE.fullmatch(text)
    if found is None:
        raise UsageError(
            f"{option} {text!r}: give a size such as 300MB, 2GB or 1.5GiB "
            "(KB, MB, GB, TB count by 1000; KiB, MiB, GiB, TiB by 1024)"
        )
    number, unit, binary = found.groups()
    power = "KMGT".index(unit.upper()) + 1
    size = int(float(number) * (1024 if binary else 1000) ** power)
    if size < _MIN_SIZE:
        raise UsageError(f"{option} {text}: give at least 64MB")
    return size


def raw_options(
    *,
    input_format: str | None = None,
    delimiter: str | None = None,
    na: Sequence[str] | None = None,
    drop_missing: bool = False,
    bins: int | None = None,
    categorical: Sequence[str] = (),
    edges: Sequence[str] = (),
    memory_limit: str | None = None,
    spill_dir: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RawOptions:
    """The :class:`~kldiv_cli.readers.RawOptions` of the CLI's options: ``na`` None
    keeps :data:`~kldiv_cli.readers.DEFAULT_NA` (given, it replaces the list); each of
    ``edges`` is ``COL=e1,e2,...`` in kldiv's number grammar; ``bins`` None is 10;
    ``memory_limit`` is a size (:func:`parse_size`); ``spill_dir`` a folder and
    ``progress`` a ``progress(done, total)`` callback, passed on as they are."""
    fixed: dict[str, tuple[float, ...]] = {}
    for text in edges:
        column, sep, values = text.partition("=")
        if not sep or not column:
            raise UsageError(f"--edges {text!r}: give COL=e1,e2,... (e.g. age=18,65)")
        if column in fixed:
            raise UsageError(f"--edges {quote(column)} is given twice")
        numbers = []
        for piece in values.split(",") if values else []:
            number = parse_number(piece)
            if number is None:
                raise UsageError(f"--edges {column}: {piece!r} is not a number")
            numbers.append(number)
        fixed[column] = tuple(numbers)
    return RawOptions(
        input_format=input_format,
        delimiter=delimiter,
        na=DEFAULT_NA if na is None else tuple(na),
        drop_missing=drop_missing,
        bins=10 if bins is None else bins,
        categorical=frozenset(categorical),
        edges=MappingProxyType(fixed),
        memory_limit=None if memory_limit is None else parse_size(memory_limit),
        spill_dir=spill_dir,
        progress=progress,
    )


def missing_warning(counts: ColumnCounts, sides: Sequence[tuple[str, int]], drop: bool) -> str:
    """The spec's report of missing values per side, empty when there are none:
    ``column 'x': missing values: P 2, Q 0 (counted as the label (missing))``, or of
    one side ``a.csv, column 'x': 2 missing values (...)``."""
    if not any(n for _, n in sides):
        return ""
    how = "left out by --drop-missing" if drop else f"counted as the label {MISSING}"
    if len(sides) == 1:
        ((name, n),) = sides
        return f"{name}, column {quote(counts.column)}: {n} missing value{'s' * (n != 1)} ({how})"
    each = ", ".join(f"{name} {n}" for name, n in sides)
    return f"column {quote(counts.column)}: missing values: {each} ({how})"


def compare_counts(
    p_source: str,
    q_source: str,
    column: str,
    options: RawOptions,
    stdin: BinaryIO | None = None,
    **compare: Any,
) -> Comparison:
    """``kldiv compare P Q --count COL``: the values of COL in P's raw rows against
    those in Q's, Q the reference for binning, compared as two count columns
    (:func:`kldiv_cli.commands.compare.compare`, with its keyword options
    ``compare``) over the union of the labels."""
    one_stdin([p_source, q_source])
    p_raw = open_raw(p_source, options, stdin)
    q_raw = open_raw(q_source, options, stdin)
    (counts,) = count_columns(q_raw, p_raw, [column], options)
    labels = Labels.of(list(counts.labels))
    tables = [
        Table(source=raw.name, labels=labels, label_column=None, columns={column: values})
        for raw, values in ((p_raw, counts.current), (q_raw, counts.reference))
    ]
    result = compare_command.compare(tables, p_col=column, q_col=column, **compare)
    sides = (("P", counts.missing[1]), ("Q", counts.missing[0]))
    warning = missing_warning(counts, sides, options.drop_missing)
    if warning:
        result.warnings.insert(0, warning)
    return result


def entropy_counts(
    source: str,
    columns: Sequence[str],
    options: RawOptions,
    stdin: BinaryIO | None = None,
    *,
    unit: str = "bits",
    estimator: str = "plugin",
) -> EntropyResult:
    """``kldiv entropy DATA --count COL ...``: the entropy of each column's values.

    Each column is one distribution over its own labels (its categories, its values
    or all its bins, and ``(missing)``): the estimators' alphabet K is that many
    labels. Columns with as many labels are estimated together, as one stack.
    """
    repeated = sorted({c for c in columns if list(columns).count(c) > 1})
    if repeated:
        raise UsageError(f"--count {quote(repeated[0])} is given twice")
    raw = open_raw(source, options, stdin)
    found = count_columns(raw, None, list(columns), options)
    for counts in found:
        if not counts.reference.any():
            raise InvalidDataError(
                f"{raw.name}, column {quote(counts.column)}: no values "
                f"(all {counts.missing[0]} are missing, left out by --drop-missing)"
            )
    by_width: dict[int, list[int]] = {}
    for i, counts in enumerate(found):
        by_width.setdefault(len(counts.labels), []).append(i)
    parts: list[tuple[list[int], EntropyResult]] = []
    for width, members in by_width.items():
        table = Table(
            source=raw.name,
            # The labels matter to no entropy: those of the first column of the group.
            labels=Labels.of(list(found[members[0]].labels)),
            label_column=None,
            columns={found[i].column: found[i].reference for i in members},
        )
        part = entropy_command.entropies(table, unit=unit, estimator=estimator, bins=width)
        parts.append((members, part))
    order = np.argsort(np.concatenate([np.asarray(m) for m, _ in parts]), kind="stable")

    def joined(arrays: list[Any]) -> Any:
        return np.concatenate([np.atleast_1d(np.asarray(a)) for a in arrays])[order]

    first = parts[0][1]
    names = [counts.column for counts in found]
    warnings = [
        w
        for counts in found
        if (w := missing_warning(counts, ((raw.name, counts.missing[0]),), options.drop_missing))
    ]
    widths = {len(c.labels) for c in found}
    if estimator != "plugin" and len(widths) > 1:
        warnings.append(
            "the columns have different alphabets (K, the labels of each): "
            + ", ".join(f"{quote(c.column)} {len(c.labels)}" for c in found)
        )
    return EntropyResult(
        unit,
        estimator,
        names,
        joined([p.n for _, p in parts]),
        joined([p.support for _, p in parts]),
        joined([p.entropy for _, p in parts]),
        warnings=warnings,
        std=None if first.std is None else joined([p.std for _, p in parts]),
        lam=None if first.lam is None else joined([p.lam for _, p in parts]),
        bins=max(widths),
    )
