"""Grading beyond one machine, on Ray (the engine verl and OpenRLHF already run on): `GradeBatch`.

A public module (no underscore), like `ftstudio.reward.verl`: users name it in their own Ray programs.
It needs the `[ray]` extra (`pip install -e '.[ray]'`); `ftstudio grade --engine ray` is built on it.

    import ray.data
    from ftstudio.grading.ray import GradeBatch, read_rows, summary_of

    ds = read_rows("data.jsonl")                      # row index and source line kept
    out = ds.map_batches(GradeBatch, fn_constructor_args=(grader,), concurrency=4, batch_format="pyarrow")

`GradeBatch` is a callable class: Ray creates one per actor, and each holds one warm GradingSession (python
graders' sandbox workers, the model runner) for all the batches it grades. A batch of rows in, a batch of
records out: column `record` holds each record as `ftstudio grade --out` writes it to JSONL (`row`, `reward`,
`sub_rewards`, `errors`, `error_details`, `line`), beside `row` and `reward` for Ray-side filtering, `usage`
(the batch's model tokens, on its first row) and `group` (the calibration key, when asked for).
`summary_of(records)` is the summary `ftstudio grade` prints, computed from the records.

Rows from `read_rows` are read by ftstudio's own reader inside a Ray read task, so a row means exactly what
it means to `ftstudio grade`: unreadable lines are rows with an error code, and every record keeps its row
index and line. Rows of any other Ray dataset are graded as they come (columns as fields); their `row` is
the value of `index_column` when given, else the position in the batch.
"""

from __future__ import annotations

import heapq
import json
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pyarrow as pa
import ray.data
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from ftstudio.api import TokenUsage
from ftstudio.core import DEFAULT_SAMPLE_FIELD, compact_json
from ftstudio.core.records import datarecord, field
from ftstudio.datasets import DatasetError, LineError, RowChunk, iter_rows

from ._context import prepare
from ._engine import GradeOptions, GradingSession
from ._results import GradeResults, RowErrors, RowRecord, Summary

__all__ = ["READ_COLUMNS", "RECORD_SCHEMA", "GradeBatch", "ReadFailed", "Records", "read_rows", "records_of", "rows_of", "summary_of"]

# What read_rows yields per row: index, source line, the row as JSON text (None when the line could not be
# read) and why it could not.
READ_COLUMNS = ("row", "line", "row_json", "line_error")
_READ_SCHEMA = pa.schema([("row", pa.int64()), ("line", pa.int64()), ("row_json", pa.string()),
                          ("line_error", pa.string())])
# What GradeBatch returns: typed, so batches whose optional columns are all empty still concatenate.
RECORD_SCHEMA = pa.schema([("row", pa.int64()), ("reward", pa.float64()), ("record", pa.string()),
                           ("usage", pa.string()), ("group", pa.string())])


class _RowsDatasource(Datasource):
    """One read task per file: JSON arrays and CSV records can't be split by byte range, and the row index
    must count rows in file order, as `ftstudio grade` does."""

    def __init__(self, path: str, block_rows: int):
        super().__init__()
        self.path, self.block_rows = path, block_rows

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                       data_context: Any = None) -> list[ReadTask]:
        path, block_rows = self.path, self.block_rows
        meta = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=(path,))
        return [ReadTask(lambda: _read_blocks(path, block_rows), meta, schema=_READ_SCHEMA,
                         per_task_row_limit=per_task_row_limit)]


class ReadFailed(Exception):
    """DATA could not be read (`error`: the DatasetError or OSError, as `ftstudio grade` reports it). Ray rewrites
    the message of what a task raises, so the original travels in an attribute."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error

    def __reduce__(self):
        return ReadFailed, (self.error,)


def _read_blocks(path: str, block_rows: int) -> Iterator[pa.Table]:
    try:
        yield from _blocks(path, block_rows)
    except (DatasetError, OSError) as exc:
        raise ReadFailed(exc) from None


def _blocks(path: str, block_rows: int) -> Iterator[pa.Table]:
    start = 0
    for chunk in iter_rows(path, chunk_size=block_rows, max_bytes=None):
        entries: list[tuple[int | None, str | None, str | None]] = [
            (line, compact_json(row), None) for line, row in zip(chunk.lines, chunk.rows)]
        if chunk.errors:  # in line order, as the engine merges a chunk's unreadable lines with its rows
            entries += [(e.line, None, e.message) for e in chunk.errors]
            entries.sort(key=lambda e: e[0] if e[0] is not None else 0)
        yield pa.table({"row": list(range(start, start + len(entries))), "line": [e[0] for e in entries],
                        "row_json": [e[1] for e in entries], "line_error": [e[2] for e in entries]},
                       schema=_READ_SCHEMA)
        start += len(entries)


def read_rows(path: str, block_rows: int = 10_000) -> ray.data.Dataset:
    """The dataset at `path` (.jsonl, .json, .csv; readable where the read task runs), as Ray Data rows.

    The one read task asks for no CPU: actors grading on every CPU would otherwise leave it none, and wait
    for the rows it can't read."""
    return ray.data.read_datasource(_RowsDatasource(path, block_rows), num_cpus=0)


