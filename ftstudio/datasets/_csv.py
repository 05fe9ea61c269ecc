"""CSV rows as `ftstudio.datasets` events: the first record is the header, each later record a row whose
cells are JSON where they parse as JSON (numbers, objects) and text otherwise. Split from `_readers.py`, which
holds the byte input, the line splitting and the JSON readers this one shares.

Each row's event carries the bytes of its record's lines (`RowRead.start/end`), and `record_decoder` reads a
row again from them through the same steps (lines split at LF, one CR dropped, UTF-8, csv.reader, cells), so
a store can keep the CSV's own bytes instead of the rows. Multi-line quoted fields, CRLF and a BOM are safe
for spans this way (the record's lines are cut and joined exactly as the reader did); a record holding a line
that is not UTF-8 or is too long is an error, never a row, so no span ever needs another encoding. The price is
time, not memory: reading a row again this way costs ~7 us against ~1 us for orjson (all 453,322 rows of the
bench's 188 MB CSV: 3.2 s against 0.5 s), paid by whatever walks every row (the format report, token counts)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from typing import Any

from ._readers import (
    MAX_LINE_BYTES,
    Blank,
    DatasetError,
    Event,
    Header,
    Input,
    LineError,
    Note,
    RowRead,
    raw_lines,
    too_long_message,
    utf8_message,
)


def csv_cell(text: str) -> Any:
    """A cell is a string, except text that parses as a JSON object or array (after trimming)."""
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        try:
            value = json.loads(stripped)
        except (ValueError, RecursionError):
            return text
        if isinstance(value, (dict, list)):
            return value
    return text


class _CsvLines:
    """Decoded physical lines for csv.reader, remembering which ones were unreadable."""

    def __init__(self, inp: Input):
        self._raw = raw_lines(inp)
        self.line = 0  # physical line of the last line handed out
        self.record_start: int | None = None
        self.record_offset = self.record_end = 0  # file bytes of the lines of the current record
        self.bad: list[LineError] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        lineno, offset, line, length = next(self._raw)
        self.line = lineno
        if self.record_start is None:
            self.record_start, self.record_offset = lineno, offset
        self.record_end = offset + length
        if line is None:
            self.bad.append(LineError(lineno, too_long_message(length)))
            return "\n"
        try:
            return line.decode("utf-8") + "\n"
        except UnicodeDecodeError as e:
            self.bad.append(LineError(lineno, utf8_message(line, offset, e)))
            # Keep csv.reader in step; the record holding this line is dropped and reported.
            return line.decode("utf-8", errors="replace") + "\n"


def _line_text(line: bytes) -> str:
    """A physical line (without its LF) as _CsvLines hands it to csv.reader."""
    return (line[:-1] if line.endswith(b"\r") else line).decode("utf-8") + "\n"


def record_decoder(columns: list[str], delimiter: str) -> Callable[[bytes | memoryview], dict[str, Any]]:
    """Reads the row of a record from its span of the file (what `read_csv` yielded for it)."""

    def decode(span: bytes | memoryview) -> dict[str, Any]:
        lines = [_line_text(line) for line in bytes(span).split(b"\n")]
        cells = next(csv.reader(lines, delimiter=delimiter))
        return {k: csv_cell(v) for k, v in zip(columns, cells)}  # zip: trailing empty cells were dropped

    return decode


def read_csv(inp: Input) -> Iterator[Event]:
    # csv's default cell limit (128 KB) is far below what one chat transcript can hold.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
    lines = _CsvLines(inp)
    first = inp.head[inp.bom :].split(b"\n", 1)[0].decode("utf-8", errors="replace")
    delimiter = ","
    if "," not in first:
        for alt, label in ((";", "semicolons"), ("\t", "tabs")):
            if alt in first:
                delimiter = alt
                yield Note(f"{inp.name}: the header has no commas; columns are separated by {label}.")
                break
    reader = csv.reader(lines, delimiter=delimiter)
    header: list[str] | None = None
    while True:
        lines.record_start = None
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            yield LineError(lines.record_start or lines.line, f"CSV error: {e}; the record was skipped")
            continue
        start = lines.record_start or lines.line
        if lines.bad and header is None:
            raise DatasetError(
                f"{inp.name}: the header row can't be read ({lines.bad[0]}). Fix it and load the file again."
            )
        if lines.bad:
            yield from lines.bad
            lines.bad = []
            continue
        if not any(c.strip() for c in cells):
            yield Blank(start)
            continue
        if header is None:
            header = _header(cells, inp.name)
            yield Header(header, delimiter)
            continue
        if len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
            cells = cells[: len(header)]  # trailing empty cells, as spreadsheets write them
        if len(cells) != len(header):
            yield LineError(
                start, f"{len(cells)} cells but the header has {len(header)} columns; quote cells that contain the delimiter"
            )
            continue
        yield RowRead(start, {k: csv_cell(v) for k, v in zip(header, cells)}, lines.record_offset, lines.record_end)


def _header(cells: list[str], name: str) -> list[str]:
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    names = [c.strip() for c in cells]
    for i, n in enumerate(names):
        if not n:
            raise DatasetError(f"{name}: column {i + 1} of the header row has no name. Give every column a name.")
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if n in seen:
            raise DatasetError(
                f"{name}: columns {seen[n] + 1} and {i + 1} of the header row are both named {n!r}. Rename one."
            )
        seen[n] = i
    return names
