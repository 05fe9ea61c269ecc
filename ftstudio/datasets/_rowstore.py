"""A dataset's rows held as JSON bytes and decoded when asked for (`RowStore`), and the file-order view
of rows and unreadable lines over it (`Entries`).

Why: rows as Python dicts cost ~5x the file (a 200 MB JSONL held ~980 MB); as bytes they cost about
the file. A JSONL row that orjson read is kept as the very bytes it read (or, when the file came as
`bytes`, as a span of those bytes: nothing copied), so decoding it again gives the same row. When the
file came as `bytes`, a JSON array element is kept as its span too when orjson reads the same row
from it (`add_checked_span`), and a CSV record as the span of its lines, read again by the CSV
reader's own steps (`decode_spans_with`): the upload is then the only copy of the rows. Other rows
(JSONL lines the careful path read, rows of a file read from a path or stream) are written once with
orjson and kept when reading that text back gives the row again (orjson reads 19+ digit integers as
floats and writes infinity as null, so those rows, and rows orjson can't write, such as strings
holding lone surrogates, stay objects). Each access decodes a fresh dict; a kept object is handed
out as it is.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, overload

import orjson

from ._readers import LineError, has_long_digits

# One entry of a file, in file order: a row, or a line that could not be read, with its line number.
Entry = tuple[int | None, dict | LineError]

T = TypeVar("T")
_BLOCK_BYTES = 1 << 20  # rows are copied into blocks of about this size
_SOURCE = -1  # block index of a row whose bytes are a span of the source
_OBJECT = -2  # block index of a row kept as a Python object


class _Decoded(Sequence[T]):
    """A sequence whose items are built when asked for: `_item(i)` builds item i (0 <= i < len);
    a slice is a list; equal to a list or tuple with equal items."""

    def _item(self, i: int) -> T:
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self._item(k) for k in range(*i.indices(len(self)))]
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for {n}")
        return self._item(i + n if i < 0 else i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, _Decoded)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to a list, so unhashable like one


class RowStore(_Decoded[dict[str, Any]]):
    """Rows as JSON bytes: `store[i]` decodes row i, iteration decodes them in order, a slice is a list.

    `source`: the file's bytes, when the reader hands out spans of it (`add_span`)."""

    def __init__(self, source: bytes | None = None) -> None:
        self._source = memoryview(source) if source is not None else None
        self._span_decode: Callable[[memoryview], dict[str, Any]] = orjson.loads
        self._blocks: list[memoryview] = []
        self._pending: list[bytes] = []
        self._pending_len = 0
        self._block = array("i")
        self._start = array("q")
        self._end = array("q")
        self._objects: dict[int, dict[str, Any]] = {}
        self._keys: dict[str, None] = {}

    # --- filling (the reader) -------------------------------------------------------------

    def _seen(self, row: dict[str, Any]) -> None:
        if not self._keys.keys() >= row.keys():
            self._keys.update(dict.fromkeys(row))

    def add_span(self, row: dict[str, Any], start: int, end: int) -> None:
        """A row whose exact bytes (what orjson read) are source[start:end]."""
        self._seen(row)
        self._block.append(_SOURCE)
        self._start.append(start)
        self._end.append(end)

    def decode_spans_with(self, decode: Callable[[memoryview], dict[str, Any]]) -> None:
        """Spans of the source are rows in another text than JSON (CSV records): `decode` reads one."""
        self._span_decode = decode

    def add_checked_span(self, row: dict[str, Any], start: int, end: int) -> None:
        """A row another parser read from source[start:end]: kept as that span when orjson reads the
        same row from it (see `add` for when it does not), else as `add` keeps it."""
        if self._source is None:
            self.add(row)
            return
        raw = self._source[start:end]
        try:
            same = not has_long_digits(bytes(raw)) and orjson.loads(raw) == row
        except orjson.JSONDecodeError:  # what it refuses and the reader took: lone surrogates, 1e400
            same = False
        if same:
            self.add_span(row, start, end)
        else:
            self.add(row)

    def add_raw(self, row: dict[str, Any], raw: bytes) -> None:
        """A row and the exact bytes orjson read it from."""
        self._seen(row)
        self._append_bytes(raw)

    def add(self, row: dict[str, Any]) -> None:
        """A row read some other way: kept as orjson's text when reading that back is exact, else as is."""
        self._seen(row)
        try:
            raw = orjson.dumps(row)
        except (orjson.JSONEncodeError, TypeError):
            raw = None
        if raw is None or has_long_digits(raw) or orjson.loads(raw) != row:  # != : e.g. inf, written as null
            self._objects[len(self._block)] = row
            self._block.append(_OBJECT)
            self._start.append(0)
            self._end.append(0)
            return
        self._append_bytes(raw)

    def _append_bytes(self, raw: bytes) -> None:
        self._block.append(len(self._blocks))
        self._start.append(self._pending_len)
        self._pending.append(raw)
        self._pending_len += len(raw)
        self._end.append(self._pending_len)
        if self._pending_len >= _BLOCK_BYTES:
            self._flush()

    def finish(self) -> None:
        """The last rows into a block: from here on the store is only read (threads may share it)."""
        self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._blocks.append(memoryview(b"".join(self._pending)))
            self._pending, self._pending_len = [], 0

    # --- reading ----------------------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        """Every top-level key, in first-seen order."""
        return list(self._keys)

    @property
    def nbytes(self) -> int:
        """Bytes this store holds in buffers: its blocks, its index arrays, and the source it points into."""
        index = sum(len(a) * a.itemsize for a in (self._block, self._start, self._end))
        source = self._source.nbytes if self._source is not None and _SOURCE in self._block else 0
        return sum(b.nbytes for b in self._blocks) + self._pending_len + index + source

    def __len__(self) -> int:
        return len(self._block)

    def _item(self, i: int) -> dict[str, Any]:
        b = self._block[i]
        if b >= 0:
            if b == len(self._blocks):
                self._flush()
            return orjson.loads(self._blocks[b][self._start[i]:self._end[i]])
        if b == _SOURCE and self._source is not None:
            return self._span_decode(self._source[self._start[i]:self._end[i]])
        return self._objects[i]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self._flush()
        loads, span_decode = orjson.loads, self._span_decode
        blocks, source, objects = self._blocks, self._source, self._objects
        for i, (b, s, e) in enumerate(zip(self._block, self._start, self._end)):
            if b >= 0:
                yield loads(blocks[b][s:e])
            elif b == _SOURCE and source is not None:
                yield span_decode(source[s:e])
            else:
                yield objects[i]

    def __repr__(self) -> str:
        return f"RowStore({len(self)} rows)"


