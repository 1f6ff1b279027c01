"""Raw rows: what a SOURCE of observations is, checked before DuckDB reads it.

Owns :func:`open_raw` (a path, a folder, a glob or ``-``: the files of one table, their
format, their header) and what DuckDB does not check itself: a duplicate column name
(DuckDB renames it silently), a stray quote inside an unquoted field (DuckDB keeps
it as text), and the JSON shapes (read by kldiv's strict loader, then handed to DuckDB
as a Parquet file of text). DuckDB itself is imported only by
:mod:`kldiv_cli.readers.raw`.
"""

from __future__ import annotations

import glob
import gzip
import os
import shutil
import sys
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, Final, TypeAlias

import numpy as np

from kldiv_cli.errors import InputMissingError, InvalidDataError, UsageError, visible
from kldiv_cli.readers.categories import category_text
from kldiv_cli.readers.delimited import check_header, head_records
from kldiv_cli.readers.json_doc import JsonNumber, load_json, record_keys
from kldiv_cli.readers.sources import STDIN_NAME, parse_delimiter, separator
from kldiv_cli.readers.table import names_text

#: The formats of raw rows.
RAW_FORMATS: Final = ("csv", "tsv", "json", "jsonl", "parquet")
_BY_SUFFIX: Final = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
_GZIP_MAGIC: Final = b"\x1f\x8b"
_PARQUET_MAGIC: Final = b"PAR1"
#: How much of a file is read at a time when checking its quotes, or copying stdin.
_CHUNK: Final = 16 << 20
#: JSON lines records per Parquet row group when they are handed to DuckDB.
_JSON_BATCH: Final = 65536
#: The longest row (a CSV/TSV record, its quoted line ends included, or a JSON line),
#: in bytes, its line end left out. DuckDB refuses a CSV line of 2,000,000 bytes or
#: more by default, and raising its limit costs memory on every file (it reads in
#: buffers of 16 times the limit: at 16 MiB, a 700 MB file runs out of 384 MB); so
#: kldiv refuses a longer row itself, before DuckDB reads it, in bounded memory, and
#: tells DuckDB a slightly larger limit (:data:`ENGINE_LINE_LIMIT`), as DuckDB counts
#: a byte or two more than this (a CR, the line end before).
MAX_ROW_BYTES: Final = 2_000_000
#: The ``max_line_size`` kldiv gives DuckDB: above :data:`MAX_ROW_BYTES`, so that a
#: row kldiv has let through is never refused by DuckDB.
ENGINE_LINE_LIMIT: Final = MAX_ROW_BYTES + (64 << 10)


#: Offsets into a buffer.
_Offsets: TypeAlias = "np.ndarray[Any, np.dtype[np.intp]]"


@dataclass
class RawSource:
    """One table of raw rows (one observation a row), ready for the counting engine.

    Attributes
    ----------
    name : str
        The SOURCE as given (``<stdin>`` for ``-``), for messages.
    format : str
        ``csv``, ``tsv``, ``json``, ``jsonl`` or ``parquet``.
    files : list of str
        The files DuckDB reads (a glob or folder gives several; JSON gives one
        Parquet file written by kldiv).
    columns : list of str
        The column names, in the source's order.
    delimiter : str or None
        The field separator of CSV/TSV.
    compression : str
        How DuckDB decompresses CSV/TSV files (its ``compression`` option): ``gzip``
        or ``none`` by the files' content (gzip's magic bytes, whatever the name),
        ``auto`` (by the name) when a folder mixes both and each is named for its
        content.
    """

    name: str
    format: str
    files: list[str]
    columns: list[str]
    delimiter: str | None = None
    compression: str = "auto"
    #: The Parquet format DuckDB reads (JSON and JSON lines are converted to it).
    engine_format: str = ""
    _rows: int | None = field(default=None, repr=False)
    _scratch: str | None = field(default=None, repr=False)

    @property
    def rows(self) -> int:
        """How many rows the source holds (counted by DuckDB on first use)."""
        if self._rows is None:
            from kldiv_cli.readers.raw import count_rows  # DuckDB: imported only then

            self._rows = count_rows(self)
        return self._rows


