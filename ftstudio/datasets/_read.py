"""Read datasets (JSONL, JSON array, CSV) for the grading engine, the app and the CLI.

Reading semantics (README, "Datasets"):
- Sources: a path, bytes, or a binary file object (Streamlit's uploader), plus an optional `name`
  whose extension picks the format: .jsonl/.jsonlines/.ndjson, .json (one array of objects; a
  .json file that starts with '{' is read as JSON Lines), .csv. Any other extension is read as
  JSON Lines, with a note saying so.
- Streaming: files are read in 1 MiB chunks; no whole-file string is built.
- UTF-8, with or without BOM; CRLF or LF.
- A bad line (invalid JSON, not an object, not UTF-8, over 10 MB) is a `LineError` and skipped;
  the other rows still load. Blank lines are skipped and counted in `blank_lines`.
- File-level problems (missing, empty, over `max_bytes`, UTF-16, binary, a .json file that is not
  an array, CSV header problems) raise `DatasetError`, whose text names the file and the fix.
- CSV: the header row names the fields; each cell is a string, except a cell whose trimmed text
  starts with '{' or '[' and parses as a JSON object or array, which becomes that value (so a
  `messages` column can hold a JSON array). Row lines are CSV line numbers (header = line 1).
- Model output for preview rows (`split_sample`): a string field (default `model_sample`, as
  in the graders run endpoint) that is removed from the item. A non-string value is serialised
  as compact JSON (`json.dumps(v, separators=(",", ":"), ensure_ascii=False)`) and noted: it is
  what `{{sample.output_text}}` would hold had the model printed that JSON.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO, Union

from ftstudio.core import DEFAULT_SAMPLE_FIELD, compact_json
from ftstudio.core.records import datarecord, field

from ._json_array import read_json_array
from ._problems import Problem, ProblemLog
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
    RowsRead,
    detect_format,
    kind_of,
    read_jsonl,
)
from ._rowstore import Entries, Entry, RowStore, iter_file_order

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_SAMPLE_FIELD",
    "EXAMPLES",
    "MAX_LINE_BYTES",
    "Dataset",
    "DatasetError",
    "Entry",
    "LineError",
    "PreviewRow",
    "Problem",
    "RowChunk",
    "RowStore",
    "example_path",
    "iter_rows",
    "preview_rows",
    "read_dataset",
    "split_sample",
]

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
# The bundled example datasets the app offers, one per method (package data).
EXAMPLES = {
    "supervised": "supervised-chat.jsonl",
    "dpo": "dpo-preferences.jsonl",
    "reinforcement": "reinforcement-quiz.jsonl",
}

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]


def file_order(rows: list[dict], lines: list[int], errors: list[LineError], error_at: list[int]) -> list[Entry]:
    """Rows and unreadable lines merged in the order they were read, as a list (see iter_file_order)."""
    return list(iter_file_order(rows, lines, errors, error_at))


@datarecord
class Dataset:
    """A whole file read: its rows in a RowStore (JSON bytes, decoded on access: about the file's size
    in memory, where dicts cost ~5x), their lines, and the lines that could not be read.

    `store` is the way to the rows for code that may meet big files: `len(ds)`, `ds.store[i]`,
    `ds.store[:n]`, `for row in ds.store`. `rows` decodes them all into a new list."""

    name: str
    format: str  # "jsonl" | "json" | "csv"
    store: RowStore = field(default_factory=RowStore, repr=False)
    lines: list[int] = field(default_factory=list)  # file line (1-based) of each row
    errors: list[LineError] = field(default_factory=list)
    blank_lines: int = 0
    notes: list[str] = field(default_factory=list)  # how the file was read, e.g. a guessed format
    content_hash: str = ""  # sha256 of the file's bytes, for caching
    size_bytes: int = 0
    columns: list[str] | None = None  # CSV header, in file order
    error_at: list[int] = field(default_factory=list, repr=False)  # see iter_file_order

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every row decoded, in a new list (the caller's to change); big files: use `store`."""
        return list(self.store)

    @property
    def entries(self) -> Entries:
        """Every row and unreadable line, in file order (a grading run's row numbers count these);
        entry k is built when asked for."""
        return Entries(self.store, self.lines, self.errors, self.error_at)

    def chunk(self, picked: Sequence[int] | None = None) -> RowChunk:
        """The dataset (or the entries `picked`, in file order) as the one chunk type the engine takes."""
        entries = self.entries
        chunk = RowChunk(0, self.format, [], [], [], 0, [])
        for line, entry in (entries if picked is None else (entries[i] for i in picked)):
            if isinstance(entry, LineError):
                chunk.error_at.append(len(chunk.rows) + len(chunk.errors))
                chunk.errors.append(entry)
            else:
                chunk.rows.append(entry)
                chunk.lines.append(line if line is not None else 0)
        return chunk

    @property
    def fields(self) -> list[str]:
        """Top-level keys in first-seen order (the CSV header first)."""
        return list(dict.fromkeys([*(self.columns or ()), *self.store.keys]))

    def __len__(self) -> int:
        return len(self.store)

    def summary(self) -> str:
        """One line for a status bar: rows read, lines skipped, blank lines."""
        text = f"{self.name}: {len(self)} rows"
        if self.errors:
            text += f", {len(self.errors)} lines skipped (see the errors)"
        if self.blank_lines:
            text += f", {self.blank_lines} blank lines ignored"
        return text


