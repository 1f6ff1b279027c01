"""Saved reference profiles (``drift --save-reference``): the counts of a reference's
columns with the labels and edges they were counted by, written and read as JSON.

A profile stands in for the reference's raw rows: the current rows are then counted
with the profile's kinds and edges. Its document::

    {"kldiv_profile": 1, "source": "ref.csv", "rows": 120,
     "options": {"bins": 10, "na": [...], "categorical": [...],
                 "edges": {"col": [e1, ...]}},
     "columns": [{"column": "x", "kind": "binned", "edges": [e1, ...],
                  "labels": ["<e1", ...], "counts": [3, ...], "missing": 2}],
     "skipped": [{"column": "id", "reason": "identifier: ..."}]}

``skipped`` (optional) lists the identifiers, which have no counts. ``labels`` and
``counts`` leave the missing values out (``missing`` counts them), so
that ``--drop-missing`` can be chosen when the profile is used. Every row of the
reference is a value or a missing value of each column: a column's counts and
missing add up to ``rows`` (so profiles merged by addition stay whole). Of the
options only ``na`` is used (CUR is counted with the same tokens); the others say
how the kinds and edges were found. A profile is known by its first key,
``"kldiv_profile"``, within the first bytes of the file.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from kldiv_cli.errors import InputMissingError, InvalidDataError, OutputError, visible
from kldiv_cli.readers.numbers import parse_number, quote

#: The version of the profile document this kldiv writes and reads.
PROFILE_VERSION: Final = 1
_KINDS: Final = ("categorical", "numeric", "binned")
_HEAD: Final = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"kldiv_profile"\s*:')


@dataclass(frozen=True)
class ProfileColumn:
    """One column of a profile: how it was counted and its counts (missing apart)."""

    column: str
    kind: str
    edges: list[float] | None
    labels: list[str]
    counts: list[int]
    missing: int


@dataclass(frozen=True)
class Profile:
    """A saved reference: its source, rows, the options it was counted with, and
    its columns in the reference's order."""

    source: str
    rows: int
    options: dict[str, Any]
    columns: list[ProfileColumn]
    #: The reference's columns skipped as identifiers, ``{"column", "reason"}``: they
    #: have no counts, and a profile skips them as the raw rows did.
    skipped: list[dict[str, str]] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        """The profile as the JSON document above."""
        return {
            "kldiv_profile": PROFILE_VERSION,
            "source": self.source,
            "rows": self.rows,
            "options": self.options,
            "columns": [
                {
                    "column": c.column,
                    "kind": c.kind,
                    "edges": None if c.edges is None else [_edge_doc(e) for e in c.edges],
                    "labels": c.labels,
                    "counts": c.counts,
                    "missing": c.missing,
                }
                for c in self.columns
            ],
            "skipped": self.skipped,
        }


def is_profile(source: str) -> bool:
    """Whether ``source`` is a file whose first key is ``"kldiv_profile"``."""
    path = Path(source)
    if source == "-" or not path.is_file():
        return False
    try:
        with path.open("rb") as f:
            head = f.read(256)
    except OSError:
        return False
    return _HEAD.match(head) is not None


def write_profile(path: str, profile: Profile) -> None:
    """Write ``profile`` to ``path`` (JSON, UTF-8, indented for a reader of diffs)."""
    import orjson

    text = orjson.dumps(profile.document(), option=orjson.OPT_INDENT_2) + b"\n"
    try:
        Path(path).write_bytes(text)
    except OSError as e:
        why = e.strerror or type(e).__name__
        raise OutputError(f"--save-reference {visible(path)}: cannot write ({why})") from None


