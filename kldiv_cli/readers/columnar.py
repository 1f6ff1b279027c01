"""Large clean CSV/TSV tables, read by a columnar library (pyarrow.csv).

Owns the fast path of :func:`kldiv_cli.readers.delimited.csv_table`: a table of
plain numbers under a header, in many rows, read by Arrow's multithreaded CSV reader
into float64 columns and one Arrow string array of labels, which stay in Arrow's
compact buffers (no Python string per label). Imported only for an input of
:data:`~kldiv_cli.readers.delimited.LIBRARY_FROM` bytes or more.

The path is strict by refusing, not by reporting: anything it does not take whole (a
quote, a blank line, a bare carriage return, a NUL byte, a ragged row, bytes that are
not UTF-8, a cell that is not a plain number, a value of 2^53 or more whose digits
matter) makes :func:`csv_table` return None, and the stdlib reader then reads the
input and names the exact line, column and label of what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from kldiv_cli.readers.numbers import EXACT_UP_TO, not_a_number
from kldiv_cli.readers.sources import Held
from kldiv_cli.readers.table import FloatArray, Labels, Table, check_unique

#: Bytes the reader parses per block (and per thread): Arrow's default of 1 MiB made
#: ~150 chunks of a 150 MB file, each a column piece to join afterwards.
_BLOCK: Final = 8 << 20


def csv_table(
    name: str, held: Held, sep: str, header: list[str], no_header: bool, label_idx: int | None
) -> Table | None:
    """The table of the bytes ``held`` holds (a CSV/TSV whose header is ``header``), or
    None when the input is not one the library path takes whole (see the module's
    docstring). Once they are parsed, the bytes are released (``held.release()``).

    ``label_idx`` is the label column, or None when the first column is to be read as
    numbers (if it is not all numbers, None is returned: the stdlib reader decides).
    """
    if _unusual(held.data, len(header)):
        return None
    # No copy: Arrow reads the bytes where they are (the stubs of pyarrow 20 leave out
    # the NativeFile that read_csv takes).
    read = _read(lambda: pa.BufferReader(held.data), sep, header, no_header, label_idx)
    if read is None:
        return None
    table = _table(name, *read, header, no_header, label_idx)
    if table is not None:
        held.release()  # the columns are copies of their own
    return table


def csv_file(
    name: str, path: str, sep: str, header: list[str], no_header: bool, label_idx: int | None
) -> Table | None:
    """:func:`csv_table` of a file that was not read: Arrow reads it from ``path`` in
    blocks, so its bytes are never held whole (150 MB less at 10M rows, and the time
    to fault that memory in)."""
    if _unusual_file(path, len(header)):
        return None
    read = _read(lambda: path, sep, header, no_header, label_idx)
    return None if read is None else _table(name, *read, header, no_header, label_idx)


def _read(
    source: Callable[[], Any],
    sep: str,
    header: list[str],
    no_header: bool,
    label_idx: int | None,
) -> tuple[int, list[Any], set[int]] | None:
    """The rows and the columns of a CSV (``source()``: a path or a buffer) as Arrow
    reads it, and which columns are text: the label column, and any column with a cell
    that is not a number (a column of names beside the counts), which is read again as
    text, up to :data:`_TEXT_COLUMNS` of them. None when Arrow refuses it otherwise (a
    ragged row, bytes that are not UTF-8) or it has no row. The columns come in a list
    of their own, so that :func:`_table` can let each go once it is copied out."""
    text = set() if label_idx is None else {label_idx}
    while True:
        try:
            frame = _arrow_csv(source(), sep, header, no_header, text)
        except pa.ArrowInvalid as e:
            failed = _CONVERSION.match(str(e))
            if failed is None or int(failed[1]) in text or len(text) > _TEXT_COLUMNS:
                return None
            text.add(int(failed[1]))  # read the file again, that column as text
            continue
        except (pa.ArrowNotImplementedError, OSError):
            return None  # OSError: the file changed under us; reading it whole says how
        rows = frame.num_rows
        return (rows, frame.columns, text) if rows else None


#: Arrow's message for a cell that its column's type does not take.
_CONVERSION: Final = re.compile(r"In CSV column #(\d+): CSV conversion error")
#: Text columns besides the labels worth a parse of the file each: past them, the
#: csv module reads the file once.
_TEXT_COLUMNS: Final = 4


def _arrow_csv(source: Any, sep: str, header: list[str], no_header: bool, text: set[int]) -> Any:
    """Arrow's table of a CSV: columns ``text`` as strings, the others as float64."""
    types: dict[str, pa.DataType] = {
        f"c{i}": pa.string() if i in text else pa.float64() for i in range(len(header))
    }
    return pacsv.read_csv(
        source,
        read_options=pacsv.ReadOptions(
            column_names=list(types),
            skip_rows=0 if no_header else 1,
            block_size=_BLOCK,
            use_threads=True,
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=sep, quote_char=False, double_quote=False, ignore_empty_lines=False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            check_utf8=True,
            null_values=[],
            true_values=[],
            false_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _table(
    name: str,
    rows: int,
    columns: list[Any],
    text: set[int],
    header: list[str],
    no_header: bool,
    label_idx: int | None,
) -> Table | None:
    """The :class:`Table` of Arrow's ``columns`` (emptied as they are copied out;
    ``text``: those read as strings); None when a value is 2^53 or more, infinite or
    NaN, or a text column holds only what kldiv's grammar reads as numbers (see
    below: the csv module's reader then decides)."""
    labels: Any = None
    numeric: dict[str, FloatArray | None] = {}
    problems: dict[str, tuple[int, str]] = {}
    if label_idx is None and 0 in text:
        label_idx = 0  # the first column is not all numbers: it holds the labels
        if _first_not_a_number(columns[0]) is None:
            return None
    if label_idx is not None and _any_empty(columns[label_idx]):
        # An empty label, or a blank line (Arrow reads it as a row of empty fields;
        # the csv module skips it, and numbers the lines after it otherwise).
        return None
    for i in range(len(header)):
        column = columns[i]
        columns[i] = None
        if i == label_idx:
            labels = column
            continue
        if i in text:  # a cell that is not a number: the column's problem, as the
            found = _first_not_a_number(column)  # csv module's reader words it
            if found is None or found[1] == "":
                return None  # "": an empty cell, or a blank line (see above)
            numeric[header[i]] = None
            problems[header[i]] = (found[0], not_a_number(found[1]))
            continue
        values = _floats(column)
        del column
        # Arrow's allocator keeps what it frees for reuse; handing the column's pages
        # back now keeps the run's peak at one copy of the values, not two.
        pa.default_memory_pool().release_unused()
        with np.errstate(invalid="ignore"):
            if not (np.abs(values) < EXACT_UP_TO).all():
                # Only the text tells whether float64 holds such a count exactly; and
                # Arrow reads "nan(1)" as NaN, which kldiv's grammar refuses. A NaN or
                # an infinity is an error wherever it is used: the csv module's reader
                # says which, where.
                return None
        numeric[header[i]] = values
    first_line = 1 if no_header else 2  # no blank line and no quote: one line a row
    table = Table(
        name, Labels.by_position(rows), None, numeric, problems, lambda row: row + first_line
    )
    if labels is not None:
        table.label_column = header[label_idx]  # type: ignore[index]
        table.labels = Labels.of_arrow(labels)
        if may_repeat(labels):
            check_unique(table.labels.values, table)  # the exact check names both lines
    return table


#: kldiv's number grammar (:data:`kldiv_cli.readers.numbers.NUMBER`) in RE2's syntax.
_GRAMMAR: Final = (
    r"^[ \t\n\r\f\v]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|(?i:nan|inf(?:inity)?))[ \t\n\r\f\v]*$"
)


def _any_empty(column: Any) -> bool:
    """Whether an Arrow string column holds an empty string."""
    return any(bool((_spans(chunk)[1] == 0).any()) for chunk in column.chunks if len(chunk))


def _first_not_a_number(column: Any) -> tuple[int, str] | None:
    """The row and text of the first cell of an Arrow string column that kldiv's
    grammar does not read as a number (None: every cell is one), found in Arrow."""
    at = 0
    for chunk in column.chunks:
        numbers = pc.cast(pc.match_substring_regex(chunk, _GRAMMAR), pa.int8())
        # Read from the buffer: Array.to_numpy imports pandas when it is installed.
        flags = np.frombuffer(numbers.buffers()[1], np.int8, len(numbers), numbers.offset)
        if not flags.all():
            row = int(np.argmin(flags))
            return at + row, str(chunk[row].as_py())
        at += len(chunk)
    return None


def _unusual(data: bytes, width: int, at_start: bool = True) -> bool:
    """Whether ``data`` holds what the library path leaves to the stdlib reader: a quote
    (RFC 4180's rules for it are checked there), a NUL byte, a bare carriage return
    (a line end to both readers, but CR LF is one) or, in a table of one column, a
    blank line (the csv module skips it; in a wider table Arrow reads it as a row of
    one field, and refuses it). ``at_start``: ``data`` starts the input. Each is one
    scan at memchr speed."""
    if b'"' in data or b"\0" in data:
        return True
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return True
    if width > 1:
        return False
    blank = b"\n\n" in data or b"\n\r\n" in data
    return blank or (at_start and data.startswith((b"\n", b"\r\n")))


def _unusual_file(path: str, width: int) -> bool:
    """:func:`_unusual` of a file, read in blocks into one reused buffer. Each block is
    looked at with the last two bytes of the one before (a blank line or a CR LF may
    straddle two), and without its own last byte when that is a CR (its LF, if any,
    begins the next block)."""
    block = bytearray(_BLOCK)
    tail = b""
    try:
        with open(path, "rb", buffering=0) as f:
            while size := f.readinto(block):
                # The common block, no quote, NUL or CR, is searched where it lies;
                # only one with a CR near (or a one-column table) is copied to look
                # at it with its neighbour.
                if block.find(b'"', 0, size) >= 0 or block.find(b"\0", 0, size) >= 0:
                    return True
                if width == 1 or b"\r" in tail or block.find(b"\r", 0, size) >= 0:
                    window = tail + bytes(memoryview(block)[:size])
                    body = window[:-1] if window.endswith(b"\r") else window
                    if _unusual(body, width, at_start=not tail):
                        return True
                tail = (tail + bytes(block[max(size - 2, 0) : size]))[-2:]
    except OSError:
        return True  # reading it whole says why
    return tail.endswith(b"\r")  # the input ends in a bare CR


def _floats(column: Any) -> FloatArray:
    """A float64 chunked array as one NumPy array, each chunk copied in and let go as
    soon as it is, so that the column is not held twice."""
    chunks = list(column.chunks)
    del column
    out = np.empty(sum(len(chunk) for chunk in chunks))
    at = 0
    chunks.reverse()  # popped from the end: the first chunk first
    while chunks:
        chunk = chunks.pop()
        out[at : at + len(chunk)] = numbers_of(chunk)
        at += len(chunk)
        del chunk
    return out


def numbers_of(chunk: Any) -> FloatArray:
    """The values of an Arrow float64 array without nulls, as a NumPy view of its
    buffer (``Array.to_numpy`` imports pandas when it is installed: 0.17 s)."""
    assert chunk.null_count == 0  # no null values are read (ConvertOptions)
    return np.frombuffer(chunk.buffers()[1], np.float64, len(chunk), chunk.offset * 8)


def may_repeat(labels: Any) -> bool:
    """Whether two of ``labels`` (an Arrow string array or chunked array) may be equal.

    Returns False only when no two are equal; True when two may be (the caller then
    runs the exact check, which names the lines).

    Labels in order are all different: strictly increasing or decreasing byte order
    (a file sorted by its key), or increasing by length then bytes (whole-number ids
    in numeric order, ``9`` before ``10``). That is one comparison of neighbours, in
    Arrow: 50 ms for 10M labels. Otherwise each label becomes a 64-bit key: its bytes
    themselves, big-endian, when none has more than 8 (then equal keys are equal
    labels, and their order is the labels' order; no label holds a NUL byte, so the
    zero padding cannot make two differ), else a hash of its bytes, 8 at a time. The
    keys are sorted and compared with their neighbours: a repeat sends the labels to
    the exact check, which names both lines. Arrow's own hashing (``count_distinct``,
    ``unique``) took 3 to 6 s and 0.6 GB at 10M labels, a hash-table probe per label;
    this takes under 1 s and 0.1 GB, most of it the sort.
    """
    if len(labels) < 2:
        return False
    every = labels.chunks if isinstance(labels, pa.ChunkedArray) else [labels]
    chunks = [chunk for chunk in every if len(chunk)]
    if _in_order(chunks):
        return False
    spans = [_spans(chunk) for chunk in chunks]
    longest = max(int(length.max()) for _, length in spans)
    keys = np.concatenate(
        [
            _keys(chunk, start, length, longest)
            for chunk, (start, length) in zip(chunks, spans, strict=True)
        ]
    )
    # Keys that are the labels keep their order: timsort ("stable") sorts labels
    # nearly in order (a sorted file with a few rows out of place) in near-linear time.
    keys.sort(kind="stable" if longest <= 8 else "quicksort")
    return bool((keys[1:] == keys[:-1]).any())


def _in_order(chunks: list[Any]) -> bool:
    """Whether the labels of Arrow string arrays ``chunks``, one after another, are
    strictly in byte order (up or down), or strictly up by length and then bytes.
    Chunk by chunk, so that the temporaries stay the size of a block of the file."""
    up_ok = down_ok = by_length_ok = True
    previous: Any = None
    for chunk in chunks:
        if previous is not None:  # the last label of the chunk before, and this first
            chunk = pa.concat_arrays([previous, chunk])
        ahead, behind = chunk[1:], chunk[:-1]
        up = pc.greater(ahead, behind)
        up_ok = up_ok and bool(pc.all(up).as_py())
        down_ok = down_ok and bool(pc.all(pc.less(ahead, behind)).as_py())
        if by_length_ok:
            length = pc.binary_length(chunk)
            longer = pc.greater(length[1:], length[:-1])
            as_long = pc.equal(length[1:], length[:-1])
            longer_or_up = pc.or_(longer, pc.and_(as_long, up))
            by_length_ok = bool(pc.all(longer_or_up).as_py())
        if not (up_ok or down_ok or by_length_ok):
            return False
        previous = chunk[-1:]
    return True


#: Odd 64-bit constants of the mixing (the golden ratio's and FNV's primes).
_GOLDEN: Final = np.uint64(0x9E3779B97F4A7C15)
_PRIME: Final = np.uint64(0x100000001B3)
_ALL: Final = np.uint64(0xFFFFFFFFFFFFFFFF)


def _spans(chunk: Any) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Where each label of one Arrow string array starts in its data buffer, and its
    length in bytes."""
    offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets: NDArray[np.int64] = np.frombuffer(chunk.buffers()[1], offset_type)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ].astype(np.int64)
    return offsets[:-1], np.diff(offsets)


def _keys(
    chunk: Any, starts: NDArray[np.int64], lengths: NDArray[np.int64], longest: int
) -> NDArray[np.uint64]:
    """The 64-bit key of each label of one Arrow string array (see :func:`may_repeat`);
    ``longest``: the longest label of all the chunks, so that every chunk makes its
    keys the same way."""
    data_buffer = chunk.buffers()[2]
    # The label bytes with 8 zero bytes after them, so that every 8-byte read stays
    # inside; a chunk is one block of the file (a few MB), so the copy is small.
    raw = np.zeros((0 if data_buffer is None else data_buffer.size) + 8, np.uint8)
    if data_buffer is not None:
        raw[:-8] = np.frombuffer(data_buffer, np.uint8)
    # The 8 bytes at every byte offset, as one big-endian word: an unaligned view.
    words = np.ndarray((raw.size - 7,), ">u8", raw, 0, (1,))
    key = np.zeros(len(chunk), np.uint64)
    for at in range(0, max(longest, 1), 8):
        left = np.clip(lengths - at, 0, 8)
        word: NDArray[np.uint64] = words[np.minimum(starts + at, raw.size - 8)].astype(np.uint64)
        # Keep the ``left`` high bytes: a shift by 8 * (8 - left) bits, 0 to 64; NumPy
        # takes a shift by 64 as by 0, so a word with no byte left is cleared apart.
        shift = (8 * (8 - left)).astype(np.uint64)
        word &= _ALL << (shift & np.uint64(63))
        word[left == 0] = 0
        if longest <= 8:
            return word
        if at == 0:
            key = lengths.astype(np.uint64) * _GOLDEN
        key ^= word
        key *= _PRIME
        key ^= key >> np.uint64(29)
    return key
