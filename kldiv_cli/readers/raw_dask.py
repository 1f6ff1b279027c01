"""Raw rows counted on a Dask cluster: the same counts as the embedded engine.

Owns :func:`count_columns` of ``--engine dask``: the spec's rules of "What a column's
distribution is" (the same as :func:`kldiv_cli.readers.raw.count_columns`, whose
docstring states them), run as Dask tasks over the partitions of each side, so that
a reference of many files is counted where it lies. ``dask`` and ``distributed`` are
imported only here, and this module only for ``--engine dask``.

Counts add, so every step is a map over partitions and a sum:

1. per side, per column: rows, missing values, whether a value is not a number
   (which makes the column categorical on both sides);
2. per numeric reference column: the counts of each distinct value (summed by value
   over the partitions); few values or bins from them, and the edges by exact
   integer ranks k_j = ceil(j n / N), by a running sum over the sorted distinct
   values: the k-th smallest is the first value whose running count reaches k. No
   approximate quantile is ever taken, so the edges are those of the embedded engine;
3. per side, per column: the counts of each label's key (the text, the number, or
   the bin: the number of edges at or below the value).

Every CSV field is read as text by pyarrow's strict parser (kldiv's grammar, not
pandas, decides what is a number or missing: by Arrow's RE2 and its correctly rounded
parse, see :func:`_values`); the files are those
:func:`kldiv_cli.readers.raw_files.open_raw` checked (JSON sides arrive converted to
Parquet). Each side is parsed once and kept on the workers for the passes. The tasks
name this module's functions, so the workers of a remote cluster need kldiv-cli
installed, at the same version.
"""

from __future__ import annotations

import logging
import mmap
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from kldiv_cli.errors import InvalidDataError, UsageError, visible
from kldiv_cli.readers.numbers import quote
from kldiv_cli.readers.raw import (
    NUMBER_RE2,
    ColumnCounts,
    ColumnPlan,
    RawOptions,
    RawSource,
    assemble,
    bin_labels,
    check_plans,
    number_label,
    require_columns,
)

if TYPE_CHECKING:
    import pandas as pd

#: Bytes of CSV per partition, when a file can be split at its line ends.
BLOCK_SIZE: Final = 8 << 20
#: Workers of the local cluster started when no ``--scheduler`` is given.
LOCAL_WORKERS: Final = 2
INSTALL: Final = "pip install 'kldiv-cli[dask]'"


def count_columns(
    reference: RawSource,
    current: RawSource | None,
    columns: Sequence[str],
    options: RawOptions,
    *,
    plans: Sequence[ColumnPlan] | None = None,
    identifiers: int | None = None,
    keep: Collection[str] = (),
    scheduler: str | None = None,
) -> list[ColumnCounts]:
    """The counts of each of ``columns`` on both sides, on a Dask cluster.

    The same arguments, rules and results as
    :func:`kldiv_cli.readers.raw.count_columns` (identical ``ColumnCounts``), plus
    ``scheduler``: the address of a running Dask scheduler (``tcp://host:8786``);
    None starts a local cluster of :data:`LOCAL_WORKERS` processes for this call.
    The edges of a binned column are the k_j-th smallest reference values,

    .. math:: e_j = x_{(k_j)}, \\quad k_j = \\lceil j n / N \\rceil,

    found exactly from the reference's distinct values and their counts (summed over
    the partitions) by a running sum in order.

    Raises
    ------
    UsageError
        dask or distributed not installed; a scheduler that cannot be reached; what
        the embedded engine refuses as usage.
    InvalidDataError
        A row pandas cannot read (a ragged row, a quote never closed), and what the
        embedded engine refuses as data.
    """
    sides = [reference] if current is None else [reference, current]
    require_columns(sides, columns)
    if not columns:
        return []
    with _client(scheduler) as client:
        # Parsed once, kept on the workers (spilled to their disks past their memory
        # limit) for the two or three passes that follow.
        frames = [client.persist(_frame(side, columns)) for side in sides]
        na = tuple(t for t in dict.fromkeys(options.na) if t != "")
        profiles = [
            _run(client, side, frame, _profile_part, _add_profiles, _csv(side), columns, na)
            for side, frame in zip(sides, frames, strict=True)
        ]
        for side, profile in zip(sides, profiles, strict=True):
            if profile[0][0] == 0:
                raise InvalidDataError(f"{visible(side.name)}: no rows")
        if plans is None:
            plans = _plan(client, reference, frames[0], profiles, columns, options, na)
        else:
            plans = list(plans)
            check_plans(reference, profiles[0], columns, plans)
        counted = [
            _run(client, side, frame, _count_part, _add_counts, _csv(side), columns, na, plans)
            for side, frame in zip(sides, frames, strict=True)
        ]
    fixed = plans
    return assemble(
        sides,
        columns,
        fixed,
        profiles,
        options,
        identifiers=identifiers,
        keep=keep,
        distinct=lambda i: len(counted[0][i][0]),
        aligned=lambda i: _aligned([c[i] for c in counted], fixed[i]),
    )


