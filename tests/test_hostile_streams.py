"""Issue 15, items 1, 3 and 8: terminals, closed and full streams, encodings.

Every test runs the real program in a subprocess (``python -m kldiv_cli``), because
what is tested is what reaches a terminal or a descriptor: a closed standard input, a
standard output on ``/dev/full``, a pipe whose reader went away, an ASCII locale.

1. Terminal injection: a label, column or file name holding ESC, BEL, CSI, CR, a C1
   control or a bidi override reaches tables, warnings and errors as visible text
   (``\\x1b``), never as the raw character; JSON, CSV and TSV keep the exact text.
2. Streams: 66 for a standard input that is closed, 74 for an output that cannot be
   written, 141 for a closed pipe, whatever the command (help included) and however
   long the output; a standard error that cannot be written changes no status.
3. Encodings: machine output is UTF-8 whatever the locale; a file name that is not
   UTF-8 is U+FFFD in JSON and ``\\xff`` in a table or an error.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# Characters a terminal acts on instead of showing (C0 but the line feed that ends a
# line, DEL, C1) and those that reorder what a reader sees (bidi).
FORBIDDEN = {
    *map(chr, range(0x0A)),
    *map(chr, range(0x0B, 0x20)),
    *map(chr, range(0x7F, 0xA0)),
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}

#: Hostile names and how a table, a warning or an error spells them.
HOSTILE = {
    "title": ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
    "clear": ("a\x1b[2Jb", "a\\x1b[2Jb"),
    "return": ("fine\rEVIL", "fine\\rEVIL"),
    "c1 csi": ("c\x9b31mred", "c\\x9b31mred"),
    "nel": ("x\x85y", "x\\x85y"),
    "bidi": ("abc\u202edef", "abc\\u202edef"),
    "isolate": ("\u2066iso\u2069", "\\u2066iso\\u2069"),
    "tab": ("a\tb", "a\\tb"),
    "newline": ("one\ntwo", "one\\ntwo"),
    "del": ("d\x7fe", "d\\x7fe"),
}


@dataclass
class Run:
    status: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8")


def env(**extra: str) -> dict[str, str]:
    """The environment of a run: no colour, a wide terminal, no debug, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KLDIV_", "PYTHONIO"))}
    base.update({"NO_COLOR": "1", "COLUMNS": "200", **extra})
    return base


def kldiv(
    *args: str | bytes,
    stdin: bytes | None = None,
    extra_env: dict[str, str] | None = None,
    shell_redirect: str = "",
    stdout: int | None = subprocess.PIPE,
) -> Run:
    """Run the real program. ``shell_redirect`` (e.g. ``0<&-``, ``>/dev/full``) is
    applied by bash around it: the only way to start it with a descriptor closed."""
    command: list[str | bytes] = [sys.executable, "-m", "kldiv_cli", *args]
    if shell_redirect:
        command = ["bash", "-c", f'exec "$@" {shell_redirect}', "bash", *command]
    done = subprocess.run(
        command,
        input=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env(**(extra_env or {})),
        timeout=120,
    )
    return Run(done.returncode, done.stdout or b"", done.stderr)


def assert_no_controls(text: str) -> None:
    found = sorted({f"U+{ord(c):04X}" for c in text if c in FORBIDDEN})
    assert not found, f"raw control characters reached a person: {found}"


def one_error(run: Run, status: int) -> str:
    """The one ``kldiv: error:`` line of a failed run, checked: status, empty stdout."""
    assert run.status == status, run.stderr
    assert run.stdout == b""
    assert "Traceback" not in run.err
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("kldiv: error: ")
    return lines[0]


# --------------------------------------------------------------------------- 1. terminals


