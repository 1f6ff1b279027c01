"""Results as JSON documents, in the spec's schemas: :func:`to_json`, chosen by the
result's type."""

from __future__ import annotations

from functools import singledispatch
from typing import TYPE_CHECKING, Any

from kldiv_cli.commands.results import (
    MEASURES,
    Check,
    Comparison,
    DriftColumn,
    DriftResult,
    DriftSide,
    EntropyResult,
    MatrixResult,
    MiResult,
    PairsResult,
)
from kldiv_cli.render.text import (
    dumps,
    entropy_blocks,
    entropy_extra,
    json_numbers,
    json_strings,
    number_rows,
    pairs_rows,
)

if TYPE_CHECKING:
    from kldiv_cli.commands.results import GTest


@singledispatch
def to_json(result: object) -> str:
    """The JSON document of ``result`` (one per command), ending with a newline."""
    raise TypeError(f"no JSON for a {type(result).__name__}")


def check_doc(check: Check) -> dict[str, Any]:
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
    doc["checks"] = [check_doc(c) for c in result.checks]
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


@to_json.register(Comparison)
def compare_json(result: Comparison) -> str:
    return dumps(compare_doc(result))


@to_json.register(MatrixResult)
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


@to_json.register(PairsResult)
def pairs_json(result: PairsResult) -> str:
    doc: dict[str, Any] = {
        "command": "pairs",
        "unit": result.unit,
        "pairs": [
            {"name": name, "measures": dict(zip(MEASURES, values, strict=True))}
            for name, values in pairs_rows(result)[:-2]
        ],
        "sum": {k: result.total(k) for k in MEASURES},
        "mean": {k: result.mean(k) for k in MEASURES},
        "checks": [{"pair": name, **check_doc(c)} for name, c in result.checks],
        "passed": result.passed,
        "warnings": result.warnings,
    }
    return dumps(doc)


@to_json.register(EntropyResult)
def entropy_json(result: EntropyResult) -> str:
    """The document ``dumps`` would write of the result, assembled from texts: for a
    million distributions a million dicts, and json_value over each, took seconds."""
    extra = entropy_extra(result)
    keys = ["n", "support", "entropy", *(extra[:1] if extra else ())]
    template = '{{"name": {}' + "".join(f', "{key}": {{}}' for key in keys) + "}}"
    blocks: list[str] = []
    for names, (n, support, *floats) in entropy_blocks(result):
        if any("nan" in column for column in (n, *floats)):
            raise ValueError("a NaN reached the output")  # as json.dumps(allow_nan=False)
        values = [json_numbers(n), support, *map(json_numbers, floats)]
        blocks += (", ", ", ".join(map(template.format, json_strings(names), *values)))
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


@to_json.register(MiResult)
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


def drift_column_doc(column: DriftColumn) -> dict[str, Any]:
    """One column of ``drift``'s ``"columns"``: P = CUR, Q = REF, so ``only_p`` is
    ``only_current`` and ``kl_pq`` is D(CUR||REF)."""
    result = column.comparison
    reference, current = column.support
    return {
        "column": column.column,
        "kind": column.kind,
        "bins": column.bins,
        # float() and int(): the engine may hand NumPy scalars, which json cannot write
        "edges": None if column.edges is None else [float(e) for e in column.edges],
        "n": {"reference": int(column.n[0]), "current": int(column.n[1])},
        "missing": {"reference": int(column.missing[0]), "current": int(column.missing[1])},
        "support": {
            "reference": reference,
            "current": current,
            "size": result.aligned.size,
            "only_current": result.only_p,
            "only_reference": result.only_q,
        },
        "measures": {key: result.measures[key] for key in MEASURES},
        "jsd_noise": float(column.jsd_noise),
        "test": None if result.test is None else test_doc(result.test),
        "contributions": result.contributions,
        "checks": [check_doc(c) for c in result.checks],
        "passed": column.passed,
    }


@to_json.register(DriftResult)
def drift_json(result: DriftResult) -> str:
    """The document of ``drift`` (the spec's "Raw observations and drift")."""
    return dumps(
        {
            "command": "drift",
            "unit": result.unit,
            "reference": _drift_side(result.reference),
            "current": _drift_side(result.current),
            "columns": [drift_column_doc(c) for c in result.columns],
            "skipped": result.skipped,
            "only_reference": result.only_reference,
            "only_current": result.only_current,
            "summary": {"columns": len(result.columns), "failed": len(result.failed)},
            "passed": result.passed,
            "warnings": result.warnings,
            "saved": result.saved,
        }
    )


def _drift_side(side: DriftSide) -> dict[str, Any]:
    return {"source": side.source, "rows": int(side.rows), "profile": side.profile}