def read_profile(source: str) -> Profile:
    """The profile saved in ``source``, checked whole: its version, rows (at least
    one), ``options.na`` (texts), every column's kind, edges (numbers or ``"inf"``,
    strictly increasing), labels (distinct, never ``(missing)``; a binned column's
    are its edges' bins) and counts (whole, not negative, one per label; with
    ``missing`` they add up to ``rows``).

    Raises
    ------
    InvalidDataError
        A document that is not a profile of this version, naming what is wrong.
    """
    import orjson

    name = visible(source)
    try:
        doc = orjson.loads(Path(source).read_bytes())
    except orjson.JSONDecodeError as e:
        raise InvalidDataError(f"{name}: not a valid profile: {e}") from None
    except OSError as e:
        raise InputMissingError(f"{name}: cannot read ({e.strerror})") from None

    def bad(what: str) -> InvalidDataError:
        return InvalidDataError(f"{name}: not a valid kldiv profile: {what}")

    version = doc.get("kldiv_profile") if isinstance(doc, dict) else None
    # ``type() is int``: JSON's true and 1.0 equal 1 in Python, but are not version 1.
    if type(version) is not int or version != PROFILE_VERSION:
        found = version
        raise bad(f"version {found!r}; this kldiv reads version {PROFILE_VERSION}")
    rows, options, columns = doc.get("rows"), doc.get("options"), doc.get("columns")
    if not isinstance(rows, int) or not _count(rows) or rows == 0:
        raise bad('"rows" must be a whole number, at least 1')
    if not isinstance(options, dict):
        raise bad('"options" must be an object')
    na = options.get("na")
    if na is not None and not (isinstance(na, list) and all(isinstance(t, str) for t in na)):
        raise bad('"options": "na" must be a list of texts')
    if not isinstance(columns, list) or not columns:
        raise bad('"columns" must be a list of columns')
    read = [_column(c, bad) for c in columns]
    for c in read:
        total = sum(c.counts) + c.missing
        if total != rows:
            raise bad(
                f"column {quote(c.column)}: its counts and missing values add up to "
                f"{total}, not the {rows} rows"
            )
    skipped = doc.get("skipped", [])
    if not isinstance(skipped, list) or not all(
        isinstance(s, dict)
        and isinstance(s.get("column"), str)
        and isinstance(s.get("reason"), str)
        for s in skipped
    ):
        raise bad('"skipped" must be a list of {"column", "reason"}')
    names = [c.column for c in read] + [s["column"] for s in skipped]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise bad(f"column {quote(twice[0])} is given twice")
    skips = [{"column": s["column"], "reason": s["reason"]} for s in skipped]
    return Profile(str(doc.get("source", source)), int(rows), options, read, skips)


def _edge_doc(edge: float) -> float | str:
    """An edge as JSON: infinity as ``"inf"`` (orjson would write ``null``). The
    quantiles put an edge at +inf when more than a bin's share of REF is +inf."""
    return edge if math.isfinite(edge) else repr(edge)


