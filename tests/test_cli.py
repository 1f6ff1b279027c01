"""The ``kldiv`` program: every option of compare, exit statuses, stdout vs stderr."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import scipy.spatial.distance
import scipy.stats
from typer.testing import CliRunner

from kldiv_cli import __version__
from kldiv_cli.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
runner = CliRunner()


class Run:
    def __init__(
        self, args: list[str], stdin: str | None = None, env: dict[str, str] | None = None
    ):
        result = runner.invoke(app, args, input=stdin, env=env)
        self.status = result.exit_code
        self.out = result.stdout
        self.err = result.stderr
        self.exception = result.exception

    def json(self) -> Any:
        return json.loads(self.out)


def kldiv(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Run:
    return Run(list(args), stdin, env)


def write(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def assert_error(run: Run, status: int, *fragments: str) -> None:
    """An error: the status, one `kldiv: error:` line naming the fragments, empty stdout."""
    assert run.status == status, (run.status, run.err)
    assert run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("kldiv: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in run.err


# --------------------------------------------------------------------------- program


def test_version() -> None:
    run = kldiv("--version")
    assert run.status == 0
    assert run.out == f"kldiv {__version__}\n"


def test_help_lists_compare_and_compare_help_lists_every_option() -> None:
    assert "compare" in kldiv("--help").out
    text = kldiv("compare", "--help").out
    for option in (
        "--p", "--q", "--label", "--unit", "--pseudocount", "--no-normalize", "--top", "--max",
        "--format", "--value", "--quiet", "--input-format", "--no-header",
    ):  # fmt: skip
        assert option in text


def test_python_dash_m_is_the_same_program() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kldiv_cli", "compare", "0,1", "0.5,0.5", "--value", "kl_pq"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "1.0\n",
        "kldiv: warning: D(Q||P) is infinite: p = 0 < q at position 1\n",
    )


# --------------------------------------------------------------------------- values


def test_black_swan_is_log2_100_bits() -> None:
    run = kldiv("compare", "0,1", "0.99,0.01", "--format", "json")
    doc = run.json()
    assert run.status == 0
    assert doc["measures"]["kl_pq"] == pytest.approx(math.log2(100), rel=1e-14)
    assert doc["measures"]["kl_qp"] == "inf"
    assert doc["measures"]["entropy_p"] == 0.0


def test_every_measure_agrees_with_scipy_on_a_labelled_pair(tmp_path: Path) -> None:
    p_path = write(tmp_path, "p.csv", "w,n\na,10\nb,20\nc,30\nd,5\n")
    q_path = write(tmp_path, "q.csv", "w,n\nd,7\nc,20\nb,25\na,9\n")
    m = kldiv("compare", p_path, q_path, "--unit", "nats", "--format", "json").json()["measures"]
    p = [10 / 65, 20 / 65, 30 / 65, 5 / 65]
    q = [9 / 61, 25 / 61, 20 / 61, 7 / 61]
    kl_pq, kl_qp = scipy.stats.entropy(p, q), scipy.stats.entropy(q, p)
    want = {
        "entropy_p": scipy.stats.entropy(p),
        "entropy_q": scipy.stats.entropy(q),
        "kl_pq": kl_pq,
        "kl_qp": kl_qp,
        "cross_entropy_pq": scipy.stats.entropy(p) + kl_pq,
        "cross_entropy_qp": scipy.stats.entropy(q) + kl_qp,
        "js_distance": scipy.spatial.distance.jensenshannon(p, q),
        "jsd": scipy.spatial.distance.jensenshannon(p, q) ** 2,
    }
    for key, value in want.items():
        assert m[key] == pytest.approx(value, rel=1e-12), key


def test_units_differ_by_ln2_and_ln10() -> None:
    values = {
        unit: float(kldiv("compare", "1,2,3", "3,2,1", "--unit", unit, "--value", "kl_pq").out)
        for unit in ("bits", "nats", "bans")
    }
    assert values["nats"] == pytest.approx(values["bits"] * math.log(2), rel=1e-14)
    assert values["nats"] == pytest.approx(values["bans"] * math.log(10), rel=1e-14)


def test_pseudocount_is_added_before_normalizing() -> None:
    # p = (1+1, 0+1)/3, q = (0+1, 1+1)/3: KL = 2/3 log2 2 + 1/3 log2 1/2 = 1/3 bit
    run = kldiv("compare", "1,0", "0,1", "--pseudocount", "1", "--format", "json")
    doc = run.json()
    assert doc["measures"]["kl_pq"] == pytest.approx(1 / 3, rel=1e-14)
    assert doc["pseudocount"] == 1.0
    assert doc["support"]["only_p"] == doc["support"]["only_q"] == []
    assert doc["p"]["total"] == 1.0  # the total as read, before the pseudocount


def test_counts_report_their_totals() -> None:
    doc = kldiv("compare", str(SAMPLES / "dice.csv"), "--label", "face", "--format", "json").json()
    assert doc["p"] == {
        "source": str(SAMPLES / "dice.csv"),
        "column": "fair",
        "total": 600.0,
        "size": 6,
    }
    assert doc["q"]["column"] == "loaded"
    assert doc["q"]["total"] == 600.0


# --------------------------------------------------------------------------- options


def test_one_source_takes_its_two_numeric_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "w,x,y\na,1,3\nb,3,1\n")
    assert (
        kldiv("compare", path, "--value", "jsd").out
        == kldiv("compare", "1,3", "3,1", "--value", "jsd").out
    )


def test_p_and_q_choose_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "w,x,y,z\na,1,3,1\nb,3,1,1\n")
    run = kldiv("compare", path, "--p", "z", "--q", "x", "--format", "json")
    doc = run.json()
    assert (doc["p"]["column"], doc["q"]["column"]) == ("z", "x")
    want = scipy.stats.entropy([0.5, 0.5], [0.25, 0.75], base=2)
    assert doc["measures"]["kl_pq"] == pytest.approx(want, rel=1e-13)


def test_more_than_two_numeric_columns_is_a_usage_error_naming_them(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "w,x,y,z\na,1,3,1\nb,3,1,1\n")
    assert_error(kldiv("compare", path), 2, "'x', 'y', 'z'", "--p and --q")


def test_p_with_two_sources_picks_the_column_of_the_first(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "w,x,y\na,1,3\nb,1,1\n")
    run = kldiv("compare", p, "1,1", "--label", "w", "--p", "y", "--format", "json")
    # P is labelled and Q is not: an error, not a silent positional match
    assert_error(run, 65, "no labels")
    q = write(tmp_path, "q.csv", "w,n\na,1\nb,1\n")
    doc = kldiv("compare", p, q, "--p", "y", "--format", "json").json()
    assert doc["p"]["column"] == "y"
    assert doc["measures"]["kl_pq"] == pytest.approx(
        scipy.stats.entropy([0.75, 0.25], [0.5, 0.5], base=2)
    )


def test_an_unknown_column_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "w,x,y\na,1,3\n")
    assert_error(kldiv("compare", path, "--p", "nope", "--q", "x"), 2, "'nope'", "--p")


def test_label_option_makes_a_numeric_column_the_labels(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "id,n\n1,1\n2,3\n")
    q = write(tmp_path, "q.csv", "id,n\n2,3\n1,1\n")
    assert kldiv("compare", p, q, "--label", "id", "--value", "jsd").out == "0.0\n"
    # without --label the ids are data: two numeric columns in each file
    assert kldiv("compare", p, q).status == 2


def test_no_normalize_accepts_probabilities_and_rejects_a_wrong_sum() -> None:
    assert kldiv("compare", "0.5,0.5", "0.25,0.75", "--no-normalize", "--value", "jsd").status == 0
    assert_error(kldiv("compare", "0.5,0.4", "0.5,0.5", "--no-normalize"), 65, "sums to 0.9")


def test_pseudocount_and_no_normalize_exclude_each_other() -> None:
    assert_error(
        kldiv("compare", "1,0", "0,1", "--pseudocount", "1", "--no-normalize"), 2, "exclude"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--unit", "furlongs"],
        ["--format", "xml"],
        ["--value", "kl"],
        ["--top", "-1"],
        ["--top", "x"],
        ["--pseudocount", "-1"],
        ["--pseudocount", "nan"],
        ["--pseudocount", "inf"],
        ["--max", "jsd"],
        ["--max", "kl=0.1"],
        ["--max", "jsd=lots"],
        ["--max", "jsd=nan"],
        ["--max", "jsd=1_0"],
        ["--input-format", "xls"],
        ["--bogus"],
    ],
)
def test_bad_option_values_are_usage_errors(args: list[str]) -> None:
    assert_error(kldiv("compare", "1,2", "2,1", *args), 2)


def test_both_sources_stdin_is_a_usage_error() -> None:
    assert_error(kldiv("compare", "-", "-", stdin="1,2\n"), 2, "standard input")


def test_no_header_and_input_format(tmp_path: Path) -> None:
    path = write(tmp_path, "t.txt", "a\t1\t3\nb\t3\t1\n")
    run = kldiv("compare", path, "--no-header", "--input-format", "tsv", "--format", "json")
    doc = run.json()
    assert (doc["p"]["column"], doc["q"]["column"]) == ("2", "3")
    assert doc["measures"]["kl_pq"] == pytest.approx(
        scipy.stats.entropy([0.25, 0.75], [0.75, 0.25], base=2)
    )


def test_stdin_json_against_a_file(tmp_path: Path) -> None:
    q = write(tmp_path, "q.json", '{"sun": 6, "rain": 3, "snow": 1}')
    doc = kldiv(
        "compare", "-", q, "--format", "json", stdin='{"rain": 3, "sun": 5, "snow": 2}'
    ).json()
    assert doc["p"]["source"] == "<stdin>"
    want = scipy.stats.entropy([3, 5, 2], [3, 6, 1], base=2)
    assert doc["measures"]["kl_pq"] == pytest.approx(want, rel=1e-13)


# --------------------------------------------------------------------------- output


def test_default_format_off_a_terminal_is_tsv() -> None:
    run = kldiv("compare", "0.5,0.5", "0.9,0.1")
    rows = [line.split("\t") for line in run.out.splitlines()]
    assert rows[0] == ["measure", "value"]
    assert [r[0] for r in rows[1:]] == [
        "entropy_p", "entropy_q", "cross_entropy_pq", "cross_entropy_qp",
        "kl_pq", "kl_qp", "jsd", "js_distance",
    ]  # fmt: skip
    assert float(rows[1][1]) == 1.0


def test_csv_prints_shortest_round_trip_floats_and_inf() -> None:
    run = kldiv("compare", "1,1", "1,0", "--format", "csv")
    rows = dict(line.split(",") for line in run.out.splitlines()[1:])
    assert rows["kl_pq"] == "inf"
    assert rows["kl_qp"] == "1.0"
    assert rows["jsd"] == repr(float(rows["jsd"]))


def test_json_has_exactly_the_spec_keys(tmp_path: Path) -> None:
    run = kldiv("compare", "1,1,0", "1,0,1", "--format", "json", "--top", "2", "--max", "jsd=1")
    doc = run.json()
    assert list(doc)[:10] == [
        "command", "unit", "p", "q", "support", "measures", "contributions", "checks",
        "passed", "warnings",
    ]  # fmt: skip
    assert set(doc["measures"]) == {
        "entropy_p", "entropy_q", "cross_entropy_pq", "cross_entropy_qp",
        "kl_pq", "kl_qp", "jsd", "js_distance",
    }  # fmt: skip
    assert doc["support"] == {"size": 3, "only_p": ["2"], "only_q": ["3"]}
    assert "Infinity" not in run.out
    assert "null" not in run.out.replace('"column": null', "")


def test_top_lists_the_largest_jsd_contributions_first() -> None:
    doc = kldiv("compare", "1,1,0", "1,0,1", "--format", "json", "--top", "2").json()
    rows = doc["contributions"]
    assert [r["label"] for r in rows] == ["2", "3"]  # 1/4 bit each; label 1 adds 0
    assert rows[0] == {"label": "2", "p": 0.5, "q": 0.0, "kl_pq": "inf", "kl_qp": 0.0, "jsd": 0.25}
    assert sum(r["jsd"] for r in rows) == pytest.approx(doc["measures"]["jsd"])


def test_top_in_csv_warns_that_it_is_not_shown() -> None:
    run = kldiv("compare", "1,2", "2,1", "--top", "1", "--format", "csv")
    assert run.status == 0
    assert "--top is shown in the table and json formats only" in run.err


def test_value_prints_one_bare_number() -> None:
    run = kldiv("compare", "0.5,0.5", "0.9,0.1", "--unit", "nats", "--value", "kl_pq")
    # One bare number and a newline; its last bit is the log kernel's (SIMD loops
    # differ by CPU), so the value is held to a few ulps of ln(0.5/0.9)/2 + ln(5)/2.
    assert re.fullmatch(r"0\.51082562376599\d*\n", run.out), run.out
    assert float(run.out) == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(5), rel=1e-15)


def test_table_format_names_the_unit_and_the_totals() -> None:
    run = kldiv(
        "compare", str(SAMPLES / "dice.csv"), "--label", "face", "--format", "table", "--top", "2"
    )
    assert run.status == 0
    assert "unit: bits" in run.out
    assert "total 600" in run.out
    assert "labels that contribute most" in run.out
    assert "\x1b[" not in run.out  # not a terminal: no colour codes


# --------------------------------------------------------------------------- checks


def test_a_failing_check_exits_1_and_says_which_on_stderr() -> None:
    run = kldiv(
        "compare",
        "0.5,0.5",
        "0.9,0.1",
        "--max",
        "jsd=0.01",
        "--max",
        "kl_pq=10",
        "--format",
        "json",
    )
    doc = run.json()
    assert run.status == 1
    assert doc["passed"] is False
    assert [(c["measure"], c["passed"]) for c in doc["checks"]] == [("jsd", False), ("kl_pq", True)]
    assert run.err.splitlines() == [
        f"kldiv: check failed: jsd = {doc['measures']['jsd']!r} is above the limit 0.01"
    ]


def test_a_passing_check_exits_0() -> None:
    run = kldiv("compare", "0.5,0.5", "0.9,0.1", "--max", "jsd=0.9")
    assert (run.status, run.err) == (0, "")


def test_an_infinite_value_fails_even_an_infinite_limit() -> None:
    assert kldiv("compare", "1,1", "1,0", "--max", "kl_pq=inf", "--quiet").status == 1


def test_value_with_a_failing_check_still_exits_1() -> None:
    run = kldiv("compare", "0.5,0.5", "0.9,0.1", "--max", "jsd=0.01", "--value", "jsd")
    assert run.status == 1
    assert float(run.out) > 0.01


# --------------------------------------------------------------------------- warnings


def test_infinite_kl_warning_names_at_most_five_labels() -> None:
    run = kldiv("compare", "1,1,1,1,1,1,1,1", "1,0,0,0,0,0,0,0")
    assert run.status == 0
    assert (
        "kldiv: warning: D(P||Q) is infinite: q = 0 < p at positions 2, 3, 4, 5, 6 and 2 more"
        in run.err
    )


def test_probability_hint_for_values_that_sum_to_neither_1_nor_an_integer() -> None:
    run = kldiv("compare", "0.5,0.3", "0.5,0.5", "--format", "json")
    assert "sums to 0.8, not 1" in run.err
    assert "did you mean probabilities?" in run.json()["warnings"][0]
    assert kldiv("compare", "1,0,1", "1,1,1", "--quiet").err == ""
    assert kldiv("compare", "1,1,1", "1,2,1").err == ""  # values <= 1 summing to an integer: counts


def test_quiet_silences_warnings_but_json_keeps_them() -> None:
    run = kldiv("compare", "1,1", "1,0", "--quiet", "--format", "json")
    assert run.err == ""
    assert run.json()["warnings"] == ["D(P||Q) is infinite: q = 0 < p at position 2"]


# --------------------------------------------------------------------------- errors


def test_missing_file_is_66(tmp_path: Path) -> None:
    assert_error(kldiv("compare", str(tmp_path / "nope.csv"), "0.5,0.5"), 66, "nope.csv")


def test_negative_value_is_65_and_names_the_label(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "label,n\nheads,3\ntails,-1\n")
    assert_error(kldiv("compare", path, "0.5,0.5"), 65, "p.csv", "line 3", "'tails'")


def test_lengths_differ_is_65() -> None:
    assert_error(kldiv("compare", "1,2", "1,2,3"), 65, "lengths differ")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_66(tmp_path: Path) -> None:  # pragma: no cover - not as root
    path = write(tmp_path, "p.csv", "a,1\n")
    os.chmod(path, 0)
    assert_error(kldiv("compare", path, "1"), 66, "permission denied")


def test_an_internal_error_is_70_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("kldiv_cli.maths.core.measures", broken)
    run = kldiv("compare", "1,2", "2,1")
    assert_error(run, 70, "internal error: RuntimeError: boom", "report")
    debug = kldiv("compare", "1,2", "2,1", env={"KLDIV_DEBUG": "1"})
    assert debug.status == 70
    assert "Traceback" in debug.err
    flag = kldiv("--debug", "compare", "1,2", "2,1")
    assert flag.status == 70
    assert "Traceback" in flag.err
    assert 'raise RuntimeError("boom")' in flag.err
    # the flag lasts one run: the next one is back to the one-line message
    assert "Traceback" not in kldiv("compare", "1,2", "2,1").err


def test_ctrl_c_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("kldiv_cli.maths.core.measures", interrupted)
    assert_error(kldiv("compare", "1,2", "2,1"), 130, "interrupted")


# --------------------------------------------------------------------------- real processes

KLDIV = [
    shutil.which("kldiv") or sys.executable,
    *([] if shutil.which("kldiv") else ["-m", "kldiv_cli"]),
]


def test_a_real_pipe_from_cat(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "label,n\na,1\nb,2\nc,3\n")
    q = write(tmp_path, "q.csv", "label,n\nc,3\nb,2\na,1\nd,4\n")
    cat = subprocess.Popen(["cat", p], stdout=subprocess.PIPE)
    done = subprocess.run(
        [*KLDIV, "compare", "-", q, "--format", "json"],
        stdin=cat.stdout,
        capture_output=True,
        check=False,
    )
    cat.wait()
    doc = json.loads(done.stdout)
    assert done.returncode == 0
    assert doc["support"]["only_q"] == ["d"]
    assert doc["measures"]["kl_pq"] == pytest.approx(
        scipy.stats.entropy([1, 2, 3, 0], [1, 2, 3, 4], base=2)
    )
    assert done.stderr.decode() == "kldiv: warning: D(Q||P) is infinite: p = 0 < q at label 'd'\n"


def test_a_closed_pipe_ends_quietly_with_status_141() -> None:
    # The reader is gone before kldiv writes: its write fails with EPIPE.
    proc = subprocess.Popen(
        [*KLDIV, "compare", "1,2,3", "3,2,1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""


def test_head_of_a_pipe_is_quiet(tmp_path: Path) -> None:
    rows = "\n".join(f"w{i},{i % 5 + 1},{i % 3 + 1}" for i in range(20_000))
    path = write(tmp_path, "t.csv", "w,x,y\n" + rows + "\n")
    command = " ".join(
        [*KLDIV, "compare", path, "--format", "json", "--top", "20000", "| head -c 11"]
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=False)
    assert (done.stdout, done.stderr) == ('{"command":', "")


def test_inline_numbers_do_not_import_pandas_or_rich() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kldiv_cli", "compare", "0.5,0.5", "0.9,0.1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "numpy" in modules  # the check sees imports at all
    assert not {m for m in modules if m.split(".")[0] in ("pandas", "rich")}


# --------------------------------------------------------------------------- review fixes


def test_bare_kldiv_is_one_usage_error_line() -> None:
    assert_error(kldiv(), 2, "Missing command")


def test_an_empty_source_is_a_usage_error() -> None:
    assert_error(kldiv("compare", "", "1,1"), 2, "empty SOURCE")


def test_p_naming_the_label_column_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "a,b,c\nx,1,2\ny,3,4\n")
    assert_error(kldiv("compare", path, "--p", "a", "--q", "b"), 2, "'a' (--p) is the label column")
    assert_error(kldiv("compare", path, "--p", "b", "--q", "b"), 2, "both name 'b'")


def test_labels_are_never_read_as_rich_markup(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "l,p,q\n[/],1,2\n[red]b,3,4\n")
    run = kldiv("compare", path, "--top", "2", "--format", "table")
    assert run.status == 0
    assert "[/]" in run.out
    assert "[red]b" in run.out


def test_json_size_counts_the_entries_read(tmp_path: Path) -> None:
    path = write(tmp_path, "n.json", '{"A": {"a": 1, "b": 2}, "B": {"b": 1, "c": 2, "d": 1}}')
    doc = kldiv("compare", path, "--format", "json", "--quiet").json()
    assert (doc["p"]["size"], doc["q"]["size"], doc["support"]["size"]) == (2, 3, 4)


def test_an_unwritable_stdout_is_an_io_error_not_a_bug() -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [*KLDIV, "compare", "1,1", "1,2"], stdout=full, stderr=subprocess.PIPE, check=False
        )
    assert done.returncode == 74
    assert (
        done.stderr.decode() == "kldiv: error: cannot write the output: No space left on device\n"
    )
