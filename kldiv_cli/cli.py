"""The ``kldiv`` command line: the only module that prints or exits.

Errors become one line on stderr, ``kldiv: error: ...``, and the exit status of the
spec: 2 usage, 65 invalid data, 66 missing input, 70 internal error (a bug), 1 a
failed ``--max`` check. A closed pipe ends quietly (status 141, as a process killed
by SIGPIPE); Ctrl-C ends with status 130.

Streams. While the program runs, ``sys.stdout`` is an :class:`_Output`, so that every
write to it, kldiv's results and click's or rich's help alike, ends the same way: a
closed pipe is 141, any other failed write (a full disk, a closed descriptor) 74. A
standard input that is closed or cannot be read is 66. A standard error that cannot
be written loses its messages but changes no exit status. Machine formats (JSON, CSV,
TSV) are written as UTF-8 whatever the locale; text for people (tables, help) in the
output's encoding, with ``\\uXXXX`` for what it cannot hold.
"""

from __future__ import annotations

import errno
import math
import os
import re
import sys
import traceback
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from typer._click.types import (  # typer 0.28 (pinned) vendors click here
    FloatParamType,
    IntParamType,
    StringParamType,
)
from typer.core import TyperCommand, TyperGroup

from kldiv_cli import __version__
from kldiv_cli.errors import InputMissingError, KldivError, UsageError, visible

PROG = "kldiv"
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
EXIT_INTERNAL = 70
EXIT_IO_ERROR = 74  # sysexits.h EX_IOERR: the output could not be written
BUG_HINT = "this is a bug in kldiv; please report it with the command that caused it"


class Unit(StrEnum):
    bits = "bits"
    nats = "nats"
    bans = "bans"


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"


class InputFormat(StrEnum):
    csv = "csv"
    tsv = "tsv"
    json = "json"


class RawInputFormat(StrEnum):
    """The formats of compare and entropy, whose --count reads raw rows: a table of
    counts is never JSON lines or Parquet."""

    csv = "csv"
    tsv = "tsv"
    json = "json"
    jsonl = "jsonl"
    parquet = "parquet"


#: The formats of a table of distributions (the rest are raw rows').
TABLE_FORMATS = tuple(InputFormat)


class Measure(StrEnum):
    entropy_p = "entropy_p"
    entropy_q = "entropy_q"
    cross_entropy_pq = "cross_entropy_pq"
    cross_entropy_qp = "cross_entropy_qp"
    kl_pq = "kl_pq"
    kl_qp = "kl_qp"
    jsd = "jsd"
    js_distance = "js_distance"


class MatrixMeasure(StrEnum):
    jsd = "jsd"
    js_distance = "js_distance"
    kl = "kl"
    cross_entropy = "cross_entropy"


class Estimator(StrEnum):
    # The names of kldiv_cli.maths.estimators.ESTIMATORS, which is not imported at start-up.
    plugin = "plugin"
    miller_madow = "miller-madow"
    chao_shen = "chao-shen"
    shrink = "shrink"
    jeffreys = "jeffreys"
    laplace = "laplace"
    sg = "sg"
    minimax = "minimax"
    nsb = "nsb"


# Options that several commands share, declared once.
# Every option names its value with a metavar its help explains (never "<str>"), and
# a choice list goes in the help, where it wraps between words, not inside one.
class _Number(FloatParamType):
    """A number option in kldiv's number grammar, the data's (click's float() takes
    ``1_0`` and Unicode digits)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from kldiv_cli.commands.common import NUMBER_FORMS, number_hint, parse_number

        number = value if isinstance(value, float) else parse_number(str(value))
        if number is None:
            hint = number_hint(value) or f"; give {NUMBER_FORMS}"
            self.fail(f"{value!r} is not a number{hint}")
        return number


class _Whole(IntParamType):
    """A whole-number option: a sign and ASCII digits (click's int() takes ``1_0``)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from kldiv_cli.commands.common import parse_whole

        number = value if isinstance(value, int) else parse_whole(str(value))
        if number is None:
            self.fail(f"{value!r} is not a whole number; give ASCII digits, e.g. 10")
        return number


NUMBER = _Number()
WHOLE = _Whole()


UnitOption = Annotated[
    Unit,
    typer.Option(
        "--unit",
        metavar="UNIT",
        help="UNIT is the log base: bits (2), nats (e) or bans (10).",
    ),
]
FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format",
        metavar="FORMAT",
        help="FORMAT is table (the default on a terminal), json, csv or tsv "
        "(the default otherwise).",
    ),
]
LabelOption = Annotated[
    str | None,
    typer.Option(
        "--label",
        metavar="COL",
        help="COL is the column of labels (default: the first column, "
        "when its values are not all numbers).",
    ),
]
InputFormatOption = Annotated[
    InputFormat | None,
    typer.Option(
        "--input-format",
        metavar="FORMAT",
        help="Read the sources as FORMAT, one of csv, tsv or json, whatever their names.",
    ),
]
RawInputFormatOption = Annotated[
    RawInputFormat | None,
    typer.Option(
        "--input-format",
        metavar="FORMAT",
        help="Read the sources as FORMAT, one of csv, tsv or json, whatever their names; "
        "with --count also jsonl (JSON lines) or parquet.",
    ),
]
NaOption = Annotated[
    list[str] | None,
    typer.Option(
        "--na",
        metavar="TOKEN",
        help="With --count: a field equal to TOKEN is missing; repeatable, replaces the "
        "default list (NA, N/A, NaN, nan, null, NULL, None); --na '' keeps only the "
        "empty field.",
    ),
]
DropMissingOption = Annotated[
    bool,
    typer.Option(
        "--drop-missing",
        help="With --count: leave missing values out, rather than count them as the "
        "label (missing); how many is still reported.",
    ),
]
CategoricalOption = Annotated[
    list[str] | None,
    typer.Option(
        "--categorical",
        metavar="COL",
        help="With --count: read COL's values as categories, even numbers; repeatable.",
    ),
]
MemoryLimitOption = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        metavar="SIZE",
        help="With --count or drift: the counting engine (DuckDB) holds at most SIZE in "
        "memory, e.g. 300MB or 2GB (at least 64MB), and spills the rest to disk "
        "(default 384MiB, or half the free memory if less).",
    ),
]
SpillDirOption = Annotated[
    str | None,
    typer.Option(
        "--spill-dir",
        metavar="DIR",
        help="With --count or drift: the engine spills to a folder it makes in DIR (an "
        "existing, writable folder) and removes afterwards (default: the system's "
        "temporary folder).",
    ),
]
EdgesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--edges",
        metavar="COL=E1,E2,...",
        help="With --count: cut numeric COL at these increasing edges, bins (-inf, E1), "
        "[E1, E2), ..., [Em, inf); repeatable.",
    ),
]
NoHeaderOption = Annotated[
    bool,
    typer.Option("--no-header", help="CSV/TSV have no header row; columns are named 1, 2, ..."),
]
DelimiterOption = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        metavar="CHAR",
        help="CSV/TSV fields are separated by CHAR, e.g. ';' (\\t or tab: a tab).",
    ),
]
PseudocountOption = Annotated[
    float,
    typer.Option(
        "--pseudocount",
        metavar="A",
        click_type=NUMBER,
        help="Add A, a number >= 0, to every aligned entry of both before normalizing.",
    ),
]
MaxOption = Annotated[
    list[str] | None,
    typer.Option(
        "--max",
        metavar="MEASURE=LIMIT",
        help="Fail (exit 1) when MEASURE (a name as for compare --value) exceeds the "
        "number LIMIT; repeatable.",
    ),
]
# No -q: on compare, -q is --q (Q's column), and "--p fair -q loaded" must mean that.
QuietOption = Annotated[bool, typer.Option("--quiet", help="No warnings on stderr.")]
RowsOption = Annotated[
    bool,
    typer.Option(
        "--rows",
        help="The distributions are the rows (named by the label column), not the columns.",
    ),
]