def _is_edge(x: Any) -> bool:
    if isinstance(x, str):
        return x in ("inf", "-inf")
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _count(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _column(doc: Any, bad: Any) -> ProfileColumn:
    # No DuckDB: raw imports it inside its queries.
    from kldiv_cli.readers.raw import MISSING, bin_labels, number_label

    if not isinstance(doc, dict) or not isinstance(doc.get("column"), str):
        raise bad('each column must be an object with a "column" name')
    column = doc["column"]
    where = f"column {quote(column)}"
    kind, edges = doc.get("kind"), doc.get("edges")
    labels, counts = doc.get("labels"), doc.get("counts")
    if kind not in _KINDS:
        raise bad(f"{where}: kind {kind!r}; expected one of {', '.join(_KINDS)}")
    if kind == "binned":
        if not isinstance(edges, list) or not all(_is_edge(e) for e in edges):
            raise bad(f'{where}: edges must be a list of numbers (an infinite one as "inf")')
        edges = [float(e) for e in edges]
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise bad(f"{where}: edges must be strictly increasing")
    elif edges is not None:
        raise bad(f"{where}: a {kind} column has no edges")
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise bad(f"{where}: labels must be a list of texts")
    if len(set(labels)) != len(labels):
        raise bad(f"{where}: a label is given twice")
    if MISSING in labels:
        # CUR's missing values would be counted as this label of REF's, or lost.
        raise bad(
            f'{where}: label {MISSING!r} is the label of missing values (count them in "missing")'
        )
    if isinstance(edges, list) and labels != bin_labels(edges):
        raise bad(f"{where}: the labels are not the bins of the edges")
    if kind == "numeric":
        for label in labels:
            value = parse_number(label)
            if value is None or math.isnan(value) or number_label(value) != label:
                raise bad(f"{where}: label {quote(label)} is not a number in its shortest form")
    if not isinstance(counts, list) or len(counts) != len(labels) or not all(map(_count, counts)):
        raise bad(f"{where}: counts must be whole numbers, not negative, one per label")
    missing = doc.get("missing", 0)
    if not _count(missing):
        raise bad(f"{where}: missing must be a whole number")
    return ProfileColumn(column, kind, edges, list(labels), [int(c) for c in counts], int(missing))


def profile_files(source: str) -> list[str]:
    """The profile files ``source`` names, or ``[]`` when it is not profiles: a file
    that is one, or a folder or glob whose first file is one (then every file must
    be: a mix of profiles and raw rows is an error)."""
    # The SOURCE's files as raw rows name them (raw_files loads on first use: it is
    # heavier than a profile needs at start-up).
    from kldiv_cli.readers.raw_files import files_of

    if source == "-":
        return []
    try:
        files = files_of(source)
    except InputMissingError:  # open_raw says so, as for any SOURCE
        return []
    if not files or not is_profile(files[0]):
        return []
    raw = [f for f in files if not is_profile(f)]
    if raw:
        raise InvalidDataError(
            f"{visible(raw[0])}: not a kldiv profile, but {visible(files[0])} of the same "
            f"SOURCE {visible(source)} is; give profiles or raw rows, not both"
        )
    return files


def joined_labels(column: ProfileColumn, labels: Iterable[str]) -> list[str]:
    """``column``'s labels and ``labels`` as one list, in the engine's order: every
    bin from the lowest, numbers by value, categories by code point."""
    if column.kind == "binned":
        return list(column.labels)
    union = set(column.labels) | set(labels)
    return sorted(union, key=float) if column.kind == "numeric" else sorted(union)


def add_profiles(profiles: list[Profile], names: list[str], source: str) -> Profile:
    """The sum of ``profiles`` (counted on many machines, or day by day): the same
    columns, kinds, edges and options, with counts, missing values and rows added,
    labels joined (a category or value one of them lacks counts 0 there).

    .. math:: c_{\\mathrm{sum}}(\\ell) = \\sum_i c_i(\\ell)

    Raises
    ------
    InvalidDataError
        Profiles of different columns, kinds, edges or counting options, naming the
        file and the column: counts of different bins do not add.
    """
    first, name0 = profiles[0], visible(names[0])
    for profile, name in zip(profiles[1:], names[1:], strict=True):
        where = f"{visible(name)} does not add to {name0}"
        if [c.column for c in profile.columns] != [c.column for c in first.columns]:
            raise InvalidDataError(f"{where}: its columns differ")
        if [s["column"] for s in profile.skipped] != [s["column"] for s in first.skipped]:
            raise InvalidDataError(f"{where}: the columns it skipped as identifiers differ")
        for key in ("bins", "na", "categorical", "edges"):
            if profile.options.get(key) != first.options.get(key):
                raise InvalidDataError(f"{where}: it was counted with another {key!r} option")
        for a, b in zip(first.columns, profile.columns, strict=True):
            if (a.kind, a.edges) != (b.kind, b.edges):
                raise InvalidDataError(
                    f"{where}: column {quote(a.column)} is {b.kind}"
                    f"{'' if b.edges is None else f' with edges {b.edges}'} there, "
                    f"{a.kind}{'' if a.edges is None else f' with edges {a.edges}'} in {name0}"
                )
    columns = []
    for i, column in enumerate(first.columns):
        total: dict[str, int] = {}
        for profile in profiles:
            c = profile.columns[i]
            for label, n in zip(c.labels, c.counts, strict=True):
                total[label] = total.get(label, 0) + n
        labels = joined_labels(column, total)
        columns.append(
            ProfileColumn(
                column=column.column,
                kind=column.kind,
                edges=column.edges,
                labels=labels,
                counts=[total[label] for label in labels],
                missing=sum(p.columns[i].missing for p in profiles),
            )
        )
    rows = sum(p.rows for p in profiles)
    return Profile(source, rows, dict(first.options), columns, list(first.skipped))


def read_profiles(source: str) -> Profile | None:
    """The profile ``source`` names, the sum of several (a folder or glob of
    profiles, see :func:`add_profiles`), or None when it names raw rows."""
    files = profile_files(source)
    if not files:
        return None
    profiles = [read_profile(f) for f in files]
    if len(profiles) == 1:
        return profiles[0]
    return add_profiles(profiles, files, source)
