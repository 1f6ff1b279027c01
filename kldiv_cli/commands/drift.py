"""``kldiv drift REF CUR``: two datasets compared column by column.

Each column both sides have is counted by the raw-row engine
(:func:`~kldiv_cli.readers.count_columns`: categories, few values or bins from the
reference) and its two count vectors are compared by
:func:`kldiv_cli.commands.compare.compare` with **P = CUR and Q = REF**, so every
measure, ``--test``, ``--top`` and ``--max`` mean what they mean for ``compare``. To
each column :func:`jsd_noise` adds the JSD that sampling alone reaches. A saved
profile (``--save-reference``) stands in for REF's raw rows. Nothing here prints.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np

from kldiv_cli.commands import compare as compare_command
from kldiv_cli.commands.common import one_stdin, parse_check, some_labels
from kldiv_cli.commands.counted import raw_options
from kldiv_cli.commands.results import Check, DriftColumn, DriftResult, DriftSide
from kldiv_cli.errors import InvalidDataError, UsageError, visible
from kldiv_cli.maths import core
from kldiv_cli.maths.significance import chi2_quantile
from kldiv_cli.readers import (
    MISSING,
    ColumnCounts,
    ColumnPlan,
    FloatArray,
    Labels,
    Profile,
    ProfileColumn,
    RawOptions,
    Table,
    count_columns,
    is_profile,
    joined_labels,
    open_raw,
    profile_files,
    quote,
    read_profiles,
    write_profile,
)

#: A categorical column with more distinct reference values is an identifier.
IDENTIFIER_VALUES: Final = 1000
#: The counting engines: DuckDB in this process, or a Dask cluster (the dask extra).
ENGINES: Final = ("embedded", "dask")


@dataclass(frozen=True)
class ColumnCheck:
    """A ``--max [COL:]MEASURE=LIMIT``: ``column`` None applies to every column."""

    column: str | None
    check: Check


def parse_column_check(text: str) -> ColumnCheck:
    """``jsd=0.05`` -> every column; ``age:jsd=0.05`` -> column ``age`` only (the
    column is what comes before the last ``:`` of the part before the last ``=``: a
    limit never holds either, a column's name may hold both)."""
    left, sep, limit = text.rpartition("=")
    if not sep:
        return ColumnCheck(None, parse_check(text))  # its usage error: no ``=``
    column, colon, measure = left.rpartition(":")
    if not colon:
        return ColumnCheck(None, parse_check(text))
    if not column:
        raise UsageError(f"--max {text!r}: give COL:MEASURE=LIMIT, e.g. age:jsd=0.05")
    try:
        return ColumnCheck(column, parse_check(f"{measure}={limit}"))
    except UsageError as e:
        # parse_check quotes what it was given; the user typed the column too.
        raise UsageError(str(e).replace(repr(f"{measure}={limit}"), repr(text), 1)) from None


def parse_names(text: str | None, option: str) -> list[str]:
    """The column names of ``--columns``/``--exclude``: comma-separated, each stripped
    of blanks, empty ones dropped; a name written in double quotes, as in CSV, is
    taken exactly, commas and blanks included (``"a,b"``, ``" x "``; ``""`` inside is
    a quote).

    Raises
    ------
    UsageError
        A quote never closed, or text after a closing quote.
    """
    if not text:
        return []
    names: list[str] = []
    i, n = 0, len(text)
    while i <= n:
        end = text.find(",", i)
        end = n if end < 0 else end
        piece = text[i:end]
        if piece.strip().startswith('"'):
            start = text.index('"', i) + 1
            chars: list[str] = []
            j = start
            while True:
                close = text.find('"', j)
                if close < 0:
                    raise UsageError(f"{option} {text!r}: a quote is never closed")
                chars.append(text[j:close])
                if text.startswith('""', close):
                    chars.append('"')
                    j = close + 2
                    continue
                break
            after = text.find(",", close + 1)
            after = n if after < 0 else after
            if text[close + 1 : after].strip():
                raise UsageError(
                    f"{option} {text!r}: text after the closing quote of a name "
                    '(quote a whole name: "a,b")'
                )
            names.append("".join(chars))
            i = after + 1
            continue
        if piece.strip():
            names.append(piece.strip())
        i = end + 1
    return names


def jsd_noise(k: Any, n_ref: Any, n_cur: Any, unit: str = "bits") -> FloatArray:
    """The JSD that sampling alone exceeds 5% of the time when both sides are drawn
    from one distribution over ``k`` labels:

    .. math:: \\mathrm{JSD}_{0.95} = \\chi^2_{0.95}(k - 1)\\,
              \\frac{1/n_\\mathrm{ref} + 1/n_\\mathrm{cur}}{8} \\ \\text{nats}

    The G statistic of homogeneity of two samples is 2 n_ref KL(ref||m) + 2 n_cur
    KL(cur||m) with m their pooled proportions, asymptotically chi2(k - 1); to second
    order it is 8 JSD / (1/n_ref + 1/n_cur) when m is the midpoint, which the JSD
    uses. Zero for k <= 1 (one label cannot move). Vectorised over its arguments.
    """
    k = np.asarray(k, dtype=np.int64)
    quantiles = {int(df): chi2_quantile(0.95, int(df)) for df in np.unique(k - 1) if df >= 1}
    quantile = np.array([quantiles.get(int(df), 0.0) for df in (k - 1).ravel()]).reshape(k.shape)
    nats = quantile * (1.0 / np.asarray(n_ref, float) + 1.0 / np.asarray(n_cur, float)) / 8.0
    return np.asarray(nats / core.unit_scale(unit), dtype=np.float64)


def drift(
    reference: str,
    current: str,
    *,
    columns: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    input_format: str | None = None,
    delimiter: str | None = None,
    na: Sequence[str] | None = None,
    drop_missing: bool = False,
    bins: int | None = None,
    categorical: Sequence[str] = (),
    edges: Sequence[str] = (),
    unit: str = "bits",
    checks: Sequence[str] = (),
    top: int | None = None,
    test: bool = False,
    save_reference: str | None = None,
    save_current: str | None = None,
    engine: str = "embedded",
    scheduler: str | None = None,
    memory_limit: str | None = None,
    spill_dir: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    stdin: BinaryIO | None = None,
) -> DriftResult:
    """``kldiv drift REF CUR``: every column both sides have (or ``columns``, less
    ``exclude``), in REF's order, counted and compared with P = CUR, Q = REF.

    REF may be a saved profile, or a folder or glob of profiles that add up
    (:func:`~kldiv_cli.readers.read_profiles`): its kinds and edges then count CUR,
    and options that would change them (``bins``, ``categorical``, ``edges``, another
    ``na``) are a usage error. ``save_reference`` and ``save_current`` write REF's and
    CUR's profiles, both counted with REF's kinds and edges, so that profiles of many
    days or machines add up. ``memory_limit`` (a size, ``300MB``) and ``spill_dir``
    bound the embedded engine; ``progress(done, total)`` is told how far its counting
    is (see :class:`~kldiv_cli.readers.RawOptions`).

    Raises
    ------
    UsageError
        An unknown engine or unit, a ``--max`` for a column not compared, a
        ``--columns`` or ``--exclude`` name neither side has, options against a
        profile.
    InvalidDataError
        What the engine refuses (see :func:`~kldiv_cli.readers.count_columns`), and
        a column that has no value left on a side.
    """
    core.unit_scale(unit)  # an unknown unit fails before any work
    if engine not in ENGINES:
        raise UsageError(f"--engine {engine!r}: choose {', '.join(ENGINES)}")
    if scheduler is not None and engine != "dask":
        raise UsageError("--scheduler is for --engine dask")
    if engine == "dask" and (memory_limit is not None or spill_dir is not None):
        raise UsageError(
            "--memory-limit and --spill-dir bound the embedded engine; a Dask cluster's "
            "workers have their own (dask worker --memory-limit, --local-directory)"
        )
    count = _counter(engine, scheduler)
    parsed = [parse_column_check(c) for c in checks]
    one_stdin([reference, current])
    if profile_files(current):
        raise UsageError(
            f"CUR {visible(current)} is a saved profile: a profile stands for REF only; "
            "give the current raw rows as CUR"
        )
    profile = read_profiles(reference)
    if profile is not None:
        _against_profile(reference, profile, na, bins, categorical, edges)
        na = profile.options.get("na", na)
    options = raw_options(
        input_format=input_format,
        delimiter=delimiter,
        na=na,
        drop_missing=drop_missing,
        bins=bins,
        categorical=categorical,
        edges=edges,
        memory_limit=memory_limit,
        spill_dir=spill_dir,
        progress=progress,
    )
    cur = open_raw(current, options, stdin)
    ref = None if profile is not None else open_raw(reference, options, stdin)
    inputs = [reference, current, *cur.files, *(ref.files if ref else [])]
    for target in (save_reference, save_current):
        if target is not None:
            _not_an_input(target, inputs)
    # A profile's identifiers have no counts: they are REF's columns all the same, and
    # are skipped as the raw REF skipped them.
    saved_skips = {s["column"]: s["reason"] for s in profile.skipped} if profile else {}
    if profile is not None:
        ref_columns = [c.column for c in profile.columns] + list(saved_skips)
    else:
        assert ref is not None
        ref_columns = ref.columns
    chosen, only_reference, only_current = _choose(
        ref_columns, cur.columns, columns, exclude, options
    )
    named = [c for c in columns or () if c in saved_skips]
    if named:
        raise UsageError(
            f"--columns {quote(named[0])}: {visible(reference)} has no counts of it (it was "
            f"skipped as an {saved_skips[named[0]].split(';')[0]}); give the raw rows as REF "
            "to compare it"
        )
    for c in parsed:
        if c.column is not None and c.column not in chosen:
            raise UsageError(
                f"--max {c.column}:{c.check.measure}={c.check.limit!r}: no column "
                f"{quote(c.column)} is compared; compared: {', '.join(map(quote, chosen))}"
            )
    warnings = [
        f"{side}: column{'s' * (len(names) > 1)} {', '.join(map(quote, names))} only there, "
        "not compared"
        for side, names in (("REF", only_reference), ("CUR", only_current))
        if names
    ]
    if profile is not None:
        counts = [c for c in chosen if c not in saved_skips]
        found = _count_against(profile, cur, counts, options, count)
        ref_rows, ref_name = profile.rows, reference
    else:
        assert ref is not None
        found = count(ref, cur, chosen, options, identifiers=IDENTIFIER_VALUES, keep=columns or ())
        ref_rows, ref_name = (found[0].rows[0] if found else ref.rows), ref.name
    cur_rows = found[0].rows[1] if found else cur.rows
    skipped = [
        {
            "column": f.column,
            "reason": f"identifier: {f.distinct} distinct reference values (more than "
            f"{IDENTIFIER_VALUES}); name it in --columns to compare it",
        }
        for f in found
        if f.kind == "identifier"
    ]
    skipped += [{"column": c, "reason": saved_skips[c]} for c in chosen if c in saved_skips]
    for c in parsed:
        # A check on a column skipped as an identifier would never run: a gate left
        # open, unless the user is told.
        reason = next((s["reason"] for s in skipped if s["column"] == c.column), None)
        if reason is not None:
            raise UsageError(
                f"--max {c.column}:{c.check.measure}={c.check.limit!r}: column "
                f"{quote(c.column or '')} is skipped as an {reason}"
            )
    warnings += [f"column {quote(s['column'])} skipped as an {s['reason']}" for s in skipped]
    counted = [f for f in found if f.kind != "identifier"]
    if not counted:  # every column skipped: a gate with nothing behind it
        raise UsageError(
            "no column was compared: every one was skipped as an identifier ("
            + ", ".join(quote(s["column"]) for s in skipped)
            + "); name those to compare in --columns"
        )
    results = [
        _column(f, ref_name, cur.name, options, unit, parsed, top, test, warnings) for f in counted
    ]
    # k: the labels with mass on either side (a bin empty in both cannot move).
    k = [int(((c.comparison.aligned.p > 0) | (c.comparison.aligned.q > 0)).sum()) for c in results]
    noise = jsd_noise(k, [c.n[0] for c in results], [c.n[1] for c in results], unit)
    for column, value in zip(results, noise.tolist(), strict=True):
        column.jsd_noise = value
    recorded = dict(profile.options) if profile is not None else _options_doc(options)
    if save_reference is not None:
        write_profile(
            save_reference,
            _profile(ref_name, ref_rows, recorded, counted, 0, skipped, drop_missing),
        )
    if save_current is not None:
        write_profile(
            save_current, _profile(cur.name, cur_rows, recorded, counted, 1, skipped, drop_missing)
        )
    return DriftResult(
        unit=unit,
        reference=DriftSide(ref_name, ref_rows, profile=profile is not None),
        current=DriftSide(cur.name, cur_rows),
        columns=results,
        skipped=skipped,
        only_reference=only_reference,
        only_current=only_current,
        warnings=warnings,
        saved=save_reference,
    )


def _against_profile(
    reference: str,
    profile: Profile,
    na: Sequence[str] | None,
    bins: int | None,
    categorical: Sequence[str],
    edges: Sequence[str],
) -> None:
    """A usage error for an option that would change how the profile was counted."""
    given = [
        name
        for name, value in (("--bins", bins), ("--categorical", categorical), ("--edges", edges))
        if value
    ]
    if given:
        raise UsageError(
            f"{reference} is a saved profile, counted with its own kinds and edges: "
            f"{given[0]} cannot change them (give the raw rows as REF instead)"
        )
    saved = profile.options.get("na")
    if na is not None and saved is not None and list(na) != list(saved):
        raise UsageError(
            f"{reference} is a saved profile, counted with --na {', '.join(map(repr, saved))}: "
            "the current rows are counted with the same tokens (leave --na out)"
        )


def _choose(
    ref: Sequence[str],
    cur: Sequence[str],
    columns: Sequence[str] | None,
    exclude: Sequence[str],
    options: RawOptions,
) -> tuple[list[str], list[str], list[str]]:
    """The columns compared (in REF's order), and those of one side only. A column
    that ``--columns``, ``--exclude``, ``--categorical`` or ``--edges`` names and
    neither side has is a usage error: a typo would leave a gate open, or count the
    column by the default rules, silently."""
    everywhere = set(ref) | set(cur)
    for option, names in (
        ("--columns", columns or ()),
        ("--exclude", exclude),
        ("--categorical", sorted(options.categorical)),
        ("--edges", list(options.edges)),
    ):
        unknown = [n for n in names if n not in everywhere]
        if unknown:
            raise UsageError(
                f"{option} {quote(unknown[0])}: neither REF nor CUR has this column; "
                f"REF's columns: {', '.join(map(quote, ref))}"
            )
    wanted = set(columns) if columns else everywhere
    wanted -= set(exclude)
    chosen = [c for c in ref if c in wanted and c in cur]
    only_reference = [c for c in ref if c in wanted and c not in cur]
    only_current = [c for c in cur if c in wanted and c not in ref]
    if not chosen:
        raise UsageError(
            "no column to compare: REF and CUR have none in common"
            + (" among those chosen" if columns or exclude else "")
        )
    return chosen, only_reference, only_current


def _counter(engine: str, scheduler: str | None) -> Callable[..., list[ColumnCounts]]:
    """The engine's ``count_columns``: the embedded one, or Dask's (imported only
    then) bound to ``scheduler``."""
    if engine != "dask":
        return count_columns
    from kldiv_cli.readers import count_on_dask

    return functools.partial(count_on_dask, scheduler=scheduler)


def _count_against(
    profile: Profile,
    cur: Any,
    chosen: Sequence[str],
    options: RawOptions,
    count: Callable[..., list[ColumnCounts]] = count_columns,
) -> list[ColumnCounts]:
    """CUR counted with the profile's plans, and aligned with the profile's counts
    over the union of the labels (new categories or values join in their order)."""
    by_name = {c.column: c for c in profile.columns}
    saved = [by_name[name] for name in chosen]
    plans = [ColumnPlan(c.kind, c.edges) for c in saved]
    counted = count(cur, None, chosen, options, plans=plans)
    for f in counted:
        _no_value_spelled_missing(cur.name, f, options)
    return [_joined(c, f, profile.rows) for c, f in zip(saved, counted, strict=True)]


def _no_value_spelled_missing(source: str, found: ColumnCounts, options: RawOptions) -> None:
    """A profile keeps missing values apart from the labels, so a value written
    ``(missing)`` cannot be told from them: an error, as the engine's when a side has
    missing values. ``found`` counts one side; the engine appends the label
    ``(missing)`` only for real missing values, and refuses a value spelled so then."""
    real_missing = not options.drop_missing and found.missing[0] > 0
    if MISSING in found.labels and not real_missing:
        raise InvalidDataError(
            f"{visible(source)}: column {quote(found.column)}: a value is spelled "
            f"{MISSING!r}, the label of missing values, which a profile cannot hold; "
            "name it with --na"
        )


def _joined(saved: ProfileColumn, found: ColumnCounts, rows: int) -> ColumnCounts:
    """A profile's column and CUR's counts of it, over the union of their labels."""
    cur_missing = found.missing[0]
    cur = {
        label: n
        for label, n in zip(found.labels, found.reference.tolist(), strict=True)
        if label != MISSING
    }
    ref = dict(zip(saved.labels, saved.counts, strict=True))
    labels = joined_labels(saved, cur)
    ref_counts = np.array([ref.get(label, 0) for label in labels], dtype=np.float64)
    cur_counts = np.array([cur.get(label, 0.0) for label in labels], dtype=np.float64)
    missing = (saved.missing, cur_missing)
    return ColumnCounts(
        column=saved.column,
        kind=saved.kind,
        edges=saved.edges,
        labels=labels,
        reference=ref_counts,
        current=cur_counts,
        missing=missing,
        rows=(rows, found.rows[0]),
    )


def _column(
    found: ColumnCounts,
    ref_name: str,
    cur_name: str,
    options: RawOptions,
    unit: str,
    parsed: Sequence[ColumnCheck],
    top: int | None,
    test: bool,
    warnings: list[str],
) -> DriftColumn:
    """One column's comparison, P = CUR, Q = REF; its warnings join ``warnings``."""
    name = found.column
    labels, ref_counts, cur_counts = found.labels, found.reference, found.current
    with_missing = not options.drop_missing and any(found.missing)
    if with_missing and MISSING not in labels:  # a profile's counts leave it out
        labels = [*labels, MISSING]
        ref_counts = np.append(ref_counts, float(found.missing[0]))
        cur_counts = np.append(cur_counts, float(found.missing[1]))
    for side, counts, missing in (
        (ref_name, ref_counts, found.missing[0]),
        (cur_name, cur_counts, found.missing[1]),
    ):
        if not counts.any():
            raise InvalidDataError(
                f"{side}, column {quote(name)}: no values (all {missing} are missing, "
                "left out by --drop-missing)"
            )
    shared = Labels.of(labels)
    tables = [
        Table(source=source, labels=shared, label_column=None, columns={name: counts})
        for source, counts in ((cur_name, cur_counts), (ref_name, ref_counts))
    ]
    mine = [c.check for c in parsed if c.column in (None, name)]
    result = compare_command.compare(
        tables,
        p_col=name,
        q_col=name,
        unit=unit,
        top=top,
        checks=mine,
        test=test,
        infinite_warnings=False,
    )
    where = f"column {quote(name)}"
    warnings += [f"{where}: {w}" for w in result.warnings]
    # compare's words for an infinite KL speak of P and Q; drift's of CUR and REF.
    for only, direction, seen in (
        (result.only_p, "D(CUR||REF)", "CUR"),
        (result.only_q, "D(REF||CUR)", "REF"),
    ):
        if only:
            named = some_labels(only, False)
            warnings.append(f"{where}: {direction} is infinite: only {seen} has {named}")
    return DriftColumn(
        column=name,
        kind=found.kind,
        edges=found.edges,
        n=(int(ref_counts.sum()), int(cur_counts.sum())),
        missing=found.missing,
        jsd_noise=0.0,
        comparison=result,
    )


def _not_an_input(path: str, inputs: Sequence[str]) -> None:
    """A usage error when ``--save-reference`` or ``--save-current`` would overwrite a
    file of raw rows read by this run (REF's or CUR's): the data would be lost."""
    target = Path(path)
    if not target.is_file():
        return
    for source in inputs:
        try:
            same = Path(source).is_file() and target.samefile(source)
        except OSError:
            same = False
        if same and not is_profile(source):
            raise UsageError(
                f"{visible(path)}: that is a file this run reads; writing a profile there "
                "would replace its rows"
            )


def _options_doc(options: RawOptions) -> dict[str, Any]:
    """The counting options a profile records (those that fix kinds and edges)."""
    return {
        "bins": options.bins,
        "na": list(options.na),
        "categorical": sorted(options.categorical),
        "edges": {k: list(v) for k, v in options.edges.items()},
    }


def _profile(
    source: str,
    rows: int,
    options: dict[str, Any],
    counted: list[ColumnCounts],
    side: int,
    skipped: list[dict[str, str]],
    drop_missing: bool,
) -> Profile:
    """One side of ``counted`` (0: REF, 1: CUR) as a profile: the labels with mass on
    that side (every bin of a binned column), missing values apart; ``skipped`` names
    the identifiers, which have no counts."""
    columns = []
    for f in counted:
        counts = f.reference if side == 0 else f.current
        if counts.size and MISSING in f.labels:
            # The engine appends the label (missing) only for real missing values.
            spelled = drop_missing or not any(f.missing)
            if spelled and counts[f.labels.index(MISSING)] > 0:
                raise InvalidDataError(
                    f"{visible(source)}: column {quote(f.column)}: a value is spelled "
                    f"{MISSING!r}, the label of missing values, which a profile cannot "
                    "hold; name it with --na"
                )
        keep = [
            i
            for i, label in enumerate(f.labels)
            if label != MISSING and (f.kind == "binned" or counts[i] > 0)
        ]
        columns.append(
            ProfileColumn(
                column=f.column,
                kind=f.kind,
                edges=f.edges,
                labels=[f.labels[i] for i in keep],
                counts=[int(counts[i]) for i in keep],
                missing=f.missing[side],
            )
        )
    return Profile(source, rows, options, columns, skipped)
