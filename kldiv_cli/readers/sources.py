"""Sources: what a SOURCE argument names, and its bytes, read with bounds.

Owns :func:`open_source` (``-`` for standard input, a path, or inline numbers), the
memory bound on reading (:func:`memory_available`, :class:`InputTooLargeError`, exit
66: a larger file is refused before it is read, a stream as soon as it passes the
bound), the refusal of a NUL byte where it is seen (so ``/dev/zero`` ends at once),
format sniffing (:func:`sniff`) and the field separator (:func:`parse_delimiter`,
:func:`separator`). The only module that opens files.
"""

from __future__ import annotations

import csv
import errno
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from kldiv_cli.errors import InputMissingError, InvalidDataError, KldivError, UsageError, visible
from kldiv_cli.readers import resources
from kldiv_cli.readers.numbers import looks_inline, shorten
from kldiv_cli.readers.resources import size_text

FORMATS: Final = ("csv", "tsv", "json")
_EXTENSIONS: Final = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json"}
STDIN_NAME: Final = "<stdin>"


@dataclass(frozen=True)
class Source:
    """What a SOURCE argument names: its display name, its format and its bytes."""

    name: str
    format: str | None  # None: to be sniffed from the content
    data: bytes | None  # None for inline numbers, and for a file not read yet
    inline: str | None = None
    #: A regular file left unread (see ``defer_from`` of :func:`open_source`): a
    #: reader may read it itself, or :func:`load` reads it as any other.
    path: str | None = None


