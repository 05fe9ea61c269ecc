"""What a scorer sees: the rows of one batch (`Batch`) and one grading pass over it (`GradingContext`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ftstudio.api import TokenUsage
from ftstudio.core import DEFAULT_SAMPLE_FIELD, ROW_ERROR, RowErrors, compact_json, shorten
from ftstudio.graders import Sample, Scored, is_cancelled

Scorer = Callable[[Any, "GradingContext", list[int]], Scored]


class Batch:
    """Rows split into model outputs and items, built lazily: the fast paths read the raw rows
    (skipping the output field) and never pay for per-row copies or Sample objects."""

    def __init__(self, rows: list[Any], outputs: list[str | None], lines: list[int | None],
                 base_errors: dict[int, tuple[str, str]], sample_field: str):
        self.rows, self.outputs, self.lines = rows, outputs, lines
        self.base_errors, self.sample_field = base_errors, sample_field
        self._items: list[Any] | None = None
        self._samples: list[Sample | None] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def items(self) -> list[Any]:
        if self._items is None:
            sf = self.sample_field
            self._items = [{k: v for k, v in r.items() if k != sf} if sf in r else r for r in self.rows]
        return self._items

    @property
    def samples(self) -> list[Sample | None]:
        if self._samples is None:
            self._samples = [Sample(o) if o is not None else None for o in self.outputs]
        return self._samples


def prepare(rows: Any, sample_field: str = DEFAULT_SAMPLE_FIELD) -> Batch:
    """Split rows into items and model outputs. Accepts dicts, or a datasets.Dataset / RowChunk.

    A dataset's unreadable lines become rows with an error (nothing is dropped); a row without
    the output field is an error row, not a guess. A non-string output is used as compact JSON.
    """
    if hasattr(rows, "rows") and hasattr(rows, "errors"):
        lines: list[int | None] = list(getattr(rows, "lines", None) or [None] * len(rows.rows))
        raw = list(rows.rows)
        if rows.errors:
            entries = list(zip(lines, raw)) + [(e.line, e) for e in rows.errors]
            entries.sort(key=lambda e: e[0] if e[0] is not None else 0)
            lines, raw = [e[0] for e in entries], [e[1] for e in entries]
    else:
        raw = list(rows)
        lines = [None for _ in raw]
    outputs = [r.get(sample_field) if r.__class__ is dict or isinstance(r, dict) else None for r in raw]
    base_errors: dict[int, tuple[str, str]] = {}
    shown = shorten(sample_field)  # echoed per row: a long name must not multiply
    for i, out in enumerate(outputs):
        if out.__class__ is str:
            continue
        row = raw[i]
        if not isinstance(row, dict):
            message = getattr(row, "message", None) or f"row is a {type(row).__name__}, not a JSON object"
            where = f"line {lines[i]}" if lines[i] is not None else f"row {i}"
            base_errors[i] = (ROW_ERROR.OTHER, f"unreadable {where}: {message}")
            raw[i] = {}
        elif out is None:
            base_errors[i] = (ROW_ERROR.OTHER, f"no '{shown}' field in this row: choose the field that "
                                             "holds the model output")
        else:
            try:
                outputs[i] = compact_json(out)
            except (TypeError, ValueError, RecursionError) as exc:  # a set or bytes from Python; deep nesting
                outputs[i] = None
                why = "it nests too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
                base_errors[i] = (ROW_ERROR.OTHER, f"the '{shown}' value can't be written as JSON text: {why}")
    return Batch(raw, outputs, lines, base_errors, sample_field)




class GradingContext:
    """One grading pass over one batch: what every scorer gets.

    `session` holds the pools and the model runner; `batch` the rows; `score(node, rows)` grades a child
    (multi graders call it); `report` feeds progress; `cancelled` is set by a scorer that saw the cancel.
    """

    def __init__(self, session: Any, batch: Batch, progress: Callable | None, cancel: Any,
                 scorers: dict[str, Scorer]):
        self.session, self.batch, self.progress, self.cancel = session, batch, progress, cancel
        self.scorers = scorers
        self.usage: dict[str, TokenUsage] = {}
        self.top_sub_rewards: dict[str, list[float]] = {}
        self.top_sub_failed: dict[str, set[int]] = {}  # rows where a top-level multi child had an error
        self.cancelled = False
        self.top = session.grader
        self.memo: dict[int, Scored] | None = None

    def report(self, done: int, total: int, stage: str) -> None:
        if self.progress:
            self.progress(done, total, stage)

    def score(self, node, rows: list[int]) -> Scored:
        if self.memo is not None:
            if id(node) not in self.memo:
                self.memo[id(node)] = self._score(node, rows)
            return self.memo[id(node)]
        return self._score(node, rows)

    def _score(self, node, rows: list[int]) -> Scored:
        if is_cancelled(self.cancel):
            self.cancelled = True
            errs = {r: RowErrors({ROW_ERROR.OTHER: "cancelled before grading"}) for r in rows}
            return [0.0] * len(rows), errs
        scorer = self.scorers.get(node.type)
        if scorer is None:
            raise TypeError(f"no scorer for grader type {node.type!r}")
        return scorer(node, self, rows)

    def add_usage(self, model: str, usage: TokenUsage) -> None:
        self.usage.setdefault(model or "unknown", TokenUsage()).add(usage)
