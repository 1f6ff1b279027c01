"""Issue 15, item 9: tables of many columns, read and written without a loop per column.

A wide table is read by the stdlib csv module in one pass over its records (a million
columns once took a million passes, 31 s), a large tall one by pyarrow.csv; ``entropy``'s
JSON and CSV/TSV are assembled from texts written a column at a time (a million dicts
and ``repr`` calls took 7 s). Neither may change a value or a byte: the parse is
checked against pandas and the two readers against each other, the output against the
renderers it replaced (kept here as the reference). Speed is measured by
``benchmarks/wide_entropy.py``, not here.
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kldiv_cli import render
from kldiv_cli.cli import app
from kldiv_cli.commands.results import EntropyResult
from kldiv_cli.readers import columnar, delimited
from kldiv_cli.readers import table as table_module
from kldiv_cli.readers.sources import Held
from kldiv_cli.readers.tables import read_table

runner = CliRunner()

# --------------------------------------------------------------------------- reading

#: Whole numbers of 1 to 15 digits, leading zeros too.
whole_cell = st.one_of(
    st.integers(0, 10**15 - 1).map(str),
    st.integers(0, 999).map(lambda n: f"{n:06d}"),
)
#: Cells that are numbers in kldiv's grammar but not plain ones: the library path may
#: leave them to the csv module.
other_cell = st.sampled_from(["1.5", "2e3", "+4", " 7", "0.25", "1000000000000000", "3."])


@st.composite
def wide_csv(draw: Any) -> tuple[str, list[str], list[list[str]], bool, bool]:
    """A CSV of random shape: its text, its header, its cells by row, whether it has a
    label column and whether every data cell is a whole number of 1-15 digits."""
    rows = draw(st.integers(1, 5))
    cols = draw(st.integers(1, 40))
    labelled = draw(st.booleans())
    odd = draw(st.sets(st.integers(0, cols - 1), max_size=3))  # columns not all whole
    cells = []
    for r in range(rows):
        row = [f"w{r}"] if labelled else []
        for c in range(cols):
            row.append(draw(other_cell if c in odd and r == rows - 1 else whole_cell))
        cells.append(row)
    header = (["id"] if labelled else []) + [f"c{c}" for c in range(cols)]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(",".join(line) for line in [header, *cells])
    if draw(st.booleans()):
        text += newline
    return text, header, cells, labelled, not odd


@settings(max_examples=200, deadline=None)
@given(wide_csv())
def test_every_shape_reads_as_pandas_reads_it(case: tuple[Any, ...]) -> None:
    import pandas as pd

    text, header, _, labelled, _ = case
    table = read_table("-", stdin=io.BytesIO(text.encode()))
    frame = pd.read_csv(io.StringIO(text), dtype={"id": str}, na_filter=False)
    data = header[1:] if labelled else header
    assert list(table.columns) == data
    for name in data:
        got = table.columns[name]
        assert got is not None
        # Exact: a whole number of up to 15 digits, or a decimal that both read with
        # the same correctly rounded parse, is the same float64 to the last bit.
        assert np.array_equal(got, frame[name].to_numpy(np.float64)), name
    if labelled:
        assert table.labels.values == frame["id"].tolist()


@settings(max_examples=300, deadline=None)
@given(wide_csv())
def test_the_library_reads_what_it_takes_as_the_csv_module_does(case: tuple[Any, ...]) -> None:
    # The two readers of a CSV: pyarrow.csv for large inputs, the csv module for the
    # rest and for whatever the library leaves. Where the library takes a table, both
    # give the same float64 of every cell (both round correctly), the same labels and
    # the same lines; the oracle is Python's float() of each cell's text.
    text, header, cells, labelled, _ = case
    raw = text.encode()
    label_idx = 0 if labelled else None
    strict = delimited._stdlib_table("t", raw, ",", header, False, label_idx)
    fast = columnar.csv_table("t", Held(raw), ",", header, False, label_idx)
    data = header[1:] if labelled else header
    for k, name in enumerate(data):
        want = [float(line[k + labelled]) for line in cells]
        got = strict.columns[name]
        assert got is not None
        assert got.tolist() == want
        if fast is not None:
            got = fast.columns[name]
            assert got is not None
            assert got.tolist() == want
    if fast is not None:
        assert fast.labels.values == strict.labels.values
        assert [fast.line_of(r) for r in range(len(cells))] == list(range(2, len(cells) + 2))
    # Plain digits under a plain header: the library path must take it.
    plain = all(re.fullmatch("[0-9]+", c) for line in cells for c in line[labelled:])
    assert fast is not None or not plain


def test_a_wide_table_is_read_by_the_csv_module_in_one_pass() -> None:
    # One row of 5,000 columns: the csv module reads it as one record (the library
    # costs per column, so a table wider than LIBRARY_WIDEST never goes to it).
    assert delimited.LIBRARY_WIDEST < 5000
    text = ",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join(map(str, range(5000)))
    got = read_table("-", stdin=io.BytesIO(text.encode()))
    assert got.columns["c4999"] is not None
    assert got.columns["c4999"].tolist() == [4999.0]
    assert got.labels.positional


# --------------------------------------------------------------------------- errors


def wide_file(tmp_path: Path, cells: dict[tuple[int, int], str], labelled: bool = True) -> Path:
    """Two rows of 3,000 columns ``c0`` ... (labels ``a``, ``b``), counts 1, 2, ...,
    with ``cells`` (row, column) replaced."""
    lines = [(["id"] if labelled else []) + [f"c{i}" for i in range(3000)]]
    for r, name in enumerate("ab"):
        row = [cells.get((r, i), str(i + 1 + r)) for i in range(3000)]
        lines.append(([name] if labelled else []) + row)
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(map(",".join, lines)) + "\n")
    return path


@pytest.mark.parametrize(
    ("cell", "labelled", "message"),
    [
        ("x", True, "wide.csv: line 3, column 'c2345', label 'b': 'x' is not a number"),
        ("", True, "wide.csv: line 3, column 'c2345', label 'b': '' is empty"),
        ("-5", True, "wide.csv: line 3, column 'c2345', label 'b': value -5.0 is negative"),
        ("1_0", False, "wide.csv: line 3, column 'c2345', position 2: '1_0' is not a number"),
    ],
)
def test_a_bad_cell_of_a_wide_table_is_named(
    tmp_path: Path, cell: str, labelled: bool, message: str
) -> None:
    path = wide_file(tmp_path, {(1, 2345): cell}, labelled)
    for fmt in ("json", "tsv"):
        result = runner.invoke(app, ["entropy", str(path), "--format", fmt])
        assert result.exit_code == 65, result.stderr
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"kldiv: error: {tmp_path}/{message}"), line


def test_a_wide_table_with_one_decimal_gives_the_same_entropies(tmp_path: Path) -> None:
    # One cell 1.5 among whole numbers; the entropies are SciPy's.
    path = wide_file(tmp_path, {(1, 7): "1.5"})
    result = runner.invoke(app, ["entropy", str(path), "--format", "json", "--unit", "nats"])
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)["distributions"]
    assert [d["name"] for d in got] == [f"c{i}" for i in range(3000)]
    for i in (0, 7, 2999):
        column = [i + 1.0, 1.5 if i == 7 else i + 2.0]
        assert got[i]["n"] == sum(column)
        # Tolerance: SciPy and kldiv sum the logs in their own order.
        assert got[i]["entropy"] == pytest.approx(scipy.stats.entropy(column), rel=1e-13)


# --------------------------------------------------------------------------- writing


def reference_json(result: EntropyResult) -> str:
    """``entropy_json`` as it was: a dict per distribution, through json.dumps."""
    extra = render.text.entropy_extra(result)
    distributions = []
    for i, name in enumerate(result.names):
        doc = {
            "name": name,
            "n": float(result.n[i]),
            "support": int(result.support[i]),
            "entropy": float(result.entropy[i]),
        }
        if extra:
            doc[extra[0]] = float(extra[1][i])
        distributions.append(doc)
    return render.text.dumps(
        {
            "command": "entropy",
            "unit": result.unit,
            "estimator": result.estimator,
            "bins": result.bins,
            "distributions": distributions,
            "warnings": result.warnings,
        }
    )


def reference_delimited(result: EntropyResult, sep: str) -> str:
    """``entropy_delimited`` as it was: ``number`` and ``_cell`` one value at a time."""
    extra = render.text.entropy_extra(result)
    out = [sep.join(("name", "n", "support", "entropy", *(extra[:1] if extra else ())))]
    for i, name in enumerate(result.names):
        cells = [
            render.text.cell(name, sep),
            render.text.number(float(result.n[i])),
            str(int(result.support[i])),
            render.text.number(float(result.entropy[i])),
        ]
        if extra:
            cells.append(render.text.number(float(extra[1][i])))
        out.append(sep.join(cells))
    return "\n".join(out) + "\n"


#: Every magnitude's spelling: 0, -0.0, subnormals, 1e-5 (repr's 1e-05), 1e16
#: (repr's 1e+16), infinity.
values = st.one_of(
    st.floats(allow_nan=False),
    st.sampled_from([0.0, -0.0, 5e-324, 1e-5, 1e-4, 0.1, 1e15, 1e16, 1.5e300, math.inf]),
)
#: Names holding what JSON and CSV escape: quotes, backslashes, control characters,
#: separators, line ends; and text beyond ASCII.
names = st.text(
    st.one_of(
        st.sampled_from(list('",\t\n\r\\\x00\x1f\x7f é€😀')),
        st.characters(codec="utf-8"),
    ),
    max_size=6,
)


@st.composite
def entropy_results(draw: Any) -> EntropyResult:
    k = draw(st.integers(0, 12))
    floats = st.lists(values, min_size=k, max_size=k).map(np.array)
    extra = draw(st.sampled_from([None, "std", "lam"]))
    return EntropyResult(
        unit=draw(st.sampled_from(["bits", "nats"])),
        estimator=draw(st.sampled_from(["plugin", "nsb", "shrink"])),
        names=draw(st.lists(names, min_size=k, max_size=k)),
        n=draw(floats),
        support=np.array(draw(st.lists(st.integers(0, 10**12), min_size=k, max_size=k))),
        entropy=draw(floats),
        warnings=draw(st.lists(names, max_size=2)),
        std=draw(floats) if extra == "std" else None,
        lam=draw(floats) if extra == "lam" else None,
        bins=draw(st.integers(1, 10**6)),
    )


@settings(max_examples=300, deadline=None)
@given(entropy_results(), st.integers(1, 5))
def test_entropy_output_is_byte_identical_to_the_reference(
    result: EntropyResult, block: int
) -> None:
    with mock.patch.object(render.text, "BLOCK", block):  # blocks joined at any cut
        assert render.to_json(result) == reference_json(result)
        for sep in (",", "\t", ";"):
            assert render.to_delimited(result, sep) == reference_delimited(result, sep)


def test_a_nan_never_reaches_json_and_is_spelled_in_csv() -> None:
    result = EntropyResult(
        "bits",
        "nsb",
        ["a", "b"],
        np.array([1.0, 2.0]),
        np.array([1, 1]),
        np.array([0.5, 0.25]),
        std=np.array([math.nan, 0.0]),
    )
    with pytest.raises(ValueError):
        reference_json(result)
    with pytest.raises(ValueError):
        render.to_json(result)
    assert render.to_delimited(result, ",") == reference_delimited(result, ",")
    assert render.to_delimited(result, ",").splitlines()[1] == "a,1.0,1,0.5,nan"


def test_a_wide_table_through_the_program(tmp_path: Path) -> None:
    # 3,000 columns of two counts each, i + 1 and i + 2: n = 2i + 3, support 2, and
    # the entropy of (i + 1, i + 2), SciPy's to rounding.
    path = wide_file(tmp_path, {})
    result = runner.invoke(app, ["entropy", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["bins"] == 2
    assert len(doc["distributions"]) == 3000
    for i, d in enumerate(doc["distributions"]):
        assert (d["name"], d["n"], d["support"]) == (f"c{i}", 2 * i + 3.0, 2)
        # Tolerance: SciPy and kldiv sum the logs in their own order.
        want = scipy.stats.entropy([i + 1, i + 2], base=2)
        assert d["entropy"] == pytest.approx(want, rel=1e-13)
    tsv = runner.invoke(app, ["entropy", str(path), "--format", "tsv"])
    assert tsv.exit_code == 0
    lines = tsv.stdout.splitlines()
    assert lines[0] == "name\tn\tsupport\tentropy"
    assert lines[1:] == [
        f"{d['name']}\t{d['n']!r}\t2\t{d['entropy']!r}" for d in doc["distributions"]
    ]


# --------------------------------------------------------------------------- a bad cell


def test_one_bad_cell_of_a_wide_table_leaves_the_other_columns_read() -> None:
    header = [f"c{i}" for i in range(2000)]
    row1 = [f"{i}.5" for i in range(2000)]
    row2 = [str(i) for i in range(2000)]
    row2[1500] = "x"
    text = "\n".join(map(",".join, [header, row1, row2])) + "\n"
    got = read_table("-", stdin=io.BytesIO(text.encode()))
    assert got.columns["c1500"] is None
    want = "<stdin>: line 3, column 'c1500', position 2: 'x' is not a number"
    assert got.problem("c1500") == want
    assert got.numeric == [c for c in header if c != "c1500"]
    assert got.columns["c1999"] is not None
    assert got.columns["c1999"].tolist() == [1999.5, 1999.0]


@pytest.mark.parametrize("fields", [1, 7, 1 << 20])
def test_a_count_float64_cannot_hold_is_found_in_a_wide_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: int
) -> None:
    # 2^53 + 1 reads as 2^53: found in whichever block of columns it lies.
    monkeypatch.setattr(table_module, "FIELDS", fields)
    path = wide_file(tmp_path, {(1, 2345): "9007199254740993"})
    result = runner.invoke(app, ["entropy", str(path), "--estimator", "miller-madow"])
    assert result.exit_code == 65, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"kldiv: error: {path}: line 3, column 'c2345', label 'b': --estimator miller-madow "
        "needs counts, and 9007199254740993 is not exactly representable"
    ), line