#: The name :mod:`kldiv_cli.readers` exports it by (``count_columns`` is the
#: embedded engine's there).
count_on_dask = count_columns


# --- the cluster -------------------------------------------------------------------


@contextmanager
def _client(scheduler: str | None) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler``, or of a local cluster of
    :data:`LOCAL_WORKERS` processes (one thread each) started for this call."""
    try:
        import dask.dataframe  # noqa: F401  # the extra's two halves, checked together
        import distributed as typed_distributed
    except ImportError:
        raise UsageError(f"--engine dask needs Dask: {INSTALL}") from None
    distributed: Any = typed_distributed  # untyped calls, for mypy --strict
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise UsageError(
                f"--scheduler {scheduler}: cannot reach the scheduler ({str(e).splitlines()[0]})"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    with warnings.catch_warnings():
        # Its dashboard's port taken ("Hosting the HTTP server on port ... instead"):
        # no concern of a user who asked for counts.
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=LOCAL_WORKERS,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        )
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _run(
    client: Any,
    source: RawSource,
    frame: Any,
    part: Callable[..., Any],
    add: Callable[[Any, Any], Any],
    *args: Any,
) -> Any:
    """``part`` of every partition of ``frame``, summed by ``add`` in a tree, computed
    on ``client``; pandas' parse errors become one-line InvalidDataErrors."""
    from dask.delayed import delayed

    pieces = [delayed(part)(p, *args) for p in frame.to_delayed()]
    while len(pieces) > 1:
        pairs = [delayed(add)(pieces[k], pieces[k + 1]) for k in range(0, len(pieces) - 1, 2)]
        pieces = pairs + ([pieces[-1]] if len(pieces) % 2 else [])
    with _data_errors(source):
        return client.compute(pieces[0]).result()


@contextmanager
def _data_errors(source: RawSource) -> Iterator[None]:
    """A file the parser refuses (a ragged row, a quote never closed, bytes that are
    not UTF-8) as a one-line InvalidDataError naming ``source``."""
    try:
        yield
    except (InvalidDataError, UsageError):
        raise
    except (ValueError, UnicodeDecodeError) as e:
        lines = [s for s in str(e).splitlines() if s.strip()]
        what = lines[-1] if lines else type(e).__name__
        what = what.removeprefix("Original Message: ").removeprefix("Error tokenizing data. ")
        raise InvalidDataError(f"{visible(source.name)}: {what}") from None


def _frame(source: RawSource, columns: Sequence[str]) -> Any:
    """``source`` as a Dask DataFrame: CSV/TSV with every field as text, nothing
    taken as missing by pandas (kldiv's rules decide); Parquet as typed."""
    with _data_errors(source):
        return _read(source, columns)


def _read(source: RawSource, columns: Sequence[str]) -> Any:
    import dask.dataframe as dd

    if source.engine_format == "parquet":
        return dd.read_parquet(source.files, columns=list(columns))
    compression = {"gzip": "gzip", "none": None}.get(source.compression, "infer")
    # A file is cut at line ends only when no quote can hide one inside a field.
    split = compression is None and not any(_has_quote(f) for f in source.files)
    # pyarrow's parser: strict (a row with fewer or more fields than the header is an
    # error, where pandas' own parser pads a short row with empty fields).
    return dd.read_csv(
        source.files,
        sep=source.delimiter,
        dtype="string[pyarrow]",
        keep_default_na=False,
        na_values=[],
        quotechar='"',
        doublequote=True,
        encoding="utf-8",
        compression=compression,
        blocksize=BLOCK_SIZE if split else None,
        engine="pyarrow",
    )


def _csv(source: RawSource) -> bool:
    return source.engine_format != "parquet"


def _has_quote(path: str) -> bool:
    with open(path, "rb") as f:
        try:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                return m.find(b'"') >= 0
        except ValueError:  # an empty file cannot be mapped
            return False


# --- one partition -----------------------------------------------------------------


@dataclass
class _Values:
    """A column of one partition: its text (None where typed), missing, number, value."""

    text: Any  # an Arrow array of strings, or None
    missing: np.ndarray[Any, np.dtype[np.bool_]]
    number: np.ndarray[Any, np.dtype[np.bool_]]
    value: np.ndarray[Any, np.dtype[np.float64]]
    typed: Any  # the typed Series (Parquet numbers), for its text if categorical