class _Text(StringParamType):
    """A string argument whose help shows its name alone (P, TABLE), not ``<str>``."""

    def get_metavar(self, param: Any, ctx: Any) -> str:
        return ""


TEXT = _Text()

TableArgument = Annotated[
    str,
    typer.Argument(
        metavar="TABLE",
        click_type=TEXT,
        help="A table: a file (CSV, TSV, JSON), - (stdin) or inline numbers.",
    ),
]


class _PipeClosed(Exception):
    """stdout's reader went away (``| head``)."""


class _Interrupted(Exception):
    """Ctrl-C while a command ran."""


class _OutputError(KldivError):
    """stdout cannot be written (a full disk, a closed descriptor)."""

    exit_status = EXIT_IO_ERROR


def _say(line: str) -> None:
    """Write one line to stderr: the one place every error, warning and failed check
    goes through, so data in it (a label, a column or file name) is shown with its
    control characters made visible, and the line stays one line.

    A standard error that cannot be written (closed, a full disk) loses the message,
    and nothing else: the exit status stays the one the message would have explained."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(f"{PROG}: {visible(line)}\n")
        stream.flush()
    except (OSError, ValueError):  # ValueError: a closed file object
        _silence(stream)


def _silence(stream: Any) -> None:
    """Point ``stream``'s descriptor at /dev/null: what is still in its buffer cannot
    fail again when the interpreter flushes it at exit (which would make the status 120)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _error(message: str) -> None:
    _say(f"error: {message}")


def _warn(message: str) -> None:
    _say(f"warning: {message}")


#: Set by ``kldiv --debug``; reset at every run (tests run many in one process).
_debug_flag = False


def _debug() -> bool:
    env = os.environ.get("KLDIV_DEBUG", "").lower() not in ("", "0", "false", "no")
    return _debug_flag or env


def _is_terminal() -> bool:
    return sys.stdout is not None and sys.stdout.isatty()


