"""``kldiv gauss``: Gaussians in closed form.

Two modes:

- :func:`pair`: two multivariate normals P and Q (each a mean and a covariance, from
  a JSON or CSV/TSV file, or inline ``MEAN,VARIANCE``): KL both ways, cross-entropy
  both ways and the differential entropy of each (:mod:`kldiv_cli.maths.gaussian`).
- :func:`vae`: a batch of rows ``mu_1..mu_d, logvar_1..logvar_d``, each row's
  D(N(mu, diag(exp(logvar))) || N(0, I)), and their mean, the KL term of a VAE's ELBO.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Final, cast

import numpy as np

from kldiv_cli.commands.common import ReadOptions, one_stdin, read_tables
from kldiv_cli.commands.results import GAUSS_MEASURES, Check, GaussResult, GaussSide, VaeResult
from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths import gaussian
from kldiv_cli.maths.core import unit_scale
from kldiv_cli.readers import (
    FloatArray,
    GaussianSpec,
    Table,
    number_hint,
    parse_number,
    read_gaussian,
)

#: The measure ``--max`` and ``--value`` take in the VAE mode: the batch mean.
VAE_MEASURES: Final = ("mean",)

#: A condition number beyond which a covariance is reported as nearly singular: its
#: inverse then loses more than 12 of float64's ~16 digits.
NEARLY_SINGULAR: Final = 1e12


def parse_check(text: str, measures: Sequence[str]) -> Check:
    """``kl_pq=0.1`` -> ``Check("kl_pq", 0.1)``, MEASURE one of ``measures``; a usage
    error for anything else."""
    measure, sep, limit = text.partition("=")
    measure = measure.strip()
    if not sep:
        raise UsageError(f"--max {text!r}: expected MEASURE=LIMIT, e.g. {measures[0]}=0.1")
    if measure not in measures:
        raise UsageError(
            f"--max {text!r}: unknown measure {measure!r}; choose {', '.join(measures)}"
        )
    value = parse_number(limit)
    if value is None or math.isnan(value):
        raise UsageError(f"--max {text!r}: the limit {limit!r} is not a number")
    return Check(measure, value)


# --------------------------------------------------------------------------- pair


def pair(
    p_source: str,
    q_source: str,
    read: ReadOptions,
    *,
    unit: str = "bits",
    checks: Sequence[str] = (),
) -> GaussResult:
    """``kldiv gauss P Q``: the six closed-form measures of two Gaussians, in ``unit``.

    Each covariance must be finite, symmetric (to
    :data:`~kldiv_cli.maths.gaussian.SYMMETRY_TOLERANCE` times its largest entry) and
    positive definite; P and Q must have the same dimension. Otherwise
    InvalidDataError (65) naming the source and the side.
    """
    parsed = [parse_check(text, GAUSS_MEASURES) for text in checks]
    scale = unit_scale(unit)
    one_stdin([p_source, q_source])
    specs = [
        read_gaussian(
            arg,
            input_format=read.input_format,
            no_header=read.no_header,
            delimiter=read.delimiter,
            stdin=read.stdin,
        )
        for arg in (p_source, q_source)
    ]
    p_spec, q_spec = specs
    if p_spec.dimensions != q_spec.dimensions:
        raise InvalidDataError(
            f"dimensions differ: P ({p_spec.source}) has {p_spec.dimensions} and "
            f"Q ({q_spec.source}) has {q_spec.dimensions}"
        )
    warnings: list[str] = []
    p = _gaussian(p_spec, "P", warnings)
    q = _gaussian(q_spec, "Q", warnings)
    nats = gaussian.measures(p, q)
    values = {key: nats[key] / scale for key in GAUSS_MEASURES}
    infinite = [key for key in GAUSS_MEASURES if math.isinf(values[key])]
    if infinite:
        warnings.append(
            f"{', '.join(infinite)} overflowed to infinity: the covariances or means are "
            "too far apart for float64"
        )
    result = GaussResult(
        unit,
        p_spec.dimensions,
        GaussSide(p_spec.source, p_spec.form),
        GaussSide(q_spec.source, q_spec.form),
        values,
        warnings=warnings,
    )
    result.checks = [Check(c.measure, c.limit, values[c.measure]) for c in parsed]
    return result


def _gaussian(spec: GaussianSpec, side: str, warnings: list[str]) -> gaussian.Gaussian:
    """The Gaussian of ``spec``, its covariance checked: positive variances, symmetry,
    positive definiteness; a warning when it is nearly singular."""
    cov = spec.cov
    if spec.form != "full":
        var = np.diag(cov)
        bad = np.flatnonzero(~(var > 0.0))
        if bad.size:
            j = int(bad[0])
            which = "variance" if spec.form == "inline" else f"variance {j + 1}"
            raise InvalidDataError(
                f"{spec.source}: {side}'s {which} is {float(var[j])!r}; a variance must be > 0"
            )
    else:
        pair_ = gaussian.asymmetry(cov)
        if pair_ is not None:
            i, j = pair_
            raise InvalidDataError(
                f"{spec.source}: {side}'s covariance is not symmetric: entry ({i + 1}, {j + 1}) "
                f"is {float(cov[i, j])!r} and entry ({j + 1}, {i + 1}) is {float(cov[j, i])!r} "
                f"(tolerance: {gaussian.SYMMETRY_TOLERANCE:g} times the largest |entry|)"
            )
    try:
        found = gaussian.Gaussian.of(spec.mean, cov)
    except gaussian.NotPositiveDefiniteError as e:
        raise InvalidDataError(f"{spec.source}: {side}'s covariance is {e.describe()}") from None
    if spec.dimensions > 1:
        condition = float(np.linalg.cond(cov))
        if condition > NEARLY_SINGULAR:
            warnings.append(
                f"{spec.source}: {side}'s covariance is nearly singular (condition number "
                f"{condition:.3g}): the measures may have lost most of their digits"
            )
    return found


# --------------------------------------------------------------------------- vae

_MU: Final = re.compile(r"(?:mu|mean)_?([0-9]+)", re.IGNORECASE | re.ASCII)
_LOGVAR: Final = re.compile(r"(?:logvar|log_var|lv)_?([0-9]+)", re.IGNORECASE | re.ASCII)


def vae(
    source: str,
    read: ReadOptions,
    *,
    unit: str = "bits",
    checks: Sequence[str] = (),
) -> VaeResult:
    """``kldiv gauss --vae FILE``: per row of ``source``, the KL divergence of
    N(mu, diag(exp(logvar))) from N(0, I), and their mean over the rows.

    Columns: by name, ``mu_J`` (or ``muJ``, ``mean_J``) with ``logvar_J`` (or
    ``logvarJ``, ``log_var_J``, ``lv_J``), paired by J and taken in J's order (any
    other numeric column is left out, with a warning); when no column has such a name,
    the numeric columns in their order, the first half mu and the second half logvar.
    A label column (``--label``, or a first column that is not numeric) names the rows.
    """
    parsed = [parse_check(text, VAE_MEASURES) for text in checks]
    scale = unit_scale(unit)
    (table,) = read_tables([source], read)
    warnings: list[str] = []
    if read.label is None:
        _refuse_inferred_label(table)
    mu_cols, lv_cols = _vae_columns(table, read.no_header, warnings)
    for name in (*mu_cols, *lv_cols):
        if table.columns[name] is None:
            raise InvalidDataError(table.problem(name))
    columns = cast(dict[str, FloatArray], table.columns)
    n = table.labels.size
    if n == 0:
        raise InvalidDataError(f"{table.source}: no rows")
    mu = np.column_stack([columns[c] for c in mu_cols])
    lv = np.column_stack([columns[c] for c in lv_cols])
    _require_finite(table, mu, mu_cols)
    _require_finite(table, lv, lv_cols)
    kl = gaussian.vae_kl(mu, lv, axis=1) / scale
    with np.errstate(over="ignore"):
        mean = float(kl.mean())
    if math.isinf(mean) and np.isfinite(kl).all():
        # finite rows whose sum overflows: each divided by n first
        mean = float((kl / n).sum())
    infinite = np.flatnonzero(np.isinf(kl))
    if infinite.size:
        first = int(infinite[0])
        warnings.append(
            f"{table.source}: {table.where(first)}: the KL term overflowed to infinity "
            f"(exp(logvar) or mu^2 beyond the float range)"
            + (f"; {infinite.size} rows like it" if infinite.size > 1 else "")
        )
    result = VaeResult(
        unit,
        table.source,
        table.labels.values,
        table.labels.positional,
        len(mu_cols),
        kl,
        mean,
        mu_cols,
        lv_cols,
        warnings=warnings,
    )
    result.checks = [Check(c.measure, c.limit, mean) for c in parsed]
    return result


def _refuse_inferred_label(table: Table) -> None:
    """A first column named like ``mu_J`` or ``logvar_J`` that the table reader took
    for the rows' labels (a cell of it is not a number: empty, ``NA``): refused, naming
    that cell, rather than read as labels (which left a logvar_J without its mu_J)."""
    name = table.label_column
    if name is None or not (_MU.fullmatch(name.strip()) or _LOGVAR.fullmatch(name.strip())):
        return
    labels = table.labels.values
    row = next((i for i, text in enumerate(labels) if parse_number(text) is None), None)
    if row is None:  # JSON strings that read as numbers: no cell to name
        raise InvalidDataError(
            f"{table.source}: column {name!r} holds text, read as the rows' labels; a "
            "mu or logvar needs a number in every row"
        )
    line = table.line_of(row)
    where = f"line {line}, " if line is not None else ""
    cell = labels[row]
    what = "is empty (or the row is short)" if cell == "" else "is not a number"
    raise InvalidDataError(
        f"{table.source}: {where}column {name!r}: {cell!r} {what}{number_hint(cell)}; a "
        "mu or logvar needs a number in every row"
    )


def _vae_columns(table: Table, no_header: bool, warnings: list[str]) -> tuple[list[str], list[str]]:
    """The mu and logvar columns, in the order of their dimension (see :func:`vae`)."""
    names = list(table.columns)
    mus: dict[int, str] = {}
    lvs: dict[int, str] = {}
    for name in names:
        for pattern, found in ((_MU, mus), (_LOGVAR, lvs)):
            match = pattern.fullmatch(name.strip())
            if match:
                j = int(match.group(1))
                if j in found:
                    raise InvalidDataError(
                        f"{table.source}: columns {found[j]!r} and {name!r} both name dimension {j}"
                    )
                found[j] = name
    if mus or lvs:
        if set(mus) != set(lvs):
            lone = sorted(set(mus) ^ set(lvs))
            j = lone[0]
            have, lack = (mus[j], "logvar") if j in mus else (lvs[j], "mu")
            raise InvalidDataError(
                f"{table.source}: column {have!r} has no {lack} column of dimension {j} "
                "(each mu_J goes with a logvar_J)"
            )
        used = set(mus.values()) | set(lvs.values())
        rest = [name for name in names if name not in used and table.columns[name] is not None]
        if rest:
            shown = ", ".join(repr(r) for r in rest[:5])
            warnings.append(
                f"{table.source}: column{'s' if len(rest) > 1 else ''} {shown} "
                f"{'are' if len(rest) > 1 else 'is'} neither mu_J nor logvar_J: left out"
            )
        order = sorted(mus)
        return [mus[j] for j in order], [lvs[j] for j in order]
    if len(names) % 2:
        raise InvalidDataError(
            f"{table.source}: {len(names)} columns: with no mu_J/logvar_J names, the first "
            "half are mu and the second half logvar, so their number must be even (a "
            "column of row names? give it as --label COL)"
        )
    d = len(names) // 2
    if not no_header:
        warnings.append(
            f"{table.source}: no column is named mu_J or logvar_J: the first {d} "
            f"({names[0]!r}...) are read as mu, the last {d} ({names[d]!r}...) as logvar"
        )
    return names[:d], names[d:]


def _require_finite(table: Table, values: FloatArray, columns: list[str]) -> None:
    """Refuse a NaN or infinite value, naming where it is."""
    if np.isfinite(values).all():
        return
    i, j = (int(x) for x in np.argwhere(~np.isfinite(values))[0])
    value = float(values[i, j])
    what = "is NaN" if math.isnan(value) else "is infinite (or beyond the float range)"
    raise InvalidDataError(f"{table.source}: {table.where(i, columns[j])}: value {value!r} {what}")