def _values(series: pd.Series[Any], na: tuple[str, ...], csv: bool) -> _Values:
    """A column's values by the spec's rules: a typed number is a number (NaN and
    null missing); a text is missing when null, empty, a token of ``na`` or a NaN; a
    number when kldiv's grammar takes it. The texts are handled as Arrow arrays, by
    Arrow's compute functions in C++ (RE2 for the grammar, a correctly rounded
    parse): Python's re and float() take a second a million values."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        value = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(value)
        return _Values(None, missing, ~missing, value, series)
    if pd.api.types.is_bool_dtype(dtype):  # as DuckDB casts it: true, false
        series = series.map(lambda b: None if pd.isna(b) else str(b).lower())
    text = _arrow_text(series)
    nulls = _flags(text.is_null())
    if csv and nulls.any():  # pragma: no cover - pyarrow refuses a short row first
        raise ValueError("a row has fewer fields than the header")
    matched = pc.fill_null(pc.match_substring_regex(text, f"^(?:{NUMBER_RE2})$"), False)
    number = _flags(matched)
    value = np.full(len(text), np.nan)
    if number.any():
        chosen = text.filter(matched)
        try:
            # The grammar's blanks are ASCII, which Arrow's parse does not skip itself.
            parsed = pc.cast(pc.utf8_trim_whitespace(chosen), pa.float64())
            value[number] = parsed.to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a spelling Arrow lacks
            value[number] = [float(str(x)) for x in chosen.to_pylist()]
    listed = pc.equal(text, pa.scalar("", pa.string()))
    if na:
        listed = pc.or_(listed, pc.is_in(text, value_set=pa.array(list(na), pa.string())))
    missing = nulls | _flags(pc.fill_null(listed, False)) | (number & np.isnan(value))
    return _Values(text, missing, number, value, None)


def _arrow_text(series: pd.Series[Any]) -> Any:
    """A column of text as one Arrow string array (nulls kept as nulls)."""
    import pyarrow as pa

    try:
        found = pa.array(series.array)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        found = pa.array(series.astype(object).to_numpy(), from_pandas=True)
    if isinstance(found, pa.ChunkedArray):
        found = found.combine_chunks()
    if not pa.types.is_string(found.type):
        found = found.cast(pa.string())
    return found


def _flags(mask: Any) -> np.ndarray[Any, np.dtype[np.bool_]]:
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _profile_part(
    frame: pd.DataFrame, csv: bool, columns: Sequence[str], na: tuple[str, ...]
) -> list[tuple[int, int, bool]]:
    """(rows, missing, has a value that is not a number) of each column."""
    found = []
    for name in columns:
        v = _values(frame[name], na, csv)
        found.append((len(frame), int(v.missing.sum()), bool((~v.missing & ~v.number).any())))
    return found


def _add_profiles(
    a: list[tuple[int, int, bool]], b: list[tuple[int, int, bool]]
) -> list[tuple[int, int, bool]]:
    return [(x[0] + y[0], x[1] + y[1], x[2] or y[2]) for x, y in zip(a, b, strict=True)]


#: A tally: distinct keys (sorted) and their counts (int64), as two arrays, which
#: travel between processes as two buffers (a dict of 100,000 floats took seconds).
Tally = tuple[np.ndarray[Any, Any], np.ndarray[Any, np.dtype[np.int64]]]


def _tally(keys: np.ndarray[Any, Any]) -> Tally:
    found, counts = np.unique(keys, return_counts=True)
    return found, counts.astype(np.int64)


def _numbers_part(frame: pd.DataFrame, csv: bool, name: str, na: tuple[str, ...]) -> Tally:
    """The count of each distinct number (-0.0 as 0) of a column, missing left out."""
    v = _values(frame[name], na, csv)
    return _tally(v.value[~v.missing] + 0.0)


def _add_tallies(a: Tally, b: Tally) -> Tally:
    """Two tallies as one: the counts of equal keys summed (in integers)."""
    keys, at = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    counts = np.zeros(len(keys), dtype=np.int64)
    np.add.at(counts, at, np.concatenate([a[1], b[1]]))
    return keys, counts


def _key_text(v: _Values) -> Any:
    """A categorical column's texts as an Arrow array: as written, or a typed
    number's text as DuckDB casts it (an integer without a point, a float by its
    shortest repr)."""
    import pandas as pd
    import pyarrow as pa

    if v.text is not None:
        return v.text
    typed = v.typed
    if pd.api.types.is_integer_dtype(typed.dtype):
        texts = typed.map(lambda x: "" if pd.isna(x) else str(int(x)))
    else:
        texts = typed.map(lambda x: "" if pd.isna(x) else repr(float(x)))
    return pa.array(texts.astype(object).to_numpy(), type=pa.string())


def _count_part(
    frame: pd.DataFrame,
    csv: bool,
    columns: Sequence[str],
    na: tuple[str, ...],
    plans: Sequence[ColumnPlan],
) -> list[Tally]:
    """Each column's counts by label key, missing left out: text, number or bin."""
    found: list[Tally] = []
    for name, plan in zip(columns, plans, strict=True):
        v = _values(frame[name], na, csv)
        keep = ~v.missing
        if plan.kind == "categorical":
            counts = _key_text(v).filter(keep).value_counts()
            keys = np.array(counts.field("values").to_pylist(), dtype=object)
            n = np.asarray(counts.field("counts").to_numpy(), dtype=np.int64)
            order = np.argsort(keys, kind="stable") if len(keys) else np.zeros(0, np.intp)
            found.append((keys[order], n[order]))
        elif plan.edges is None:
            found.append(_tally(v.value[keep] + 0.0))
        else:
            # bin j holds the values with j edges at or below them: [e_j, e_{j+1})
            at = np.searchsorted(np.asarray(plan.edges), v.value[keep], side="right")
            n = np.bincount(at, minlength=len(plan.edges) + 1).astype(np.int64)
            found.append((np.arange(len(n)), n))
    return found