#: A lone surrogate: how Python holds a byte of a file name that is not UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _utf8(text: str) -> bytes:
    """``text`` as UTF-8, always valid: a lone surrogate (a byte of a non-UTF-8 file
    name) becomes U+FFFD, the replacement character, as a JSON reader expects."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


class _Output:
    """``sys.stdout`` while kldiv runs: writes bytes to the real standard output and
    turns every way a write can fail into kldiv's exit status (see the module's doc).

    Text written to it (click's and rich's help and usage, tables) is for people: it
    is encoded in the output's encoding, ``\\uXXXX`` where that cannot hold a character.
    It has no ``buffer``, so click writes through it rather than around it."""

    errors = "backslashreplace"

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._binary = getattr(stream, "buffer", None)
        self.encoding: str = getattr(stream, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click asks, by writing b"", whether it takes bytes
            raise TypeError("write() argument must be str")
        self.write_bytes(text.encode(self.encoding, self.errors))
        return len(text)

    def write_bytes(self, data: bytes) -> None:
        try:
            if self._stream is None:
                raise OSError(errno.EBADF, "standard output is closed")
            if self._binary is None:  # a text-only stream (a test's StringIO)
                self._stream.write(data.decode(self.encoding, self.errors))
                return
            view = memoryview(data)
            while view:
                # A write cut short by a reader that went away returns the part
                # written; the next one raises. Without the loop the rest were lost
                # and the status 0 (a closed pipe after 64 KiB).
                written = self._binary.write(view)
                if not written:  # None: a non-blocking descriptor that would block
                    raise OSError(errno.EAGAIN, "the output would block")
                view = view[written:]
        except BrokenPipeError:
            raise _PipeClosed from None
        except OSError as e:
            raise _OutputError(f"cannot write the output: {e.strerror or e}") from None

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            (self._binary or self._stream).flush()
        except BrokenPipeError:
            raise _PipeClosed from None
        except OSError as e:
            raise _OutputError(f"cannot write the output: {e.strerror or e}") from None

    def isatty(self) -> bool:
        return self._stream is not None and bool(self._stream.isatty())

    def fileno(self) -> int:
        if self._stream is None:
            raise OSError(errno.EBADF, "standard output is closed")
        return int(self._stream.fileno())

    def writable(self) -> bool:
        return True


def _emit(text: str, human: bool = False) -> None:
    """Write results to stdout: a closed pipe and a failed write are not kldiv's bugs.

    ``human`` (a table, the version): in the output's encoding. Otherwise (JSON, CSV,
    TSV, a bare value) UTF-8, whatever the locale, so that a program reads the same
    bytes everywhere."""
    out = sys.stdout
    if not isinstance(out, _Output):  # called outside run_guarded (a test)
        out = _Output(out)
    if human:
        out.write(text)
    else:
        out.write_bytes(_utf8(text))
    out.flush()


class _Stdin:
    """Standard input for ``-``: closed or unreadable is exit 66 (an input that cannot
    be read), as a file would be, not a crash."""

    def read(self, size: int = -1) -> bytes:
        stream = sys.stdin
        if stream is None:
            raise InputMissingError("-: cannot read standard input: it is closed")
        try:
            reader: Any = getattr(stream, "buffer", stream)
            return bytes(reader.read(size))
        except (OSError, ValueError) as e:  # EISDIR, EBADF; ValueError: a closed file
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise InputMissingError(f"-: cannot read standard input: {reason}") from None


def run_guarded(body: Callable[[], Any]) -> int:
    """Run the program body and map every way it can end to an exit status."""
    real = sys.stdout
    sys.stdout = _Output(real)
    try:
        return _run(body)
    finally:
        sys.stdout = real


def _run(body: Callable[[], Any]) -> int:
    global _debug_flag
    _debug_flag = False
    try:
        status = body()
        sys.stdout.flush()
        return status if isinstance(status, int) else 0
    except _OutputError as e:
        _silence(sys.stdout)
        _error(str(e))
        return e.exit_status
    except KldivError as e:
        _error(str(e))
        return e.exit_status
    except typer.Abort:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except typer.Exit as e:
        return int(e.exit_code)
    except typer.TyperException as e:  # click's usage errors: bad option, bad value
        format_message = getattr(e, "format_message", None)
        message = format_message() if format_message else str(e)
        ctx = getattr(e, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _error(f"{message}{where}")
        return int(getattr(e, "exit_code", 2))
    except (BrokenPipeError, _PipeClosed):
        # The reader went away (| head): as the Python docs advise, point stdout at
        # devnull so the interpreter's final flush cannot fail, and end quietly.
        _silence(sys.stdout)
        return EXIT_BROKEN_PIPE
    except (KeyboardInterrupt, _Interrupted):
        _error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as e:
        if _debug():
            try:
                traceback.print_exc()
            except (OSError, ValueError):
                _silence(sys.stderr)
        _error(
            f"internal error: {type(e).__name__}: {e} "
            f"({BUG_HINT}; --debug or KLDIV_DEBUG=1 shows the traceback)"
        )
        return EXIT_INTERNAL


class _Program(TyperGroup):
    """The top-level click group, whose ``main`` maps errors to exit statuses (so the
    console script and Typer's CliRunner behave alike)."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: Any = None,
        complete_var: Any = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        def body() -> Any:
            return TyperGroup.main(
                self, args, prog_name or PROG, complete_var, standalone_mode=False, **extra
            )

        sys.exit(run_guarded(body))

    def invoke(self, ctx: Any) -> Any:
        # Typer turns Ctrl-C into a silent exit 130 and a closed pipe into exit 1;
        # kldiv's own exceptions pass through it to run_guarded, which says and maps.
        try:
            result = TyperGroup.invoke(self, ctx)
            sys.stdout.flush()
        except KeyboardInterrupt:
            raise _Interrupted from None
        except BrokenPipeError:
            raise _PipeClosed from None
        return result


def examples(*lines: str, intro: str = "Examples:") -> str:
    """A help epilog: ``intro``, then one copyable example per line, each runnable from
    the repository's root (tests/test_help.py runs them all).

    Typer's rich help keeps single line breaks in an epilog but removes the indent of
    every line after the first, so the examples are not indented."""
    return "\n".join((intro, *lines))


class _Command(TyperCommand):
    """A command whose usage line names its arguments plainly: ``P [Q]``, where Typer
    writes a required one as ``{P}``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces: list[str] = TyperCommand.collect_usage_pieces(self, ctx)
        return [
            piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece
            for piece in pieces
        ]


app = typer.Typer(
    cls=_Program,
    name=PROG,
    add_completion=False,
    # -h as well as --help, on the program and (inherited) on every command.
    context_settings={"help_option_names": ["-h", "--help"]},
    # Without arguments: one usage error line ("Missing command"), exit 2, no stdout.
    no_args_is_help=False,
    help="How different are these two distributions? KL, Jensen-Shannon, cross-entropy "
    "and entropy, in bits, nats or bans.",
    epilog=examples(
        "kldiv compare 0.9,0.1 0.5,0.5",
        "kldiv compare -h",
        intro="Each command has its own --help (or -h). Examples:",
    ),
)


def _version(value: bool) -> None:
    if value:
        _emit(f"{PROG} {__version__}\n", human=True)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="On an internal error, print the full traceback (as KLDIV_DEBUG=1)."
        ),
    ] = False,
) -> None:
    """How different are these two distributions?"""
    global _debug_flag
    _debug_flag = debug


@app.command(
    cls=_Command,
    help="How far apart are two distributions? Every measure: entropies, cross-entropies, "
    "KL divergence both ways, Jensen-Shannon divergence and distance.\n\n"
    "P and Q are files (CSV, TSV, JSON), - for standard input, or inline numbers. "
    "With one source, --p and --q name two of its columns. With --count COL, P and Q "
    "are raw rows (one observation each; CSV, TSV, JSON, JSON lines, Parquet, a folder "
    "or a glob) and COL's values are counted on each, Q the reference for binning.",
    epilog=examples(
        "kldiv compare 0.9,0.1 0.5,0.5",
        "kldiv compare samples/dice.csv --label face --value jsd",
        "kldiv compare samples/dice.csv --label face --max jsd=0.1",
        "kldiv compare samples/dec-P.csv -p x1 -q x2 --format json",
        "cat samples/dec-P.csv | kldiv compare - --p x1 --q x2",
        "kldiv compare samples/dec-?.csv --count cluster",
    ),
)
def compare(
    p_source: Annotated[
        str,
        typer.Argument(
            metavar="P",
            click_type=TEXT,
            help="First source: a file, - (stdin) or inline numbers like 0.9,0.1.",
        ),
    ],
    q_source: Annotated[
        str | None,
        typer.Argument(
            metavar="[Q]",
            click_type=TEXT,
            help="Second source; without it, P's source must hold both columns.",
        ),
    ] = None,
    p_col: Annotated[
        str | None,
        typer.Option(
            "--p", "-p", metavar="COL", help="COL is P's column, when P's source has several."
        ),
    ] = None,
    q_col: Annotated[
        str | None,
        typer.Option(
            "--q", "-q", metavar="COL", help="COL is Q's column, when Q's source has several."
        ),
    ] = None,
    label: LabelOption = None,
    unit: UnitOption = Unit.bits,
    pseudocount: PseudocountOption = 0.0,
    no_normalize: Annotated[
        bool,
        typer.Option(
            "--no-normalize",
            help="Use the values as they are; they must sum to 1 (rel. tol. 1e-9).",
        ),
    ] = False,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            metavar="N",
            click_type=WHOLE,
            help="Also show the N labels (N >= 0) that contribute most to the JSD.",
        ),
    ] = None,
    max_: MaxOption = None,
    fmt: FormatOption = None,
    value: Annotated[
        Measure | None,
        typer.Option(
            "--value",
            metavar="MEASURE",
            help="Print MEASURE's value alone, for $(...). MEASURE is one of entropy_p, "
            "entropy_q, cross_entropy_pq, cross_entropy_qp, kl_pq, kl_qp, jsd, js_distance.",
        ),
    ] = None,
    quiet: QuietOption = False,
    input_format: RawInputFormatOption = None,
    no_header: NoHeaderOption = False,
    delimiter: DelimiterOption = None,
    count: Annotated[
        str | None,
        typer.Option(
            "--count",
            metavar="COL",
            help="P and Q are raw rows: compare the distributions of COL's values "
            "(categories, values, or bins of Q's quantiles).",
        ),
    ] = None,
    bins: Annotated[
        int | None,
        typer.Option(
            "--bins",
            metavar="N",
            click_type=WHOLE,
            help="With --count: a numeric column with more than N (>= 2) distinct values "
            "in Q is cut into at most N bins (default 10).",
        ),
    ] = None,
    na: NaOption = None,
    drop_missing: DropMissingOption = False,
    categorical: CategoricalOption = None,
    edges: EdgesOption = None,
    memory_limit: MemoryLimitOption = None,
    spill_dir: SpillDirOption = None,
    test: Annotated[
        bool,
        typer.Option(
            "--test",
            help="Add a G-test of P's counts: of homogeneity with Q's counts, or of "
            "goodness of fit to Q as a model when Q is not counts.",
        ),
    ] = False,
    ci: Annotated[
        float | None,
        typer.Option(
            "--ci",
            metavar="LEVEL",
            click_type=NUMBER,
            help="Add a percentile bootstrap interval at LEVEL (e.g. 0.95) to every "
            "measure, resampling each side that is counts.",
        ),
    ] = None,
    resamples: Annotated[
        int | None,
        typer.Option(
            "--resamples",
            metavar="B",
            click_type=WHOLE,
            help="Draw B bootstrap resamples for --ci (default 2000).",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            metavar="S",
            click_type=WHOLE,
            help="S, a whole number, seeds the --ci resamples (default: a fresh seed, reported).",
        ),
    ] = None,
) -> int:
    from kldiv_cli import render
    from kldiv_cli.commands import compare as command
    from kldiv_cli.commands.common import parse_check

    _check_pseudocount(pseudocount)
    _check_at_least("--top", top, 0)
    if pseudocount and no_normalize:
        raise UsageError(
            "--pseudocount and --no-normalize exclude each other: "
            "adding to probabilities breaks their sum"
        )
    checks = [parse_check(text) for text in max_ or []]
    if ci is None and (resamples is not None or seed is not None):
        raise UsageError("--resamples and --seed set up --ci; give --ci LEVEL too")
    out_format = _out_format(fmt)
    raw = _raw_options(
        count,
        input_format,
        delimiter,
        na,
        drop_missing,
        bins,
        categorical,
        edges,
        memory_limit,
        spill_dir,
        _meter("kldiv: counting", True),
    )
    if count is None and bins is not None:
        raise UsageError("--bins goes with --count COL (raw rows)")
    if count is not None:
        for option, given in (("--p", p_col), ("--q", q_col), ("--label", label)):
            if given is not None:
                raise UsageError(f"{option} names a column of counts; --count reads raw rows")
        if no_header:
            raise UsageError("--no-header: raw rows of --count need a header row")
        if q_source is None:
            raise UsageError("--count COL compares two sources of raw rows: give P and Q")
    with _meter("kldiv: bootstrap resamples", ci is not None) as progress:
        options: dict[str, Any] = {
            "unit": unit.value,
            "pseudocount": pseudocount,
            "normalize": not no_normalize,
            "top": top,
            "checks": checks,
            "test": test,
            "ci": ci,
            "resamples": resamples,
            "seed": seed,
            "progress": progress,
        }
        if count is not None and q_source is not None:
            from kldiv_cli.commands import counted

            result = counted.compare_counts(
                p_source,
                q_source,
                count,
                raw,
                _Stdin(),  # type: ignore[arg-type]  # reads as a BinaryIO does
                **options,
            )
        else:
            result = command.run(
                [p_source, q_source],
                _read_options(input_format, no_header, label, delimiter),
                p_col=p_col,
                q_col=q_col,
                **options,
            )
    if top is not None and value is None and out_format in ("csv", "tsv"):
        result.warnings.append("--top is shown in the table and json formats only")
    _warn_all(result.warnings, quiet)
    if value is not None:
        _emit(render.number(result.measures[value.value]) + "\n")
    else:
        _emit_result(result, out_format)
    for line in render.failed_checks(result):
        _say(line)
    return 0 if result.passed else 1


# --------------------------------------------------------------------------- shared steps


def _check_pseudocount(pseudocount: float) -> None:
    if not (math.isfinite(pseudocount) and pseudocount >= 0):
        raise UsageError(f"--pseudocount {pseudocount!r}: must be a finite number >= 0")


def _check_at_least(option: str, value: int | None, least: int) -> None:
    # Checked here, not by Typer's min=, whose help shows an unexplained "[x>=0]".
    if value is not None and value < least:
        raise UsageError(f"{option} {value}: must be a whole number >= {least}")


def _out_format(fmt: Format | None) -> str:
    return fmt.value if fmt else ("table" if _is_terminal() else "tsv")


def _separator(out_format: str) -> str:
    return "," if out_format == "csv" else "\t"


def _color() -> bool:
    return not os.environ.get("NO_COLOR") and _is_terminal()  # no-color.org: non-empty


def _emit_result(result: Any, out_format: str, **options: Any) -> None:
    """Write ``result`` in ``out_format`` (json, table, csv or tsv), its renderer chosen
    by its type; a table for people in the output's encoding, the rest UTF-8 (see
    :func:`_emit`). A result that streams is written piece by piece, each flushed."""
    from kldiv_cli import render

    if out_format == "json":
        _emit(render.to_json(result))
    elif out_format == "table":
        _emit(render.to_table(result, color=_color(), **options), human=True)
    else:
        text = render.to_delimited(result, _separator(out_format), **options)
        for piece in [text] if isinstance(text, str) else text:
            _emit(piece)


def _warn_all(warnings: list[str], quiet: bool) -> None:
    if not quiet:
        for warning in warnings:
            _warn(warning)


def _read_options(
    input_format: InputFormat | RawInputFormat | None,
    no_header: bool,
    label: str | None,
    delimiter: str | None,
) -> Any:
    """How the command reads its sources; ``-`` is standard input through :class:`_Stdin`."""
    from kldiv_cli.commands.common import ReadOptions

    if input_format is not None and input_format.value not in TABLE_FORMATS:
        raise UsageError(
            f"--input-format {input_format.value} is for raw rows: give --count COL, "
            f"or read a table as {', '.join(TABLE_FORMATS)}"
        )
    return ReadOptions(
        input_format=input_format.value if input_format else None,
        no_header=no_header,
        label=label,
        delimiter=delimiter,
        stdin=_Stdin(),  # type: ignore[arg-type]  # reads as a BinaryIO does
    )


def _raw_options(
    count: Any,
    input_format: RawInputFormat | None,
    delimiter: str | None,
    na: list[str] | None,
    drop_missing: bool,
    bins: int | None,
    categorical: list[str] | None,
    edges: list[str] | None,
    memory_limit: str | None = None,
    spill_dir: str | None = None,
    meter: Any = None,
) -> Any:
    """The options of raw rows (None without ``count``, where giving one is a usage
    error: a table of counts has no missing values to name, nor values to bin).
    ``meter`` (a :class:`~kldiv_cli.render.progress.Meter`) is told the counting's
    progress; it is closed (its bar removed) at the end of the process."""
    if not count:
        given = [
            name
            for name, value in (
                ("--na", na),
                ("--drop-missing", drop_missing),
                ("--categorical", categorical),
                ("--edges", edges),
                ("--memory-limit", memory_limit),
                ("--spill-dir", spill_dir),
            )
            if value
        ]
        if given:
            raise UsageError(f"{given[0]} goes with --count COL (raw rows)")
        return None
    from kldiv_cli.commands.counted import raw_options

    return raw_options(
        input_format=input_format.value if input_format else None,
        delimiter=delimiter,
        na=na,
        drop_missing=drop_missing,
        bins=bins,
        categorical=categorical or (),
        edges=edges or (),
        memory_limit=memory_limit,
        spill_dir=spill_dir,
        progress=None if meter is None else _closing(meter),
    )


def _closing(meter: Any) -> Any:
    """``meter`` entered, and closed when the counting reports its end (100 of 100),
    so that its bar is gone before the results are written."""
    progress = meter.__enter__()
    if progress is None:
        return None

    def report(done: int, total: int) -> None:
        progress(done, total)
        if done >= total:
            progress.close()

    return report


def _meter(what: str, wanted: bool, warn: Callable[[str], None] | None = None) -> Any:
    """The progress meter a long command reports to (a context that closes it), or
    None when the command has no long work (``wanted`` false)."""
    from contextlib import nullcontext

    if not wanted:
        return nullcontext(None)
    from kldiv_cli.render.progress import Meter, watched

    return Meter(what, warn, bar=watched())


# --------------------------------------------------------------------------- matrix


@app.command(
    cls=_Command,
    help="One measure for every pair of distributions: the numeric columns of TABLE "
    "(--rows: its rows) against each other, or against those of TABLE2. Entry (i, j) is "
    "measure(row i, column j): D(row‖column) for kl.",
    epilog=examples(
        "kldiv matrix samples/letters-europe.csv",
        "kldiv matrix samples/letters-europe.csv --measure kl",
        "kldiv matrix samples/hair-eye.csv --rows --format csv",
        "kldiv matrix samples/dec-P.csv samples/dec-Q.csv",
    ),
)
def matrix(
    table: TableArgument,
    table2: Annotated[
        str | None,
        typer.Argument(
            metavar="[TABLE2]",
            click_type=TEXT,
            help="Compare TABLE's distributions with these instead.",
        ),
    ] = None,
    measure: Annotated[
        MatrixMeasure,
        typer.Option(
            "--measure",
            metavar="MEASURE",
            help="MEASURE is jsd (the default), js_distance, kl or cross_entropy.",
        ),
    ] = MatrixMeasure.jsd,
    rows: RowsOption = False,
    label: LabelOption = None,
    unit: UnitOption = Unit.bits,
    pseudocount: PseudocountOption = 0.0,
    fmt: FormatOption = None,
    long: Annotated[
        bool, typer.Option("--long", help="CSV/TSV as row,column,value lines.")
    ] = False,
    quiet: QuietOption = False,
    input_format: InputFormatOption = None,
    no_header: NoHeaderOption = False,
    delimiter: DelimiterOption = None,
) -> int:
    from kldiv_cli import render
    from kldiv_cli.commands import matrix as command
    from kldiv_cli.render.progress import Meter, wants_bar

    _check_pseudocount(pseudocount)
    out_format = _out_format(fmt)
    job = command.prepare(
        [table, table2],
        _read_options(input_format, no_header, label, delimiter),
        measure=measure.value,
        rows=rows,
        unit=unit.value,
        pseudocount=pseudocount,
    )
    _warn_all(job.warnings, quiet)
    m, n = job.shape
    streamed = out_format in ("csv", "tsv")
    bar = wants_bar(streamed, sys.stdout, sys.stderr)

    def warn(line: str) -> None:
        _warn_all([line], quiet)

    try:
        with Meter(f"the {m:,} x {n:,} matrix", warn, bar) as meter:
            if streamed:
                # Written block by block, each flushed: memory stays near one block.
                stream = job.stream(meter)
                _emit_result(stream, out_format, long=long)
                _warn_all(stream.late_warnings, quiet)  # after the output they count
                return 0
            # A table computes only the rows it shows; JSON the whole matrix.
            result = job.head(render.TABLE_ROWS) if out_format == "table" else job.whole(meter)
        _warn_all(result.warnings[len(job.warnings) :], quiet)
        _emit_result(result, out_format)
    except MemoryError:
        raise job.out_of_memory(json=out_format == "json") from None
    return 0


# --------------------------------------------------------------------------- pairs


@app.command(
    cls=_Command,
    help="Matched distributions: each distribution of P against the one of Q with the "
    "same name (column, or with --rows row), with every compare measure, then their sum "
    "and mean.",
    epilog=examples(
        "kldiv pairs samples/dec-P.csv samples/dec-Q.csv",
        "kldiv pairs samples/dec-P.csv samples/dec-Q.csv --rows",
        "cat samples/dec-Q.csv | kldiv pairs samples/dec-P.csv -",
    ),
)
def pairs(
    p_source: Annotated[str, typer.Argument(metavar="P", click_type=TEXT, help="The first table.")],
    q_source: Annotated[
        str, typer.Argument(metavar="Q", click_type=TEXT, help="The second table.")
    ],
    rows: RowsOption = False,
    label: LabelOption = None,
    unit: UnitOption = Unit.bits,
    pseudocount: PseudocountOption = 0.0,
    max_: MaxOption = None,
    fmt: FormatOption = None,
    quiet: QuietOption = False,
    input_format: InputFormatOption = None,
    no_header: NoHeaderOption = False,
    delimiter: DelimiterOption = None,
) -> int:
    from kldiv_cli import render
    from kldiv_cli.commands import pairs as command
    from kldiv_cli.commands.common import parse_check

    _check_pseudocount(pseudocount)
    checks = [parse_check(text) for text in max_ or []]
    out_format = _out_format(fmt)
    result = command.run(
        [p_source, q_source],
        _read_options(input_format, no_header, label, delimiter),
        rows=rows,
        unit=unit.value,
        pseudocount=pseudocount,
        checks=checks,
    )
    _warn_all(result.warnings, quiet)
    _emit_result(result, out_format)
    for line in render.failed_checks(result):
        _say(line)
    return 0 if result.passed else 1


# --------------------------------------------------------------------------- entropy


@app.command(
    cls=_Command,
    help="The entropy of each distribution of TABLE (its numeric columns, or with --rows "
    "its rows), with its total n and its support (non-zero entries). With --count COL, "
    "TABLE is raw rows (one observation each) and COL's values are counted: one "
    "distribution per --count.",
    epilog=examples(
        "kldiv entropy 0.5,0.5",
        "kldiv entropy samples/dice.csv --label face",
        "kldiv entropy samples/hair-eye.csv --rows --unit nats",
        "kldiv entropy samples/tale-letters.csv --estimator nsb",
        "kldiv entropy 3,1,1 --estimator chao-shen --bins 5",
        "kldiv entropy samples/hair-eye-students.csv --count eye",
    ),
)
def entropy(
    table: TableArgument,
    rows: RowsOption = False,
    estimator: Annotated[
        Estimator,
        typer.Option(
            "--estimator",
            metavar="NAME",
            help="NAME is plugin (maximum likelihood, the default) or, for counts, one of "
            "miller-madow, chao-shen, shrink, jeffreys, laplace, sg, minimax, nsb "
            "(see the README).",
        ),
    ] = Estimator.plugin,
    bins: Annotated[
        int | None,
        typer.Option(
            "--bins",
            metavar="K",
            click_type=WHOLE,
            help="The alphabet has K bins (K >= 1), more than the table shows "
            "(the rest were never seen). With --count: a numeric column with more than "
            "K (>= 2) distinct values is cut into at most K bins (default 10), and the "
            "alphabet is the column's labels.",
        ),
    ] = None,
    label: LabelOption = None,
    unit: UnitOption = Unit.bits,
    fmt: FormatOption = None,
    quiet: QuietOption = False,
    input_format: RawInputFormatOption = None,
    no_header: NoHeaderOption = False,
    delimiter: DelimiterOption = None,
    count: Annotated[
        list[str] | None,
        typer.Option(
            "--count",
            metavar="COL",
            help="TABLE is raw rows: the entropy of COL's values (categories, values, "
            "or bins of its quantiles); repeatable.",
        ),
    ] = None,
    na: NaOption = None,
    drop_missing: DropMissingOption = False,
    categorical: CategoricalOption = None,
    edges: EdgesOption = None,
    memory_limit: MemoryLimitOption = None,
    spill_dir: SpillDirOption = None,
) -> int:
    from kldiv_cli.commands import entropy as command

    raw = _raw_options(
        count,
        input_format,
        delimiter,
        na,
        drop_missing,
        bins,
        categorical,
        edges,
        memory_limit,
        spill_dir,
        _meter("kldiv: counting", True),
    )
    if raw is not None:
        for option, given in (("--rows", rows), ("--label", label), ("--no-header", no_header)):
            if given:
                raise UsageError(f"{option} is for a table of counts; --count reads raw rows")
        from kldiv_cli.commands import counted

        result = counted.entropy_counts(
            table,
            count or [],
            raw,
            _Stdin(),  # type: ignore[arg-type]  # reads as a BinaryIO does
            unit=unit.value,
            estimator=estimator.value,
        )
    else:
        _check_at_least("--bins", bins, 1)
        result = command.run(
            table,
            _read_options(input_format, no_header, label, delimiter),
            rows=rows,
            unit=unit.value,
            estimator=estimator.value,
            bins=bins,
        )
    out_format = _out_format(fmt)
    _warn_all(result.warnings, quiet)
    _emit_result(result, out_format)
    return 0


# --------------------------------------------------------------------------- mi


@app.command(
    cls=_Command,
    help="Mutual information of X and Y, with their entropies. TABLE is a contingency "
    "table (labels: values of X; numeric columns: values of Y; cells: counts), or with "
    "--x and --y raw observations, one row each, cross-tabulated.",
    epilog=examples(
        "kldiv mi samples/hair-eye.csv",
        "kldiv mi samples/hair-eye.csv --test",
        "kldiv mi samples/hair-eye-students.csv --x hair --y eye",
    ),
)
def mi(
    table: TableArgument,
    x: Annotated[
        str | None,
        typer.Option("--x", metavar="COL", help="Raw data: COL is the column that holds X."),
    ] = None,
    y: Annotated[
        str | None,
        typer.Option("--y", metavar="COL", help="Raw data: COL is the column that holds Y."),
    ] = None,
    test: Annotated[
        bool, typer.Option("--test", help="Add the G-test of independence (G = 2 N I in nats).")
    ] = False,
    label: LabelOption = None,
    unit: UnitOption = Unit.bits,
    fmt: FormatOption = None,
    quiet: QuietOption = False,
    input_format: InputFormatOption = None,
    no_header: NoHeaderOption = False,
    delimiter: DelimiterOption = None,
) -> int:
    from kldiv_cli.commands import mi as command

    out_format = _out_format(fmt)
    if (x is None) != (y is None):
        raise UsageError("--x and --y go together: name both columns of the raw data, or neither")
    if x is not None and label is not None:
        raise UsageError("--label is for a contingency table; raw data takes --x and --y")
    result = command.run(
        table,
        _read_options(input_format, no_header, label, delimiter),
        x=x,
        y=y,
        unit=unit.value,
        test=test,
    )
    _warn_all(result.warnings, quiet)
    _emit_result(result, out_format)
    return 0


@app.command(
    cls=_Command,
    help="Has the data drifted? Compare two datasets of raw rows column by column: each "
    "column both have is counted (categories, few values, or bins of REF's deciles) and "
    "compared with P = CUR and Q = REF, so kl_pq is D(CUR||REF). jsd_noise is the JSD "
    "that sampling alone exceeds 5% of the time.\n\n"
    "REF and CUR are raw rows (CSV, TSV, JSON, JSON lines, Parquet, a folder or a glob); "
    "REF may be a profile saved by --save-reference.",
    epilog=examples(
        "kldiv drift samples/penguins-{2007,2009}.csv",
        "kldiv drift samples/penguins-{2007,2009}.csv --columns sex",
        "kldiv drift samples/penguins-{2007,2009}.csv --top 2",
    ),
)
def drift(
    reference: Annotated[
        str,
        typer.Argument(
            metavar="REF",
            click_type=TEXT,
            help="The reference: raw rows (a file, folder, glob or -) or a saved profile.",
        ),
    ],
    current: Annotated[
        str,
        typer.Argument(
            metavar="CUR",
            click_type=TEXT,
            help="The current data: raw rows (a file, folder, glob or -).",
        ),
    ],
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            metavar="A,B,...",
            help="Compare only the columns A, B, ... (comma-separated; a name with a comma "
            "or blanks at its ends in double quotes: '\"a,b\",c'); naming an identifier "
            "compares it anyway.",
        ),
    ] = None,
    exclude: Annotated[
        str | None,
        typer.Option(
            "--exclude",
            metavar="A,B,...",
            help="Leave the columns A, B, ... out (comma-separated, quoted as for --columns).",
        ),
    ] = None,
    bins: Annotated[
        int | None,
        typer.Option(
            "--bins",
            metavar="N",
            click_type=WHOLE,
            help="A numeric column with more than N (>= 2) distinct values in REF is cut "
            "into at most N bins at REF's quantiles (default 10).",
        ),
    ] = None,
    categorical: CategoricalOption = None,
    edges: EdgesOption = None,
    na: NaOption = None,
    drop_missing: DropMissingOption = False,
    unit: UnitOption = Unit.bits,
    max_: Annotated[
        list[str] | None,
        typer.Option(
            "--max",
            metavar="[COL:]MEASURE=LIMIT",
            help="Fail (exit 1) when MEASURE exceeds LIMIT, in every column or in COL "
            "only; repeatable.",
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            metavar="N",
            click_type=WHOLE,
            help="Also show, per column, the N labels (N >= 0) that contribute most to the JSD.",
        ),
    ] = None,
    test: Annotated[
        bool,
        typer.Option("--test", help="Add a G-test of homogeneity per column."),
    ] = False,
    fmt: FormatOption = None,
    save_reference: Annotated[
        str | None,
        typer.Option(
            "--save-reference",
            metavar="FILE",
            help="Write REF's profile (its columns' kinds, edges and counts) to FILE, "
            "to give as REF later instead of the raw rows.",
        ),
    ] = None,
    save_current: Annotated[
        str | None,
        typer.Option(
            "--save-current",
            metavar="FILE",
            help="Write CUR's profile to FILE, counted with REF's kinds and edges: "
            "profiles of many days or machines add up (a folder or glob of them as REF).",
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            metavar="NAME",
            help="NAME is the counting engine: embedded (DuckDB, in bounded memory; the "
            "default) or dask (a Dask cluster; pip install 'kldiv-cli[dask]').",
        ),
    ] = "embedded",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="With --engine dask: the running Dask scheduler at ADDRESS (tcp://host:8786); "
            "without it, a local cluster of two worker processes.",
        ),
    ] = None,
    quiet: QuietOption = False,
    input_format: Annotated[
        RawInputFormat | None,
        typer.Option(
            "--input-format",
            metavar="FORMAT",
            help="Read REF and CUR as FORMAT, one of csv, tsv, json, jsonl or parquet, "
            "whatever their names.",
        ),
    ] = None,
    delimiter: DelimiterOption = None,
    memory_limit: MemoryLimitOption = None,
    spill_dir: SpillDirOption = None,
) -> int:
    from kldiv_cli import render
    from kldiv_cli.commands import drift as command

    _check_at_least("--top", top, 0)
    out_format = _out_format(fmt)

    result = command.drift(
        reference,
        current,
        columns=command.parse_names(columns, "--columns") or None,
        exclude=command.parse_names(exclude, "--exclude"),
        input_format=input_format.value if input_format else None,
        delimiter=delimiter,
        na=na,
        drop_missing=drop_missing,
        bins=bins,
        categorical=categorical or (),
        edges=edges or (),
        unit=unit.value,
        checks=max_ or [],
        top=top,
        test=test,
        save_reference=save_reference,
        save_current=save_current,
        engine=engine,
        scheduler=scheduler,
        memory_limit=memory_limit,
        spill_dir=spill_dir,
        progress=_closing(_meter("kldiv: counting", True)),
        stdin=_Stdin(),  # type: ignore[arg-type]  # reads as a BinaryIO does
    )
    if top is not None and out_format in ("csv", "tsv"):
        result.warnings.append("--top is shown in the table and json formats only")
    _warn_all(result.warnings, quiet)
    _emit_result(result, out_format)
    for line in render.failed_checks(result):
        _say(line)
    return 0 if result.passed else 1


# --------------------------------------------------------------------------- gauss

#: An inline Gaussian with a negative mean, ``-1,2``: a minus, a digit or a point, and
#: a comma further on. No option of gauss looks like that.
_NEGATIVE_INLINE = re.compile(r"-[0-9.][^,]*,.*", re.ASCII | re.S)


class _GaussCommand(_Command):
    """``gauss``, whose inline Gaussian ``-1,2`` (a negative mean) is an argument: click
    would read it as the unknown option ``-1``. It is given a leading blank, which the
    number grammar allows and the reader strips, and click takes for an argument."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        shifted = [" " + a if _NEGATIVE_INLINE.fullmatch(a) else a for a in args]
        return list(_Command.parse_args(self, ctx, shifted))


