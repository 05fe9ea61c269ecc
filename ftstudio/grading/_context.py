"""What a scorer sees: the rows of one batch (`Batch`) and one grading pass over it (`GradingContext`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from ftstudio.core import DEFAULT_SAMPLE_FIELD, ROW_ERROR, RowErrors, RowStatus, compact_json, shorten
from ftstudio.datasets import Dataset, LineError, RowChunk
from ftstudio.graders import Grader, LightModel, Sample, Scored, is_cancelled

from ._options import GradeOptions
from ._progress import Progress, ProgressFn, Stage

if TYPE_CHECKING:  # the sandbox and the model client are imported when a node first uses them (issue 23, start-up)
    from ftstudio.api import Endpoint, ModelRunner, TokenUsage
    from ftstudio.graders import LambdaGrader, PythonGrader
    from ftstudio.sandbox import PythonGraderPool

# What a row a cancel stopped before grading says to people. Code reads RowErrors.status, never these words.
NOT_GRADED = "cancelled before grading"

# A scorer grades one node of its grader type (the typed model: StringCheckGrader, ...) over `rows`.
Node = TypeVar("Node", bound=LightModel)
Scorer = Callable[[Node, "GradingContext", list[int]], Scored]


class RowProblem(NamedTuple):
    """Why a row is an error before any scorer sees it."""

    code: str
    message: str
    unreadable: bool = False  # a line of the file that could not be read (else: a row without a usable output)


# What the engine grades: a chunk or a dataset from datasets (rows and unreadable lines in file order),
# or rows built in memory (dicts; anything else is an error row).
Rows = RowChunk | Dataset | Sequence[Any]


class Batch:
    """Rows split into model outputs and items, built lazily: the fast paths read the raw rows
    (skipping the output field) and never pay for per-row copies or Sample objects."""

    def __init__(self, rows: list[dict[str, Any]], outputs: list[str | None], lines: list[int | None],
                 base_errors: dict[int, RowProblem], sample_field: str):
        self.rows, self.outputs, self.lines = rows, outputs, lines
        self.base_errors, self.sample_field = base_errors, sample_field
        self._items: list[dict[str, Any]] | None = None
        self._samples: list[Sample | None] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def items(self) -> list[dict[str, Any]]:
        if self._items is None:
            sf = self.sample_field
            self._items = [{k: v for k, v in r.items() if k != sf} if sf in r else r for r in self.rows]
        return self._items

    @property
    def samples(self) -> list[Sample | None]:
        if self._samples is None:
            self._samples = [Sample(o) if o is not None else None for o in self.outputs]
        return self._samples


def _entries(rows: Rows) -> tuple[list[Any], list[int | None]]:
    """The entries to grade and their file lines, in file order."""
    if isinstance(rows, (RowChunk, Dataset)):
        if not rows.errors:
            return list(rows.rows), list(rows.lines)
        entries = rows.entries() if isinstance(rows, RowChunk) else rows.entries
        return [e for _line, e in entries], [line for line, _e in entries]
    raw = list(rows)
    return raw, [None] * len(raw)


def prepare(rows: Rows, sample_field: str = DEFAULT_SAMPLE_FIELD) -> Batch:
    """Split rows into items and model outputs.

    A dataset's unreadable lines become rows with an error (nothing is dropped); a row without
    the output field is an error row, not a guess. A non-string output is used as compact JSON.
    """
    raw, lines = _entries(rows)
    outputs = [r.get(sample_field) if r.__class__ is dict or isinstance(r, dict) else None for r in raw]
    base_errors: dict[int, RowProblem] = {}
    shown = shorten(sample_field)  # echoed per row: a long name must not multiply
    for i, out in enumerate(outputs):
        if out.__class__ is str:
            continue
        row = raw[i]
        if not isinstance(row, dict):
            message = row.message if isinstance(row, LineError) else f"row is a {type(row).__name__}, not a JSON object"
            where = f"line {lines[i]}" if lines[i] is not None else f"row {i}"
            base_errors[i] = RowProblem(ROW_ERROR.OTHER, f"unreadable {where}: {message}", unreadable=True)
            raw[i] = {}
        elif out is None:
            base_errors[i] = RowProblem(ROW_ERROR.OTHER, f"no '{shown}' field in this row: choose the field that "
                                                         "holds the model output")
        else:
            try:
                outputs[i] = compact_json(out)
            except (TypeError, ValueError, RecursionError) as exc:  # a set or bytes from Python; deep nesting
                outputs[i] = None
                why = "it nests too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
                base_errors[i] = RowProblem(ROW_ERROR.OTHER, f"the '{shown}' value can't be written as JSON text: {why}")
    return Batch(raw, outputs, lines, base_errors, sample_field)


# A cancel: an event to set, or a function that says whether to stop.
Cancel = threading.Event | Callable[[], bool]


class Session(Protocol):
    """What a scorer may use of the GradingSession it runs in (its pools and its model runner)."""

    grader: Grader
    options: GradeOptions

    @property
    def endpoint(self) -> Endpoint: ...

    def runner(self) -> ModelRunner: ...

    def python_pool(self, node: PythonGrader | LambdaGrader, source: str | None = None) -> PythonGraderPool: ...


class GradingContext:
    """One grading pass over one batch: what every scorer gets.

    `session` holds the pools and the model runner; `batch` the rows; `score(node, rows)` grades a child
    (multi graders call it); `report` feeds progress; `cancelled` is set by a scorer that saw the cancel.
    """

    def __init__(self, session: Session, batch: Batch, progress: ProgressFn | None, cancel: Cancel | None,
                 scorers: Mapping[str, Scorer[Grader]]):
        self.session, self.batch, self.progress, self.cancel = session, batch, progress, cancel
        self.scorers = scorers
        self.usage: dict[str, TokenUsage] = {}
        self.top_sub_rewards: dict[str, list[float]] = {}
        self.top_sub_failed: dict[str, set[int]] = {}  # rows where a top-level multi child had an error
        self.cancelled = False
        self.top: Grader = session.grader
        self.memo: dict[int, Scored] | None = None
        # nodes already scored for these rows (a declined small-call plan's python runs), by id(node)
        self.given: dict[int, Scored] = {}

    def report(self, done: int, total: int, stage: Stage, node: str, waiting: int = 0,
               limit: float | None = None, timed_out: int = 0) -> None:
        if self.progress:
            self.progress(Progress(done, total, stage, node, waiting, limit, timed_out))

    def score(self, node: Grader, rows: list[int]) -> Scored:
        if self.memo is not None:
            if id(node) not in self.memo:
                self.memo[id(node)] = self._score(node, rows)
            return self.memo[id(node)]
        return self._score(node, rows)

    def _score(self, node: Grader, rows: list[int]) -> Scored:
        given = self.given.get(id(node))
        if given is not None:
            return given
        if is_cancelled(self.cancel):
            self.cancelled = True
            errs = {r: RowErrors({ROW_ERROR.OTHER: NOT_GRADED}, RowStatus.NOT_RUN) for r in rows}
            return [0.0] * len(rows), errs
        scorer = self.scorers.get(node.type)
        if scorer is None:
            raise TypeError(f"no scorer for grader type {node.type!r}")
        return scorer(node, self, rows)

    def add_usage(self, model: str, usage: TokenUsage) -> None:
        from ftstudio.api import TokenUsage

        self.usage.setdefault(model or "unknown", TokenUsage()).add(usage)