def rows_of(batch: Any) -> RowChunk:
    """read_rows' columns back as the chunk `ftstudio grade` reads (what `preflight` and `prepare` take): the
    readable rows, and each unreadable line as a LineError at its place in file order."""
    table = _table(batch)
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    errors: list[LineError] = []
    error_at: list[int] = []
    for n, (text, line, why) in enumerate(zip(table.column("row_json").to_pylist(), table.column("line").to_pylist(),
                                              table.column("line_error").to_pylist())):
        if text is None:
            errors.append(LineError(line, why))
            error_at.append(n)
        else:
            rows.append(json.loads(text))
            lines.append(line)
    return RowChunk(start=0, format="jsonl", rows=rows, lines=lines, errors=errors, blank_lines=0, notes=[],
                    error_at=error_at)


class GradeBatch:
    """A `map_batches` callable holding one warm grading session; see the module's docstring."""

    def __init__(self, grader: Any, sample_field: str = DEFAULT_SAMPLE_FIELD, options: GradeOptions | None = None,
                 group_key: Callable[[list[Any]], list[Any]] | None = None, index_column: str | None = None):
        self.session = GradingSession(grader, sample_field, options)
        self.sample_field, self.group_key, self.index_column = sample_field, group_key, index_column

    def __call__(self, batch: Any) -> pa.Table:
        table = _table(batch)
        if set(table.column_names) == set(READ_COLUMNS):
            index = table.column("row").to_pylist()
            source: Any = rows_of(table)
        else:
            source = table.to_pylist()
            index = [r.pop(self.index_column) for r in source] if self.index_column else list(range(len(source)))
        prepared = prepare(source, self.sample_field)
        result = self.session.grade(prepared)
        records = [_reindexed(result.record(i), index[i]) for i in range(len(result))]
        usage = {m: u.to_dict() for m, u in sorted(result.token_usage.items())}
        groups: list[str | None] = [None] * len(records)
        if self.group_key is not None:
            keys = self.group_key(prepared.rows)
            groups = [None if i in prepared.base_errors or k is None else str(k) for i, k in enumerate(keys)]
        return pa.table({"row": index, "reward": [r["reward"] for r in records],
                         "record": [json.dumps(r, ensure_ascii=False) for r in records],
                         "usage": [json.dumps(usage) if usage and i == 0 else None for i in range(len(records))],
                         "group": groups}, schema=RECORD_SCHEMA)

    def __del__(self) -> None:  # an actor ends: its sandbox workers go with it
        session = getattr(self, "session", None)
        if session is not None:
            session.close()


def _table(batch: Any) -> pa.Table:
    if isinstance(batch, pa.Table):
        return batch
    if hasattr(batch, "to_dict") and hasattr(batch, "columns"):  # a pandas DataFrame
        return pa.Table.from_pandas(batch, preserve_index=False)
    return pa.table(batch)


def _reindexed(record: RowRecord, row: int) -> RowRecord:
    record["row"] = row
    return record


@datarecord
class Records:
    """Records (and the usage and group keys beside them) gathered in row order; `results()` is their
    GradeResults, whose summary is the one `ftstudio grade` prints."""

    rewards: array = field(default_factory=lambda: array("d"))
    errors: dict[int, RowErrors] = field(default_factory=dict)
    sub_rewards: dict[str, array] = field(default_factory=dict)
    lines: list[int | None] = field(default_factory=list)
    usage: dict[str, TokenUsage] = field(default_factory=dict)
    keys: list[str | None] = field(default_factory=list)

    def add(self, record: RowRecord, usage: str | None = None, key: str | None = None) -> None:
        n = len(self.rewards)
        self.rewards.append(record["reward"])
        if record["error_details"]:
            self.errors[n] = RowErrors(dict(record["error_details"]))
        for k, v in record["sub_rewards"].items():
            self.sub_rewards.setdefault(k, array("d", bytes(8 * n))).append(v)
        self.lines.append(record.get("line"))
        self.keys.append(key)
        for model, counts in (json.loads(usage) if usage else {}).items():
            self.usage.setdefault(model, TokenUsage()).add(TokenUsage(**counts))

    def results(self, grader_name: str, grader_type: str, elapsed: float = 0.0) -> GradeResults:
        return GradeResults(grader_name=grader_name, grader_type=grader_type, rewards=self.rewards,
                            errors=self.errors, sub_rewards=self.sub_rewards, lines=self.lines,
                            token_usage=self.usage, elapsed=elapsed)


def records_of(batches: Iterable[Any]) -> Iterator[tuple[RowRecord, str | None, str | None]]:
    """(record, usage, group) in row order from GradeBatch's output batches, whatever order they come in."""
    waiting: list[tuple[int, RowRecord, str | None, str | None]] = []
    expected = 0
    for batch in batches:
        table = _table(batch)
        for row, text, usage, group in zip(*(table.column(c).to_pylist() for c in ("row", "record", "usage", "group"))):
            heapq.heappush(waiting, (row, json.loads(text), usage, group))
        while waiting and waiting[0][0] == expected:
            _, record, usage, group = heapq.heappop(waiting)
            expected += 1
            yield record, usage, group
    while waiting:  # rows not counted from 0 (a dataset of its own): in index order
        _, record, usage, group = heapq.heappop(waiting)
        yield record, usage, group


def summary_of(records: Iterable[RowRecord], grader_name: str = "", grader_type: str = "",
               elapsed: float = 0.0) -> Summary:
    """The summary of these records, as `ftstudio grade` computes it (token usage is not in records)."""
    gathered = Records()
    for record in records:
        gathered.add(record)
    return gathered.results(grader_name, grader_type, elapsed).summary()