def iter_file_order(rows: Sequence[Any], lines: Sequence[int], errors: Sequence[LineError],
                    error_at: Sequence[int]) -> Iterator[Entry]:
    """Rows and unreadable lines merged in the order they were read (`error_at[k]`: how many entries
    came before errors[k]); one pass, no sorting."""
    if not errors:
        yield from zip(lines, rows)
        return
    it = iter(zip(lines, rows))
    n = 0
    for at, error in zip(error_at, errors):
        while n < at:
            got = next(it, None)
            if got is None:
                break
            yield got
            n += 1
        yield error.line, error
        n += 1
    yield from it


class Entries(_Decoded[Entry]):
    """Every row and unreadable line of a dataset, in file order, without building them all: entry i is
    an error when some error_at equals i, else row i minus the errors before it."""

    def __init__(self, rows: Sequence[dict[str, Any]], lines: Sequence[int], errors: Sequence[LineError],
                 error_at: Sequence[int]) -> None:
        self._rows, self._lines, self._errors, self._error_at = rows, lines, errors, error_at

    def __len__(self) -> int:
        return len(self._rows) + len(self._errors)

    def _item(self, i: int) -> Entry:
        j = bisect_left(self._error_at, i)
        if j < len(self._errors) and self._error_at[j] == i:
            return self._errors[j].line, self._errors[j]
        return self._lines[i - j], self._rows[i - j]

    def __iter__(self) -> Iterator[Entry]:
        return iter_file_order(self._rows, self._lines, self._errors, self._error_at)
