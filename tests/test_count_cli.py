"""``--count COL`` on ``compare`` and ``entropy``, through the real program: raw rows
counted by the readers' engine, then measured as counts are. Every figure is derived
by hand (or by SciPy) in the test; stdout, stderr and the exit status apart."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_run import kldiv

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def entropy_bits(*counts: float) -> float:
    n = sum(counts)
    return -sum(c / n * math.log2(c / n) for c in counts if c)


# --------------------------------------------------------------------------- entropy


def test_entropy_of_a_raw_column_counts_missing_as_a_label(tmp_path: Path) -> None:
    data = write(tmp_path, "a.csv", "x,y\na,1\na,2\nb,3\nNA,4\n")
    run = kldiv("entropy", data, "--count", "x", "--format", "json")
    doc = run.json()
    (dist,) = doc["distributions"]
    # a, a, b, (missing): counts 2, 1, 1 -> -(1/2 log 1/2 + 2 * 1/4 log 1/4) = 1.5 bits,
    # exact in binary floating point.
    # A tolerance on the entropy: its sum goes through a blocked dot product whose
    # last bit may differ between SIMD widths (here and below).
    assert {k: dist[k] for k in ("name", "n", "support")} == {"name": "x", "n": 4.0, "support": 3}
    assert dist["entropy"] == pytest.approx(1.5, rel=1e-12)
    assert doc["bins"] == 3
    assert "a.csv, column 'x': 1 missing value (counted as the label (missing))" in run.err
    assert run.err.startswith("kldiv: warning: ")


def test_drop_missing_leaves_missing_out_and_still_reports_them(tmp_path: Path) -> None:
    data = write(tmp_path, "a.csv", "x\na\na\nb\nNA\n")
    run = kldiv("entropy", data, "--count", "x", "--drop-missing", "--format", "json")
    (dist,) = run.json()["distributions"]
    # a, a, b: counts 2, 1 -> H = log2(3) - 2/3 (the (missing) label is gone)
    assert dist["n"] == 3.0
    assert dist["support"] == 2
    assert dist["entropy"] == pytest.approx(math.log2(3) - 2 / 3, rel=1e-14)
    assert "column 'x': 1 missing value (left out by --drop-missing)" in run.err


def test_na_replaces_the_default_tokens(tmp_path: Path) -> None:
    data = write(tmp_path, "a.csv", "x\na\nNA\n-\n\n")
    # Default: NA and the empty field are missing, '-' is a category:
    # a, -, (missing) x2 -> 1, 1, 2 -> 1.5 bits.
    default = kldiv("entropy", data, "--count", "x", "--format", "json").json()
    assert default["distributions"][0]["entropy"] == pytest.approx(1.5, rel=1e-12)
    # --na - replaces the list: NA is now a category; '-' and the empty field missing:
    # a, NA, (missing) x2 -> the same 1.5, but over other labels; --drop-missing
    # shows which: a, NA -> 1 bit, n 2.
    dropped = kldiv(
        "entropy", data, "--count", "x", "--na", "-", "--drop-missing", "--format", "json"
    )
    dist = dropped.json()["distributions"][0]
    assert dist["n"] == 2.0
    assert dist["entropy"] == pytest.approx(1.0, rel=1e-12)
    # --na '' keeps only the empty field: a, NA, - and one missing -> 4 labels, 2 bits.
    only_empty = kldiv("entropy", data, "--count", "x", "--na", "", "--format", "json").json()
    assert only_empty["distributions"][0]["entropy"] == pytest.approx(2.0, rel=1e-12)


def test_several_columns_and_an_estimator(tmp_path: Path) -> None:
    data = write(tmp_path, "a.csv", "x,y\na,1\na,1\nb,2\nc,3\n")
    run = kldiv("entropy", data, "--count", "y", "--count", "x", "--format", "json")
    dists = run.json()["distributions"]
    assert [d["name"] for d in dists] == ["y", "x"]
    # both columns are 2, 1, 1 over three labels
    assert [d["entropy"] for d in dists] == pytest.approx([1.5, 1.5], rel=1e-12)
    mm = kldiv(
        "entropy", data, "--count", "x", "--estimator", "miller-madow", "--format", "json"
    ).json()
    # Miller-Madow: plug-in + (support - 1) / (2n) nats = 1.5 + 2/8 / ln 2 bits
    expected = 1.5 + (3 - 1) / (2 * 4) / math.log(2)
    # a tolerance: the estimator's logs go through a BLAS-blocked sum
    assert mm["distributions"][0]["entropy"] == pytest.approx(expected, rel=1e-12)


def test_a_numeric_column_is_binned_by_the_inverted_cdf(tmp_path: Path) -> None:
    data = write(tmp_path, "a.csv", "v\n" + "".join(f"{v}\n" for v in (1, 2, 3, 4, 5, 6, 7, 8, 8)))
    # n = 9 values, 8 distinct > --bins 4: edges x_(k), k = ceil(9j/4) = 3, 5, 7 ->
    # 3, 5, 7; bins <3, [3, 5), [5, 7), >=7 hold 1 2 | 3 4 | 5 6 | 7 8 8 = 2, 2, 2, 3.
    run = kldiv(
        "compare", data, data, "--count", "v", "--bins", "4", "--top", "9", "--format", "json"
    )
    doc = run.json()
    labels = {c["label"]: c["p"] for c in doc["contributions"]}
    assert labels == pytest.approx({"<3": 2 / 9, "[3, 5)": 2 / 9, "[5, 7)": 2 / 9, ">=7": 3 / 9})
    h = kldiv("entropy", data, "--count", "v", "--bins", "4", "--format", "json").json()
    assert h["distributions"][0]["entropy"] == pytest.approx(entropy_bits(2, 2, 2, 3), rel=1e-14)
    assert h["bins"] == 4
    # --edges fixes them: <4, >=4 hold 3 and 6
    fixed = kldiv("entropy", data, "--count", "v", "--edges", "v=4", "--format", "json").json()
    assert fixed["distributions"][0]["entropy"] == pytest.approx(entropy_bits(3, 6), rel=1e-14)


def test_categorical_keeps_numbers_as_written(tmp_path: Path) -> None:
    data = write(tmp_path, "a.csv", "v\n1\n1.0\n2\n")
    # numeric: 1 and 1.0 are one value -> 2, 1; categorical: three labels -> log2(3)
    numeric = kldiv("entropy", data, "--count", "v", "--format", "json").json()
    assert numeric["distributions"][0]["support"] == 2
    text = kldiv("entropy", data, "--count", "v", "--categorical", "v", "--format", "json")
    assert text.json()["distributions"][0]["entropy"] == pytest.approx(math.log2(3), rel=1e-14)


# --------------------------------------------------------------------------- compare


def test_compare_count_equals_compare_of_the_hand_counted_table(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "c,n\nx,1\nx,2\ny,3\nz,4\n")
    q = write(tmp_path, "q.csv", "c,n\nx,1\ny,2\ny,3\n")
    counted = kldiv("compare", p, q, "--count", "c", "--format", "json")
    table = write(tmp_path, "t.csv", "label,p,q\nx,2,1\ny,1,2\nz,1,0\n")
    by_hand = kldiv("compare", table, "--p", "p", "--q", "q", "--format", "json")
    assert counted.status == 0
    assert by_hand.status == 0
    # the same numbers through the same kernel: equal to the last bit
    assert counted.json()["measures"] == by_hand.json()["measures"]
    assert counted.json()["support"]["only_p"] == ["z"]
    # a category only in P: kl_pq infinite, the label named in the warning
    assert counted.json()["measures"]["kl_pq"] == "inf"
    assert "D(P||Q) is infinite: q = 0 < p at label 'z'" in counted.err


def test_compare_count_reports_missing_per_side(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "c\nx\nNA\n\n")
    q = write(tmp_path, "q.csv", "c\nx\nnull\n")
    run = kldiv("compare", p, q, "--count", "c", "--format", "json")
    doc = run.json()
    assert (
        "column 'c': missing values: P 2, Q 1 (counted as the label (missing))" in doc["warnings"]
    )
    # P x, (missing) x2 = 1/3, 2/3; Q 1/2, 1/2: D(P||Q) = 1/3 log2(2/3) + 2/3 log2(4/3)
    expected = (1 / 3) * math.log2(2 / 3) + (2 / 3) * math.log2(4 / 3)
    assert doc["measures"]["kl_pq"] == pytest.approx(expected, rel=1e-12)
    quiet = kldiv("compare", p, q, "--count", "c", "--value", "kl_pq", "--quiet")
    assert quiet.status == 0
    assert quiet.err == ""
    assert float(quiet.out) == pytest.approx(expected, rel=1e-12)


def test_compare_count_max_fails_with_exit_1(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "c\nx\ny\n")
    q = write(tmp_path, "q.csv", "c\nx\nx\ny\ny\n")
    # the same proportions: JSD 0, up to rounding (a tolerance: not the last bit)
    ok = kldiv("compare", p, q, "--count", "c", "--max", "jsd=1e-12", "--format", "json")
    assert ok.status == 0
    assert ok.json()["measures"]["jsd"] == pytest.approx(0.0, abs=1e-12)
    r = write(tmp_path, "r.csv", "c\nx\nx\nx\ny\n")
    bad = kldiv("compare", r, q, "--count", "c", "--max", "jsd=0.0001", "--format", "json")
    assert bad.status == 1
    assert json.loads(bad.out)["passed"] is False


@pytest.mark.skipif(
    not (ROOT / "samples" / "penguins-2007.csv").exists(), reason="the penguin samples"
)
def test_penguin_species_2009_against_2007_is_scipys_jsd() -> None:
    from scipy.spatial.distance import jensenshannon

    p = [50, 26, 34]  # 2007: Adelie, Chinstrap, Gentoo (counted by hand from the file)
    q = [52, 24, 44]  # 2009
    expected = jensenshannon(p, q, base=2) ** 2
    run = kldiv(
        "compare",
        str(ROOT / "samples" / "penguins-2007.csv"),
        str(ROOT / "samples" / "penguins-2009.csv"),
        "--count",
        "species",
        "--value",
        "jsd",
    )
    assert run.status == 0
    assert run.err == ""
    # a tolerance: two implementations, different summation orders
    assert float(run.out) == pytest.approx(expected, rel=1e-9)


# --------------------------------------------------------------------------- errors


def test_a_missing_column_is_exit_2_naming_it(tmp_path: Path) -> None:
    data = write(tmp_path, "a.csv", "x\na\n")
    for args in (("entropy", data), ("compare", data, data)):
        run = kldiv(*args, "--count", "nope")
        assert run.status == 2
        assert run.out == ""
        assert "no column 'nope'" in run.err
        assert run.err.startswith("kldiv: error: ")


def test_a_ragged_raw_file_is_65_naming_the_line(tmp_path: Path) -> None:
    data = write(tmp_path, "a.csv", "x,y\na,1\nb,2,3\n")
    run = kldiv("entropy", data, "--count", "x")
    assert run.status == 65
    assert run.out == ""
    assert "line 3" in run.err
    assert run.err.count("\n") == 1


def test_options_of_raw_rows_need_count(tmp_path: Path) -> None:
    table = write(tmp_path, "t.csv", "label,p,q\nx,2,1\ny,1,2\n")
    for args in (
        ("compare", table, "--na", "-"),
        ("compare", table, "--bins", "3"),
        ("compare", table, "--drop-missing"),
        ("entropy", table, "--categorical", "p"),
        ("entropy", table, "--edges", "p=1"),
        ("entropy", table, "--input-format", "parquet"),
        ("compare", table, "--input-format", "jsonl"),
        ("compare", table, table, "--count", "p", "--p", "p"),
        ("compare", table, table, "--count", "p", "--label", "label"),
        ("compare", table, "--count", "p"),
        ("entropy", table, "--count", "p", "--count", "p"),
        ("entropy", table, "--count", "p", "--edges", "p=2,1"),
        ("entropy", table, "--count", "p", "--edges", "p=1,x"),
    ):
        run = kldiv(*args)
        assert run.status == 2, (args, run.err)
        assert run.out == "", args
        assert run.err.startswith("kldiv: error: "), args


def test_jsonl_and_parquet_raw_rows(tmp_path: Path) -> None:
    data = write(tmp_path, "a.txt", '{"x": "a"}\n{"x": "a"}\n{"x": "b"}\n{"x": null}\n')
    run = kldiv("entropy", data, "--count", "x", "--input-format", "jsonl", "--format", "json")
    # a, a, b, null (missing): 2, 1, 1 -> 1.5 bits
    assert run.json()["distributions"][0]["entropy"] == pytest.approx(1.5, rel=1e-12)


def test_count_through_a_real_process(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "c\nx\nx\ny\n")
    q = write(tmp_path, "q.csv", "c\nx\ny\ny\n")
    done = subprocess.run(
        [sys.executable, "-m", "kldiv_cli", "compare", p, q, "--count", "c", "--value", "kl_pq"],
        capture_output=True,
        text=True,
        check=False,
    )
    # P 2/3, 1/3 against Q 1/3, 2/3: 2/3 log2 2 + 1/3 log2 1/2 = 1/3 bit
    assert done.returncode == 0
    assert done.stderr == ""
    assert float(done.stdout) == pytest.approx(1 / 3, rel=1e-12)


def test_parquet_and_json_records_and_stdin(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"x": ["a", "a", "b", None]}), path)
    run = kldiv("entropy", str(path), "--count", "x", "--format", "json")
    # a, a, b, null (missing): 2, 1, 1 -> 1.5 bits
    assert run.json()["distributions"][0]["entropy"] == pytest.approx(1.5, rel=1e-12)
    # JSON: 1 and "1" are different labels -> 1, 1, 1 over three labels: log2(3)
    records = write(tmp_path, "r.json", '[{"v": 1}, {"v": "1"}, {"v": "b"}]')
    doc = kldiv("entropy", records, "--count", "v", "--format", "json").json()
    assert doc["distributions"][0]["entropy"] == pytest.approx(math.log2(3), rel=1e-14)
    piped = kldiv("entropy", "-", "--count", "x", "--format", "json", stdin="x\na\nb\nb\n")
    # a, b, b -> log2(3) - 2/3
    h = piped.json()["distributions"][0]["entropy"]
    assert h == pytest.approx(math.log2(3) - 2 / 3, rel=1e-14)


def test_compare_count_test_and_top_match_the_hand_counted_table(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "c\nx\nx\nx\ny\n")
    q = write(tmp_path, "q.csv", "c\nx\ny\ny\ny\ny\n")
    table = write(tmp_path, "t.csv", "label,p,q\nx,3,1\ny,1,4\n")
    counted = kldiv("compare", p, q, "--count", "c", "--test", "--top", "1", "--format", "json")
    by_hand = kldiv(
        "compare", table, "--p", "p", "--q", "q", "--test", "--top", "1", "--format", "json"
    )
    # the same G-test and contributions: the same count vectors through the same code
    assert counted.json()["test"] == by_hand.json()["test"]
    assert counted.json()["contributions"] == by_hand.json()["contributions"]


def test_columns_of_different_alphabets_keep_their_order(tmp_path: Path) -> None:
    data = write(tmp_path, "a.csv", "x,z\na,1\na,2\nb,3\nb,4\n")
    run = kldiv(
        "entropy",
        data,
        "--count",
        "z",
        "--count",
        "x",
        "--estimator",
        "laplace",
        "--format",
        "json",
    )
    doc = run.json()
    # z: 1, 1, 1, 1 over 4 labels; x: 2, 2 over 2: uniform either way, with or without
    # Laplace's +1 per label -> 2 bits and 1 bit, in the order given
    # (a tolerance: the estimator's sum of logs need not be exact on every SIMD width)
    assert [d["name"] for d in doc["distributions"]] == ["z", "x"]
    assert [d["entropy"] for d in doc["distributions"]] == pytest.approx([2.0, 1.0], rel=1e-12)
    assert doc["bins"] == 4
    assert "different alphabets (K, the labels of each): 'z' 4, 'x' 2" in run.err