@app.command(
    cls=_GaussCommand,
    help="Gaussians in closed form. With P and Q: KL divergence both ways, "
    "cross-entropy both ways and the differential entropy of each of two multivariate "
    "normals (no JSD: it has no closed form). With --vae FILE: each row's KL divergence "
    "of N(mu, diag(exp(logvar))) from N(0, I), and their mean, the KL term of a VAE's "
    "ELBO.\n\n"
    'P and Q are files: JSON {"mean": [...], "cov": [[...], ...]} (or "var": [...], '
    "the diagonal), or CSV/TSV with the mean on the first row and the covariance on "
    "the next d rows (a header row is allowed); or inline MEAN,VARIANCE for one "
    "dimension: 0,4 is N(0, 4), standard deviation 2; -1,2 has mean -1. FILE of --vae has columns "
    "mu_1..mu_d and logvar_1..logvar_d (unnamed: first half mu, second half logvar).",
    epilog=examples(
        "kldiv gauss 0,1 1,2 --unit nats",
        "kldiv gauss 0,1 0,4 --value kl_pq --max kl_pq=1",
        "kldiv gauss samples/gauss-p.json samples/gauss-q.json",
        "kldiv gauss --vae samples/vae-batch.csv --unit nats",
    ),
)
def gauss(
    p_source: Annotated[
        str | None,
        typer.Argument(
            metavar="P",
            click_type=TEXT,
            show_default=False,
            help="The first Gaussian: a file (JSON, CSV, TSV), - (stdin) or MEAN,VARIANCE.",
        ),
    ] = None,
    q_source: Annotated[
        str | None,
        typer.Argument(
            metavar="Q",
            click_type=TEXT,
            show_default=False,
            help="The second Gaussian, the reference of D(P||Q), given as P is.",
        ),
    ] = None,
    vae: Annotated[
        str | None,
        typer.Option(
            "--vae",
            metavar="FILE",
            help="Instead of P and Q: FILE's rows of mu_j and logvar_j (CSV, TSV, JSON "
            "records or -), each against N(0, I), and the batch mean.",
        ),
    ] = None,
    unit: UnitOption = Unit.bits,
    max_: Annotated[
        list[str] | None,
        typer.Option(
            "--max",
            metavar="MEASURE=LIMIT",
            help="Fail (exit 1) when MEASURE (a name as for --value) exceeds the number "
            "LIMIT; repeatable.",
        ),
    ] = None,
    value: Annotated[
        str | None,
        typer.Option(
            "--value",
            metavar="MEASURE",
            help="Print only MEASURE's value: kl_pq, kl_qp, cross_entropy_pq, "
            "cross_entropy_qp, entropy_p or entropy_q; with --vae, mean.",
        ),
    ] = None,
    fmt: FormatOption = None,
    quiet: QuietOption = False,
    label: Annotated[
        str | None,
        typer.Option(
            "--label",
            metavar="COL",
            help="With --vae: COL names the rows (default: the first column, when its "
            "values are not all numbers).",
        ),
    ] = None,
    input_format: InputFormatOption = None,
    no_header: Annotated[
        bool,
        typer.Option(
            "--no-header",
            help="CSV/TSV have no header row: the first row of P and Q is the mean, "
            "and the columns of --vae FILE are named 1, 2, ...",
        ),
    ] = False,
    delimiter: DelimiterOption = None,
) -> int:
    from kldiv_cli import render
    from kldiv_cli.commands import gauss as command
    from kldiv_cli.commands.results import GAUSS_MEASURES

    out_format = _out_format(fmt)
    read = _read_options(input_format, no_header, label, delimiter)
    if vae is not None:
        if p_source is not None:
            raise UsageError("--vae FILE takes no P or Q: it measures each row against N(0, I)")
        if value is not None and value not in command.VAE_MEASURES:
            raise UsageError(f"--value {value!r}: with --vae, the one measure is mean")
        result: Any = command.vae(vae, read, unit=unit.value, checks=max_ or [])
    else:
        if p_source is None or q_source is None:
            raise UsageError("give two Gaussians, P and Q, or --vae FILE")
        if label is not None:
            raise UsageError("--label names the rows of --vae FILE; P and Q have none")
        if value is not None and value not in GAUSS_MEASURES:
            raise UsageError(f"--value {value!r}: choose {', '.join(GAUSS_MEASURES)}")
        result = command.pair(p_source, q_source, read, unit=unit.value, checks=max_ or [])
    _warn_all(result.warnings, quiet)
    if value is not None:
        shown = result.mean if vae is not None else result.measures[value]
        _emit(render.number(shown) + "\n")
    else:
        _emit_result(result, out_format)
    for line in render.failed_checks(result):
        _say(line)
    return 0 if result.passed else 1


