"""grade(grader, rows) -> GradeResults: score a dataset locally, as documented, never stopped by a row.

Each grader node is scored over all rows at once (columns, not rows), so cheap graders run at
hundreds of thousands of rows per second and expensive ones batch their work: python graders
go to reused worker processes, model graders to a bounded pool of concurrent requests.
A row that fails anywhere scores 0 and carries the API's error flag with details.
"""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from . import formula as F
from ._columns import render_column
from .graders import (
    LabelModelGrader, MultiGrader, PythonGrader, ScoreModelGrader, StringCheckGrader, TextSimilarityGrader,
)
from .model_client import Endpoint, ModelRunner
from .results import GradeResults, RowErrors, TokenUsage
from .templates import Sample

DEFAULT_SAMPLE_FIELD = "model_sample"


class InvalidGrader(Exception):
    """The engine itself cannot evaluate this grader; `issues` say why (validation Issues)."""

    def __init__(self, issues: list):
        super().__init__("; ".join(i.line() for i in issues[:5]))
        self.issues = issues


@dataclass
class GradeOptions:
    concurrency: int = 8
    python_timeout: float = 120.0
    python_workers: int | None = None
    python_memory: int = 2 * 1024**3
    endpoint: Endpoint | None = None  # None: OPENAI_BASE_URL / OPENAI_API_KEY from the environment
    use_cache: bool = True
    max_retries: int = 4
    embedding_model: str = "text-embedding-3-large"
    on_retry: Callable[[int, str], None] | None = None


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
        lines = list(getattr(rows, "lines", None) or [None] * len(rows.rows))
        raw = list(rows.rows)
        if rows.errors:
            entries = list(zip(lines, raw)) + [(e.line, e) for e in rows.errors]
            entries.sort(key=lambda e: e[0] if e[0] is not None else 0)
            lines, raw = [e[0] for e in entries], [e[1] for e in entries]
    else:
        raw = list(rows)
        lines = [None] * len(raw)
    outputs = [r.get(sample_field) if r.__class__ is dict or isinstance(r, dict) else None for r in raw]
    base_errors: dict[int, tuple[str, str]] = {}
    for i, out in enumerate(outputs):
        if out.__class__ is str:
            continue
        row = raw[i]
        if not isinstance(row, dict):
            message = getattr(row, "message", None) or f"row is a {type(row).__name__}, not a JSON object"
            where = f"line {lines[i]}" if lines[i] is not None else f"row {i}"
            base_errors[i] = ("other_error", f"unreadable {where}: {message}")
            raw[i] = {}
        elif out is None:
            base_errors[i] = ("other_error", f"no '{sample_field}' field in this row: choose the field that "
                                             "holds the model output")
        else:
            try:
                outputs[i] = _compact(out)
            except (TypeError, ValueError, RecursionError) as exc:  # a set or bytes from Python; deep nesting
                outputs[i] = None
                why = "it nests too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
                base_errors[i] = ("other_error", f"the '{sample_field}' value can't be written as JSON text: {why}")
    return Batch(raw, outputs, lines, base_errors, sample_field)