def write_labelled(path: Path, labels: list[str], values: list[int]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["label", "n"])
        w.writerows(zip(labels, values, strict=True))
    return path


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_label_reaches_a_table_and_a_warning_as_visible_text(tmp_path: Path, case: str) -> None:
    raw, shown = HOSTILE[case]
    # The label is in P only: the --top table lists it, and the warning that kl_pq is
    # infinite names it.
    p = write_labelled(tmp_path / "p.csv", [raw, "b"], [1, 3])
    q = write_labelled(tmp_path / "q.csv", ["b", "c"], [2, 2])
    run = kldiv("compare", str(p), str(q), "--top", "3", "--format", "table")
    assert run.status == 0, run.err
    assert_no_controls(run.out)
    assert_no_controls(run.err)
    assert shown in run.out
    (warning,) = [line for line in run.err.splitlines() if "q = 0 < p" in line]
    assert warning.startswith("kldiv: warning: ")
    assert shown in warning


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_label_keeps_its_exact_text_in_json(tmp_path: Path, case: str) -> None:
    raw, _ = HOSTILE[case]
    p = write_labelled(tmp_path / "p.csv", [raw, "b"], [1, 3])
    q = write_labelled(tmp_path / "q.csv", ["b", "c"], [2, 2])
    run = kldiv("compare", str(p), str(q), "--top", "3", "--format", "json")
    assert run.status == 0, run.err
    doc = json.loads(run.out)
    assert doc["support"]["only_p"] == [raw]
    assert raw in [row["label"] for row in doc["contributions"]]
    # a warning is a message: it quotes the label as Python does, escapes and all
    assert f"q = 0 < p at label {raw!r}" in doc["warnings"][0]
    assert_no_controls(run.err)


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_names_keep_their_exact_text_in_csv_and_tsv(tmp_path: Path, fmt: str) -> None:
    """A tab, a newline or a quote inside a name is quoted (RFC 4180, as the reader
    takes), so the rows keep their shape and the name reads back exactly."""
    names = [raw for raw, _ in HOSTILE.values()] + ['q"uote', "c,omma"]
    table = tmp_path / "t.csv"
    with table.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["label", *names])
        w.writerow(["x", *range(1, len(names) + 1)])
        w.writerow(["y", *range(len(names), 0, -1)])
    run = kldiv("entropy", str(table), "--format", fmt)
    assert run.status == 0, run.err
    rows = list(
        csv.reader(io.StringIO(run.out, newline=""), delimiter="," if fmt == "csv" else "\t")
    )
    assert [row[0] for row in rows[1:]] == names
    assert all(len(row) == 4 for row in rows)


def test_column_names_reach_entropy_matrix_and_pairs_tables_as_visible_text(
    tmp_path: Path,
) -> None:
    names = [raw for raw, _ in HOSTILE.values()]
    table = tmp_path / "t.csv"
    with table.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["label", *names])
        w.writerow(["x", *range(1, len(names) + 1)])
        w.writerow(["y", *range(len(names), 0, -1)])
    for command in (["entropy"], ["matrix"], ["pairs", str(table)], ["entropy", "--rows"]):
        run = kldiv(*command[:1], str(table), *command[1:], "--format", "table")
        assert run.status == 0, (command, run.err)
        assert_no_controls(run.out)
        assert_no_controls(run.err)
        if command != ["entropy", "--rows"]:
            assert HOSTILE["title"][1] in run.out, command


def test_mi_shows_hostile_column_names_as_visible_text(tmp_path: Path) -> None:
    data = tmp_path / "raw.csv"
    with data.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["\x1b[31mX", "Y\u202e"])
        w.writerows([["a", "b"], ["a", "c"], ["d", "b"]])
    run = kldiv("mi", str(data), "--x", "\x1b[31mX", "--y", "Y\u202e", "--format", "table")
    assert run.status == 0, run.err
    assert_no_controls(run.out)
    assert "\\x1b[31mX" in run.out
    assert "Y\\u202e" in run.out


@pytest.mark.parametrize("case", ["title", "clear", "return", "c1 csi", "bidi", "newline"])
def test_a_file_name_reaches_a_table_and_an_error_as_visible_text(
    tmp_path: Path, case: str
) -> None:
    raw, shown = HOSTILE[case]
    p = write_labelled(tmp_path / f"p{raw}.csv", ["a", "b"], [1, 3])
    run = kldiv("compare", str(p), str(p), "--format", "table")
    assert run.status == 0, run.err
    assert_no_controls(run.out)
    assert f"p{shown}.csv" in run.out
    line = one_error(kldiv("compare", str(tmp_path / f"gone{raw}.csv"), "0.5,0.5"), 66)
    assert_no_controls(line)
    assert f"gone{shown}.csv" in line


def test_an_option_value_in_a_usage_error_is_visible_text() -> None:
    line = one_error(kldiv("compare", "0.5,0.5", "0.5,0.5", "--unit", "\x1b]0;x\x07"), 2)
    assert_no_controls(line)
    assert "\\x1b]0;x\\x07" in line