def open_source(
    arg: str,
    input_format: str | None = None,
    stdin: BinaryIO | None = None,
    *,
    defer_from: int | None = None,
) -> Source:
    """Resolve a SOURCE argument: ``-`` (stdin), an existing path, or inline numbers.

    A regular file of ``defer_from`` bytes or more is opened (so a missing or
    unreadable one fails here, as any) and checked for size, but not read: the
    source's ``path`` says where it is, for a reader that reads files itself (Arrow
    reads a large CSV in blocks, never holding its bytes whole); :func:`load` reads it.

    The bytes are read with a bound (see :func:`memory_available`): an input too large
    to hold is InputTooLargeError (exit 66) before it is read, or as soon as a stream
    passes the bound; a NUL byte, which no text holds, is InvalidDataError as soon as
    it is seen (so ``/dev/zero`` ends at once).
    """
    if input_format is not None and input_format not in FORMATS:
        raise UsageError(f"unknown input format {input_format!r}; choose csv, tsv or json")
    if not arg.strip():
        raise UsageError("an empty SOURCE; give a file, - for standard input, or numbers")
    if arg == "-":
        if stdin is None:
            if sys.stdin is None:  # file descriptor 0 closed: Python has no sys.stdin
                raise InputMissingError(f"{STDIN_NAME}: cannot read (standard input is closed)")
            stdin = sys.stdin.buffer
        return Source(STDIN_NAME, input_format, _read_stream(STDIN_NAME, stdin))
    shown = visible(arg)
    try:
        st = os.stat(arg)
    except FileNotFoundError:
        if looks_inline(arg):
            return Source(arg, None, None, inline=arg)
        if os.path.islink(arg):
            raise InputMissingError(f"{shown}: a symlink to a missing file") from None
        raise InputMissingError(f"{shown}: no such file") from None
    except OSError as e:  # a name longer than the system takes (ENAMETOOLONG): no file
        if looks_inline(arg):
            return Source(arg, None, None, inline=arg)
        if e.errno == errno.ELOOP:
            raise InputMissingError(
                f"{shown}: a symlink loop (too many levels of symbolic links)"
            ) from None
        if e.errno == errno.ENOTDIR:
            raise InputMissingError(f"{shown}: no such file (a parent is not a folder)") from None
        raise InputMissingError(f"{shorten(shown)}: cannot read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputMissingError(f"{shown}: is a directory, not a file")
    fmt = input_format or _EXTENSIONS.get(Path(arg).suffix.lower())
    try:
        with open(arg, "rb") as f:
            if stat.S_ISREG(st.st_mode):
                _check_size(shown, st.st_size)
                if defer_from is not None and st.st_size >= defer_from:
                    return Source(arg, fmt, None, path=arg)
                data = f.read()
                _refuse_nul(shown, data, 0, 1)
            else:  # a device or a pipe (/dev/zero, <(...)): its size is unknown
                data = _read_stream(shown, f)
    except PermissionError:
        raise InputMissingError(f"{shown}: permission denied") from None
    except MemoryError:
        raise too_large(shown, st.st_size) from None
    except OSError as e:
        raise InputMissingError(f"{shown}: cannot read ({e.strerror or e})") from None
    return Source(arg, fmt, data)


def load(src: Source) -> Source:
    """``src`` with its bytes read, when :func:`open_source` left them (``path``)."""
    if src.path is None:
        return src
    return open_source(src.path, src.format)


def read_head(src: Source, size: int = 1 << 16) -> bytes:
    """The first ``size`` bytes of a file left unread (``src.path``), cut after its
    last line end (whole lines only: a cut record would look complete); empty when
    they hold no line end, or the file cannot be read (:func:`load` then says why)."""
    assert src.path is not None
    try:
        with open(src.path, "rb") as f:
            head = f.read(size)
    except OSError:
        return b""
    return head[: head.rfind(b"\n") + 1]


class Held:
    """A source's bytes, held in one place, so that a reader that has parsed them into
    columns can let them go: a 150 MB CSV is 150 MB less at the run's peak, which
    comes later (the measures' temporaries)."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes):
        self._data = data

    @property
    def data(self) -> bytes:
        """The bytes (empty once released)."""
        return self._data

    def release(self) -> None:
        """Drop the bytes: the caller has what it needs of them."""
        self._data = b""


class InputTooLargeError(InputMissingError):
    """An input larger than the memory kldiv may use to read it (exit status 66)."""


#: Bytes of memory per byte of input that reading takes at the least: the bytes
#: themselves and one pass of work of the same size (NumPy's scan of a CSV, the text
#: decoded from them); the parsed values often take more.
READ_FACTOR: Final = 2
#: Inputs up to this size are read without asking how much memory is free.
_SMALL_INPUT: Final = 64 << 20
_CHUNK: Final = 1 << 20


def memory_available() -> int:
    """Bytes of memory this process may still take
    (:func:`kldiv_cli.readers.resources.available_memory`); when nothing says, a figure so
    large that the reader's MemoryError is the bound."""
    room = resources.available_memory()
    return 1 << 62 if room is None else room


def too_large(
    name: str, size: int, available: int | None = None, more: bool = False
) -> InputTooLargeError:
    """The error for an input of ``size`` bytes (``more``: at least) that memory cannot
    hold while it is read."""
    if available is None:
        available = memory_available()
    held = f"more than {size_text(size)} and still going" if more else size_text(size)
    return InputTooLargeError(
        f"{name}: too large to read ({held}): reading it needs at least "
        f"{size_text(READ_FACTOR * size)} of memory, and {size_text(available)} is available"
    )


def _check_size(name: str, size: int) -> None:
    """Refuse an input of ``size`` bytes that cannot fit in memory, before reading it."""
    if size > _SMALL_INPUT:
        available = memory_available()
        if READ_FACTOR * size > available:
            raise too_large(name, size, available)


def _refuse_nul(name: str, chunk: bytes, offset: int, line: int) -> None:
    """A NUL byte is in no text kldiv reads (RFC 4180 and JSON have no place for one):
    refuse it where it is. ``chunk`` starts at byte ``offset`` of the input, on line
    ``line``. Bytes that are not UTF-8 at all are reported as that, first."""
    at = chunk.find(b"\0")
    if at < 0:
        return
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(chunk) - 4:  # not just a character cut at the chunk's end
            bad_line = line + chunk.count(b"\n", 0, e.start)
            raise InvalidDataError(
                f"{name}: line {bad_line}: not valid UTF-8 "
                f"(byte 0x{chunk[e.start]:02x} at offset {offset + e.start})"
            ) from None
    nul_line = line + chunk.count(b"\n", 0, at)
    raise InvalidDataError(
        f"{name}: line {nul_line}: a NUL byte (at offset "
        f"{offset + at}) is not text; kldiv reads UTF-8 CSV, TSV or JSON"
    )


def _read_stream(name: str, stream: BinaryIO) -> bytes:
    """All of a stream of unknown length, in chunks: refused as soon as it passes what
    memory can hold, or holds a NUL byte."""
    chunks: list[bytes] = []
    total = 0
    line = 1
    available: int | None = None
    try:
        while chunk := stream.read(_CHUNK):
            _refuse_nul(name, chunk, total, line)
            chunks.append(chunk)
            total += len(chunk)
            line += chunk.count(b"\n")
            if total > _SMALL_INPUT:
                if available is None:
                    available = memory_available()
                if READ_FACTOR * total > available:
                    raise too_large(name, total, available, more=True)
        return b"".join(chunks)
    except KldivError:
        raise
    except MemoryError:
        chunks.clear()
        raise too_large(name, total) from None
    except (OSError, ValueError) as e:  # EBADF, EIO; ValueError: a closed file object
        raise InputMissingError(
            f"{name}: cannot read ({getattr(e, 'strerror', None) or e})"
        ) from None


def sniff(data: bytes) -> str:
    """JSON when the first non-blank byte is ``{`` or ``[``; TSV when the header has a
    tab and no comma; else CSV."""
    body = data.lstrip(b" \t\r\n\xef\xbb\xbf")
    if body[:1] in (b"{", b"["):
        return "json"
    first_line = data.lstrip(b"\r\n\xef\xbb\xbf").split(b"\n", 1)[0]
    return "tsv" if b"\t" in first_line and b"," not in first_line else "csv"


def parse_delimiter(text: str) -> str:
    """``--delimiter``: one character; ``\\t`` or ``tab`` is a tab.

    Refused: a quote or line end (RFC 4180 gives them other roles), and a character
    that can be part of a number (a digit, a letter, ``.``, ``+``, ``-``).
    """
    char = "\t" if text in ("\\t", "tab", "TAB") else text
    if len(char) != 1:
        raise UsageError(
            f"--delimiter {text!r}: give one character, e.g. ';' (or \\t or tab for a tab)"
        )
    printable = char.isascii() and char.isprintable() and not char.isalnum()
    if char == "\t" or (printable and char not in '".+-'):
        return char
    raise UsageError(f"--delimiter {text!r}: cannot separate fields; e.g. ';', '|' or tab")


def separator(fmt: str, delimiter: str | None) -> str:
    """The field separator of a CSV/TSV source: ``--delimiter`` (already checked by
    :func:`parse_delimiter`), else a tab for TSV and a comma for CSV."""
    if delimiter is not None:
        return parse_delimiter(delimiter)
    return "\t" if fmt == "tsv" else ","


#: The longest field the csv module reads: any (its default, 131,072 characters, is
#: a limit that the columnar library has not, so a long label was refused by one reader
#: and accepted by the other). 2^31 - 1: what a C long holds everywhere; memory bounds
#: the input first.
FIELD_SIZE_LIMIT: Final = 2**31 - 1


@contextmanager
def parsing(name: str, size: int) -> Iterator[None]:
    """Around the parsing of a source's bytes (``size`` of them): fields of any length,
    and running out of memory is InputTooLargeError naming the source and its size,
    never exit 70."""
    old = csv.field_size_limit(FIELD_SIZE_LIMIT)
    try:
        yield
    except MemoryError:
        raise too_large(visible(name), size) from None
    finally:
        csv.field_size_limit(old)


#: The UTF-8 byte order mark, dropped once from the start of a source.
BOM: Final = b"\xef\xbb\xbf"


def decode_error(name: str, data: bytes, e: UnicodeDecodeError) -> InvalidDataError:
    """The error for bytes that are not UTF-8, naming the line and the byte offset."""
    line = data.count(b"\n", 0, e.start) + 1
    return InvalidDataError(
        f"{name}: line {line}: not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})"
    )