def _compact(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def to_grader(grader: Any):
    """A grader model from a model or its JSON form; InvalidGrader if the engine can't evaluate it."""
    from .graders import parse_grader
    from .validation import blocks_grading, check_grader

    if isinstance(grader, dict):
        issues = blocks_grading(check_grader(grader))
        if issues:
            raise InvalidGrader(issues)
        return parse_grader(grader)
    issues = blocks_grading(check_grader(grader))
    if issues:
        raise InvalidGrader(issues)
    return grader


class GradingSession:
    """Holds worker pools and the model runner across calls (chunked grading reuses them)."""

    def __init__(self, grader: Any, sample_field: str = DEFAULT_SAMPLE_FIELD, options: GradeOptions | None = None):
        self.grader = to_grader(grader)
        self.sample_field = sample_field
        self.options = options or GradeOptions()
        self._pools: dict[int, Any] = {}
        self._runner: ModelRunner | None = None

    def __enter__(self) -> "GradingSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()

    @property
    def endpoint(self) -> Endpoint:
        return self.options.endpoint or Endpoint.from_env()

    def runner(self) -> ModelRunner:
        if self._runner is None:
            o = self.options
            self._runner = ModelRunner(self.endpoint, concurrency=o.concurrency, max_retries=o.max_retries,
                                       use_cache=o.use_cache, on_retry=o.on_retry)
        return self._runner

    def python_pool(self, node: PythonGrader):
        pool = self._pools.get(id(node))
        if pool is None:
            from .sandbox import PythonGraderPool

            o = self.options
            pool = PythonGraderPool(node.source, workers=o.python_workers, timeout=o.python_timeout,
                                    memory_limit=o.python_memory)
            self._pools[id(node)] = pool
        return pool

    def grade(self, rows: Any, progress: Callable | None = None, cancel: Any = None,
              row_offset: int = 0) -> GradeResults:
        start = time.perf_counter()
        batch = rows if isinstance(rows, Batch) else prepare(rows, self.sample_field)
        run = _Run(self, batch, progress, cancel)
        active = [i for i in range(len(batch)) if i not in batch.base_errors] if batch.base_errors else \
            list(range(len(batch)))
        values, errs = run.score(self.grader, active)
        n = len(batch)
        rewards = array("d", bytes(8 * n))
        for r, v in zip(active, values):
            rewards[r] = v
        for r, (code, msg) in batch.base_errors.items():
            errs.setdefault(r, RowErrors()).add(code, msg)
        for r in errs:
            rewards[r] = 0.0
        subs = {k: _full(v, active, n) for k, v in run.top_sub_rewards.items()}
        return GradeResults(self.grader.name, self.grader.type, rewards, errs, subs, batch.lines, run.usage,
                            time.perf_counter() - start, run.cancelled, row_offset)


def grade(grader: Any, rows: Any, sample_field: str = DEFAULT_SAMPLE_FIELD, progress: Callable | None = None,
          cancel: Any = None, options: GradeOptions | None = None) -> GradeResults:
    """Score every row; never raises because of a row. InvalidGrader if the grader can't be evaluated."""
    with GradingSession(grader, sample_field, options) as session:
        return session.grade(rows, progress, cancel)


def grade_chunks(grader: Any, chunks: Iterable[Any], sample_field: str = DEFAULT_SAMPLE_FIELD,
                 progress: Callable | None = None, cancel: Any = None,
                 options: GradeOptions | None = None) -> Iterable[GradeResults]:
    """Grade a stream of row chunks with one set of worker pools; yields one result per chunk."""
    offset = 0
    with GradingSession(grader, sample_field, options) as session:
        for chunk in chunks:
            result = session.grade(chunk, progress, cancel, row_offset=offset)
            offset += len(result)
            yield result
            if _is_cancelled(cancel):
                return


def _full(values: Sequence[float], active: Sequence[int], n: int) -> array:
    out = array("d", bytes(8 * n))
    for r, v in zip(active, values):
        out[r] = v
    return out


def _is_cancelled(cancel: Any) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if hasattr(cancel, "is_set") else bool(cancel())


class _Run:
    """One grading pass over one batch."""

    def __init__(self, session: GradingSession, batch: Batch, progress, cancel):
        self.s, self.b, self.progress, self.cancel = session, batch, progress, cancel
        self.usage: dict[str, TokenUsage] = {}
        self.top_sub_rewards: dict[str, list[float]] = {}
        self.cancelled = False
        self._top = session.grader
        self.memo: dict[int, tuple[list[float], dict[int, RowErrors]]] | None = None

    def report(self, done: int, total: int, stage: str) -> None:
        if self.progress:
            self.progress(done, total, stage)

    def score(self, node, rows: list[int]) -> tuple[list[float], dict[int, RowErrors]]:
        if self.memo is not None:
            if id(node) not in self.memo:
                self.memo[id(node)] = self._score(node, rows)
            return self.memo[id(node)]
        return self._score(node, rows)

    def _score(self, node, rows: list[int]) -> tuple[list[float], dict[int, RowErrors]]:
        if _is_cancelled(self.cancel):
            self.cancelled = True
            errs = {r: RowErrors({"other_error": "cancelled before grading"}) for r in rows}
            return [0.0] * len(rows), errs
        if isinstance(node, MultiGrader):
            return self._multi(node, rows)
        from . import _leaf_graders as L

        if isinstance(node, StringCheckGrader):
            return L.string_check(node, self.b, rows)
        if isinstance(node, TextSimilarityGrader):
            return L.text_similarity(node, self, rows)
        if isinstance(node, PythonGrader):
            return L.python(node, self, rows)
        if isinstance(node, (ScoreModelGrader, LabelModelGrader)):
            return L.model_grader(node, self, rows)
        raise TypeError(f"unknown grader node {type(node).__name__}")

    def _multi(self, node: MultiGrader, rows: list[int]):
        import numpy as np

        columns: dict[str, list[float]] = {}
        errs: dict[int, RowErrors] = {}
        for key, child in node.graders.items():
            values, child_errs = self.score(child, rows)
            columns[key] = values
            for r, e in child_errs.items():
                target = errs.setdefault(r, RowErrors())
                for code, details in e.codes.items():
                    target.add(code, f"{key}: {details}")
        if node is self._top:
            self.top_sub_rewards = columns
        try:
            program = F.compile_formula(node.calculate_output)
        except F.FormulaError as exc:
            for r in rows:
                errs.setdefault(r, RowErrors()).add("formula_parse_error", exc.message)
            return [0.0] * len(rows), errs
        if not rows:
            return [], errs
        vec = program.vector({k: np.asarray(v, dtype=float) for k, v in columns.items()})
        vec = np.broadcast_to(np.asarray(vec, dtype=float), (len(rows),))
        out = vec.tolist()
        bad = np.flatnonzero(~np.isfinite(vec)).tolist()
        for j in bad:
            r = rows[j]
            try:  # rerun the row alone for an exact message
                out[j] = program({k: v[j] for k, v in columns.items()})
            except F.FormulaRuntimeError as exc:
                out[j] = 0.0
                errs.setdefault(r, RowErrors()).add("formula_parse_error", f"calculate_output failed: {exc}")
        for j, r in enumerate(rows):
            if r in errs:
                out[j] = 0.0
        return out, errs

    def add_usage(self, model: str, usage: TokenUsage) -> None:
        self.usage.setdefault(model or "unknown", TokenUsage()).add(usage)


def explain(grader: Any, row: dict, sample_field: str = DEFAULT_SAMPLE_FIELD,
            options: GradeOptions | None = None) -> dict[str, Any]:
    """Everything about one row: reward, sub_rewards, errors and, per node, what its templates render to.

    Used by the single-sample playground and the results drill-down.
    """
    from ._model_graders import build_requests
    from .graders import walk
    from .issues import join_path

    with GradingSession(grader, sample_field, options) as session:
        batch = prepare([row], sample_field)
        run = _Run(session, batch, None, None)
        run.memo = {}
        base = batch.base_errors.get(0)
        nodes = []
        for path, node in walk(session.grader):
            where = join_path(sum((("graders", k) for k in path), ()))
            entry: dict[str, Any] = {"path": where, "key": path[-1] if path else None, "type": node.type,
                                     "name": node.name, "rendered": {}}
            if base is None:
                values, errs = run.score(node, [0])
                entry["score"] = values[0]
                entry["errors"] = dict(errs[0].codes) if 0 in errs else {}
                entry["rendered"] = _rendered(node, batch, build_requests)
            else:
                entry["score"], entry["errors"] = 0.0, {base[0]: base[1]}
            nodes.append(entry)
        top = nodes[0]
        subs = {n["key"]: n["score"] for n in nodes[1:] if n["path"].count("graders") == 1}
        return {"reward": top["score"] if not top["errors"] else 0.0, "sub_rewards": subs,
                "errors": sorted(top["errors"]), "error_details": top["errors"] or None, "nodes": nodes,
                "sample": batch.samples[0].as_dict() if batch.samples[0] else None, "item": batch.items[0]}


def _rendered(node, batch: Batch, build_requests) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(node, (StringCheckGrader, TextSimilarityGrader)):
        for name in ("input", "reference"):
            values, errs = render_column(getattr(node, name), batch, [0])
            out[name] = values[0] if 0 not in errs else f"⚠ {errs[0][1]}"
    elif isinstance(node, (ScoreModelGrader, LabelModelGrader)):
        requests, errs = build_requests(node, batch, [0])
        out["messages"] = requests[0]["messages"] if requests[0] else f"⚠ {errs[0][1]}"
    elif isinstance(node, MultiGrader):
        out["calculate_output"] = node.calculate_output
    return out


__all__ = ["Batch", "GradeOptions", "GradingSession", "InvalidGrader", "explain", "grade", "grade_chunks", "prepare"]
