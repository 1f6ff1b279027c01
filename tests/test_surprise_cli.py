"""``kldiv surprise PRIOR DATA`` through the real program: values (by hand, or by the
Beta integral), the formats, the refusals with their exit status and message, and
``--max``. stdout, stderr and the exit status are checked apart.

Floats are compared with a tolerance: the sums go through NumPy's SIMD loops, whose
last bits differ between CPUs with AVX-512 and AVX2 only.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from scipy.special import digamma

from tests.cli_run import kldiv

ROOT = Path(__file__).resolve().parent.parent
SWANS = str(ROOT / "samples/swans-counts.csv")
WEEKS = str(ROOT / "samples/swans-weeks.csv")
LN2 = math.log(2.0)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def one_black_swan_nats(white: float, black: float) -> float:
    """One observation of 'black' under Beta(black, white): R(x, 1) = ln x, so
    D = ln(a0 / a_black) + psi(a_black + 1) - psi(a0 + 1) (derived in test_surprise.py)."""
    a0 = white + black
    return math.log(a0 / black) + float(digamma(black + 1.0) - digamma(a0 + 1.0))


def test_hand_value_inline() -> None:
    # Dir(1, 1), one observation of the second category: Beta(1, 2), D = ln 2 - 1/2 nats.
    run = kldiv("surprise", "1,1", "0,1", "--unit", "nats", "--format", "csv")
    assert run.status == 0, run.err
    assert run.err == ""
    header, row, end = run.out.split("\n")
    assert header == "name,n,surprise"
    assert end == ""
    name, n, value = row.rsplit(",", 2)
    assert name == '"0,1"'  # a nameless batch is named by its source, quoted for CSV
    assert float(n) == 1.0
    assert float(value) == pytest.approx(LN2 - 0.5, rel=1e-14)


def test_the_black_swan_json() -> None:
    # 1000 white swans and no black one, plus 1 each: Beta(1, 1001) on black; then one
    # black swan. Labels align the JSON object {"white": 0, "black": 1} to the CSV.
    run = kldiv(
        "surprise", SWANS, str(ROOT / "samples/swans-seen.json"), "--add", "1", "--format", "json"
    )
    doc = run.json()
    assert run.err == ""
    assert doc["command"] == "surprise"
    assert doc["unit"] == "bits"
    assert doc["prior"] == {
        "source": SWANS,
        "column": "seen",
        "total": 1002.0,
        "size": 2,
        "add": 1.0,
    }
    (batch,) = doc["batches"]
    expected = one_black_swan_nats(1001.0, 1.0) / LN2
    assert batch["name"] == str(ROOT / "samples/swans-seen.json")
    assert batch["n"] == 1.0
    assert batch["surprise"] == pytest.approx(expected, rel=1e-12)
    assert doc["total"] == pytest.approx(expected, rel=1e-12)  # one batch: the same
    assert doc["checks"] == []
    assert doc["passed"] is True
    assert doc["warnings"] == []


def test_batches_of_the_sample_in_order() -> None:
    run = kldiv("surprise", SWANS, WEEKS, "--add", "1", "--format", "json")
    doc = run.json()
    names = [b["name"] for b in doc["batches"]]
    assert names == ["week1", "week2", "week3", "week4"]
    assert [b["n"] for b in doc["batches"]] == [40.0, 36.0, 34.0, 41.0]
    # week 1 (40 white) moves Beta(1001, 1) a little; week 3 (4 black) the most
    values = [b["surprise"] for b in doc["batches"]]
    assert max(values) == values[2]
    assert min(values) == values[0]
    # the total is not the sum of the batches' surprises
    assert abs(doc["total"] - sum(values)) > 1.0


def test_rows_are_batches_with_rows(tmp_path: Path) -> None:
    # The same counts transposed: each row a batch, the columns the categories.
    data = write(
        tmp_path,
        "weeks.csv",
        "week,white,black\nweek1,40,0\nweek2,35,1\nweek3,30,4\nweek4,38,3\n",
    )
    by_rows = kldiv("surprise", SWANS, data, "--add", "1", "--rows", "--format", "json").json()
    by_cols = kldiv("surprise", SWANS, WEEKS, "--add", "1", "--format", "json").json()
    assert [b["name"] for b in by_rows["batches"]] == ["week1", "week2", "week3", "week4"]
    for a, b in zip(by_rows["batches"], by_cols["batches"], strict=True):
        assert a["surprise"] == pytest.approx(b["surprise"], rel=1e-13)
    assert by_rows["total"] == pytest.approx(by_cols["total"], rel=1e-13)


def test_units(tmp_path: Path) -> None:
    nats = kldiv("surprise", "1,1", "0,1", "--unit", "nats", "--format", "json").json()
    bans = kldiv("surprise", "1,1", "0,1", "--unit", "bans", "--format", "json").json()
    assert bans["batches"][0]["surprise"] == pytest.approx(
        nats["batches"][0]["surprise"] / math.log(10.0), rel=1e-14
    )


def test_a_category_data_lacks_counts_zero(tmp_path: Path) -> None:
    prior = write(tmp_path, "prior.csv", "swan,n\nwhite,1\nblack,1\ngrey,1\n")
    data = write(tmp_path, "data.csv", "swan,n\nblack,1\n")
    doc = kldiv("surprise", prior, data, "--unit", "nats", "--format", "json").json()
    # Dir(1, 1, 1) and one 'black': D = R(3, 1) - R(1, 1) + psi(2) - psi(4) = ln 3 + psi(2) - psi(4)
    expected = math.log(3.0) + float(digamma(2.0) - digamma(4.0))
    assert doc["batches"][0]["surprise"] == pytest.approx(expected, rel=1e-13)
    assert doc["prior"]["size"] == 3


def test_table_for_people() -> None:
    run = kldiv("surprise", SWANS, WEEKS, "--add", "1", "--format", "table")
    assert run.status == 0
    assert run.err == ""
    assert "kldiv surprise · unit: bits" in run.out
    assert "week3" in run.out
    assert "α₀ = 1002" in run.out
    assert "total, all batches at once: 7.94224 (not their sum, 4.06655)" in run.out


def test_tsv_is_the_default_in_a_pipe() -> None:
    run = kldiv("surprise", SWANS, WEEKS, "--add", "1")
    assert run.status == 0
    assert run.out.splitlines()[0] == "name\tn\tsurprise"
    assert len(run.out.splitlines()) == 5


# --------------------------------------------------------------------------- refusals


def test_a_zero_pseudocount_is_refused_naming_its_label() -> None:
    run = kldiv("surprise", SWANS, WEEKS)
    assert run.status == 65
    assert run.out == ""
    assert run.err == (
        f"kldiv: error: {SWANS}: line 3, column 'seen', label 'black': pseudocount 0.0 is "
        "not > 0: a Dirichlet prior needs every pseudocount > 0; --add A adds A to every "
        "pseudocount (e.g. --add 1)\n"
    )


def test_a_negative_pseudocount_is_refused(tmp_path: Path) -> None:
    prior = write(tmp_path, "prior.csv", "swan,n\nwhite,3\nblack,-2\n")
    data = write(tmp_path, "data.csv", "swan,n\nwhite,1\n")
    run = kldiv("surprise", prior, data, "--add", "1")
    assert run.status == 65
    assert run.out == ""
    assert "label 'black': pseudocount -2.0 plus --add 1.0 is not > 0" in run.err
    assert run.err.count("\n") == 1
    assert "Traceback" not in run.err


def test_a_new_category_is_refused_naming_it(tmp_path: Path) -> None:
    prior = write(tmp_path, "prior.csv", "swan,n\nwhite,1000\n")
    data = write(tmp_path, "data.csv", "swan,n\nwhite,3\nblack,1\n")
    run = kldiv("surprise", prior, data)
    assert run.status == 65
    assert run.out == ""
    assert run.err == (
        f"kldiv: error: {data}: line 3, label 'black': category 'black' is not in the prior "
        f"{prior}: a Dirichlet prior is over fixed categories and cannot take a new one; "
        "add it to the prior with a pseudocount (e.g. 1)\n"
    )


def test_a_count_that_is_not_whole_is_refused(tmp_path: Path) -> None:
    data = write(tmp_path, "data.csv", "swan,a,b\nwhite,3,2.5\nblack,1,0\n")
    prior = write(tmp_path, "prior.csv", "swan,n\nwhite,1\nblack,1\n")
    run = kldiv("surprise", prior, data)
    assert run.status == 65
    assert run.out == ""
    assert run.err == (
        f"kldiv: error: {data}: line 2, column 'b', label 'white': surprise needs counts "
        "(whole numbers), and 2.5 is not one\n"
    )


def test_lengths_must_match_by_position() -> None:
    run = kldiv("surprise", "1,1,1", "0,1")
    assert run.status == 65
    assert run.out == ""
    assert "lengths differ: the prior 1,1,1 has 3 categories" in run.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--add", "-1"], "--add -1.0: must be a finite number >= 0"),
        (["--max", "jsd=1"], "unknown measure 'jsd'; choose surprise or total"),
        (["--max", "surprise"], "expected MEASURE=LIMIT"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    run = kldiv("surprise", "1,1", "0,1", *args)
    assert run.status == 2
    assert run.out == ""
    assert message in run.err


def test_prior_with_several_columns_asks_which(tmp_path: Path) -> None:
    prior = write(tmp_path, "prior.csv", "swan,a,b\nwhite,1,2\nblack,1,2\n")
    run = kldiv("surprise", prior, "0,1")
    assert run.status == 2
    assert "choose the prior's with --prior-column" in run.err
    data = write(tmp_path, "data.csv", "swan,n\nblack,1\n")
    chosen = kldiv("surprise", prior, data, "--prior-column", "a", "--unit", "nats")
    assert chosen.status == 0, chosen.err
    # Dir(1, 1) and one 'black': ln 2 - 1/2
    assert float(chosen.out.split()[-1]) == pytest.approx(LN2 - 0.5, rel=1e-14)


# --------------------------------------------------------------------------- --max


def test_max_fails_naming_each_batch_over_the_limit() -> None:
    run = kldiv("surprise", SWANS, WEEKS, "--add", "1", "--max", "surprise=0.7")
    assert run.status == 1
    assert len(run.out.splitlines()) == 5  # the output is written all the same
    lines = run.err.splitlines()
    assert len(lines) == 2  # week3 (2.77 bits) and week4 (0.73 bits)
    assert lines[0].startswith("kldiv: check failed: batch 'week3': surprise = 2.77")
    assert lines[0].endswith(" > 0.7 (bits)")
    assert lines[1].startswith("kldiv: check failed: batch 'week4': surprise = 0.72")


def test_max_total_and_passing_checks() -> None:
    ok = kldiv("surprise", SWANS, WEEKS, "--add", "1", "--max", "surprise=5", "--format", "json")
    assert ok.status == 0
    assert ok.err == ""
    doc = json.loads(ok.out)
    assert doc["passed"] is True
    assert len(doc["checks"]) == 4
    run = kldiv("surprise", SWANS, WEEKS, "--add", "1", "--max", "total=1", "--format", "json")
    assert run.status == 1
    doc = json.loads(run.out)
    assert doc["checks"][0]["batch"] is None
    assert doc["checks"][0]["measure"] == "total"
    assert run.err.startswith("kldiv: check failed: total = 7.94")


def test_a_real_pipe() -> None:
    # The installed program, DATA from standard input.
    text = (ROOT / "samples/swans-weeks.csv").read_text(encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kldiv_cli",
            "surprise",
            SWANS,
            "-",
            "--add",
            "1",
            "--format",
            "csv",
        ],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines()[0] == "name,n,surprise"
    assert [line.split(",")[0] for line in done.stdout.splitlines()[1:]] == [
        "week1",
        "week2",
        "week3",
        "week4",
    ]


def test_an_empty_batch_has_no_surprise_and_changes_nothing(tmp_path: Path) -> None:
    # A batch of zeros leaves the posterior equal to the prior: surprise exactly 0, and
    # the next batch is measured as if it were not there.
    data = write(tmp_path, "data.csv", "swan,a,empty,b\nwhite,3,0,1\nblack,0,0,2\n")
    without = write(tmp_path, "without.csv", "swan,a,b\nwhite,3,1\nblack,0,2\n")
    prior = write(tmp_path, "prior.csv", "swan,n\nwhite,1\nblack,1\n")
    doc = kldiv("surprise", prior, data, "--format", "json").json()
    ref = kldiv("surprise", prior, without, "--format", "json").json()
    assert doc["batches"][1] == {"name": "empty", "n": 0.0, "surprise": 0.0}
    assert doc["batches"][2]["surprise"] == pytest.approx(ref["batches"][1]["surprise"], rel=1e-14)
    assert doc["total"] == pytest.approx(ref["total"], rel=1e-14)


def test_labels_on_one_side_only_are_refused(tmp_path: Path) -> None:
    data = write(tmp_path, "data.csv", "swan,n\nwhite,3\nblack,1\n")
    run = kldiv("surprise", "1,1", data)
    assert run.status == 65
    assert run.out == ""
    assert (
        run.err == f"kldiv: error: 1,1 has no labels and {data} has; give both labels or neither\n"
    )


def test_a_data_table_of_zeros_is_refused(tmp_path: Path) -> None:
    run = kldiv("surprise", "1,1", "0,0")
    assert run.status == 65
    assert run.out == ""
    assert run.err == "kldiv: error: 0,0: no positive value (all 2 are 0)\n"