@datarecord
class RowChunk:
    """A slice of rows from `iter_rows`, with the problems met while reading it."""

    start: int  # 0-based index of rows[0] in the whole file
    format: str
    rows: list[dict]
    lines: list[int]
    errors: list[LineError]
    blank_lines: int
    notes: list[str]
    error_at: list[int] = field(default_factory=list, repr=False)  # see file_order

    def entries(self) -> list[Entry]:
        return file_order(self.rows, self.lines, self.errors, self.error_at)


def _events(inp: Input, fmt: str) -> Iterator[Event]:
    if fmt == "json":
        first = inp.head[inp.bom :].lstrip()[:1]
        if first == b"{":
            yield Note(f"{inp.name} holds JSON objects, not an array; read it as JSON Lines (one object per line).")
            yield from read_jsonl(inp)
            return
        if first != b"[" and first:
            inp.close()
            raise DatasetError(
                f"{inp.name} does not start with '[': a .json dataset is one array of row objects, "
                '[{"messages": [...]}, ...]. Save it that way, or as JSON Lines (.jsonl).'
            )
        yield from read_json_array(inp)
    elif fmt == "csv":
        from ._csv import read_csv  # the csv module: CSV files only (issue 23, start-up)

        yield from read_csv(inp)
    else:
        yield from read_jsonl(inp)


def _open(source: Source, name: str | None, max_bytes: int | None, want_hash: bool) -> tuple[Input, str, list[str]]:
    inp = Input(source, name, max_bytes, want_hash)
    fmt, note = detect_format(inp.name)
    notes = [note] if note else []
    if inp.is_blank():
        inp.close()
        raise DatasetError(
            f"{inp.name} is empty. Choose a file with one JSON object per line (.jsonl), a JSON array (.json) "
            "or a CSV with a header row."
        )
    return inp, fmt, notes


def _no_rows_error(name: str, fmt: str, blank: int, errors: int, header: bool) -> DatasetError | None:
    if errors:
        return None  # the line errors say what is wrong
    if fmt == "csv" and header:
        return DatasetError(f"{name} has a header row but no data rows. Add rows below the header.")
    what = "holds an empty array" if fmt == "json" else f"has only blank lines ({blank})"
    return DatasetError(f"{name} {what}: there are no rows. Add at least one row.")


def iter_rows(
    source: Source,
    *,
    name: str | None = None,
    chunk_size: int = 50_000,
    max_bytes: int | None = None,
) -> Iterator[RowChunk]:
    """Yield the file's rows in chunks of at most `chunk_size`, for files too big to hold.

    Raises DatasetError for file-level problems (possibly after some chunks, e.g. a size limit met
    on a stream of unknown length). Every skipped line is in some chunk's `errors`."""
    inp, fmt, notes = _open(source, name, max_bytes, want_hash=False)
    n_rows = n_errors = 0
    header = False
    chunk = RowChunk(0, fmt, [], [], [], 0, notes)
    for event in _events(inp, fmt):
        if isinstance(event, (RowsRead, RowRead)):  # the common case first
            lines, rows = (event.lines, event.rows) if isinstance(event, RowsRead) else ([event.line], [event.row])
            i = 0
            while i < len(rows):
                take = rows[i:i + chunk_size - len(chunk.rows)]
                chunk.rows.extend(take)
                chunk.lines.extend(lines[i:i + len(take)])
                i += len(take)
                n_rows += len(take)
                if len(chunk.rows) >= chunk_size:
                    yield chunk
                    chunk = RowChunk(n_rows, fmt, [], [], [], 0, [])
        elif isinstance(event, LineError):
            chunk.error_at.append(len(chunk.rows) + len(chunk.errors))
            chunk.errors.append(event)
            n_errors += 1
        elif isinstance(event, Blank):
            chunk.blank_lines += 1
        elif isinstance(event, Note):
            chunk.notes.append(event.text)
        elif isinstance(event, Header):
            header = True
    if n_rows == 0:
        error = _no_rows_error(inp.name, fmt, chunk.blank_lines, n_errors, header)
        if error is not None:
            raise error
    if chunk.rows or chunk.errors or chunk.blank_lines or chunk.notes or n_rows == 0:
        yield chunk