def open_raw(
    source: str,
    input_format: str | None = None,
    delimiter: str | None = None,
    stdin: BinaryIO | None = None,
) -> RawSource:
    """The raw rows of ``source``: a file, a folder, a glob (``'data/*.parquet'``) or
    ``-`` (standard input, copied to a temporary file first).

    The format is ``input_format``, else the files' names (``.csv``, ``.tsv``, ``.tab``,
    ``.json``, ``.jsonl``, ``.ndjson``, ``.parquet``, each also with ``.gz``), else the
    content: Parquet's magic bytes; ``[`` JSON, ``{`` JSON lines; a tab and no comma on
    the first line TSV; else CSV. A folder or glob is one table: every file must have
    the same format and (CSV/TSV) the same header. Checked here, with the line: a
    duplicate column name, a stray quote (CSV/TSV); the whole JSON shape. Ragged rows
    and quotes never closed are reported by DuckDB as it counts (see
    :func:`kldiv_cli.readers.raw.count_columns`).

    Raises
    ------
    UsageError
        An unknown format, a bad delimiter, an empty SOURCE.
    InputMissingError
        No such file; a glob or folder that matches no file.
    InvalidDataError
        A file that is not what its format says (named with its line).
    """
    if input_format is not None and input_format not in RAW_FORMATS:
        raise UsageError(f"unknown input format {input_format!r}; choose {', '.join(RAW_FORMATS)}")
    if delimiter is not None:
        parse_delimiter(delimiter)
    if not source.strip():
        raise UsageError("an empty SOURCE; give a file, a folder, a glob or - for standard input")
    scratch: str | None = None
    if source == "-":
        scratch = tempfile.mkdtemp(prefix="kldiv-raw-")
        files = [_spill_stdin(stdin, scratch)]
        name = STDIN_NAME
    else:
        files = files_of(source)
        name = source
    try:
        raw = _open_files(name, files, input_format, delimiter, scratch)
    except BaseException:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    if scratch is not None:  # removed when the source is no longer used
        weakref.finalize(raw, shutil.rmtree, scratch, True)
    return raw


def files_of(source: str) -> list[str]:
    """The files a SOURCE names: itself, a folder's files (hidden ones left out), or
    a glob's matches; sorted, so that a table's rows come in a fixed order."""
    shown = visible(source)
    if os.path.isdir(source):
        files = sorted(
            str(p) for p in Path(source).iterdir() if p.is_file() and not p.name.startswith(".")
        )
        if not files:
            raise InputMissingError(f"{shown}: a folder with no files")
        return files
    if os.path.exists(source):
        if not os.access(source, os.R_OK):
            raise InputMissingError(f"{shown}: permission denied")
        return [source]
    if glob.has_magic(source):
        files = sorted(p for p in glob.glob(source) if os.path.isfile(p))
        if not files:
            raise InputMissingError(f"{shown}: no file matches")
        return files
    raise InputMissingError(f"{shown}: no such file")


def _spill_stdin(stdin: BinaryIO | None, scratch: str) -> str:
    """Standard input copied to a file in ``scratch`` (DuckDB reads files; a pipe can
    be read once), in bounded memory; its name says whether it is gzip."""
    if stdin is None:
        if sys.stdin is None:
            raise InputMissingError(f"{STDIN_NAME}: cannot read (standard input is closed)")
        stdin = sys.stdin.buffer
    path = os.path.join(scratch, "stdin")
    with open(path, "wb") as out:
        shutil.copyfileobj(stdin, out, _CHUNK)
    with open(path, "rb") as f:
        if f.read(2) == _GZIP_MAGIC:
            os.rename(path, path + ".gz")
            path += ".gz"
    return path


def _open(path: str) -> IO[bytes]:
    """A file's bytes, decompressed when it is gzip (by its magic bytes)."""
    f = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    if f.read(2) == _GZIP_MAGIC:
        f.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    f.seek(0)
    return f


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def _head(name: str, path: str, size: int = 1 << 16) -> bytes:
    try:
        with _open(path) as f:
            return f.read(size)
    except PermissionError:
        raise InputMissingError(f"{visible(name)}: permission denied") from None
    except (OSError, EOFError) as e:  # a truncated or corrupt gzip stream
        raise InvalidDataError(f"{visible(name)}: cannot read ({e})") from None


