"""Streaming readers behind `ftstudio.datasets`: a source goes in, events come out.

Nothing here holds a whole file: bytes arrive in 1 MiB chunks, JSONL and CSV are split into lines,
and a JSON array is cut into rows by a small bracket scanner (see `_json_array.py`) before each row
is parsed on its own, so one broken row never hides the rest. CSV records become rows in `_csv.py`.

Events (`Event`), in file order: RowRead(line, row) | RowsRead(lines, rows) | LineError(line, message) |
Blank(line) | Note(text) | Header(columns).
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple, cast

import orjson

from ftstudio.core import STRICT_DECODER, JsonTextKind, decode_json
from ftstudio.core.records import datarecord

MAX_LINE_BYTES = 10 * 1024 * 1024
CHUNK_BYTES = 1 << 20
_BOM = codecs.BOM_UTF8
# UTF-32 first: its little-endian BOM (FF FE 00 00) begins with UTF-16's (FF FE).
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
_FORMATS = {".jsonl": "jsonl", ".jsonlines": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}


class DatasetError(Exception):
    """A problem with the file as a whole; str(e) is a complete message naming the file."""


@datarecord(frozen=True)
class LineError:
    """A line (or CSV record / JSON array element) that was skipped, and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class RowRead(NamedTuple):
    """A row read from the file (a JSON object; a CSV record keyed by the header).

    `start`, `end`: the file's bytes the row was read from (a JSON array element, a CSV record's
    lines), or -1 when the reader does not say."""

    line: int
    row: dict[str, Any]
    start: int = -1
    end: int = -1


class RowsRead(NamedTuple):
    """Consecutive rows read from the file, with their lines (JSONL sends its rows this way).

    `raws[k]`: the exact bytes orjson read rows[k] from, at file offset `offsets[k]`; None when the
    careful path read it."""

    lines: list[int]
    rows: list[dict[str, Any]]
    offsets: list[int] | None = None
    raws: list[bytes | None] | None = None


ROWS_PER_EVENT = 1024


class Blank(NamedTuple):
    """A blank line, skipped and counted."""

    line: int


class Note(NamedTuple):
    """How the file was read (a guessed format or delimiter), for the person reading it."""

    text: str


class Header(NamedTuple):
    """A CSV file's header row: the field names, in file order, and the delimiter its records use."""

    columns: list[str]
    delimiter: str = ","


# What a reader yields, in file order.
Event = RowRead | RowsRead | LineError | Blank | Note | Header


