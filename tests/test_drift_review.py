"""``kldiv drift``, reviewed as a hostile user and a CI job would use it: names with
``,``, ``:``, ``=`` or blanks, a check on a column that is skipped, a typo in
``--categorical``/``--edges``, profiles edited by hand, merged by addition, and the
spec's sentences that had no test. CLI cases run the real program (stdout, stderr
and status apart); figures are derived by hand in the comments."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import orjson
import pytest

from kldiv_cli.commands.drift import drift, parse_column_check, parse_names
from kldiv_cli.errors import UsageError
from tests.cli_run import kldiv

ROOT = Path(__file__).resolve().parent.parent
PENGUINS = (str(ROOT / "samples/penguins-2007.csv"), str(ROOT / "samples/penguins-2009.csv"))


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def odd_names(tmp_path: Path) -> tuple[str, str]:
    """Columns named ``a,b``, ``c:d``, ``e=f`` and `` s `` (blanks at both ends).
    REF 1, 2 in each; CUR 1, 3: JSD of (1/2, 1/2, 0) and (1/2, 0, 1/2) is 1/2 bit."""
    head = '"a,b",c:d,e=f, s \n'
    ref = write(tmp_path, "ref.csv", head + "1,1,1,1\n2,2,2,2\n")
    cur = write(tmp_path, "cur.csv", head + "1,1,1,1\n3,3,3,3\n")
    return ref, cur


# --- names ----------------------------------------------------------------------


def test_columns_takes_quoted_names_exactly(odd_names: tuple[str, str]) -> None:
    ref, cur = odd_names
    run = kldiv("drift", ref, cur, "--columns", '"a,b"," s "', "--format", "csv")
    assert run.status == 0, run.err
    rows = list(csv.reader(io.StringIO(run.out)))
    assert [r[0] for r in rows[1:]] == ["a,b", " s "]
    run = kldiv("drift", ref, cur, "--exclude", '"a,b", c:d ,e=f', "--format", "json")
    assert [c["column"] for c in run.json()["columns"]] == [" s "]


def test_parse_names() -> None:
    assert parse_names(" a , b ,", "--columns") == ["a", "b"]
    assert parse_names('x,"q""r", "a,b" ', "--columns") == ["x", 'q"r', "a,b"]
    assert parse_names(None, "--columns") == []
    with pytest.raises(UsageError, match="never closed"):
        parse_names('"a,b', "--columns")
    with pytest.raises(UsageError, match="after the closing quote"):
        parse_names('"a"b,c', "--exclude")


def test_max_for_a_column_named_with_equals_and_colon(odd_names: tuple[str, str]) -> None:
    check = parse_column_check("e=f:jsd=0.1")
    assert (check.column, check.check.measure, check.check.limit) == ("e=f", "jsd", 0.1)
    check = parse_column_check("c:d:kl_qp=2")
    assert (check.column, check.check.measure, check.check.limit) == ("c:d", "kl_qp", 2.0)
    ref, cur = odd_names
    run = kldiv("drift", ref, cur, "--max", "e=f:jsd=0.4", "--max", "c:d:jsd=0.6", "--quiet")
    assert run.status == 1, run.err
    # JSD = 1/2 bit: above 0.4 (e=f fails), below 0.6 (c:d passes).
    assert run.err == "kldiv: check failed: column 'e=f': jsd = 0.5 > 0.4 (bits)\n"


def test_a_bad_column_check_is_quoted_whole(odd_names: tuple[str, str]) -> None:
    ref, cur = odd_names
    for text, what in (("c:d:psi=1", "unknown measure 'psi'"), ("c:d:jsd=x", "limit 'x'")):
        run = kldiv("drift", ref, cur, "--max", text)
        assert run.status == 2
        assert run.err.startswith(f"kldiv: error: --max {text!r}: ")
        assert what in run.err
        assert run.out == ""


# --- gates left open -------------------------------------------------------------


def test_a_check_on_a_skipped_identifier_is_a_usage_error(tmp_path: Path) -> None:
    rows = "".join(f"id{i},{i % 3}\n" for i in range(1001))
    ref = write(tmp_path, "ref.csv", "user,group\n" + rows)
    run = kldiv("drift", ref, ref, "--max", "user:jsd=0.1")
    assert run.status == 2
    assert run.out == ""
    assert "column 'user' is skipped as an identifier: 1001 distinct" in run.err
    assert run.err.count("\n") == 1
    # Named by --columns it is compared, and the check runs (JSD 0: the same file).
    run = kldiv("drift", ref, ref, "--columns", "user", "--max", "user:jsd=0.1", "--format", "json")
    (user,) = run.json()["columns"]
    assert user["checks"] == [{"measure": "jsd", "limit": 0.1, "value": 0.0, "passed": True}]


@pytest.mark.parametrize("option", [["--categorical", "colour "], ["--edges", "sise=1,2"]])
def test_a_typo_in_categorical_or_edges_is_a_usage_error(tmp_path: Path, option: list[str]) -> None:
    ref = write(tmp_path, "ref.csv", "colour,size\na,1\nb,2\n")
    run = kldiv("drift", ref, ref, *option)
    assert run.status == 2
    assert f"{option[0]} {option[1].split('=')[0]!r}: neither REF nor CUR has" in run.err
    assert run.out == ""


# --- profiles edited by hand -------------------------------------------------------


def profile_doc(**changes: Any) -> dict[str, Any]:
    """A valid profile of 4 rows: c = a, a, b and one missing."""
    doc: dict[str, Any] = {
        "kldiv_profile": 1,
        "source": "ref.csv",
        "rows": 4,
        "options": {"bins": 10, "na": ["NA"], "categorical": [], "edges": {}},
        "columns": [
            {
                "column": "c",
                "kind": "categorical",
                "edges": None,
                "labels": ["a", "b"],
                "counts": [2, 1],
                "missing": 1,
            }
        ],
    }
    column = changes.pop("column", {})
    doc["columns"][0].update(column)
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kldiv_profile": True}, "version True"),
        ({"kldiv_profile": 1.0}, "version 1.0"),
        ({"rows": 0}, '"rows" must be a whole number, at least 1'),
        ({"rows": 5}, "column 'c': its counts and missing values add up to 4, not the 5 rows"),
        ({"options": {"na": [1, 2]}}, '"na" must be a list of texts'),
        (
            {"column": {"labels": ["(missing)", "a"], "missing": 0, "counts": [1, 3]}},
            "label '(missing)' is the label of missing values",
        ),
    ],
)
def test_a_hand_edited_profile_is_65_in_one_line(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    profile = tmp_path / "p.json"
    profile.write_bytes(orjson.dumps(profile_doc(**changes)))
    cur = write(tmp_path, "cur.csv", "c\na\nNA\n")
    run = kldiv("drift", str(profile), cur)
    assert run.status == 65, run.err
    assert run.err.startswith(f"kldiv: error: {profile}: not a valid kldiv profile: ")
    assert message in run.err
    assert run.err.count("\n") == 1
    assert run.out == ""


def test_the_valid_hand_made_profile_counts_cur(tmp_path: Path) -> None:
    """The control for the cases above: REF a 2, b 1, missing 1; CUR a, missing."""
    profile = tmp_path / "p.json"
    profile.write_bytes(orjson.dumps(profile_doc()))
    cur = write(tmp_path, "cur.csv", "c\na\nNA\n")
    (c,) = drift(str(profile), cur).columns
    assert c.comparison.aligned.labels.values == ["a", "b", "(missing)"]
    assert c.comparison.aligned.q.tolist() == [2, 1, 1]
    assert c.comparison.aligned.p.tolist() == [1, 0, 1]
    assert c.missing == (1, 1)


def test_profiles_merge_by_addition(tmp_path: Path) -> None:
    """Spec: profiles of the same columns and edges add up. Two halves of REF, saved
    with the same --edges and merged label by label, give the result of the whole."""
    half = ["k,v\n", "k,v\n"]
    for i in range(40):
        half[i % 2] += f"{'xyz'[i % 3] if i % 7 else 'NA'},{(i * 37) % 23 / 4}\n"
    a, b = write(tmp_path, "a.csv", half[0]), write(tmp_path, "b.csv", half[1])
    whole = write(tmp_path, "whole.csv", half[0] + half[1][4:])
    cur = write(tmp_path, "cur.csv", "k,v\nx,1\ny,2.5\nw,9\nNA,\n")
    edges = ["v=1,2,3.5"]
    docs = []
    for side in (a, b):
        out = str(tmp_path / f"{Path(side).stem}.json")
        drift(side, cur, edges=edges, save_reference=out)
        docs.append(orjson.loads(Path(out).read_bytes()))
    merged = docs[0]
    merged["rows"] += docs[1]["rows"]
    for mine, theirs in zip(merged["columns"], docs[1]["columns"], strict=True):
        counts = dict(zip(mine["labels"], mine["counts"], strict=True))
        for label, n in zip(theirs["labels"], theirs["counts"], strict=True):
            counts[label] = counts.get(label, 0) + n
        mine["labels"], mine["counts"] = list(counts), list(counts.values())
        mine["missing"] += theirs["missing"]
    path = tmp_path / "merged.json"
    path.write_bytes(orjson.dumps(merged))
    by_profile = drift(str(path), cur, test=True)
    by_rows = drift(whole, cur, edges=edges, test=True)
    assert by_profile.reference.rows == by_rows.reference.rows == 40
    for x, y in zip(by_profile.columns, by_rows.columns, strict=True):
        assert x.comparison.aligned.labels.values == y.comparison.aligned.labels.values
        assert x.comparison.aligned.q.tolist() == y.comparison.aligned.q.tolist()
        assert x.comparison.measures == y.comparison.measures
        assert (x.n, x.missing, x.jsd_noise) == (y.n, y.missing, y.jsd_noise)


# --- the spec's sentences --------------------------------------------------------


def test_jsd_noise_is_one_figure_in_three_units() -> None:
    """jsd_noise is computed in nats and converted: bits = nats / ln 2, bans = nats /
    ln 10 (penguins: species has k = 3, n 110 and 120)."""
    docs = {}
    for unit in ("bits", "nats", "bans"):
        run = kldiv("drift", *PENGUINS, "--columns", "species", "--unit", unit, "--format", "json")
        docs[unit] = run.json()["columns"][0]["jsd_noise"]
    # chi2_0.95(2) = -2 ln 0.05 exactly (df = 2 is the exponential law).
    nats = -2 * math.log(0.05) * (1 / 110 + 1 / 120) / 8
    # Tolerance: chdtri and the division by a logarithm may differ in the last bits.
    assert docs["nats"] == pytest.approx(nats, rel=1e-12)
    assert docs["bits"] == pytest.approx(nats / math.log(2), rel=1e-12)
    assert docs["bans"] == pytest.approx(nats / math.log(10), rel=1e-12)


def test_no_measure_is_nan_or_null(tmp_path: Path) -> None:
    """Every measure and jsd_noise is a number or "inf", on the cases that reach the
    edges: one label, a side all missing, labels on one side only."""
    ref = write(tmp_path, "ref.csv", "one,gone,new\nx,1,a\nx,2,a\n")
    cur = write(tmp_path, "cur.csv", "one,gone,new\nx,NA,b\nx,,c\n")
    run = kldiv("drift", ref, cur, "--format", "json", "--test", "--top", "0")
    assert run.status == 0, run.err

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the JSON")

    doc = json.loads(run.out, parse_constant=refuse)
    for column in doc["columns"]:
        for value in [*column["measures"].values(), column["jsd_noise"]]:
            assert value == "inf" or (isinstance(value, float) and value >= 0), column
        assert column["contributions"] == []
    one = doc["columns"][0]
    # One label on both sides: nothing can move; the G-test has df 0 and p 1.
    assert one["jsd_noise"] == 0.0
    assert one["test"]["df"] == 0
    assert one["test"]["p_value"] == 1.0


def test_same_file_and_a_pipe_as_cur(tmp_path: Path) -> None:
    ref = PENGUINS[0]
    run = kldiv("drift", ref, "-", "--format", "json", stdin=Path(ref).read_bytes())
    doc = run.json()
    assert doc["current"]["source"] == "<stdin>"
    assert all(c["measures"]["jsd"] == 0.0 for c in doc["columns"])
    assert doc["passed"] is True


def test_parquet_and_json_lines_sides_count_as_csv(tmp_path: Path) -> None:
    """The same rows as CSV, Parquet (typed columns, NULL) and JSON lines give the same
    counts: one table of measures."""
    duckdb = pytest.importorskip("duckdb")
    rows = [(i % 3, None if i % 5 == 0 else i * 0.5, f"c{i % 4}") for i in range(30)]
    csv = "k,v,s\n" + "".join(f"{k},{'' if v is None else v},{s}\n" for k, v, s in rows)
    src = write(tmp_path, "rows.csv", csv)
    lines = "".join(json.dumps({"k": k, "v": v, "s": s}) + "\n" for k, v, s in rows)
    jsonl = write(tmp_path, "rows.jsonl", lines)
    parquet = str(tmp_path / "rows.parquet")
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{src}', header = true)) TO '{parquet}' (FORMAT parquet)"
    )
    cur = write(tmp_path, "cur.csv", "k,v,s\n1,2.5,c1\n2,,c9\n")
    sides = (src, parquet, jsonl)
    results = [kldiv("drift", side, cur, "--format", "json").json() for side in sides]
    first = results[0]["columns"]
    for other in results[1:]:
        assert other["columns"] == first
    assert [c["kind"] for c in first] == ["numeric", "binned", "categorical"]
    assert first[1]["missing"] == {"reference": 6, "current": 1}


def test_an_edge_at_infinity_survives_the_profile(tmp_path: Path) -> None:
    """REF 1, 2, 3 and five inf, 2 bins: the 4th smallest of 8 is inf, so the one edge
    is inf (bins <inf: 3, >=inf: 5). The profile wrote it as JSON null, and then
    refused to read itself."""
    ref = write(tmp_path, "ref.csv", "v\n1\n2\n3\n" + "inf\n" * 5)
    profile = tmp_path / "p.json"
    raw = drift(ref, ref, bins=2, save_reference=str(profile))
    assert raw.columns[0].edges == [math.inf]
    assert orjson.loads(profile.read_bytes())["columns"][0]["edges"] == ["inf"]
    cur = write(tmp_path, "cur.csv", "v\n1\ninf\n-inf\n")
    (v,) = drift(str(profile), cur).columns
    assert v.edges == [math.inf]
    assert v.comparison.aligned.labels.values == ["<inf", ">=inf"]
    assert v.comparison.aligned.q.tolist() == [3, 5]
    assert v.comparison.aligned.p.tolist() == [2, 1]


def identifiers(tmp_path: Path) -> tuple[str, str]:
    """user: 1,001 distinct values (an identifier); group: 0, 1, 2."""
    rows = "".join(f"id{i},{i % 3}\n" for i in range(1001))
    ref = write(tmp_path, "ref.csv", "user,group\n" + rows)
    cur = write(tmp_path, "cur.csv", "user,group\nnew,0\nnew,1\n")
    return ref, cur


def test_a_profile_skips_the_identifiers_the_raw_rows_skipped(tmp_path: Path) -> None:
    """README: given as REF, a profile gives the result the raw REF gave. The profile
    had no trace of an identifier, so it became a column 'only in CUR'."""
    ref, cur = identifiers(tmp_path)
    profile = str(tmp_path / "p.json")
    raw = kldiv("drift", ref, cur, "--save-reference", profile, "--format", "json")
    saved = kldiv("drift", profile, cur, "--format", "json")
    a, b = raw.json(), saved.json()
    assert b["skipped"] == a["skipped"]
    assert [s["column"] for s in b["skipped"]] == ["user"]
    assert b["only_current"] == a["only_current"] == []
    assert b["columns"] == a["columns"]
    assert b["warnings"] == a["warnings"]
    assert saved.err == raw.err
    # Named, it cannot be compared: the profile has no counts of it.
    run = kldiv("drift", profile, cur, "--columns", "user")
    assert run.status == 2
    assert "has no counts of it" in run.err
    assert run.err.count("\n") == 1


def test_a_profile_is_not_cur(tmp_path: Path) -> None:
    ref, cur = identifiers(tmp_path)
    profile = str(tmp_path / "p.json")
    kldiv("drift", ref, cur, "--save-reference", profile, "--quiet")
    run = kldiv("drift", ref, profile)
    assert run.status == 2
    assert run.err == (
        f"kldiv: error: CUR {profile} is a saved profile: a profile stands for REF only; "
        "give the current raw rows as CUR\n"
    )


@pytest.mark.parametrize("option", ["--save-reference", "--save-current"])
@pytest.mark.parametrize("side", [0, 1])
def test_saving_a_profile_never_replaces_an_input(tmp_path: Path, side: int, option: str) -> None:
    ref, cur = identifiers(tmp_path)
    target = (ref, cur)[side]
    before = Path(target).read_bytes()
    run = kldiv("drift", ref, cur, option, target)
    assert run.status == 2
    assert "that is a file this run reads" in run.err
    assert Path(target).read_bytes() == before


def test_bad_json_on_stdin_is_named_stdin(tmp_path: Path) -> None:
    ref = write(tmp_path, "ref.csv", "a\n1\n")
    # JSON lines (the first character is '{'): line 1, '{', is not a whole record.
    run = kldiv("drift", ref, "-", stdin='{\n"a": 1}\n')
    assert run.status == 65
    assert run.err.startswith("kldiv: error: <stdin>: line 1, column 2: invalid JSON")


def test_a_value_spelled_missing_is_never_lost_through_a_profile(tmp_path: Path) -> None:
    """CUR's value '(missing)' against a profile was dropped (CUR a, (missing) counted
    as a alone, n 1 of 2 rows); the raw REF refuses it (exit 65), and so does a profile
    now, on either side."""
    ref = write(tmp_path, "ref.csv", "c\na\nNA\n")
    cur = write(tmp_path, "cur.csv", "c\na\n(missing)\n")
    profile = str(tmp_path / "p.json")
    kldiv("drift", ref, ref, "--save-reference", profile)
    for source in (ref, profile):
        run = kldiv("drift", source, cur)
        assert run.status == 65, (source, run.err)
        assert run.err.startswith(f"kldiv: error: {cur}: column 'c': a value is spelled")
    run = kldiv("drift", cur, cur, "--save-reference", str(tmp_path / "q.json"))
    assert run.status == 65
    assert "which a profile cannot hold" in run.err
    assert not (tmp_path / "q.json").exists()