def _first_row(name: str, path: str) -> bytes:
    """The bytes of a CSV/TSV file's first row (the header), through its line end:
    the first CR or LF with an even number of quotes before it (a quoted header name
    may hold a line end), however long the row, up to :data:`MAX_ROW_BYTES`.

    Raises
    ------
    InvalidDataError
        A first row longer than :data:`MAX_ROW_BYTES`, named as line 1.
    """
    buf = b""
    scanned = 0  # buf[:scanned] holds ``quotes`` quotes and no row end
    quotes = 0
    try:
        with _open(path) as f:
            while True:
                chunk = f.read(1 << 16)
                buf += chunk  # bounded: the error below stops it past MAX_ROW_BYTES
                while (at := _line_end(buf, scanned)) != -1:
                    quotes += buf.count(b'"', scanned, at)
                    scanned = at + 1
                    if quotes % 2 == 0:
                        return buf[:scanned]
                quotes += buf.count(b'"', scanned)
                scanned = len(buf)
                if not chunk:
                    return buf
                if len(buf) > MAX_ROW_BYTES:
                    raise InvalidDataError(_too_long(name, 1))
    except PermissionError:
        raise InputMissingError(f"{visible(name)}: permission denied") from None
    except (OSError, EOFError) as e:  # a truncated or corrupt gzip stream
        raise InvalidDataError(f"{visible(name)}: cannot read ({e})") from None


def _line_end(buf: bytes, start: int) -> int:
    """The offset of the first CR or LF of ``buf`` from ``start``; -1: none."""
    found = [i for i in (buf.find(b"\n", start), buf.find(b"\r", start)) if i != -1]
    return min(found, default=-1)


def _too_long(name: str, line: int) -> str:
    return (
        f"{visible(name)}: line {line}: a row longer than {MAX_ROW_BYTES:,} bytes, "
        "the most kldiv reads in one row"
    )


def _compression(name: str, files: list[str]) -> str:
    """DuckDB's ``compression`` for CSV/TSV ``files``: by their content (gzip's magic
    bytes), as kldiv's own checks read them; DuckDB's ``auto`` goes by the name only,
    and reads a gzip file not named ``.gz`` as text (no rows, or garbage)."""
    packed = [_is_gzip(p) for p in files]
    if all(packed):
        return "gzip"
    if not any(packed):
        return "none"
    for path, gz in zip(files, packed, strict=True):
        if gz != path.lower().endswith(".gz"):
            shown = STDIN_NAME if name == STDIN_NAME else path
            what = "is gzip but not named .gz" if gz else "is named .gz but is not gzip"
            raise InvalidDataError(
                f"{visible(shown)}: {what}, among files of which some are gzip and some "
                "not: name each by its content"
            )
    return "auto"