# --------------------------------------------------------------------------- surprise


@app.command(
    cls=_Command,
    help="Bayesian surprise: how far do batches of counts move a Dirichlet prior? "
    "Reports D(posterior||prior) in closed form for each batch (DATA's numeric columns, "
    "or with --rows its rows, in order), each given the prior and every batch before "
    "it, and the total: all batches at once.\n\n"
    "PRIOR holds pseudocounts, each > 0 (a reference's counts plus A: --add A); DATA "
    "holds counts (whole numbers) over PRIOR's categories, aligned by label.",
    epilog=examples(
        "kldiv surprise 1,1 0,1 --unit nats",
        "kldiv surprise samples/swans-{counts,weeks}.csv --add 1",
        "kldiv surprise samples/swans-{counts,weeks}.csv --add 0.5",
    ),
)
def surprise(
    prior: Annotated[
        str,
        typer.Argument(
            metavar="PRIOR",
            click_type=TEXT,
            help="The prior's pseudocounts: a file, - (stdin) or inline numbers like 1,1.",
        ),
    ],
    data: Annotated[
        str,
        typer.Argument(
            metavar="DATA",
            click_type=TEXT,
            help="Batches of counts: a file, - (stdin) or inline numbers like 0,1.",
        ),
    ],
    add: Annotated[
        float,
        typer.Option(
            "--add",
            metavar="A",
            click_type=NUMBER,
            help="Add A, a number >= 0, to every pseudocount of PRIOR.",
        ),
    ] = 0.0,
    prior_column: Annotated[
        str | None,
        typer.Option(
            "--prior-column",
            metavar="COL",
            help="COL is PRIOR's column of pseudocounts, when PRIOR has several.",
        ),
    ] = None,
    rows: Annotated[
        bool,
        typer.Option(
            "--rows",
            help="DATA's batches are its rows (named by the label column), its columns "
            "the categories.",
        ),
    ] = False,
    label: LabelOption = None,
    unit: UnitOption = Unit.bits,
    max_: Annotated[
        list[str] | None,
        typer.Option(
            "--max",
            metavar="MEASURE=LIMIT",
            help="Fail (exit 1) when MEASURE exceeds the number LIMIT: surprise (of any "
            "batch) or total; repeatable.",
        ),
    ] = None,
    fmt: FormatOption = None,
    quiet: QuietOption = False,
    input_format: InputFormatOption = None,
    no_header: NoHeaderOption = False,
    delimiter: DelimiterOption = None,
) -> int:
    from kldiv_cli import render
    from kldiv_cli.commands import surprise as command

    if not (math.isfinite(add) and add >= 0):
        raise UsageError(f"--add {add!r}: must be a finite number >= 0")
    checks = [command.parse_check(text) for text in max_ or []]
    out_format = _out_format(fmt)
    result = command.run(
        prior,
        data,
        _read_options(input_format, no_header, label, delimiter),
        prior_column=prior_column,
        rows=rows,
        add=add,
        unit=unit.value,
        checks=checks,
    )
    _warn_all(result.warnings, quiet)
    _emit_result(result, out_format)
    for line in render.failed_checks(result):
        _say(line)
    return 0 if result.passed else 1