def fmt_bytes(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{n} bytes"


def kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def detect_format(name: str) -> tuple[str, str | None]:
    """Format from the file extension, plus a note when it had to be guessed."""
    ext = os.path.splitext(name)[1].lower()
    if ext in _FORMATS:
        return _FORMATS[ext], None
    what = f"unknown extension {ext!r}" if ext else "no file extension"
    return "jsonl", f"{name}: {what}; read it as JSON Lines (one JSON object per line)."


class Input:
    """A source opened for chunked reading, with its size limit and running sha256."""

    def __init__(self, source: Any, name: str | None, max_bytes: int | None, want_hash: bool = True):
        self.stream, self.name, size, self._owned = _open(source, name)
        # The source's bytes, when they are immutable bytes: a reader may point into them instead of copying.
        self.buffer: bytes | None = source if type(source) is bytes else None
        self.max_bytes = max_bytes
        if want_hash:
            import hashlib  # here: streaming a file (`ftstudio grade`) hashes nothing (issue 23, start-up)

            self.hasher = hashlib.sha256()
        else:
            self.hasher = None
        self.n_read = 0
        if size is not None:
            self._check_size(size)
        self.head = self._read()
        while 0 < len(self.head) < 4096:  # enough to see a BOM or binary content, whatever CHUNK_BYTES is
            more = self._read()
            if not more:
                break
            self.head += more
        self.bom = 0
        if self.head.startswith(_BOM):
            self.bom = len(_BOM)
        elif wide := next((name for bom, name in _WIDE_BOMS if self.head.startswith(bom)), None):
            self.close()
            raise DatasetError(
                f"{self.name} is saved as {wide}. Save it as UTF-8 (in Excel: 'CSV UTF-8'; in an editor: "
                "'Save with encoding: UTF-8') and load it again."
            )
        elif _mostly_binary(self.head[:8192]):
            self.close()
            hint = " (it looks like an Excel workbook)" if self.head.startswith(b"PK\x03\x04") else ""
            raise DatasetError(
                f"{self.name} is not a text file{hint}. Export the data as JSONL, JSON or 'CSV UTF-8' and load that."
            )

    def _check_size(self, size: int) -> None:
        if self.max_bytes is not None and size > self.max_bytes:
            self.close()
            raise DatasetError(
                f"{self.name} is {fmt_bytes(size)}, over the {fmt_bytes(self.max_bytes)} limit here. "
                f"Split it into smaller files, or check it from the command line "
                f"(`ftstudio check-data {self.name} --method ...`), which reads files of any size."
            )

    def _read(self) -> bytes:
        data = self.stream.read(CHUNK_BYTES)
        if isinstance(data, str):  # a text-mode file object
            data = data.encode("utf-8")
        data = bytes(data) if not isinstance(data, bytes) else data
        self.n_read += len(data)
        if self.hasher is not None:
            self.hasher.update(data)
        self._check_size(self.n_read)
        return data

    def chunks(self) -> Iterator[bytes]:
        try:
            head = self.head[self.bom :]
            # The head was read whole for sniffing; hand it out in ordinary chunks all the same.
            for k in range(0, len(head), CHUNK_BYTES):
                yield head[k : k + CHUNK_BYTES]
            while chunk := self._read():
                yield chunk
        finally:
            self.close()

    def is_blank(self) -> bool:
        """True when the whole file (seen so far) is whitespace, for the 'empty file' message."""
        return not self.head[self.bom :].strip()

    def close(self) -> None:
        if self._owned:
            self.stream.close()

    @property
    def content_hash(self) -> str:
        return self.hasher.hexdigest() if self.hasher is not None else ""


_BINARY_SIGNATURES = (b"PK\x03\x04", b"%PDF", b"\x89PNG", b"\x1f\x8b", b"\xff\xd8\xff", b"SQLite format")
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\b")


def _mostly_binary(head: bytes) -> bool:
    """A file is binary only when its first chunk mostly isn't text (a known binary signature, or over
    30% NUL/control characters or invalid UTF-8): a few NUL bytes in some lines make those lines error
    rows instead, and the rest of the file grades."""
    if not head:
        return False
    if head.startswith(_BINARY_SIGNATURES):
        return True
    text = head.decode("utf-8", errors="replace")
    odd = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ord(ch) not in _TEXT_CONTROLS))
    return odd > 0.3 * len(text)


def _open(source: Any, name: str | None) -> tuple[BinaryIO, str, int | None, bool]:
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        shown = name or os.path.basename(path) or path
        if not os.path.exists(path):
            raise DatasetError(f"{path}: no such file. Check the path and try again.")
        if os.path.isdir(path):
            raise DatasetError(f"{path} is a folder. Give the path of a .jsonl, .json or .csv file.")
        try:
            stream = open(path, "rb")  # closed by Input.close
        except OSError as e:
            raise DatasetError(f"{path}: cannot be opened ({e.strerror}). Check its permissions.") from e
        return stream, shown, os.fstat(stream.fileno()).st_size, True
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source), name or "uploaded data", len(source), True
    if hasattr(source, "read"):
        shown = name or os.path.basename(str(getattr(source, "name", "") or "")) or "uploaded data"
        size = None
        try:
            # Streamlit's uploader hands the same object to every rerun: always read from the start.
            if source.seekable():
                source.seek(0, io.SEEK_END)
                size = source.tell()
                source.seek(0)
        except (AttributeError, OSError, ValueError):
            size = None
        return source, shown, size, False
    raise TypeError(f"expected a path, bytes or a binary file object, got {type(source).__name__}")


def raw_lines(inp: Input) -> Iterator[tuple[int, int, bytes | None, int]]:
    """(line number, file offset of the line, bytes without EOL or None when over the limit, length)."""
    lineno, start, pending, pending_len, too_long = 0, inp.bom, [], 0, False
    for chunk in inp.chunks():
        pieces = chunk.split(b"\n")
        last = len(pieces) - 1
        for k, piece in enumerate(pieces):
            pending_len += len(piece)
            if not too_long:
                pending.append(piece)
                if pending_len > MAX_LINE_BYTES:
                    too_long, pending = True, []
            if k == last:
                break  # the line goes on in the next chunk
            lineno += 1
            yield lineno, start, (None if too_long else _join_line(pending)), pending_len
            start += pending_len + 1
            pending, pending_len, too_long = [], 0, False
    if pending_len:
        yield lineno + 1, start, (None if too_long else _join_line(pending)), pending_len