def read_dataset(
    source: Source,
    *,
    name: str | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Dataset:
    """Read a whole dataset. Row problems are in `.errors`; file problems raise DatasetError."""
    inp, fmt, notes = _open(source, name, max_bytes, want_hash=True)
    # Rows go into the store as they come: only one event's rows are ever dicts at once.
    store = RowStore(inp.buffer)
    spans = inp.buffer is not None
    ds = Dataset(name=inp.name, format=fmt, store=store, notes=notes)
    for event in _events(inp, fmt):
        if isinstance(event, RowsRead):
            ds.lines.extend(event.lines)
            _store_rows(store, event, spans)
        elif isinstance(event, RowRead):
            ds.lines.append(event.line)
            if not spans or event.end < 0:
                store.add(event.row)
            elif fmt == "csv":  # a CSV record's span: the store reads it with the CSV reader's steps
                store.add_span(event.row, event.start, event.end)
            else:
                store.add_checked_span(event.row, event.start, event.end)
        elif isinstance(event, LineError):
            ds.error_at.append(len(store) + len(ds.errors))
            ds.errors.append(event)
        elif isinstance(event, Blank):
            ds.blank_lines += 1
        elif isinstance(event, Note):
            ds.notes.append(event.text)
        elif isinstance(event, Header):
            ds.columns = event.columns
            if spans:
                from ._csv import record_decoder  # a Header comes from a CSV file only

                store.decode_spans_with(record_decoder(event.columns, event.delimiter))
    store.finish()
    ds.content_hash = inp.content_hash
    ds.size_bytes = inp.n_read
    if not len(store):
        error = _no_rows_error(ds.name, fmt, ds.blank_lines, len(ds.errors), ds.columns is not None)
        if error is not None:
            raise error
    return ds


def _store_rows(store: RowStore, event: RowsRead, spans: bool) -> None:
    """Rows with the bytes orjson read them from are kept as those bytes (a span of the source when
    `spans`); the others are written by the store."""
    if event.raws is None or event.offsets is None:
        for row in event.rows:
            store.add(row)
        return
    for row, offset, raw in zip(event.rows, event.offsets, event.raws):
        if raw is None:
            store.add(row)
        elif spans:
            store.add_span(row, offset, offset + len(raw))
        else:
            store.add_raw(row, raw)


def example_path(method: str) -> str:
    """Path of the bundled example dataset for a method."""
    return os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "examples", EXAMPLES[method])




def split_sample(row: dict, sample_field: str = DEFAULT_SAMPLE_FIELD) -> tuple[dict, str | None]:
    """(the item without the sample field, the model output or None when the row has none).

    A non-string output is returned as compact JSON."""
    if sample_field not in row:
        return row, None
    item = {k: v for k, v in row.items() if k != sample_field}
    value = row[sample_field]
    return item, value if isinstance(value, str) else compact_json(value)


@datarecord
class PreviewRow:
    """A dataset row split for test grading: `item` feeds {{item.*}}, `sample` is the output."""

    index: int  # 0-based row index
    line: int
    item: dict
    sample: str | None  # None when the row has no sample field


def preview_rows(
    dataset: Dataset, sample_field: str = DEFAULT_SAMPLE_FIELD, *, cap: int = 20
) -> tuple[list[PreviewRow], ProblemLog]:
    """Split every row; rows without the field are errors (`missing_sample_field`), never guessed,
    and a non-string output is an info (`sample_not_string`). The log keeps `cap` entries per code."""
    log = ProblemLog(cap)
    out: list[PreviewRow] = []
    present = 0
    for i, (row, line) in enumerate(zip(dataset.store, dataset.lines)):
        item, sample = split_sample(row, sample_field)
        out.append(PreviewRow(i, line, item, sample))
        if sample is None:
            continue
        present += 1
        if not isinstance(row[sample_field], str):
            log.add(Problem("info", "sample_not_string", (
                f"{sample_field!r} holds {kind_of(row[sample_field])}, not a string; it is used as compact JSON text"
            ), i, line, sample_field))
    if present == 0 and len(dataset):
        fields = ", ".join(repr(f) for f in dataset.fields[:12]) or "none"
        log.add(Problem("error", "missing_sample_field", (
            f"no row has a {sample_field!r} field (fields: {fields}); choose the field that holds the model output"
        ), path=sample_field))
    elif present < len(dataset):
        for p in out:
            if p.sample is None:
                log.add(Problem("error", "missing_sample_field", (
                    f"no {sample_field!r} field; choose the field that holds the model output"
                ), p.index, p.line))
    return out, log