def _add_counts(a: list[Tally], b: list[Tally]) -> list[Tally]:
    return [_add_tallies(x, y) for x, y in zip(a, b, strict=True)]


# --- plans and labels --------------------------------------------------------------


def _plan(
    client: Any,
    reference: RawSource,
    frame: Any,
    profiles: list[list[tuple[int, int, bool]]],
    columns: Sequence[str],
    options: RawOptions,
    na: tuple[str, ...],
) -> list[ColumnPlan]:
    """Each column's kind, and a binned one's edges (from the reference)."""
    plans = []
    for i, name in enumerate(columns):
        if name in options.categorical or any(p[i][2] for p in profiles):
            if name in options.edges:
                raise UsageError(
                    f"--edges {name}: the column is not numeric (a value is not a number)"
                )
            plans.append(ColumnPlan("categorical"))
            continue
        if name in options.edges:
            plans.append(ColumnPlan("binned", list(options.edges[name])))
            continue
        values = _run(
            client, reference, frame, _numbers_part, _add_tallies, _csv(reference), name, na
        )
        plans.append(_numeric_plan(reference, name, values, profiles, i, options.bins))
    return plans


def _numeric_plan(
    reference: RawSource,
    name: str,
    values: Tally,
    profiles: list[list[tuple[int, int, bool]]],
    i: int,
    bins: int,
) -> ColumnPlan:
    """Few values (at most ``bins`` distinct) or bins at the exact ranks
    k_j = ceil(j n / N): the first distinct value whose running count reaches k_j."""
    keys, counts = values
    finite = int(counts[np.isfinite(keys)].sum())
    if finite == 0 and any(p[i][1] < p[i][0] for p in profiles):
        raise InvalidDataError(
            f"{visible(reference.name)}: column {quote(name)} is numeric but has no finite "
            "value in the reference: no bins can be formed (give --edges or --categorical)"
        )
    if len(keys) <= bins:
        return ColumnPlan("numeric")
    running = np.cumsum(counts)  # int64: exact
    n = int(running[-1])
    ranks = np.array([-(-j * n // bins) for j in range(1, bins)], dtype=np.int64)
    chosen = keys[np.searchsorted(running, ranks, side="left")].tolist()
    return ColumnPlan("binned", sorted(set(chosen) - {float(keys[0])}))


def _aligned(counts: list[Tally], plan: ColumnPlan) -> tuple[list[str], Any, Any]:
    """A column's labels (missing left out) and each side's counts over them: text
    by code points, numbers by value, every bin by position."""
    ref = counts[0]
    cur = counts[1] if len(counts) > 1 else (ref[0][:0], ref[1][:0])
    if plan.kind == "binned":
        assert plan.edges is not None
        size = len(plan.edges) + 1
        r = np.zeros(size)
        c = np.zeros(size)
        r[ref[0].astype(np.intp)] = ref[1]
        c[cur[0].astype(np.intp)] = cur[1]
        return bin_labels(plan.edges), r, c
    keys = np.unique(np.concatenate([ref[0], cur[0]]))
    r = np.zeros(len(keys))
    c = np.zeros(len(keys))
    r[np.searchsorted(keys, ref[0])] = ref[1]
    c[np.searchsorted(keys, cur[0])] = cur[1]
    if plan.kind == "numeric":
        return [number_label(k) for k in keys.tolist()], r, c
    return [str(k) for k in keys.tolist()], r, c
