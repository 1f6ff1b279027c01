"""Issue 15, item 9: tables of many columns, read and written without a loop per column.

The whole numbers of every column are read in place in a few vectorised passes (a
million columns took a million passes, 31 s); ``entropy``'s JSON and CSV/TSV are
assembled from texts written a column at a time (a million dicts and ``repr`` calls
took 7 s). Neither may change a value or a byte: the parse is checked against pandas
and against the grid read one column at a time, the output against the renderers it
replaced (kept here as the reference). Speed is measured by
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
from kldiv_cli.readers import tables as inputs
from kldiv_cli.readers.tables import _Grid, read_table

runner = CliRunner()

# --------------------------------------------------------------------------- reading

#: Whole numbers of 1 to 15 digits (read in place), leading zeros too.
whole_cell = st.one_of(
    st.integers(0, 10**15 - 1).map(str),
    st.integers(0, 999).map(lambda n: f"{n:06d}"),
)
#: Cells pandas reads as numbers but the in-place reader does not: they send the
#: whole table to pandas.
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
@given(wide_csv(), st.integers(1, 50), st.data())
def test_all_columns_at_once_equal_one_column_at_a_time(
    case: tuple[Any, ...], fields: int, data: Any
) -> None:
    text, header, cells, _, _ = case
    raw = text.encode()
    grid = _Grid.scan(raw, ",", len(header), False)
    assert grid is not None
    # Any increasing choice of columns (gaps, as a label column makes, anywhere).
    columns = sorted(data.draw(st.sets(st.integers(0, len(header) - 1), min_size=1)))
    # Blocks of any size, down to a field each: the same values in any cut.
    with mock.patch.object(inputs, "_FIELDS", fields):
        together = grid.whole_numbers(raw, columns)
    singly = [grid.whole_numbers(raw, [c]) for c in columns]
    texts = [[line[c] for line in cells] for c in columns]
    # Read in place: 1 to 15 ASCII digits (16 and more go to pandas, which rounds).
    if not all(re.fullmatch("[0-9]{1,15}", t) for column in texts for t in column):
        assert together is None
        assert any(one is None for one in singly)
        return
    assert together is not None
    assert together.shape == (len(columns), len(cells))
    for k, column in enumerate(texts):
        # The oracle: Python's int of each field's text (15 digits: exact in float64).
        want = [float(int(t)) for t in column]
        assert together[k].tolist() == want
        one = singly[k]
        assert one is not None
        assert one[0].tolist() == want


def test_a_wide_table_is_read_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # One row of 5,000 columns: one vectorised pass over the 5,000 fields, where
    # the reader made one per column (5,000 of them: 31 s for a million).
    calls = []
    read_whole = inputs._read_whole

    def counted(*args: Any) -> bool:
        calls.append(args[1].shape)
        return read_whole(*args)

    monkeypatch.setattr(inputs, "_read_whole", counted)
    text = ",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join(map(str, range(5000)))
    table = read_table("-", stdin=io.BytesIO(text.encode()))
    assert calls == [(5000, 1)]
    assert table.columns["c4999"] is not None
    assert table.columns["c4999"].tolist() == [4999.0]
    # A tall table goes by columns in blocks of about _FIELDS fields: a column each.
    calls.clear()
    monkeypatch.setattr(inputs, "_FIELDS", 100)
    tall = "a,b,c\n" + "".join(f"{i},{2 * i},{3 * i}\n" for i in range(150))
    table = read_table("-", stdin=io.BytesIO(tall.encode()))
    assert calls == [(1, 150)] * 3
    assert table.columns["c"] is not None
    assert table.columns["c"].tolist() == [3.0 * i for i in range(150)]


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
    # One cell 1.5: the table is read by pandas instead; the entropies are SciPy's.
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


# --------------------------------------------------------------------------- through pandas


def test_columns_pandas_reads_as_numbers_are_taken_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Decimals go through pandas; only a column it did not read as numbers is looked
    # at cell by cell (each one was: 10^6 iloc calls for a million columns).
    seen: list[list[str]] = []
    numeric_columns = inputs._numeric_columns

    def recorded(columns: dict[str, Any]) -> Any:
        seen.append(list(columns))
        return numeric_columns(columns)

    monkeypatch.setattr(inputs, "_numeric_columns", recorded)
    header = [f"c{i}" for i in range(2000)]
    row1 = [f"{i}.5" for i in range(2000)]
    row2 = [str(i) for i in range(2000)]
    row2[1500] = "x"
    text = "\n".join(map(",".join, [header, row1, row2])) + "\n"
    table = read_table("-", stdin=io.BytesIO(text.encode()))
    assert seen == [["c1500"]]
    assert table.columns["c1500"] is None
    assert (
        table.problem("c1500") == "<stdin>: line 3, column 'c1500', position 2: 'x' is not a number"
    )
    assert table.columns["c1999"] is not None
    assert table.columns["c1999"].tolist() == [1999.5, 1999.0]


@pytest.mark.parametrize("fields", [1, 7, 1 << 20])
def test_a_count_float64_cannot_hold_is_found_in_a_wide_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: int
) -> None:
    # 2^53 + 1 reads as 2^53: found in whichever block of columns it lies.
    monkeypatch.setattr(inputs, "_FIELDS", fields)
    path = wide_file(tmp_path, {(1, 2345): "9007199254740993"})
    result = runner.invoke(app, ["entropy", str(path), "--estimator", "miller-madow"])
    assert result.exit_code == 65, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"kldiv: error: {path}: line 3, column 'c2345', label 'b': --estimator miller-madow "
        "needs counts, and 9007199254740993 is not exactly representable"
    ), line
