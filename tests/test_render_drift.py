"""The renderers of ``drift``'s result: JSON, CSV/TSV, the table, the failed checks.

The results are built by hand as the command builds them: each column's comparison is
``compare`` on two count vectors over the same labels, P = CUR and Q = REF. The
numbers are then checked against hand-derived values, the layout against the spec
(/work/shared/spec/cli.md, "Raw observations and drift") and the design's key order.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from typing import Any

import numpy as np
import pytest

from kldiv_cli import render
from kldiv_cli.commands.compare import compare
from kldiv_cli.commands.results import (
    MEASURES,
    Check,
    Comparison,
    DriftColumn,
    DriftResult,
    DriftSide,
)
from kldiv_cli.readers import Labels, Table
from kldiv_cli.render.text import number

# JSD of CUR = [1, 0] against REF = [1, 1], by hand: M = (3/4, 1/4), so
# JSD = H(M) - (H(CUR) + H(REF)) / 2 = (2 - (3/4) log2 3) - (0 + 1) / 2 bits.
JSD_HALF = 1.5 - 0.75 * math.log2(3)  # 0.31127812445913283
# G-test of homogeneity of the rows CUR [1, 0] and REF [1, 1]: expected counts
# CUR (2/3, 1/3), REF (4/3, 2/3); G = 2 (ln 1.5 + ln 0.75 + ln 1.5) = 2 ln 1.6875.
G_HALF = 2 * math.log(1.6875)
#: Relative tolerance of values computed by the core (numpy's log may differ in its
#: last bit between AVX-512 and AVX2 machines); the renderers themselves copy exactly.
REL = 1e-12


def column(
    name: str,
    labels: list[str],
    reference: list[float],
    current: list[float],
    *,
    kind: str = "categorical",
    edges: list[float] | None = None,
    missing: tuple[int, int] = (0, 0),
    noise: float = 0.01,
    checks: tuple[tuple[str, float], ...] = (),
    top: int | None = None,
    test: bool = False,
) -> DriftColumn:
    """One column of ``drift``, as the command makes it (see counted.compare_counts)."""
    shared = Labels.of(labels)
    tables = [
        Table(source=source, labels=shared, label_column=None, columns={name: np.array(v, float)})
        for source, v in (("cur.csv", current), ("ref.csv", reference))
    ]
    comparison = compare(
        tables,
        p_col=name,
        q_col=name,
        top=top,
        test=test,
        checks=[Check(measure, limit) for measure, limit in checks],
    )
    return DriftColumn(
        column=name,
        kind=kind,
        edges=edges,
        n=(float(sum(reference)), float(sum(current))),
        missing=missing,
        jsd_noise=noise,
        comparison=comparison,
    )


def two_columns(**options: Any) -> DriftResult:
    """``x``: CUR [1, 0] against REF [1, 1] (the hand-derived JSD); ``t``: a binned
    column that has not moved."""
    x = column("x", ["a", "b"], [1, 1], [1, 0], **options)
    t = column(
        "t",
        ["<1.5", "[1.5, 2.5)", ">=2.5"],
        [5, 5, 5],
        [5, 5, 5],
        kind="binned",
        edges=[1.5, 2.5],
        missing=(2, 0),
        noise=0.25,
        checks=options.get("checks", ()),
    )
    return DriftResult(
        unit="bits",
        reference=DriftSide("ref.csv", 17),
        current=DriftSide("cur.csv", 15),
        columns=[x, t],
        skipped=[{"column": "id", "reason": "identifier: 1500 distinct reference values"}],
        only_reference=["gone"],
        only_current=["new"],
        warnings=["column 'x': D(Q||P) is infinite: p = 0 < q at label 'b'"],
    )


def strict_json(text: str) -> Any:
    """The document, refusing the invalid literals Infinity and NaN."""

    def refuse(literal: str) -> None:
        raise AssertionError(f"{literal} in the JSON")

    return json.loads(text, parse_constant=refuse)


# --------------------------------------------------------------------------- JSON


def test_json_has_every_key_in_the_designs_order() -> None:
    doc = strict_json(render.to_json(two_columns(top=1, test=True, checks=(("jsd", 0.1),))))
    assert list(doc) == [
        "command",
        "unit",
        "reference",
        "current",
        "columns",
        "skipped",
        "only_reference",
        "only_current",
        "summary",
        "passed",
        "warnings",
        "saved",
    ]
    assert doc["command"] == "drift"
    assert doc["unit"] == "bits"
    assert doc["reference"] == {"source": "ref.csv", "rows": 17, "profile": False}
    assert doc["current"] == {"source": "cur.csv", "rows": 15, "profile": False}
    x = doc["columns"][0]
    assert list(x) == [
        "column",
        "kind",
        "bins",
        "edges",
        "n",
        "missing",
        "support",
        "measures",
        "jsd_noise",
        "test",
        "contributions",
        "checks",
        "passed",
    ]
    assert list(x["n"]) == list(x["missing"]) == ["reference", "current"]
    assert list(x["support"]) == ["reference", "current", "size", "only_current", "only_reference"]
    assert list(x["measures"]) == list(MEASURES)
    assert list(x["test"]) == ["name", "kind", "statistic", "df", "p_value"]
    assert list(x["contributions"][0]) == ["label", "p", "q", "kl_pq", "kl_qp", "jsd"]
    assert list(x["checks"][0]) == ["measure", "limit", "value", "passed"]
    assert doc["skipped"] == [
        {"column": "id", "reason": "identifier: 1500 distinct reference values"}
    ]
    assert doc["only_reference"] == ["gone"]
    assert doc["only_current"] == ["new"]
    assert doc["summary"] == {"columns": 2, "failed": 1}
    assert doc["passed"] is False
    assert doc["warnings"] == ["column 'x': D(Q||P) is infinite: p = 0 < q at label 'b'"]
    assert doc["saved"] is None


def test_json_values_of_a_column_by_hand() -> None:
    doc = strict_json(render.to_json(two_columns(top=2, test=True, checks=(("jsd", 0.1),))))
    x, t = doc["columns"]
    assert (x["column"], x["kind"], x["bins"], x["edges"]) == ("x", "categorical", None, None)
    assert x["n"] == {"reference": 2.0, "current": 1.0}
    assert x["missing"] == {"reference": 0, "current": 0}
    # P = CUR: the label only REF has is only_reference, and makes D(REF||CUR) infinite
    assert x["support"] == {
        "reference": 2,
        "current": 1,
        "size": 2,
        "only_current": [],
        "only_reference": ["b"],
    }
    m = x["measures"]
    assert m["jsd"] == pytest.approx(JSD_HALF, rel=REL)
    assert m["js_distance"] == pytest.approx(math.sqrt(JSD_HALF), rel=REL)
    assert m["kl_pq"] == pytest.approx(1.0, rel=REL)  # D(CUR||REF) = 1 log2(1 / (1/2))
    assert m["entropy_p"] == 0.0
    assert m["entropy_q"] == pytest.approx(1.0, rel=REL)
    assert m["cross_entropy_pq"] == pytest.approx(1.0, rel=REL)
    # infinity is the string "inf", never Infinity or null
    assert m["kl_qp"] == "inf"
    assert m["cross_entropy_qp"] == "inf"
    assert x["jsd_noise"] == 0.01
    assert x["test"]["name"] == "g-test"
    assert x["test"]["kind"] == "homogeneity"
    assert x["test"]["df"] == 1
    assert x["test"]["statistic"] == pytest.approx(G_HALF, rel=REL)
    # the contributions as compare gives them: b's JSD term is D(Q||M)'s half at b,
    # (1/2) (1/2) log2((1/2) / (1/4)) = 1/4 bit, and its kl_qp term is infinite
    b = next(row for row in x["contributions"] if row["label"] == "b")
    assert (b["p"], b["q"], b["kl_pq"], b["kl_qp"]) == (0.0, 0.5, 0.0, "inf")
    assert b["jsd"] == pytest.approx(0.25, rel=REL)
    assert x["checks"] == [{"measure": "jsd", "limit": 0.1, "value": m["jsd"], "passed": False}]
    assert x["passed"] is False
    # a binned column: bins = edges + 1; with no --top and no --test, null
    assert (t["kind"], t["bins"], t["edges"]) == ("binned", 3, [1.5, 2.5])
    assert t["missing"] == {"reference": 2, "current": 0}
    assert t["measures"]["jsd"] == 0.0
    assert (t["test"], t["contributions"]) == (None, None)
    assert t["checks"][0]["passed"] is True
    assert t["passed"] is True


def test_json_of_a_column_without_checks_passes_and_no_measure_is_null() -> None:
    result = two_columns()
    text = render.to_json(result)
    doc = strict_json(text)
    assert doc["passed"] is True
    assert doc["summary"] == {"columns": 2, "failed": 0}
    assert all(c["checks"] == [] and c["passed"] is True for c in doc["columns"])
    for c in doc["columns"]:
        assert all(isinstance(v, float) or v == "inf" for v in c["measures"].values())
    assert "NaN" not in text
    assert "Infinity" not in text
    assert text.endswith("}\n")
    assert text.count("\n") == 1


def test_json_of_a_profile_reference_that_was_saved() -> None:
    result = two_columns()
    result.reference = DriftSide("ref.profile.json", 17, profile=True)
    result.saved = "ref.profile.json"
    doc = strict_json(render.to_json(result))
    assert doc["reference"] == {"source": "ref.profile.json", "rows": 17, "profile": True}
    assert doc["saved"] == "ref.profile.json"


def test_json_takes_numpy_scalars_from_the_engine() -> None:
    # The counting engine hands NumPy scalars; json.dumps cannot write an np.int64.
    result = two_columns()
    c = result.columns[1]
    c.n = (np.float64(15.0), np.float64(15.0))  # type: ignore[assignment]
    c.missing = (np.int64(2), np.int64(0))  # type: ignore[assignment]
    c.edges = list(np.array([1.5, 2.5]))
    c.jsd_noise = np.float64(0.25)  # type: ignore[assignment]
    result.reference = DriftSide("ref.csv", np.int64(17))  # type: ignore[arg-type]
    doc = strict_json(render.to_json(result))
    t = doc["columns"][1]
    assert t["n"] == {"reference": 15.0, "current": 15.0}
    assert t["missing"] == {"reference": 2, "current": 0}
    assert t["edges"] == [1.5, 2.5]
    assert t["jsd_noise"] == 0.25
    assert doc["reference"]["rows"] == 17


def test_json_keeps_names_exactly() -> None:
    odd = 'caf\u00e9 \x1b[31m,"x"\n'
    result = DriftResult(
        "nats", DriftSide("r.csv", 2), DriftSide("c.csv", 2), [column(odd, ["a"], [2], [2])]
    )
    doc = strict_json(render.to_json(result))
    assert doc["columns"][0]["column"] == odd
    assert doc["unit"] == "nats"


# --------------------------------------------------------------------------- CSV / TSV

HEADER = ["column", "kind", "n_reference", "n_current", *MEASURES, "jsd_noise", "passed"]


@pytest.mark.parametrize("sep", [",", "\t"])
def test_delimited_is_one_row_per_column(sep: str) -> None:
    result = two_columns(checks=(("jsd", 0.1),))
    text = render.to_delimited(result, sep)
    assert isinstance(text, str)
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    assert rows[0] == HEADER
    assert len(rows) == 3
    x, t = (dict(zip(HEADER, row, strict=True)) for row in rows[1:])
    assert (x["column"], x["kind"], x["n_reference"], x["n_current"]) == (
        "x",
        "categorical",
        "2",  # rows, written as whole numbers
        "1",
    )
    measures = result.columns[0].comparison.measures
    for key in MEASURES:  # the shortest text that round-trips: the very value
        assert x[key] == number(measures[key])
        assert float(x[key]) == measures[key]
    assert float(x["jsd"]) == pytest.approx(JSD_HALF, rel=REL)
    assert x["kl_qp"] == "inf"
    assert x["jsd_noise"] == "0.01"
    assert x["passed"] == "false"
    assert (t["kind"], t["jsd"], t["jsd_noise"], t["passed"]) == ("binned", "0.0", "0.25", "true")
    assert "nan" not in text.lower()


@pytest.mark.parametrize("sep", [",", "\t"])
def test_delimited_quotes_an_odd_column_name(sep: str) -> None:
    name = f'a{sep}b "c"\nd'
    result = DriftResult(
        "bits", DriftSide("r.csv", 2), DriftSide("c.csv", 2), [column(name, ["a"], [2], [2])]
    )
    text = render.to_delimited(result, sep)
    assert isinstance(text, str)
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    assert rows[1][0] == name
    assert len(rows[1]) == len(HEADER)


def test_delimited_with_no_column_is_the_header_alone() -> None:
    result = DriftResult("bits", DriftSide("r.csv", 1), DriftSide("c.csv", 1), [])
    assert render.to_delimited(result, ",") == ",".join(HEADER) + "\n"


# --------------------------------------------------------------------------- table


def widths(text: str) -> list[int]:
    from rich.cells import cell_len

    return [cell_len(line.rstrip()) for line in text.splitlines()]


def test_table_shows_each_column_its_kind_and_numbers() -> None:
    text = render.to_table(two_columns(), width=160, color=False)
    assert "kldiv drift · REF → CUR · unit: bits" in text
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.startswith("│")}
    assert set(rows) >= {"x", "t"}
    x = [cell.strip() for cell in rows["x"].split("│")[1:-1]]
    # column, kind, n ref/cur, missing, JSD, noise, KL CUR||REF, KL REF||CUR, sqrt JSD
    assert x[:4] == ["x", "categorical", "2/1", "0/0"]
    assert float(x[4]) == pytest.approx(JSD_HALF, rel=1e-3)  # four significant digits
    assert x[4] == "0.3113"
    assert x[5:] == ["0.01", "1", "inf", f"{math.sqrt(JSD_HALF):.4g}"]
    t = [cell.strip() for cell in rows["t"].split("│")[1:-1]]
    assert t[:6] == ["t", "binned (3)", "15/15", "2/0", "0", "0.25"]
    assert "REF: ref.csv · 17 rows" in text
    assert "CUR: cur.csv · 15 rows" in text
    one = DriftResult("bits", DriftSide("r.csv", 1), DriftSide("c.csv", 1), [])
    assert "REF: r.csv · 1 row\n" in render.to_table(one, width=100, color=False)
    assert "skipped: id (identifier: 1500 distinct reference values)" in text
    assert "only in REF: gone" in text
    assert "only in CUR: new" in text
    assert "√JSD: the Jensen-Shannon distance" in text
    assert "divergences in bits" in text
    assert "check" not in text  # no --max: no check column, no verdict
    assert "\x1b" not in text  # color=False


def test_table_fits_100_columns_and_says_what_gave_way() -> None:
    # The penguins' longest name, 17 characters; --drop-missing left a value out of
    # REF (3 rows, n 2), so n is a column of its own: the JS distance gives way first.
    long = column("flipper_length_mm", ["a", "b"], [1, 1], [1, 0], checks=(("jsd", 0.1),))
    result = DriftResult("bits", DriftSide("r.csv", 3), DriftSide("c.csv", 1), [long])
    text = render.to_table(result, width=100, color=False)
    assert max(widths(text)) <= 100
    assert "│ flipper_length_mm │ categorical │     2/1 │" in text
    assert "(left out to fit 100 columns: '√JSD'; 109 columns show it" in text
    assert "FAIL" in text
    # narrower, the other measures give way in their order; the names and JSD stay
    narrow = render.to_table(result, width=64, color=False)
    assert max(widths(narrow)) <= 64
    assert "flipper_length_mm  categorical      2/1  0.3113   0.01  FAIL" in narrow
    gave_way = "'missing ref/cur', 'KL CUR‖REF', 'KL REF‖CUR', '√JSD'"
    assert gave_way in " ".join(narrow.split())
    # wide enough, nothing is left out
    wide = render.to_table(result, width=140, color=False)
    assert "left out" not in wide
    assert "√JSD" in wide.split("\n", 4)[3]  # the header's second line


def test_table_without_n_when_every_column_counts_every_row() -> None:
    # No --drop-missing: n is the rows on each side in every column; the line under
    # the table says so once, and the JS distance takes the room at 100 columns.
    long = column("flipper_length_mm", ["a", "b"], [1, 1], [1, 0])
    result = DriftResult("bits", DriftSide("r.csv", 2), DriftSide("c.csv", 1), [long])
    text = render.to_table(result, width=100, color=False)
    assert max(widths(text)) <= 100
    assert "ref/cur" in text  # the missing column's
    assert "│ flipper_length_mm │ categorical │     0/0 │ 0.3113 │" in text
    assert "√JSD" in text.split("\n", 4)[3]
    assert "left out" not in text
    assert "REF: r.csv · 2 rows, n of every column" in text
    assert "CUR: c.csv · 1 row, n of every column" in text


def test_table_marks_checks_and_says_which_columns_failed() -> None:
    text = render.to_table(two_columns(checks=(("jsd", 0.1),)), width=140, color=False)
    lines = text.splitlines()
    assert next(line for line in lines if line.startswith("│ x ")).rstrip("│ ").endswith("FAIL")
    assert next(line for line in lines if line.startswith("│ t ")).rstrip("│ ").endswith("pass")
    assert "checks: 1 of 2 columns failed: x" in text
    passing = render.to_table(two_columns(checks=(("jsd", 0.5),)), width=140, color=False)
    assert "checks: all 2 columns passed" in passing


def test_table_shows_top_labels_and_tests_per_column() -> None:
    text = render.to_table(two_columns(top=2, test=True), width=100, color=False)
    assert "labels that contribute most to each column's JSD" in text
    b = next(line for line in text.splitlines() if "│ b " in line)
    # label b: CUR 0, REF 0.5, JSD term 1/4 bit
    assert [cell.strip() for cell in b.split("│")[2:-1]] == ["b", "0", "0.5", "0.25"]
    assert "G-test of homogeneity, per column" in text
    g = next(line for line in text.splitlines() if line.startswith("│ x ") and "│  1 │" in line)
    assert f"{G_HALF:.4g}" in g  # 1.047
    assert max(widths(text)) <= 100


def test_table_names_the_columns_with_a_value_on_one_side_only() -> None:
    new = column("species", ["a", "z"], [2, 0], [1, 1])
    result = DriftResult("bits", DriftSide("r.csv", 2), DriftSide("c.csv", 2), [new])
    text = render.to_table(result, width=120, color=False)
    assert "KL CUR‖REF is infinite where CUR has a value REF never had: species" in text
    assert "KL REF‖CUR is infinite" not in text
    # x: b is in REF alone
    text = render.to_table(two_columns(), width=120, color=False)
    assert "KL REF‖CUR is infinite where REF has a value CUR never had: x" in text
    assert "KL CUR‖REF is infinite" not in text


def test_table_of_no_column_says_so() -> None:
    result = DriftResult(
        "nats",
        DriftSide("r.csv", 3),
        DriftSide("c.csv", 3),
        [],
        skipped=[{"column": "id", "reason": "identifier"}],
    )
    text = render.to_table(result, width=100, color=False)
    assert "no column was compared" in text
    assert "skipped: id (identifier)" in text
    assert "┏" not in text


def test_table_of_a_saved_profile() -> None:
    result = two_columns()
    result.reference = DriftSide("ref.json", 17, profile=True)
    result.saved = "ref.json"
    text = render.to_table(result, width=100, color=False)
    assert "REF: ref.json · 17 rows (a saved profile)" in text
    assert "REF's profile saved to ref.json" in text


def test_table_on_an_ascii_output_is_ascii_and_aligned(monkeypatch: pytest.MonkeyPatch) -> None:
    # PYTHONIOENCODING=ascii: the box, the arrow, ‖ and √ are spelled in ASCII, a
    # name's é and control characters escaped before the widths are measured.
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    odd = column("caf\u00e9\x1b[2J", ["a", "b"], [1, 1], [1, 0], checks=(("jsd", 0.1),))
    result = DriftResult(
        "bits", DriftSide("r\u00e9f.csv", 2), DriftSide("c.csv", 1), [odd], only_current=["n\u00e9"]
    )
    text = render.to_table(result, width=100, color=False)
    assert text.isascii(), [c for c in text if not c.isascii()]
    assert "kldiv drift - REF -> CUR - unit: bits" in text
    assert "caf\\xe9\\x1b[2J" in text
    assert "CUR||REF" in text
    assert "REF: r\\xe9f.csv - 2 rows" in text
    box = [line for line in text.splitlines() if line.startswith(("|", "+"))]
    assert len({len(line) for line in box}) == 1, box
    assert max(widths(text)) <= 100


def test_table_keeps_rich_markup_in_a_name_as_text() -> None:
    name = "[bold]x[/]"
    result = DriftResult(
        "bits", DriftSide("r.csv", 2), DriftSide("c.csv", 2), [column(name, ["a"], [2], [2])]
    )
    text = render.to_table(result, width=100, color=True)
    assert name in re.sub(r"\x1b\[[0-9;]*m", "", text)


# --------------------------------------------------------------------------- checks


def test_failed_checks_one_line_per_failing_column() -> None:
    x = column("x", ["a", "b"], [1, 1], [1, 0], checks=(("jsd", 0.1), ("kl_qp", 1.0)))
    ok = column("ok", ["a"], [1], [1], checks=(("jsd", 0.1),))
    y = column("y's", ["a", "b"], [1, 1], [1, 0], checks=(("jsd", 0.1), ("kl_pq", 5.0)))
    result = DriftResult("nats", DriftSide("r.csv", 2), DriftSide("c.csv", 1), [x, ok, y])
    jsd = number(x.comparison.measures["jsd"])
    assert render.failed_checks(result) == [
        f"check failed: column 'x': jsd = {jsd} > 0.1; kl_qp = inf > 1.0 (nats)",
        f'check failed: column "y\'s": jsd = {jsd} > 0.1 (nats)',
    ]


def test_failed_checks_of_an_infinite_value_against_an_infinite_limit() -> None:
    x = column("x", ["a", "b"], [1, 1], [1, 0], checks=(("kl_qp", math.inf),))
    result = DriftResult("bits", DriftSide("r.csv", 2), DriftSide("c.csv", 1), [x])
    assert render.failed_checks(result) == [
        "check failed: column 'x': kl_qp = inf, infinite, which fails every limit (bits)"
    ]


def test_no_failed_check_no_line() -> None:
    assert render.failed_checks(two_columns()) == []
    assert render.failed_checks(two_columns(checks=(("jsd", 0.5),))) == []


# --------------------------------------------------------------------------- dispatch


def test_drift_has_its_own_renderer_in_every_format() -> None:
    for entry in (render.to_json, render.to_delimited, render.to_table, render.failed_checks):
        mine = entry.dispatch(DriftResult)
        assert mine is not entry.dispatch(object), entry
        assert mine is not entry.dispatch(Comparison), entry