def _format_of(path: str, head: bytes) -> str:
    """A file's format by its name (``.gz`` looked through), else by its content."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".gz":
        suffix = Path(p.stem).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    body = head.lstrip(b" \t\r\n\xef\xbb\xbf")
    if body[:1] == b"[":
        return "json"
    if body[:1] == b"{":
        return "jsonl"
    first_line = head.lstrip(b"\r\n\xef\xbb\xbf").split(b"\n", 1)[0]
    return "tsv" if b"\t" in first_line and b"," not in first_line else "csv"


def _open_files(
    name: str,
    files: list[str],
    input_format: str | None,
    delimiter: str | None,
    scratch: str | None,
) -> RawSource:
    formats = {f: input_format or _format_of(f, _head(f, f, 4096)) for f in files}
    kinds = sorted(set(formats.values()))
    if len(kinds) > 1:
        raise UsageError(
            f"{visible(name)}: files of different formats ({', '.join(kinds)}) cannot be "
            "one table; give --input-format or one kind of file"
        )
    fmt = kinds[0]
    if fmt == "parquet":
        return RawSource(name, fmt, files, _parquet_columns(name, files), engine_format="parquet")
    if fmt in ("json", "jsonl"):
        if scratch is None:
            scratch = tempfile.mkdtemp(prefix="kldiv-raw-")
        try:
            json_names = [STDIN_NAME] if name == STDIN_NAME else files  # stdin: a copy of ours
            path, columns = _json_to_parquet(files, fmt, scratch, json_names)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        raw = RawSource(name, fmt, [path], columns, engine_format="parquet", _scratch=scratch)
        weakref.finalize(raw, shutil.rmtree, scratch, True)
        return raw
    sep = separator(fmt, delimiter)
    header: list[str] | None = None
    for path in files:
        shown = STDIN_NAME if name == STDIN_NAME else path
        first = _first_row(shown, path)
        records = head_records(shown, first, sep, 1, max(1 << 16, len(first)))
        if not records and first:
            # DuckDB takes line 1 as the header, whatever it holds: a blank one would
            # make the real header a row of data.
            raise InvalidDataError(f"{visible(shown)}: line 1: the header line is empty")
        if not records:
            raise InvalidDataError(f"{visible(shown)}: empty input: no header and no rows")
        check_header(shown, records[0])
        if header is None:
            header = records[0]
        elif records[0] != header:
            raise InvalidDataError(
                f"{visible(shown)}: line 1: the header is {names_text(records[0])}, "
                f"where {files[0]} has {names_text(header)}"
            )
        check_quotes(shown, path, sep)
    assert header is not None
    compression = _compression(name, files)
    return RawSource(name, fmt, files, header, sep, compression, engine_format="csv")


def _parquet_columns(name: str, files: list[str]) -> list[str]:
    """The column names of Parquet files, the same in each (read from their footers)."""
    import pyarrow.parquet as pq  # imported only on this path

    header: list[str] | None = None
    for path in files:
        shown = STDIN_NAME if name == STDIN_NAME else path
        try:
            names = list(pq.read_schema(path).names)
        except OSError as e:
            raise InvalidDataError(f"{visible(shown)}: not a Parquet file ({e})") from None
        check_header(shown, names)
        if header is None:
            header = names
        elif names != header:
            raise InvalidDataError(
                f"{visible(shown)}: the columns are {names_text(names)}, "
                f"where {files[0]} has {names_text(header)}"
            )
    assert header is not None
    return header


def check_quotes(name: str, path: str, sep: str) -> None:
    """Refuse a quote inside an unquoted field (``ab"c``), which RFC 4180 forbids and
    DuckDB keeps as text, text after a closing quote, and a row longer than
    :data:`MAX_ROW_BYTES` (which DuckDB cannot read): InvalidDataError naming the
    line.

    A row runs from a line start to the next line end outside quotes (its quoted
    line ends are part of it, its own is not); a line end is LF, CRLF or CR, as
    DuckDB reads them. Reads the file in chunks of :data:`_CHUNK`, and checks the
    rows complete in what it holds; a row not yet ended is kept for the next chunk,
    so the buffer never holds more than a chunk and a row, and a row longer than the
    limit is refused as soon as that much of it is seen (a line of 2 GB costs one
    chunk past the limit, not 2 GB). A chunk without a quote costs a few
    ``bytes.find`` (two a half of the row limit); one with quotes is checked by
    :func:`_stray_quote` and :func:`_row_ends` in NumPy.
    """
    line = 1  # the line buf starts at; buf starts at a row's start
    buf = b""
    with _open(path) as f:
        while True:
            chunk = f.read(_CHUNK)
            end = not chunk
            buf = buf + chunk if buf else chunk
            cut = len(buf) if end else _last_line_end(buf) + 1
            rows = 0  # one past the last row complete in buf[:cut]
            if cut:
                if buf.find(b'"', 0, cut) != -1:
                    text = buf[:cut] if cut < len(buf) else buf
                    quotes = np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == _QUOTE)
                    problem, _ = _stray_quote(text, sep, end, quotes)
                    if problem is not None:
                        at, what = problem
                        where = line + _lines(buf, at)
                        raise InvalidDataError(f"{visible(name)}: line {where}: {what}")
                    ends = _row_ends(text, quotes)
                    rows = int(ends[-1]) + 1 if len(ends) else 0
                    long = _long_row(ends, MAX_ROW_BYTES)
                else:
                    rows = cut
                    long = _long_line(buf, cut, MAX_ROW_BYTES)
                if long is not None:
                    raise InvalidDataError(_too_long(name, line + _lines(buf, long)))
            # The row not yet ended (at the end: the last, with no line end); a CR at
            # the very end, held back, ends it.
            held = not end and buf.endswith(b"\r")
            if len(buf) - rows - held > MAX_ROW_BYTES:
                raise InvalidDataError(_too_long(name, line + _lines(buf, rows)))
            if end:
                return
            line += _lines(buf, rows)
            buf = buf[rows:]


def _last_line_end(buf: bytes) -> int:
    """The offset of the last line end of ``buf`` (-1: none), leaving out a CR at the
    very end, which may be the first half of a CRLF (the LF in the next chunk)."""
    cr = buf.rfind(b"\r", 0, len(buf) - 1)
    return max(buf.rfind(b"\n"), cr)


def _lines(buf: bytes, stop: int) -> int:
    """The line ends (LF, CRLF or CR) in ``buf[:stop]``."""
    lines = buf.count(b"\n", 0, stop)
    if buf.find(b"\r", 0, stop) != -1:  # a look for one is 10 times cheaper than a count
        lines += buf.count(b"\r", 0, stop) - buf.count(b"\r\n", 0, stop)
    return lines


def _row_ends(text: bytes, quotes: _Offsets) -> _Offsets:
    """The offsets of the CRs and LFs of ``text`` (which starts at a row's start,
    outside quotes; its quotes at ``quotes``) that end a row: those with an even
    number of quotes before them (the others are inside a quoted field). The LF of a
    CRLF ends an empty row."""
    data = np.frombuffer(text, dtype=np.uint8)
    lf = data == _LF
    ends = np.flatnonzero(lf | (data == _CR) if b"\r" in text else lf)
    outside: _Offsets = ends[np.searchsorted(quotes, ends) % 2 == 0]
    return outside


def _long_row(ends: _Offsets, limit: int) -> int | None:
    """The offset of the first row longer than ``limit`` bytes (its line end left
    out) among the rows that end at ``ends`` (the first starting at 0), or None."""
    if not len(ends):
        return None
    starts = np.concatenate(([0], ends[:-1] + 1))
    long = np.flatnonzero(ends - starts > limit)
    return int(starts[long[0]]) if len(long) else None


def _long_line(text: bytes, stop: int, limit: int) -> int | None:
    """The offset of the first line of ``text[:stop]`` longer than ``limit`` bytes (its
    line end, CR or LF, left out; the last line may have none), or None.

    Such a line holds a whole block of ``limit // 2`` bytes aligned on a multiple of
    it, and only a block without a line end is looked at more closely: two
    ``bytes.find`` a block, each stopping at the block's first CR or LF.
    """
    step = max(1, limit // 2)
    for a in range(0, stop - step + 1, step):
        if text.find(b"\n", a, a + step) == -1 and text.find(b"\r", a, a + step) == -1:
            start = max(text.rfind(b"\n", 0, a), text.rfind(b"\r", 0, a)) + 1
            ends = [i for i in (text.find(b"\n", a, stop), text.find(b"\r", a, stop)) if i != -1]
            if min(ends, default=stop) - start > limit:
                return start
    return None


def _stray_quote(
    text: bytes,
    sep: str,
    end: bool,
    quotes: _Offsets | None = None,
) -> tuple[tuple[int, str] | None, int | None]:
    """Whether the quotes of ``text`` (which starts at a field's start, outside quotes)
    are as RFC 4180 wants them: ((offset, problem) or None, the offset of a quoted
    field still open at the end, to be carried, or None). ``quotes``: the offsets of
    its quotes, if known.

    By runs of adjacent quotes, in NumPy: inside quotes, a run of even length is
    doubled quotes and one of odd length closes the field; outside, a run opens a
    field (and an even one closes it again). So a run starts outside quotes exactly
    when the quotes before it are even in number. A run that starts outside must
    follow a separator or line end; one that ends outside must be followed by one.
    """
    data = np.frombuffer(text, dtype=np.uint8)
    at = np.flatnonzero(data == _QUOTE) if quotes is None else quotes
    first = np.flatnonzero(np.diff(at, prepend=-2) != 1)  # index in ``at`` of each run
    starts = at[first]
    stops = at[np.append(first[1:], len(at)) - 1] + 1  # one past each run
    outside = first % 2 == 0
    lead = np.zeros(256, dtype=bool)
    lead[[ord(sep), _CR, _LF]] = True
    before = np.ones(len(starts), dtype=bool)
    has_before = starts > 0
    before[has_before] = lead[data[starts[has_before] - 1]]
    bad_open = outside & ~before
    closes = (np.append(first[1:], len(at)) % 2) == 0  # outside again after the run
    after = np.ones(len(stops), dtype=bool)
    has_after = stops < len(data)
    after[has_after] = lead[data[stops[has_after]]]
    bad_close = closes & ~after
    problems = []
    if bad_open.any():
        k = int(np.argmax(bad_open))
        problems.append((int(starts[k]), _STRAY))
    if bad_close.any():
        k = int(np.argmax(bad_close))
        problems.append((int(stops[k]), "text after the closing quote of a quoted field"))
    if problems:
        return min(problems), None
    if len(at) % 2 == 0:
        return None, None
    # A quoted field open at the end: the last run that went from outside to inside.
    opened = int(starts[np.flatnonzero(outside & ~closes)[-1]])
    if end:
        return (opened, "a quoted field is never closed"), None
    return None, opened


_STRAY: Final = (
    'a quote inside an unquoted field (quote the whole field and double the quote: "a""b")'
)
_QUOTE: Final = ord('"')
_CR: Final = ord("\r")
_LF: Final = ord("\n")


def _json_to_parquet(
    files: list[str], fmt: str, scratch: str, names: list[str] | None = None
) -> tuple[str, list[str]]:
    """JSON records, read by kldiv's strict loader, as a Parquet file of text for
    DuckDB: each value spelled as :func:`kldiv_cli.readers.categories.category_text`
    spells it for ``mi`` (``1`` and ``"1"`` stay two values), ``null`` as SQL NULL.

    JSON (an array of records) is read whole, as every JSON source of kldiv; JSON
    lines go through in batches, in bounded memory. Every record must have the same
    keys as the first. ``names`` are the files as messages name them (``<stdin>`` for
    the copy of standard input).
    """
    import pyarrow as pa  # imported only on this path
    import pyarrow.parquet as pq

    path = os.path.join(scratch, "json.parquet")
    writer: Any = None
    keys: list[str] | None = None
    try:
        for batch_keys, batch in _json_batches(files, fmt, names or files):
            if keys is None:
                keys = batch_keys
                schema = pa.schema([(k, pa.string()) for k in keys])
                writer = pq.ParquetWriter(path, schema)
            columns = [pa.array(col, pa.string()) for col in batch]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
    finally:
        if writer is not None:
            writer.close()
    if keys is None:
        raise InvalidDataError(f"{visible((names or files)[0])}: no records")
    return path, keys


def _json_batches(
    files: list[str], fmt: str, names: list[str]
) -> Iterator[tuple[list[str], list[list[str | None]]]]:
    """(keys, one list of spelled values per key) for batches of records."""
    keys: list[str] | None = None
    first = ""
    for path, name in zip(files, names, strict=True):
        records: Iterator[tuple[str, dict[str, Any]]]
        records = _json_records(name, path) if fmt == "json" else _json_lines(name, path)
        batch: list[list[str | None]] = []
        count = 0
        for where, record in records:
            if keys is None:
                keys = record_keys(name, [record])
                first = f"{name}: {where}"
                batch = [[] for _ in keys]
            elif list(record) != keys and set(record) != set(keys):
                raise InvalidDataError(
                    f"{visible(name)}: {where}: the record has keys {names_text(list(record))}, "
                    f"the first ({first}) has {names_text(keys)}"
                )
            for column, key in zip(batch, keys, strict=True):
                value = record[key]
                column.append(None if value is None else category_text(value))
            count += 1
            if count == _JSON_BATCH:
                yield keys, batch
                batch = [[] for _ in keys]
                count = 0
        if keys is not None and count:
            yield keys, batch


def _json_records(name: str, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    with _open(path) as f:
        data = f.read()
    doc = load_json(name, data, JsonNumber)
    if not (isinstance(doc, list) and all(isinstance(r, dict) for r in doc)):
        raise InvalidDataError(
            f"{visible(name)}: raw rows must be a JSON array of records (objects)"
            " or JSON lines (one object a line)"
        )
    for i, record in enumerate(doc):
        yield f"record {i + 1}", record


def _json_lines(name: str, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The records of a JSON lines file, one a line; a line longer than
    :data:`MAX_ROW_BYTES` is refused when that many bytes are read, not held whole."""
    with _open(path) as f:
        i = 0
        # +2: room for a CR and the LF after a line of the limit's length.
        while line := f.readline(MAX_ROW_BYTES + 2):
            i += 1
            if len(line.rstrip(b"\r\n")) > MAX_ROW_BYTES:
                raise InvalidDataError(_too_long(name, i))
            if not line.strip():
                continue
            try:
                # Without its line end, so that an error's line is the file's, not 2.
                record = load_json(name, line.rstrip(b"\r\n"), JsonNumber)
            except InvalidDataError as e:  # load_json counts lines from 1 in each
                text = str(e)
                prefix = f"{name}: line 1"
                if text.startswith(prefix):
                    text = f"{name}: line {i}{text[len(prefix) :]}"
                elif text.startswith(f"{name}: "):
                    text = f"{name}: line {i}: {text[len(name) + 2 :]}"
                raise InvalidDataError(text) from None
            if not isinstance(record, dict):
                raise InvalidDataError(
                    f"{visible(name)}: line {i}: a JSON line must be one record (an object)"
                )
            yield f"line {i}", record
