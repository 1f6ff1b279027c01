"""``kldiv samples P Q`` through the real program: the figures (by hand, on tiny
samples whose distances are obvious), the formats, the warnings, the refusals with
the spec's exit statuses, and a real pipe. stdout, stderr and the exit status are
checked apart.

Floats are compared with a relative tolerance: the estimators sum logarithms (libm),
whose last bit may differ between machines.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.cli_run import kldiv

EXACT = 1e-12

#: P = {0, 1, 3}, Q = {0.5, 2, 5} on one axis (test_samples_knn works them out):
#: D(P||Q) = ln(3/4), D(Q||P) = (1/3) ln(4/27) + ln(3/2), h(P) = 3/2 + (4/3) ln 2,
#: h(Q) = 3/2 + ln 2 + (2 ln 1.5 + ln 3)/3 nats.
HAND_NATS = {
    "kl_pq": math.log(3 / 4),
    "kl_qp": math.log(4 / 27) / 3 + math.log(3 / 2),
    "entropy_p": 1.5 + math.log(2) * 4 / 3,
    "entropy_q": 1.5 + math.log(2) + (2 * math.log(1.5) + math.log(3)) / 3,
}

#: The tiny sample's estimates of both divergences are negative: said in a warning.
NEGATIVE = [
    f"{key}: the estimate of {name} is negative (a divergence never is): at this many "
    "points its sampling noise exceeds the divergence"
    for key, name in (("kl_pq", "D(P||Q)"), ("kl_qp", "D(Q||P)"))
]
NEGATIVE_ERR = "".join(f"kldiv: warning: {w}\n" for w in NEGATIVE)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[str, str]:
    """x: P 0, 1, 3 and Q 0.5, 2, 5; a text column each side, left out."""
    p = write(tmp_path, "p.csv", "x,name\n0,a\n1,b\n3,c\n")
    q = write(tmp_path, "q.csv", "x,name\n0.5,d\n2,e\n5,f\n")
    return p, q


def test_json_by_hand(tiny: tuple[str, str]) -> None:
    p, q = tiny
    run = kldiv("samples", p, q, "--unit", "nats", "--format", "json")
    assert run.status == 0, run.err
    doc = json.loads(run.out)
    assert list(doc) == [
        "command",
        "unit",
        "k",
        "dimensions",
        "columns",
        "p",
        "q",
        "jitter",
        "measures",
        "warnings",
    ]
    assert doc["command"] == "samples"
    assert doc["unit"] == "nats"
    assert (doc["k"], doc["dimensions"], doc["columns"]) == (1, 1, ["x"])
    assert doc["p"] == {"source": p, "n": 3, "dropped": 0}
    assert doc["q"] == {"source": q, "n": 3, "dropped": 0}
    assert doc["jitter"] is None
    assert list(doc["measures"]) == ["kl_pq", "kl_qp", "entropy_p", "entropy_q"]
    for key, value in HAND_NATS.items():
        assert doc["measures"][key] == pytest.approx(value, rel=EXACT), key
    # the text column both have is not a coordinate: said in a warning
    left_out = "column 'name' left out: not numeric on both sides"
    assert doc["warnings"] == [left_out, *NEGATIVE]
    assert run.err == f"kldiv: warning: {left_out}\n" + NEGATIVE_ERR


@pytest.mark.parametrize(("unit", "base"), [("bits", 2.0), ("bans", 10.0), ("nats", math.e)])
def test_units_divide_by_ln_base(tiny: tuple[str, str], unit: str, base: float) -> None:
    p, q = tiny
    run = kldiv("samples", p, q, "--columns", "x", "--unit", unit, "--format", "json")
    assert run.status == 0, run.err
    assert run.err == NEGATIVE_ERR  # --columns x: nothing is left out
    got = run.json()["measures"]
    for key, nats in HAND_NATS.items():
        assert got[key] == pytest.approx(nats / math.log(base), rel=EXACT), key


def test_bits_are_the_default(tiny: tuple[str, str]) -> None:
    p, q = tiny
    doc = kldiv("samples", p, q, "--format", "json", "--quiet").json()
    assert doc["unit"] == "bits"
    assert doc["measures"]["kl_pq"] == pytest.approx(math.log2(3 / 4), rel=EXACT)


def test_a_negative_estimate_only_when_there_is_one(tmp_path: Path) -> None:
    # P = {0, 1, 2}, Q = {10, 11, 13}: rho = 1, 1, 1 and nu = 10, 9, 8, so
    # D(P||Q) = ln(720)/3 + ln(3/2) > 0; likewise D(Q||P): no warning.
    p = write(tmp_path, "p.csv", "x\n0\n1\n2\n")
    q = write(tmp_path, "q.csv", "x\n10\n11\n13\n")
    run = kldiv("samples", p, q, "--unit", "nats", "--format", "json")
    assert run.status == 0
    assert run.err == ""
    doc = json.loads(run.out)
    assert doc["warnings"] == []
    assert doc["measures"]["kl_pq"] == pytest.approx(math.log(720) / 3 + math.log(3 / 2), rel=EXACT)


@pytest.mark.parametrize(("fmt", "sep"), [("csv", ","), ("tsv", "\t")])
def test_delimited(tiny: tuple[str, str], fmt: str, sep: str) -> None:
    p, q = tiny
    run = kldiv("samples", p, q, "--unit", "nats", "--format", fmt, "--quiet")
    assert run.status == 0
    assert run.err == ""
    header, *rows = run.out.strip("\n").split("\n")
    assert header == f"measure{sep}value"
    cells = dict(r.split(sep) for r in rows)
    assert list(cells) == list(HAND_NATS)
    for key, value in HAND_NATS.items():
        assert float(cells[key]) == pytest.approx(value, rel=EXACT)


def test_table_for_people(tiny: tuple[str, str]) -> None:
    p, q = tiny
    run = kldiv("samples", p, q, "--format", "table", "--quiet", "-k", "1")
    assert run.status == 0
    assert run.err == ""
    assert "kldiv samples · unit: bits" in run.out
    assert "D(P‖Q)" in run.out
    assert "h(Q)" in run.out
    assert "may be < 0" in run.out  # a differential entropy can be negative
    # ln(3/4) / ln 2 = -0.415037..., six significant digits
    assert "-0.415037" in run.out
    assert "P: " in run.out
    assert "(3 points)" in run.out


def test_several_columns_and_k(tmp_path: Path) -> None:
    # The 2-D sample of test_samples_knn: P = {(0,0), (3,4)}, Q = {(0,1), (3,0), (10,10)}:
    # D(P||Q) = ln(12/25), h(P) = 1 + ln(25 pi) nats; columns in the order given.
    p = write(tmp_path, "p.csv", "a,b,c\n0,0,9\n4,3,9\n")
    q = write(tmp_path, "q.csv", "c,b,a\n1,0,1\n1,3,0\n1,10,10\n")
    doc = kldiv("samples", p, q, "--columns", "b,a", "--unit", "nats", "--format", "json").json()
    assert doc["columns"] == ["b", "a"]
    assert doc["dimensions"] == 2
    assert doc["measures"]["kl_pq"] == pytest.approx(math.log(12 / 25), rel=EXACT)
    assert doc["measures"]["entropy_p"] == pytest.approx(1 + math.log(25 * math.pi), rel=EXACT)


def test_agrees_with_scipy_on_random_points(tmp_path: Path) -> None:
    # An oracle from SciPy's brute-force distances (cdist) on the very numbers written
    # (repr round-trips, so the file holds the points exactly), k = 3, d = 2.
    from scipy.spatial.distance import cdist
    from scipy.special import digamma

    rng = np.random.default_rng(4)
    pts = {"p": rng.normal(size=(60, 2)), "q": rng.normal(0.5, 1.5, size=(45, 2))}
    paths = {}
    for name, xy in pts.items():
        body = "".join(f"{a!r},{b!r}\n" for a, b in xy.tolist())
        paths[name] = write(tmp_path, f"{name}.csv", "x,y\n" + body)
    doc = kldiv("samples", paths["p"], paths["q"], "-k", "3", "--unit", "nats", "--format", "json")
    got = doc.json()["measures"]
    p, q = pts["p"], pts["q"]
    n, m, k = len(p), len(q), 3
    rho = np.sort(cdist(p, p), axis=1)[:, k]
    nu = np.sort(cdist(p, q), axis=1)[:, k - 1]
    kl = 2 * np.mean(np.log(nu / rho)) + math.log(m / (n - 1))
    h = digamma(n) - digamma(k) + math.log(math.pi) + 2 * np.mean(np.log(rho))
    assert got["kl_pq"] == pytest.approx(kl, rel=1e-10)
    assert got["entropy_p"] == pytest.approx(h, rel=1e-10)


def test_missing_values_drop_rows_with_a_warning(tmp_path: Path) -> None:
    # P's rows 2 (empty) and 4 (NA) are dropped; Q's row 2 (the token "?") with --na.
    p = write(tmp_path, "p.csv", "x,y\n0,0\n,1\n1,0\nNA,3\n3,0\n")
    q = write(tmp_path, "q.csv", "x,y\n0.5,0\n?,1\n2,0\n5,0\n")
    run = kldiv("samples", p, q, "--na", "NA", "--na", "?", "--unit", "nats", "--format", "json")
    assert run.status == 0
    doc = json.loads(run.out)
    assert doc["p"] == {"source": p, "n": 3, "dropped": 2}
    assert doc["q"] == {"source": q, "n": 3, "dropped": 1}
    warning = "rows with a missing value dropped: P 2 of 5, Q 1 of 4"
    assert doc["warnings"] == [warning, *NEGATIVE]
    assert run.err == f"kldiv: warning: {warning}\n" + NEGATIVE_ERR
    # what is left is the hand sample (y = 0 everywhere adds nothing but d = 2:
    # every distance is the same, so D is (2/3) sum ln(nu/rho) + ln(3/2))
    assert doc["measures"]["kl_pq"] == pytest.approx(
        2 * math.log(1 / 2) + math.log(3 / 2), rel=EXACT
    )
    quiet = kldiv("samples", p, q, "--na", "NA", "--na", "?", "--quiet", "--format", "json")
    assert quiet.status == 0
    assert quiet.err == ""


def test_duplicates_are_refused_naming_the_rows(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "x,y\n0,0\n1,2\n3,0\n1,2\n")
    q = write(tmp_path, "q.csv", "x,y\n0.5,0\n2,0\n5,0\n")
    run = kldiv("samples", p, q, "--format", "json")
    assert run.status == 65
    assert run.out == ""
    assert run.err.startswith(f"kldiv: error: P {p}: duplicate points")
    assert "rows 2, 4; row 2 is the same point as row 4" in run.err
    assert "--jitter SCALE" in run.err
    assert run.err.count("\n") == 1


def test_a_point_on_both_sides_is_refused(tmp_path: Path) -> None:
    # P's row 3 is Q's row 2: nu_1 = 0 there.
    p = write(tmp_path, "p.csv", "x\n0\n1\n2\n")
    q = write(tmp_path, "q.csv", "x\n0.5\n2\n5\n")
    run = kldiv("samples", p, q)
    assert run.status == 65
    assert run.out == ""
    assert f"P {p} and Q {q} share points" in run.err
    assert "P rows 3; P row 3 is Q row 2" in run.err


def test_rows_of_a_folder_are_named_by_file(tmp_path: Path) -> None:
    # A folder is one table, its files' rows end to end: a message names the file and
    # its own data row (a.csv has 2 rows, so the table's row 4 is b.csv:2).
    folder = tmp_path / "p"
    folder.mkdir()
    a = write(folder, "a.csv", "x,y\n0,0\n1,1\n")
    b = write(folder, "b.csv", "x,y\n2,3\n1,1\n")
    q = write(tmp_path, "q.csv", "x,y\n0.5,0\n2,0\n5,0\n")
    run = kldiv("samples", str(folder), q)
    assert run.status == 65
    assert f"rows {a}:2, {b}:2; row {a}:2 is the same point as row {b}:2;" in run.err
    write(folder, "b.csv", "x,y\n2,3\n1,abc\n")
    run = kldiv("samples", str(folder), q, "--columns", "x,y")
    assert run.status == 65
    assert f"{folder}: row {b}:2, column 'y': 'abc' is not a number" in run.err


def test_jitter_spreads_duplicates_reproducibly(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "x,y\n0,0\n1,2\n3,0\n1,2\n")
    q = write(tmp_path, "q.csv", "x,y\n0.5,0\n2,0\n5,0\n1,2\n")
    args = ("samples", p, q, "--jitter", "0.01", "--format", "json")
    first = kldiv(*args, "--seed", "7")
    assert first.status == 0
    assert "error" not in first.err
    doc = json.loads(first.out)
    assert doc["jitter"] == {"scale": 0.01, "seed": 7}
    assert all(math.isfinite(v) for v in doc["measures"].values())
    # the same seed, the same noise, the same figures
    assert kldiv(*args, "--seed", "7").out == first.out
    assert kldiv(*args, "--seed", "8").out != first.out
    # no seed: one is drawn and reported, and repeats the run
    drawn = kldiv(*args).json()
    seed = drawn["jitter"]["seed"]
    assert isinstance(seed, int)
    assert 0 <= seed < 2**32
    assert kldiv(*args, "--seed", str(seed)).json()["measures"] == drawn["measures"]


def test_jitter_is_uniform_within_half_the_scale() -> None:
    from kldiv_cli.commands.samples import add_jitter

    p, q = np.zeros((20_000, 2)), np.ones((10_000, 2))
    jp, jq = add_jitter(p, q, 0.5, 3)
    assert np.abs(jp).max() <= 0.25
    assert np.abs(jq - 1).max() <= 0.25
    # uniform on [-1/4, 1/4): mean 0, variance (1/2)^2 / 12; 40,000 draws give the
    # variance within 2% (its relative sd is sqrt(0.8 / 40000) = 0.45%)
    assert jp.var() == pytest.approx(0.25 / 12, rel=0.02)
    jp2, _ = add_jitter(p, q, 0.5, 3)
    assert np.array_equal(jp, jp2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-k", "0"), "-k 0: must be a whole number >= 1"),
        (("-k", "3"), "has 3 points; k must be less than each side's points"),
        (("--jitter", "0"), "--jitter 0.0: must be a finite number > 0"),
        (("--jitter", "-1"), "must be a finite number > 0"),
        (("--seed", "3"), "--seed goes with --jitter SCALE"),
        (("--jitter", "1", "--seed", "-3"), "--seed -3: must be a whole number >= 0"),
        (("--columns", "x,nope"), "no column 'nope'"),
        (("--columns", "x,x"), "--columns names 'x' twice"),
    ],
)
def test_usage_errors(tiny: tuple[str, str], args: tuple[str, ...], message: str) -> None:
    p, q = tiny
    run = kldiv("samples", p, q, *args)
    assert run.status == 2, run.err
    assert run.out == ""
    assert message in run.err
    assert run.err.startswith("kldiv: error: ")


def test_both_stdin_is_a_usage_error() -> None:
    run = kldiv("samples", "-", "-", stdin="x\n1\n2\n")
    assert run.status == 2
    assert "at most one may be" in run.err


def test_a_value_that_is_not_a_number(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "x,y\n0,1\n1,abc\n3,2\n")
    q = write(tmp_path, "q.csv", "x,y\n0.5,1\n2,2\n5,1\n")
    run = kldiv("samples", p, q, "--columns", "x,y")
    assert run.status == 65
    assert run.out == ""
    assert run.err == f"kldiv: error: {p}: row 2, column 'y': 'abc' is not a number; give " + (
        "ASCII decimal or scientific notation, e.g. 10, 0.5 or 1e-3\n"
    )


def test_a_decimal_comma_gets_its_hint(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", 'x\n0\n"1,5"\n3\n')
    q = write(tmp_path, "q.csv", "x\n0.5\n2\n5\n")
    run = kldiv("samples", p, q, "--columns", "x")
    assert run.status == 65
    assert f"{p}: row 2, column 'x': '1,5' is not a number" in run.err


def test_an_infinite_value(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "x\n0\n1\n-inf\n")
    q = write(tmp_path, "q.csv", "x\n0.5\n2\n5\n")
    run = kldiv("samples", p, q)
    assert run.status == 65
    assert run.err == f"kldiv: error: {p}: row 3, column 'x': '-inf' is infinite; " + (
        "a point needs finite coordinates\n"
    )


def test_coordinates_near_the_float_limit_compute(tmp_path: Path) -> None:
    # 1e300 - (-1e300) = 2e300 is a float, but its square is not: the KD-tree used to
    # give inf (and the command refused the data). The points are divided by a power
    # of 2 first, so: rho = 2e300 for both P points, nu = 1e300 - 3 and 1e300 + 1
    # (1e300 in float64), D(P||Q) = ln(1/2) + ln(3/1); Q's rho = 1, nu = 1e300 - x,
    # D(Q||P) = 300 ln 10 + ln(2/2).
    p = write(tmp_path, "p.csv", "x\n1e300\n-1e300\n")
    q = write(tmp_path, "q.csv", "x\n1\n2\n3\n")
    run = kldiv("samples", p, q, "--unit", "nats", "--format", "json")
    assert run.status == 0, run.err
    measures = json.loads(run.out)["measures"]
    assert measures["kl_pq"] == pytest.approx(math.log(1.5), rel=EXACT)
    assert measures["kl_qp"] == pytest.approx(300 * math.log(10), rel=EXACT)


@pytest.mark.parametrize("e", [600, -600])
def test_huge_and_tiny_coordinates_are_scaled_exactly(tmp_path: Path, e: int) -> None:
    # The tiny sample times 2^600 (distances ~1e181, whose squares overflow) or 2^-600
    # (squares that underflow to 0): the KL estimates are those of the tiny sample,
    # each entropy that plus d ln 2^e (h(cX) = h(X) + d ln c), d = 1. Before, 2^600
    # was refused as "a distance overflows" and 2^-600 as duplicate points.
    scale = 2.0**e
    p = write(tmp_path, "p.csv", "x\n" + "".join(f"{v * scale!r}\n" for v in (0, 1, 3)))
    q = write(tmp_path, "q.csv", "x\n" + "".join(f"{v * scale!r}\n" for v in (0.5, 2, 5)))
    run = kldiv("samples", p, q, "--unit", "nats", "--format", "json", "--quiet")
    assert run.status == 0, run.err
    measures = json.loads(run.out)["measures"]
    for key in ("kl_pq", "kl_qp"):
        assert measures[key] == pytest.approx(HAND_NATS[key], rel=EXACT), key
    for key in ("entropy_p", "entropy_q"):
        want = HAND_NATS[key] + e * math.log(2)
        assert measures[key] == pytest.approx(want, rel=EXACT), key


def test_points_too_close_for_floats_are_not_called_duplicates(tmp_path: Path) -> None:
    # 1e-300 and 0 differ, but their distance squared underflows to 0: named as such,
    # not as "the same point as row" (with no row after it, as it was).
    p = write(tmp_path, "p.csv", "x\n1e-300\n0\n1e300\n")
    q = write(tmp_path, "q.csv", "x\n1\n2\n3\n")
    run = kldiv("samples", p, q)
    assert run.status == 65
    assert run.out == ""
    assert run.err == (
        f"kldiv: error: P {p}: rows 1, 2: the distance to the k-th nearest neighbour "
        "(k = 1) underflows to 0 between points that differ: the coordinates span too "
        "many orders of magnitude for float64; rescale them or remove the outliers\n"
    )


def test_no_numeric_column_in_common(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "x,name\n0,a\n1,b\n")
    q = write(tmp_path, "q.csv", "y,name\n0,a\n1,b\n")
    run = kldiv("samples", p, q)
    assert run.status == 65
    assert "of 'name', none is numeric on both sides" in run.err
    assert "--columns" in run.err


def test_too_few_points(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "x\n0\nNA\n")
    q = write(tmp_path, "q.csv", "x\n0.5\n2\n5\n")
    run = kldiv("samples", p, q)
    assert run.status == 65
    assert f"P {p}: 1 point; the estimators need at least 2" in run.err
    every = write(tmp_path, "none.csv", "x\nNA\n\n")
    run = kldiv("samples", every, q, "--columns", "x")
    assert run.status == 65
    assert f"{every}: no row left: every one of its 2 rows has a missing value in 'x'" in (run.err)


def test_a_missing_file(tiny: tuple[str, str], tmp_path: Path) -> None:
    p, _ = tiny
    run = kldiv("samples", p, str(tmp_path / "nope.csv"))
    assert run.status == 66
    assert run.out == ""
    assert run.err.startswith("kldiv: error: ")


def test_parquet_and_json_lines(tmp_path: Path) -> None:
    # The same hand sample from Parquet (typed doubles) and JSON lines (one with a
    # null, dropped): the same figures as the CSV.
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = str(tmp_path / "p.parquet")
    pq.write_table(pa.table({"x": [0.0, 1.0, 3.0], "w": ["a", "b", "c"]}), p)
    q = write(tmp_path, "q.jsonl", '{"x": 0.5}\n{"x": 2}\n{"x": null}\n{"x": 5}\n')
    run = kldiv("samples", p, q, "--columns", "x", "--unit", "nats", "--format", "json")
    assert run.status == 0, run.err
    doc = json.loads(run.out)
    assert doc["q"]["n"] == 3
    assert doc["q"]["dropped"] == 1
    for key, value in HAND_NATS.items():
        assert doc["measures"][key] == pytest.approx(value, rel=EXACT), key


def test_a_real_pipe(tiny: tuple[str, str]) -> None:
    p, q = tiny
    with open(p, "rb") as f:
        proc = subprocess.run(
            [sys.executable, "-m", "kldiv_cli", "samples", "-", q, "--unit", "nats"],
            stdin=f,
            capture_output=True,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    rows = dict(line.split("\t") for line in proc.stdout.decode().strip().split("\n")[1:])
    assert float(rows["kl_pq"]) == pytest.approx(math.log(3 / 4), rel=EXACT)
    left_out = "kldiv: warning: column 'name' left out: not numeric on both sides\n"
    assert proc.stderr.decode() == left_out + NEGATIVE_ERR


def test_help_says_entropy_may_be_negative() -> None:
    run = kldiv("samples", "--help")
    assert run.status == 0
    text = " ".join(run.out.split())
    assert "can be negative" in text
    assert "--jitter SCALE" in text
    assert "--seed N" in text
    assert "-k K" in text