def test_a_failed_check_names_a_hostile_pair_as_visible_text(tmp_path: Path) -> None:
    name = "\x1b]0;pwned\x07"
    for side, values in (("p", (1, 3)), ("q", (3, 1))):
        with (tmp_path / f"{side}.csv").open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([["label", name], ["a", values[0]], ["b", values[1]]])
    run = kldiv("pairs", str(tmp_path / "p.csv"), str(tmp_path / "q.csv"), "--max", "jsd=0")
    assert run.status == 1, run.err
    (line,) = run.err.splitlines()
    assert line.startswith("kldiv: check failed: pair ")
    assert "\\x1b]0;pwned\\x07" in line
    assert_no_controls(run.err)


# --------------------------------------------------------------------------- 2. streams

needs_dev_full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
RESULTS = ["compare", "0.9,0.1", "0.5,0.5"]


def test_a_closed_standard_input_is_66() -> None:
    line = one_error(kldiv("compare", "-", "0.5,0.5", shell_redirect="0<&-"), 66)
    assert line == "kldiv: error: -: cannot read standard input: it is closed"
    line = one_error(kldiv("mi", "-", "--x", "a", "--y", "b", shell_redirect="0<&-"), 66)
    assert "standard input" in line
    # open, but for writing only: the read fails with EBADF
    line = one_error(kldiv("compare", "-", "0.5,0.5", shell_redirect="0>/dev/null"), 66)
    assert line == "kldiv: error: -: cannot read standard input: Bad file descriptor"


def test_a_standard_output_open_for_reading_only_is_74() -> None:
    for args in (RESULTS, ["--help"], ["--version"]):
        line = one_error(kldiv(*args, shell_redirect="1</dev/null", stdout=None), 74)
        assert line == "kldiv: error: cannot write the output: Bad file descriptor"


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["compare", "--help"],
        ["matrix", "-h"],
        ["--version"],
        RESULTS,
        [*RESULTS, "--format", "json"],
        [*RESULTS, "--format", "table"],
        [*RESULTS, "--value", "jsd"],
        ["entropy", "1,2,3"],
    ],
)
@needs_dev_full
def test_a_full_output_is_74_whatever_the_command(args: list[str]) -> None:
    line = one_error(kldiv(*args, shell_redirect=">/dev/full", stdout=None), 74)
    assert line == "kldiv: error: cannot write the output: No space left on device"


def test_a_closed_standard_output_is_74() -> None:
    for args in (RESULTS, ["--help"]):
        line = one_error(kldiv(*args, shell_redirect=">&-", stdout=None), 74)
        assert line == "kldiv: error: cannot write the output: standard output is closed"


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["compare", "0.5,0.5", "--bogus"], 2),  # a usage error
        (["compare", "0.5,-1", "0.5,0.5"], 65),  # invalid data
        (["compare", "/nonexistent/p.csv", "0.5,0.5"], 66),  # a missing input
        ([*RESULTS, "--max", "jsd=0"], 1),  # a failed check
        (["compare", "0.5,0.3", "0.5,0.5"], 0),  # a warning (sums to 0.8)
    ],
)
@needs_dev_full
def test_an_unwritable_standard_error_keeps_the_status(args: list[str], status: int) -> None:
    """The message is lost; the status is still the one it would have explained."""
    for redirect in ("2>/dev/full", "2>&-"):
        run = kldiv(*args, shell_redirect=redirect)
        assert run.status == status, (redirect, run.status)
        assert (run.stdout != b"") == (status in (0, 1))


def closed_pipe() -> int:
    """The write end of a pipe whose reader is already gone: a write to it fails with
    EPIPE every time, with no race against a reader."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["entropy", "--help"],
        ["--version"],
        RESULTS,
        [*RESULTS, "--format", "json"],
    ],
)
def test_a_closed_pipe_is_141_help_included(args: list[str]) -> None:
    write_end = closed_pipe()
    try:
        run = kldiv(*args, stdout=write_end)
    finally:
        os.close(write_end)
    assert (run.status, run.stderr) == (141, b"")


def test_a_pipe_closed_after_64_kib_of_output_is_141(tmp_path: Path) -> None:
    """The reader takes 10 bytes of a 3 MB matrix and leaves: the write that was
    cut short must not pass for a whole one (it did, and the status was 0)."""
    table = tmp_path / "wide.csv"
    columns = 400
    with table.open("w", encoding="utf-8") as f:
        f.write("name," + ",".join(f"c{j}" for j in range(columns)) + "\n")
        for i in range(20):
            f.write(f"r{i}," + ",".join(str(1 + (i * j) % 7) for j in range(columns)) + "\n")
    command = [sys.executable, "-m", "kldiv_cli", "matrix", str(table), "--format", "csv"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env()
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        head = process.stdout.read(10)
        process.stdout.close()
        stderr = process.stderr.read()
        status = process.wait(timeout=120)
    assert head == b",c0,c1,c2,"
    assert (status, stderr) == (141, b"")


def test_help_through_a_pipe_that_closes() -> None:
    """``kldiv -h | head -1``: the first line arrives; the status is 0 when the help
    was written before head left, else 141 (never 1, click's own status for EPIPE)."""
    full = kldiv("-h")
    done = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m kldiv_cli -h | head -1; exit ${{PIPESTATUS[0]}}'],
        capture_output=True,
        env=env(),
        timeout=120,
    )
    assert done.stdout.decode().splitlines() == full.out.splitlines()[:1]
    assert done.returncode in (0, 141)
    assert done.stderr == b""
    done = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m kldiv_cli --help | true; exit ${{PIPESTATUS[0]}}'],
        capture_output=True,
        env=env(),
        timeout=120,
    )
    assert done.returncode in (0, 141)
    assert done.stderr == b""


