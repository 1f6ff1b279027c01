"""``kldiv drift REF CUR`` through the real program: the exit statuses of the spec, the
failing checks on stderr, the JSON document's figures (derived by hand or by SciPy),
and a real pipe. stdout, stderr and the exit status are checked apart."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import scipy.stats

from tests.cli_run import kldiv

ROOT = Path(__file__).resolve().parent.parent
PENGUINS = (str(ROOT / "samples/penguins-2007.csv"), str(ROOT / "samples/penguins-2009.csv"))


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    """colour: REF a,a,b,b; CUR a,b,b,b. n: REF 1,2,1,2, CUR the same."""
    ref = write(tmp_path, "ref.csv", "colour,n\na,1\na,2\nb,1\nb,2\n")
    cur = write(tmp_path, "cur.csv", "colour,n\na,1\nb,2\nb,1\nb,2\n")
    return ref, cur


def jsd_bits(p: list[float], q: list[float]) -> float:
    sp, sq = sum(p), sum(q)
    p = [x / sp for x in p]
    q = [x / sq for x in q]
    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]

    def kl(a: list[float]) -> float:
        return sum(x * math.log2(x / y) for x, y in zip(a, m, strict=True) if x)

    return (kl(p) + kl(q)) / 2


def test_json_document(pair: tuple[str, str]) -> None:
    ref, cur = pair
    run = kldiv("drift", ref, cur, "--format", "json")
    assert run.status == 0, run.err
    doc = json.loads(run.out)
    assert doc["command"] == "drift"
    assert doc["unit"] == "bits"
    assert doc["reference"]["source"] == ref
    assert doc["reference"]["rows"] == 4
    assert doc["current"]["rows"] == 4
    colour, n = doc["columns"]
    assert colour["column"] == "colour"
    assert colour["kind"] == "categorical"
    assert colour["n"] == {"reference": 4, "current": 4}
    # P = CUR (1, 3), Q = REF (2, 2).
    assert colour["measures"]["jsd"] == pytest.approx(jsd_bits([1, 3], [2, 2]), rel=1e-12)
    kl_pq = 0.25 * math.log2(0.25 / 0.5) + 0.75 * math.log2(0.75 / 0.5)
    assert colour["measures"]["kl_pq"] == pytest.approx(kl_pq, rel=1e-12)
    # k = 2 labels: chi2_0.95(1) (1/4 + 1/4) / 8 nats, in bits.
    noise = scipy.stats.chi2.ppf(0.95, 1) * 0.5 / 8 / math.log(2)
    assert colour["jsd_noise"] == pytest.approx(noise, rel=1e-9)
    assert n["kind"] == "numeric"
    assert n["measures"]["jsd"] == 0.0
    assert doc["summary"] == {"columns": 2, "failed": 0}
    assert doc["passed"] is True
    assert run.err == ""


def test_a_failing_check_is_exit_1_with_one_line_per_column(pair: tuple[str, str]) -> None:
    ref, cur = pair
    run = kldiv("drift", ref, cur, "--max", "jsd=0.01", "--max", "n:jsd=0.5", "--format", "csv")
    assert run.status == 1
    lines = run.err.strip().splitlines()
    assert len(lines) == 1
    assert "colour" in lines[0]
    assert "jsd" in lines[0]
    # CSV: a header and one row per column, the failing one marked.
    rows = run.out.strip().splitlines()
    assert rows[0].split(",")[:4] == ["column", "kind", "n_reference", "n_current"]
    assert rows[0].split(",")[-2:] == ["jsd_noise", "passed"]
    assert [r.split(",")[0] for r in rows[1:]] == ["colour", "n"]
    assert rows[1].split(",")[-1] == "false"
    assert rows[2].split(",")[-1] == "true"


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--exclude", "weight"], 2, "--exclude 'weight'"),
        (["--max", "weight:jsd=0.1"], 2, "no column 'weight' is compared"),
        (["--max", "jsd"], 2, "MEASURE=LIMIT"),
        (["--engine", "spark"], 2, "--engine 'spark'"),
        (["--bins", "1"], 2, "--bins 1"),
        (["--top", "-1"], 2, "--top -1"),
    ],
)
def test_usage_errors(pair: tuple[str, str], args: list[str], status: int, message: str) -> None:
    ref, cur = pair
    run = kldiv("drift", ref, cur, *args)
    assert run.status == status
    assert message in run.err
    assert run.out == ""
    assert "Traceback" not in run.err


def test_data_errors(tmp_path: Path) -> None:
    ref = write(tmp_path, "ref.csv", "x,y\n1,a\n2\n")
    cur = write(tmp_path, "cur.csv", "x,y\n1,a\n")
    run = kldiv("drift", ref, cur)
    assert run.status == 65
    assert "ref.csv" in run.err
    assert "line 3" in run.err
    # A numeric column with no finite reference value: no bins can be formed.
    ref = write(tmp_path, "inf.csv", "x\ninf\n-inf\ninf\n")
    run = kldiv("drift", ref, cur, "--bins", "2", "--columns", "x")
    assert run.status == 65, run.err
    assert "column 'x' is numeric but has no finite value" in run.err
    run = kldiv("drift", str(tmp_path / "nope.csv"), cur)
    assert run.status == 66
    assert "nope.csv" in run.err


def test_save_reference_then_use_it(pair: tuple[str, str], tmp_path: Path) -> None:
    ref, cur = pair
    profile = str(tmp_path / "ref-profile.json")
    first = kldiv("drift", ref, cur, "--save-reference", profile, "--format", "json")
    second = kldiv("drift", profile, cur, "--format", "json")
    a, b = first.json(), second.json()
    assert a["saved"] == profile
    assert b["reference"]["profile"] is True
    assert [c["measures"] for c in a["columns"]] == [c["measures"] for c in b["columns"]]
    run = kldiv("drift", profile, cur, "--bins", "4")
    assert run.status == 2
    assert "is a saved profile" in run.err
    run = kldiv("drift", ref, cur, "--save-reference", str(tmp_path / "no/such/p.json"))
    assert run.status == 74
    assert "cannot write" in run.err


def test_penguins_story() -> None:
    """samples/penguins.md: bill_length_mm has JSD 0.0518 bits, over a fixed limit of
    0.05 but under its jsd_noise of 0.0575, on 110 rows against 120."""
    run = kldiv("drift", *PENGUINS, "--exclude", "year", "--format", "json")
    doc = run.json()
    by_name = {c["column"]: c for c in doc["columns"]}
    bill = by_name["bill_length_mm"]
    assert bill["kind"] == "binned"
    assert bill["bins"] == 10
    assert bill["measures"]["jsd"] == pytest.approx(0.0518, abs=5e-5)
    assert bill["jsd_noise"] == pytest.approx(0.0575, abs=5e-5)
    assert bill["n"] == {"reference": 110, "current": 120}
    assert [c["column"] for c in doc["columns"]] == [
        "species",
        "island",
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
        "sex",
    ]
    failing = kldiv("drift", *PENGUINS, "--exclude", "year", "--max", "jsd=0.05")
    assert failing.status == 1
    failed = [line for line in failing.err.splitlines() if "check failed" in line]
    assert len(failed) == 2  # bill_length_mm and flipper_length_mm
    assert any("bill_length_mm" in line for line in failed)
    assert any("flipper_length_mm" in line for line in failed)


def test_a_real_pipe(pair: tuple[str, str]) -> None:
    ref, cur = pair
    with open(cur, "rb") as f:
        proc = subprocess.run(
            [sys.executable, "-m", "kldiv_cli", "drift", ref, "-", "--format", "tsv"],
            stdin=f,
            capture_output=True,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    header, *rows = proc.stdout.decode().strip().split("\n")
    assert header.split("\t")[0] == "column"
    assert [r.split("\t")[0] for r in rows] == ["colour", "n"]
    assert proc.stderr == b""