def _join_line(pieces: list[bytes]) -> bytes:
    line = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    return line[:-1] if line.endswith(b"\r") else line


def too_long_message(length: int) -> str:
    return (
        f"the line is {fmt_bytes(length)}, over the {fmt_bytes(MAX_LINE_BYTES)} limit for one row; "
        "it was skipped. A training example this large cannot fit the model's context: shorten or split it."
    )


def utf8_message(line: bytes, offset: int, err: UnicodeDecodeError) -> str:
    return (
        f"not valid UTF-8 (byte 0x{line[err.start]:02X} at byte {err.start + 1} of the line, "
        f"byte offset {offset + err.start} in the file); it was skipped. Save the file as UTF-8."
    )


# The C decoder the JSON-array fast path calls directly (NaN and Infinity refused, as everywhere).
DECODER = STRICT_DECODER


def decode_in_file(text: str, first_column: int = 1) -> tuple[Any, str | None, int]:
    """(value, None, 0) or (None, reason, lines into `text` where the error is), worded for a dataset line.

    `first_column` is the file column where `text` starts, so columns in messages are the file's."""
    value, problem = decode_json(text)
    if problem is None:
        return value, None, 0
    if problem.kind is JsonTextKind.SYNTAX:
        column = problem.column + first_column - 1 if problem.line == 1 else problem.column
        return None, f"{problem.reason} at column {column}", problem.line - 1
    return None, problem.reason, 0


# A run of 19+ digits, found as 19 nines once every digit is a nine (a C loop; a regex costs 6x orjson's read)
_DIGITS_AS_NINES = bytes.maketrans(b"012345678", b"999999999")
_LONG_DIGITS = b"9" * 19


def has_long_digits(text: bytes) -> bool:
    """True when `text` holds a run of 19+ digits, which orjson would read past 64 bits as a float."""
    return _LONG_DIGITS in text.translate(_DIGITS_AS_NINES)


def fast_row(line: bytes | None) -> dict[str, Any] | None:
    """The row orjson reads from `line`, or None when the careful path must read it.

    orjson reads a row several times faster; anything it refuses (a blank line, a NUL, bad UTF-8, NaN,
    not JSON) takes `_jsonl_line`, which says why in our words. Integers of 19+ digits go there too."""
    if line is None or has_long_digits(line):
        return None
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return cast(dict[str, Any], value) if isinstance(value, dict) else None


def _jsonl_line(lineno: int, offset: int, line: bytes | None, length: int) -> dict[str, Any] | LineError | Blank:
    """One line of a JSONL file that `fast_row` did not read: its row, or why it is not one."""
    if line is None:
        return LineError(lineno, too_long_message(length))
    if not line.strip():
        return Blank(lineno)
    nul = line.find(b"\x00")
    if nul >= 0:
        return LineError(lineno, f"the line holds a NUL byte (at column {nul + 1}): binary data, not JSON text")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        return LineError(lineno, utf8_message(line, offset, e))
    value, reason, _ = decode_in_file(text)
    if reason is not None:
        return LineError(lineno, reason)
    if not isinstance(value, dict):
        return LineError(lineno, f"a row must be a JSON object, got {kind_of(value)}")
    return value


def read_jsonl(inp: Input) -> Iterator[Event]:
    # Rows go out in runs (RowsRead) rather than one event each: most lines are rows, and a typed event
    # per row cost ~10% of reading. Any other event first sends the rows before it, so order is kept.
    # Each row's bytes and offset go with it, so a reader that keeps rows as bytes (RowStore) can.
    lines: list[int] = []
    rows: list[dict[str, Any]] = []
    offsets: list[int] = []
    raws: list[bytes | None] = []
    try:
        for lineno, offset, line, length in raw_lines(inp):
            got = fast_row(line)
            raw = line
            if got is None:
                got, raw = _jsonl_line(lineno, offset, line, length), None
            if isinstance(got, dict):
                lines.append(lineno)
                rows.append(got)
                offsets.append(offset)
                raws.append(raw)
                if len(rows) >= ROWS_PER_EVENT:
                    yield RowsRead(lines, rows, offsets, raws)
                    lines, rows, offsets, raws = [], [], [], []
                continue
            if rows:
                yield RowsRead(lines, rows, offsets, raws)
                lines, rows, offsets, raws = [], [], [], []
            yield got
    except DatasetError:
        if rows:  # the rows read before a file-level problem are still delivered first
            yield RowsRead(lines, rows, offsets, raws)
        raise
    if rows:
        yield RowsRead(lines, rows, offsets, raws)