@app.command(
    cls=_Command,
    help="KL divergence both ways and differential entropies of continuous data, from "
    "samples: the chosen numeric columns of P and Q are points in d dimensions, and "
    "the estimates come from each point's k-th nearest neighbour (Wang-Kulkarni-Verdú "
    "for D(P||Q) and D(Q||P), Kozachenko-Leonenko for h(P) and h(Q)). A differential "
    "entropy can be negative, and it depends on the data's scale.\n\n"
    "P and Q are raw rows (CSV, TSV, JSON, JSON lines, Parquet, a folder or a glob); a "
    "row with a missing value in a chosen column is left out. Duplicate points (a "
    "distance 0) are refused, naming the rows; --jitter spreads them.",
    epilog=examples(
        "kldiv samples samples/points-{p,q}.csv",
        "kldiv samples samples/points-{p,q}.csv -k 5 --unit nats",
        "kldiv samples samples/points-{p,q}.csv --format json",
    ),
)
def samples(
    p: Annotated[
        str,
        typer.Argument(
            metavar="P",
            click_type=TEXT,
            help="The sample of P: raw rows (a file, folder, glob or -).",
        ),
    ],
    q: Annotated[
        str,
        typer.Argument(
            metavar="Q",
            click_type=TEXT,
            help="The sample of Q: raw rows (a file, folder, glob or -).",
        ),
    ],
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            metavar="A,B,...",
            help="The coordinates: the columns A, B, ... (comma-separated); default: every "
            "column that is numeric on both sides.",
        ),
    ] = None,
    k: Annotated[
        int,
        typer.Option(
            "-k",
            metavar="K",
            click_type=WHOLE,
            help="Use the K-th nearest neighbour, K >= 1 and below each side's points "
            "(default 1: least bias; a larger K, less variance).",
        ),
    ] = 1,
    jitter: Annotated[
        float | None,
        typer.Option(
            "--jitter",
            metavar="SCALE",
            click_type=NUMBER,
            help="Add uniform noise in [-SCALE/2, SCALE/2] to every coordinate, so that "
            "duplicate points are apart; SCALE > 0 is the data's rounding step (0.1 for "
            "values written to one decimal): a smaller one leaves the rounding grid in "
            "the distances and inflates the estimates.",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            metavar="N",
            click_type=WHOLE,
            help="With --jitter: seed the noise with N (>= 0); default a random seed, "
            "reported in the JSON.",
        ),
    ] = None,
    na: Annotated[
        list[str] | None,
        typer.Option(
            "--na",
            metavar="TOKEN",
            help="A field equal to TOKEN is missing; repeatable, replaces the default "
            "list (NA, N/A, NaN, nan, null, NULL, None); --na '' keeps only the empty "
            "field.",
        ),
    ] = None,
    unit: UnitOption = Unit.bits,
    fmt: FormatOption = None,
    quiet: QuietOption = False,
    input_format: Annotated[
        RawInputFormat | None,
        typer.Option(
            "--input-format",
            metavar="FORMAT",
            help="Read P and Q as FORMAT, one of csv, tsv, json, jsonl or parquet, "
            "whatever their names.",
        ),
    ] = None,
    delimiter: DelimiterOption = None,
) -> int:
    from kldiv_cli.commands import samples as command

    out_format = _out_format(fmt)
    names = None if columns is None else [n.strip() for n in columns.split(",") if n.strip()]
    result = command.samples(
        p,
        q,
        columns=names,
        k=k,
        unit=unit.value,
        jitter=jitter,
        seed=seed,
        input_format=input_format.value if input_format else None,
        delimiter=delimiter,
        na=na,
        stdin=_Stdin(),  # type: ignore[arg-type]  # reads as a BinaryIO does
    )
    _warn_all(result.warnings, quiet)
    _emit_result(result, out_format)
    return 0


def main() -> NoReturn:
    """The console script ``kldiv``."""
    app(prog_name=PROG)
    raise AssertionError("unreachable: the program exits")  # pragma: no cover
