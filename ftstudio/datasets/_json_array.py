"""Read a `.json` file holding one array of row objects, without holding the file in memory.

Python's json module has no streaming parser, so a small scanner finds where each top-level
element starts and ends (it only tracks brackets and strings, with a regex jumping between
them), and each element is then parsed on its own. A broken element is reported with its line
and skipped; the scanner stays in step because it never needs the element to be valid.

Each row's event carries the element's byte span in the file (`RowRead.start/end`), so a store can keep
the span of the upload instead of writing the row again. The scanner works on decoded text, so a
span is found by counting the UTF-8 bytes of the text before it (free in an ASCII chunk).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import NoReturn

from ._readers import (
    DECODER,
    MAX_LINE_BYTES,
    DatasetError,
    Event,
    Input,
    LineError,
    RowRead,
    decode_in_file,
    fmt_bytes,
    kind_of,
)

# A whole string in one match (so brackets inside strings cost nothing), a structural character,
# or a lone quote when the string's end is in a later chunk. The quantifiers are possessive: with
# backtracking, a 1 MiB run of escapes (\"\"\"...) cost the regex engine ~75 MB of stack per chunk.
_TOKEN = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{},"]', re.S)
# Inside a row only brackets matter: skipping commas there makes a big row (a long array of
# numbers) cost one regex search per bracket instead of one Python loop turn per element.
_INNER_TOKEN = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{}"]', re.S)
_STRING_REST = re.compile(r'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)
_GAP_CAP = 1 << 16
_RUN_MIN = 4096  # quote-free text inside a row at least this long is scanned by _bracket_run
_OPEN, _CLOSE = (ord("["), ord("{")), (ord("]"), ord("}"))


def read_json_array(inp: Input) -> Iterator[Event]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    scanner = _Scanner(inp.bom)
    offset, newlines = inp.bom, 0
    for chunk in inp.chunks():
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as e:
            _raise_utf8(inp, e, offset - (len(e.object) - len(chunk)), newlines)
        offset += len(chunk)
        newlines += text.count("\n")
        yield from scanner.feed(text)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as e:
        _raise_utf8(inp, e, offset - len(e.object), newlines)
    yield from scanner.finish()


def _bracket_run(text: str, start: int, stop: int, depth: int) -> tuple[int, int]:
    """(index of the bracket in text[start:stop] that closes the row, 1) or (-1, depth after it).

    The stretch holds no quote, so every bracket in it is structural. Counted with numpy, because
    one Python loop turn per bracket made 100 MB of '[' (or of '[],[],...') take minutes."""
    import numpy as np

    codes = np.frombuffer(text[start:stop].encode("utf-32-le"), dtype=np.uint32)
    steps = np.zeros(len(codes), dtype=np.int32)
    steps[(codes == _OPEN[0]) | (codes == _OPEN[1])] = 1
    steps[(codes == _CLOSE[0]) | (codes == _CLOSE[1])] = -1
    depths = np.cumsum(steps, dtype=np.int64)
    closed = np.flatnonzero(depths <= 1 - depth)
    if closed.size:
        return start + int(closed[0]), 1
    return -1, depth + int(depths[-1])


def _raise_utf8(inp: Input, e: UnicodeDecodeError, object_offset: int, newlines: int) -> NoReturn:
    line = newlines + 1 + e.object[: e.start].count(b"\n")
    raise DatasetError(
        f"{inp.name}: the bytes at line {line} (byte offset {object_offset + e.start}) are not valid UTF-8. "
        "Save the file as UTF-8 (in an editor: 'Save with encoding: UTF-8') and load it again."
    )


def _ends_in_escape(text: str, begin: int) -> bool:
    """Inside a string, does `text[begin:]` end with a backslash whose escaped character is next?"""
    rest = text[begin:]
    return (len(rest) - len(rest.rstrip("\\"))) % 2 == 1


class _Scanner:
    """Depth 0: outside the array; 1: between rows; 2+: inside a row."""

    def __init__(self, first_byte: int = 0) -> None:
        self.depth = 0
        self.opened = self.closed = False
        self.in_str = self.escape_carry = False
        self.line = 1  # line number at index self._lpos of the current text
        self._lpos = 0
        self._base = 0  # file-wide character index of the current text's start
        self._last_nl = -1  # file-wide character index of the last newline counted
        self.row_parts: list[str] = []
        self.row_size = 0
        self.row_line = self.row_col = 0
        self.row_byte = 0  # file byte offset where the current row starts
        self._text_byte = first_byte  # file byte offset of the current text's start
        self._ascii = True  # the current text is ASCII: a character index is a byte count
        self._cur_char = self._cur_byte = 0  # the last index _byte_at counted to, and its bytes into the text
        self.too_long = False
        self.gap_parts: list[str] = []
        self.gap_size = 0
        self.trailing_line: int | None = None

    def _line_at(self, text: str, i: int) -> int:
        n = text.count("\n", self._lpos, i)
        if n:
            self.line += n
            self._last_nl = self._base + text.rfind("\n", self._lpos, i)
        self._lpos = i
        return self.line

    def _byte_at(self, text: str, i: int) -> int:
        """File byte offset of index i of the current text; indexes asked for only grow within a text."""
        if self._ascii:
            return self._text_byte + i
        if i < self._cur_char:
            self._cur_char = self._cur_byte = 0
        self._cur_byte += len(text[self._cur_char : i].encode("utf-8"))
        self._cur_char = i
        return self._text_byte + self._cur_byte

    def _column(self, i: int) -> int:
        """1-based column of index i of the current text; call right after _line_at(text, i)."""
        return self._base + i - self._last_nl

    # One pass over a chunk; its locals (pos, row_start, gap_start) are the scanner's state, and the
    # per-token branches stay inline because this loop is the reader's hot path (bench_datasets).
    def feed(self, text: str) -> Iterator[Event]:  # noqa: C901
        if not text:  # the decoder can hold back a whole chunk (a split UTF-8 sequence)
            return
        self._lpos = 0
        self._ascii, self._cur_char, self._cur_byte = text.isascii(), 0, 0
        row_start = 0 if self.depth >= 2 else None
        gap_start = 0 if self.depth == 1 else None
        trail_start = 0 if self.closed else None
        pos = self._finish_string(text) if self.in_str else 0
        while True:
            if self.depth >= 2:
                quote = text.find('"', pos)
                stop = len(text) if quote < 0 else quote
                if stop - pos >= _RUN_MIN:
                    end, self.depth = _bracket_run(text, pos, stop, self.depth)
                    if end < 0:
                        pos = stop
                        continue
                    yield from self._end_row(text[row_start : end + 1], self._byte_at(text, end + 1))
                    row_start, pos = None, end + 1
                    gap_start = pos
                    continue
            m = (_INNER_TOKEN if self.depth >= 2 else _TOKEN).search(text, pos)
            if m is None:
                break
            i, pos = m.start(), m.end()
            c = text[i]
            if c == '"':
                if m.end() - i == 1:  # no closing quote in this chunk
                    self.in_str = True
                    self.escape_carry = _ends_in_escape(text, i + 1)
                    break
                continue  # a whole string: nothing structural inside
            if self.depth >= 2:
                self.depth += 1 if c in "[{" else -1  # _INNER_TOKEN finds only quotes and brackets
                if self.depth == 1:
                    yield from self._end_row(text[row_start : i + 1], self._byte_at(text, i + 1))
                    row_start, gap_start = None, i + 1
            elif self.depth == 1:
                if c in "[{":
                    yield from self._end_gap(text, gap_start, i)
                    self.row_line = self._line_at(text, i)
                    self.row_col = self._column(i)
                    self.row_byte = self._byte_at(text, i)
                    event, end = self._whole_row(text, i)
                    if event is not None:
                        yield event
                        pos = gap_start = end
                        continue
                    self.depth, row_start, gap_start = 2, i, None
                    self.row_parts, self.row_size, self.too_long = [], 0, False
                elif c in ",]":
                    yield from self._end_gap(text, gap_start, i)
                    gap_start = i + 1
                    if c == "]":
                        self.depth, self.closed, gap_start, trail_start = 0, True, None, i + 1
            elif not self.opened and c == "[":
                self.opened, self.depth, gap_start = True, 1, i + 1
        self._keep_tail(text, row_start, gap_start, trail_start)

    def _whole_row(self, text: str, i: int) -> tuple[Event | None, int]:
        """Fast path: a row that is whole and valid in this chunk parses in C in one go: (its event, its end)."""
        try:
            value, end = DECODER.raw_decode(text, i)
        except (ValueError, RecursionError):
            return None, -1
        if end - i > MAX_LINE_BYTES:
            return self._too_long(end - i), end
        return self._row_event(value, self._byte_at(text, end)), end

    def _finish_string(self, text: str) -> int:
        """Where scanning resumes in a chunk that starts inside a string left open by the previous one."""
        begin = 1 if self.escape_carry else 0  # text[0] is an escaped character
        m = _STRING_REST.match(text, begin)
        if m is None:
            self.escape_carry = _ends_in_escape(text, begin)
            return len(text)
        self.in_str, self.escape_carry = False, False
        return m.end()

    def _keep_tail(self, text: str, row_start: int | None, gap_start: int | None, trail_start: int | None) -> None:
        """Keep the unfinished row or gap for the next chunk; note the first text after the closing bracket."""
        if row_start is not None:
            self._keep_row_text(text[row_start:])
        if gap_start is not None:
            self._keep_gap_text(text[gap_start:])
        if trail_start is not None and self.trailing_line is None:
            rest = text[trail_start:]
            stripped = rest.lstrip()
            if stripped:
                self.trailing_line = self._line_at(text, trail_start + len(rest) - len(stripped))
        self._line_at(text, len(text))
        self._base += len(text)
        self._text_byte = self._byte_at(text, len(text))

    def _keep_row_text(self, piece: str) -> None:
        self.row_size += len(piece)
        if self.too_long:
            return
        if self.row_size > MAX_LINE_BYTES:
            self.too_long, self.row_parts = True, []
        else:
            self.row_parts.append(piece)

    def _keep_gap_text(self, piece: str) -> None:
        if self.gap_size < _GAP_CAP:
            self.gap_parts.append(piece)
            self.gap_size += len(piece)

    def _end_row(self, last_piece: str, end_byte: int) -> Iterator[Event]:
        self._keep_row_text(last_piece)
        if self.too_long:
            yield self._too_long(self.row_size)
        else:
            text = self.row_parts[0] if len(self.row_parts) == 1 else "".join(self.row_parts)
            value, reason, at = decode_in_file(text, self.row_col)
            if reason is not None:
                yield LineError(self.row_line + at, reason)
            else:
                yield self._row_event(value, end_byte)
        self.row_parts, self.row_size = [], 0

    def _too_long(self, size: int) -> LineError:
        return LineError(
            self.row_line,
            f"the row starting here is {fmt_bytes(size)}, over the {fmt_bytes(MAX_LINE_BYTES)} "
            "limit for one row; it was skipped. Shorten or split it.",
        )

    def _row_event(self, value: object, end_byte: int) -> RowRead | LineError:
        if isinstance(value, dict):
            return RowRead(self.row_line, value, self.row_byte, end_byte)
        return LineError(self.row_line, f"a row must be a JSON object, got {kind_of(value)}")

    def _end_gap(self, text: str, gap_start: int | None, end: int) -> Iterator[Event]:
        """Text between rows must be blank; anything else is a non-object element or garbage."""
        piece = text[gap_start:end] if gap_start is not None else ""
        gap = "".join(self.gap_parts) + piece if self.gap_parts else piece
        self.gap_parts, self.gap_size = [], 0
        stripped = gap.strip()
        if not stripped:
            return
        line = self._line_at(text, end) - gap[gap.index(stripped[0]) :].count("\n")
        value, reason, at = decode_in_file(stripped)
        if reason is not None:
            yield LineError(line + at, f"{reason} (between rows of the array)")
        else:
            yield LineError(line, f"a row must be a JSON object, got {kind_of(value)}")

    def finish(self) -> Iterator[Event]:
        if self.depth >= 2:
            yield LineError(
                self.row_line,
                "the row starting here is not closed before the end of the file (a '}' or ']' is missing); it was skipped",
            )
        elif self.depth == 1:
            yield from self._end_gap("", None, 0)
            yield LineError(self.line, "the file ends before the array's closing ']'; the rows above it were read")
        if self.trailing_line is not None:
            yield LineError(
                self.trailing_line, "text after the array's closing ']' was ignored; a .json file holds one array of rows"
            )