# --------------------------------------------------------------------------- 3. encodings

ACCENTED = ["é", "ü", "\u2016", "日本"]


def accented_table(tmp_path: Path) -> Path:
    return write_labelled(tmp_path / "acc.csv", ACCENTED, [1, 2, 3, 4])


@pytest.mark.parametrize(
    "environment", [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "LANG": "C"}]
)
def test_json_is_utf8_whatever_the_output_encoding(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    run = kldiv(
        "entropy",
        str(accented_table(tmp_path)),
        "--rows",
        "--format",
        "json",
        extra_env=environment,
    )
    assert run.status == 0, run.err
    doc = json.loads(run.stdout.decode("utf-8"))
    assert [d["name"] for d in doc["distributions"]] == ACCENTED


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv_are_utf8_whatever_the_output_encoding(tmp_path: Path, fmt: str) -> None:
    run = kldiv(
        "entropy",
        str(accented_table(tmp_path)),
        "--rows",
        "--format",
        fmt,
        extra_env={"PYTHONIOENCODING": "ascii"},
    )
    assert run.status == 0, run.err
    names = [line.split("," if fmt == "csv" else "\t")[0] for line in run.out.splitlines()[1:]]
    assert names == ACCENTED


def test_a_table_escapes_what_an_ascii_output_cannot_hold(tmp_path: Path) -> None:
    run = kldiv(
        "entropy",
        str(accented_table(tmp_path)),
        "--rows",
        "--format",
        "table",
        extra_env={"PYTHONIOENCODING": "ascii"},
    )
    assert run.status == 0, run.err
    text = run.stdout.decode("ascii")  # raises on any byte over 0x7F
    assert "\\xe9" in text
    assert "\\u2016" in text
    assert "\\u65e5\\u672c" in text
    # escaped before the layout: every line of the box is as wide as the others
    box = [line for line in text.splitlines() if line.startswith(("|", "+"))]
    assert len({len(line) for line in box}) == 1, box


def test_help_and_errors_survive_an_ascii_output() -> None:
    run = kldiv("--help", extra_env={"PYTHONIOENCODING": "ascii"})
    assert run.status == 0
    assert run.stderr == b""
    run.stdout.decode("ascii")
    line = one_error(
        kldiv("compare", "gone-é.csv", "0.5,0.5", extra_env={"PYTHONIOENCODING": "ascii"}), 66
    )
    assert "gone-" in line


@pytest.fixture
def non_utf8_file(tmp_path: Path) -> bytes:
    """A CSV whose name holds the byte 0xFF, which no UTF-8 text has."""
    name = os.fsencode(tmp_path) + b"/p\xff.csv"
    with open(name, "wb") as f:
        f.write(b"label,n\na,1\nb,3\n")
    return name


def test_a_non_utf8_file_name_is_u_fffd_in_json(non_utf8_file: bytes) -> None:
    run = kldiv("compare", non_utf8_file, non_utf8_file, "--format", "json")
    assert run.status == 0, run.err
    assert b"\xff" not in run.stdout
    doc = json.loads(run.stdout.decode("utf-8"))  # strict: raises on invalid UTF-8
    assert doc["p"]["source"].endswith("/p\ufffd.csv")


def test_a_non_utf8_file_name_is_visible_in_a_table_and_an_error(non_utf8_file: bytes) -> None:
    run = kldiv("compare", non_utf8_file, non_utf8_file, "--format", "table")
    assert run.status == 0, run.err
    assert "p\\xff.csv" in run.out
    line = one_error(kldiv("compare", non_utf8_file + b".gone", "0.5,0.5"), 66)
    assert "p\\xff.csv.gone" in line
