"""--engine dask: the same ColumnCounts as the embedded engine, on a local cluster.

Every test compares the two engines on the same files, exactly (kinds, edges, labels,
counts, missing, rows): the counts are whole numbers and the edges data values, so
equality, not a tolerance, is the contract. A few tests also pin a hand-derived value
so that two engines that agree on a wrong answer still fail. The cluster (two worker
processes, one thread each) is started once for the module: the engine is given its
address, as ``--scheduler`` would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.readers.raw import ColumnCounts, ColumnPlan, RawOptions, count_columns, open_raw

distributed = pytest.importorskip("distributed")
raw_dask = pytest.importorskip("kldiv_cli.readers.raw_dask")

pytestmark = pytest.mark.slow  # a cluster of two processes: ~5 s to start, ~25 s in all


@pytest.fixture(scope="module")
def scheduler() -> Any:
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    yield cluster.scheduler_address
    cluster.close()


def same(a: list[ColumnCounts], b: list[ColumnCounts]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x.column, x.kind, x.edges, x.labels) == (y.column, y.kind, y.edges, y.labels)
        np.testing.assert_array_equal(x.reference, y.reference)
        np.testing.assert_array_equal(x.current, y.current)
        assert (x.missing, x.rows, x.distinct) == (y.missing, y.rows, y.distinct)


def both(
    scheduler: str,
    ref: str,
    cur: str | None,
    columns: list[str],
    options: RawOptions | None = None,
    **kw: Any,
) -> list[ColumnCounts]:
    options = options or RawOptions()
    r = open_raw(ref, options)
    c = open_raw(cur, options) if cur is not None else None
    embedded = count_columns(r, c, columns, options, **kw)
    on_dask = raw_dask.count_columns(r, c, columns, options, scheduler=scheduler, **kw)
    same(embedded, on_dask)
    return on_dask


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_categorical_unseen_both_ways(scheduler: str, tmp_path: Path) -> None:
    ref = write(tmp_path / "r.csv", "s\na\na\nb\nc\n")
    cur = write(tmp_path / "c.csv", "s\na\nd\nd\n")
    (found,) = both(scheduler, ref, cur, ["s"])
    assert found.labels == ["a", "b", "c", "d"]
    assert found.reference.tolist() == [2, 1, 1, 0]
    assert found.current.tolist() == [1, 0, 0, 2]


def test_numeric_few_values_and_negative_zero(scheduler: str, tmp_path: Path) -> None:
    ref = write(tmp_path / "r.csv", "x\n1\n-0.0\n0\n2.50\n 1 \n")
    cur = write(tmp_path / "c.csv", "x\n3\n1e0\n")
    (found,) = both(scheduler, ref, cur, ["x"])
    assert found.kind == "numeric"
    assert found.labels == ["0", "1", "2.5", "3"]
    assert found.reference.tolist() == [2, 2, 1, 0]


def test_binned_ties_at_edges(scheduler: str, tmp_path: Path) -> None:
    values = [1, 2, 2, 2, 3, 4, 5, 5, 5, 5, 6, 7]
    ref = write(tmp_path / "r.csv", "x\n" + "\n".join(map(str, values)) + "\n")
    cur = write(tmp_path / "c.csv", "x\n2\n5\n-inf\ninf\n0\n")
    (found,) = both(scheduler, ref, cur, ["x"], RawOptions(bins=3))
    # n = 12, N = 3: ranks 4 and 8, the 4th and 8th smallest: 2 and 5
    assert found.edges == [2.0, 5.0]
    assert found.reference.tolist() == [1, 5, 6]
    assert found.current.tolist() == [2, 1, 2]


def test_missing_tokens_and_drop_missing(scheduler: str, tmp_path: Path) -> None:
    ref = write(tmp_path / "r.csv", "x,s\n1,a\nNA,\nnan,null\n2,?\n")
    cur = write(tmp_path / "c.csv", "x,s\n,b\nNaN,a\n")
    found = both(scheduler, ref, cur, ["x", "s"])
    assert [f.missing for f in found] == [(2, 2), (2, 0)]
    assert found[1].labels == ["?", "a", "b", "(missing)"]
    dropped = both(scheduler, ref, cur, ["x", "s"], RawOptions(drop_missing=True))
    assert "(missing)" not in dropped[0].labels
    tokens = both(scheduler, ref, cur, ["s"], RawOptions(na=("?",)))
    assert tokens[0].labels == ["a", "b", "null", "(missing)"]


def test_numeric_in_ref_text_in_cur(scheduler: str, tmp_path: Path) -> None:
    ref = write(tmp_path / "r.csv", "x\n1\n2\n3\n")
    cur = write(tmp_path / "c.csv", "x\n1\nthree\n")
    (found,) = both(scheduler, ref, cur, ["x"])
    assert found.kind == "categorical"
    assert found.labels == ["1", "2", "3", "three"]


def test_parquet_and_globs(scheduler: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for k in range(3):
        frame = pd.DataFrame(
            {
                "v": rng.normal(size=200).round(2),
                "n": rng.integers(0, 4, 200),
                "s": rng.choice(["a", "b", None], 200),
            }
        )
        frame.loc[::17, "v"] = np.nan
        frame.to_parquet(tmp_path / f"r{k}.parquet")
        frame.iloc[:50].to_csv(tmp_path / f"c{k}.csv", index=False)
    found = both(scheduler, str(tmp_path / "r*.parquet"), str(tmp_path / "c*.csv"), ["v", "n", "s"])
    assert [f.kind for f in found] == ["binned", "numeric", "categorical"]
    assert found[0].rows == (600, 150)
    both(scheduler, str(tmp_path / "c*.csv"), str(tmp_path / "r*.parquet"), ["v", "n", "s"])


def test_fixed_plans_and_text_against_them(scheduler: str, tmp_path: Path) -> None:
    cur = write(tmp_path / "c.csv", "x,s\n1\t,a\n5,b\n9,\n")
    plans = [ColumnPlan("binned", [2.0, 6.0]), ColumnPlan("categorical")]
    found = both(scheduler, cur, None, ["x", "s"], plans=plans)
    assert found[0].reference.tolist() == [1, 1, 1]
    text = write(tmp_path / "t.csv", "x,s\nten,a\n")
    options = RawOptions()
    with pytest.raises(InvalidDataError, match="not a number"):
        raw_dask.count_columns(
            open_raw(text, options), None, ["x", "s"], options, plans=plans, scheduler=scheduler
        )


def test_identifiers(scheduler: str, tmp_path: Path) -> None:
    ref = write(tmp_path / "r.csv", "id,s\n" + "".join(f"u{k},a\n" for k in range(30)))
    cur = write(tmp_path / "c.csv", "id,s\nu1,a\n")
    found = both(scheduler, ref, cur, ["id", "s"], identifiers=20)
    assert [(f.kind, f.distinct) for f in found] == [("identifier", 30), ("categorical", 1)]
    kept = both(scheduler, ref, cur, ["id", "s"], identifiers=20, keep=["id"])
    assert kept[0].kind == "categorical"


def test_ragged_row_is_a_data_error(scheduler: str, tmp_path: Path) -> None:
    options = RawOptions()
    for body in ("a,b\n1,2\n3\n", "a,b\n1,2\n3,4,5\n"):
        ref = write(tmp_path / "r.csv", body)
        with pytest.raises(InvalidDataError, match=r"r\.csv: .*Expected 2 (columns|fields)"):
            raw_dask.count_columns(
                open_raw(ref, options), None, ["a"], options, scheduler=scheduler
            )


cells = st.one_of(
    st.sampled_from(["", "NA", "nan", "-0.0", "0", "1", "1.5", " 2 ", "inf", "-inf", "x", "y"]),
    st.integers(-5, 5).map(str),
    st.floats(-10, 10, allow_nan=False).map(repr),
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ref=st.lists(st.tuples(cells, cells), min_size=1, max_size=40),
    cur=st.lists(st.tuples(cells, cells), min_size=1, max_size=40),
    bins=st.integers(2, 5),
    numeric_only=st.booleans(),
)
def test_random_tables_agree(
    scheduler: str,
    tmp_path: Path,
    ref: list[tuple[str, str]],
    cur: list[tuple[str, str]],
    bins: int,
    numeric_only: bool,
) -> None:
    def text(rows: list[tuple[str, str]]) -> str:
        if numeric_only:  # letters make a column categorical: half the runs bin instead
            rows = [tuple("7" if c in ("x", "y") else c for c in r) for r in rows]  # type: ignore[misc]
        return "a,b\n" + "".join(f"{a},{b}\n" for a, b in rows)

    r = write(tmp_path / "r.csv", text(ref))
    c = write(tmp_path / "c.csv", text(cur))
    options = RawOptions(bins=bins)
    refused = []
    for count in (count_columns, raw_dask.count_columns):
        extra = {} if count is count_columns else {"scheduler": scheduler}
        try:
            count(open_raw(r, options), open_raw(c, options), ["a", "b"], options, **extra)
        except InvalidDataError as e:  # no finite reference value: both engines refuse
            refused.append(str(e))
    if refused:
        assert len(refused) == 2
        assert refused[0] == refused[1]
        return
    both(scheduler, r, c, ["a", "b"], options)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kldiv_cli", *args], capture_output=True, text=True, check=False
    )


def test_cli_dask_equals_embedded(scheduler: str) -> None:
    refs = ["samples/penguins-2007.csv", "samples/penguins-2009.csv"]
    root = Path(__file__).resolve().parent.parent
    refs = [str(root / p) for p in refs]
    embedded = run("drift", *refs, "--format", "json")
    local = run("drift", *refs, "--format", "json", "--engine", "dask")
    remote = run("drift", *refs, "--format", "json", "--engine", "dask", "--scheduler", scheduler)
    assert embedded.returncode == local.returncode == remote.returncode == 0, local.stderr
    assert json.loads(embedded.stdout)["columns"]
    assert local.stdout == embedded.stdout
    assert remote.stdout == embedded.stdout
    assert local.stderr == embedded.stderr


def test_cli_scheduler_needs_dask_engine() -> None:
    done = run("drift", "a.csv", "b.csv", "--scheduler", "tcp://127.0.0.1:1")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "kldiv: error: --scheduler is for --engine dask\n"


def test_embedded_drift_never_imports_dask() -> None:
    root = Path(__file__).resolve().parent.parent
    code = (
        "import sys\n"
        "from kldiv_cli.cli import app\n"
        "try:\n"
        f"    app(['drift', {str(root / 'samples/penguins-2007.csv')!r}, "
        f"{str(root / 'samples/penguins-2009.csv')!r}, '--format', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.splitlines()[-1] == "[]", done.stderr


def test_a_csv_cut_in_blocks(
    scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"x": rng.integers(0, 50, 3000), "s": rng.choice(list("abc"), 3000)})
    ref = tmp_path / "r.csv"
    frame.to_csv(ref, index=False)
    monkeypatch.setattr(raw_dask, "BLOCK_SIZE", 4096)
    source = open_raw(str(ref), RawOptions())
    assert raw_dask._frame(source, ["x", "s"]).npartitions >= 3  # a file with no quote is cut
    found = both(scheduler, str(ref), str(ref), ["x", "s"])
    assert found[0].rows == (3000, 3000)
    assert found[0].reference.sum() == 3000


def test_profile_then_dask_equals_embedded(scheduler: str, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    ref, cur = (str(root / f"samples/penguins-{y}.csv") for y in (2007, 2009))
    profile = str(tmp_path / "ref.json")
    saved = run("drift", ref, cur, "--save-reference", profile, "--format", "json")
    assert saved.returncode == 0, saved.stderr
    embedded = run("drift", profile, cur, "--format", "json")
    on_dask = run(
        "drift", profile, cur, "--format", "json", "--engine", "dask", "--scheduler", scheduler
    )
    assert embedded.returncode == on_dask.returncode == 0, on_dask.stderr
    assert json.loads(embedded.stdout)["reference"]["profile"] is True
    assert on_dask.stdout == embedded.stdout


def test_without_the_extra_a_usage_error() -> None:
    root = Path(__file__).resolve().parent.parent
    code = (
        "import sys\n"
        "sys.modules['distributed'] = None  # as if the extra were not installed\n"
        "from kldiv_cli.cli import app\n"
        f"app(['drift', {str(root / 'samples/penguins-2007.csv')!r}, "
        f"{str(root / 'samples/penguins-2009.csv')!r}, '--engine', 'dask'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "kldiv: error: --engine dask needs Dask: pip install 'kldiv-cli[dask]'\n"
    )


def test_typed_parquet_against_text(scheduler: str, tmp_path: Path) -> None:
    # Parquet numbers become categories when CUR has text: their text is DuckDB's cast
    # (an integer without a point, even in a column with nulls; a float by repr).
    frame = pd.DataFrame(
        {
            "i": pd.array([1, None, 3, 1], dtype="Int64"),
            "f": [0.1, 1e16, 2.0, float("nan")],
            "b": [True, False, None, True],
        }
    )
    frame.to_parquet(tmp_path / "r.parquet")
    cur = write(tmp_path / "c.csv", "i,f,b\n1,0.1,true\nx,y,z\n")
    found = both(scheduler, str(tmp_path / "r.parquet"), cur, ["i", "f", "b"])
    assert found[0].labels == ["1", "3", "x", "(missing)"]
    assert found[0].reference.tolist() == [2, 1, 0, 1]


def test_gzip_and_quoted_line_ends(scheduler: str, tmp_path: Path) -> None:
    import gzip

    with gzip.open(tmp_path / "r.csv.gz", "wt") as f:
        f.write("s,x\na,1\nb,2\n")
    quoted = write(tmp_path / "q.csv", 's,x\n"a\nb",1\n"c""d",2\n')
    found = both(scheduler, str(tmp_path / "r.csv.gz"), quoted, ["s", "x"])
    assert found[0].labels == ["a", "a\nb", "b", 'c"d']
    assert found[0].current.tolist() == [0, 1, 0, 1]
