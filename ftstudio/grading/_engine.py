"""grade(grader, rows) -> GradeResults: score a dataset locally, as documented, never stopped by a row.

Each grader node is scored over all rows at once (columns, not rows), so cheap graders run at
hundreds of thousands of rows per second and expensive ones batch their work: python graders
go to reused worker processes, model graders to a bounded pool of concurrent requests.
A row that fails anywhere scores 0 and carries the API's error flag with details.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from ftstudio.core import DEFAULT_SAMPLE_FIELD, Issue, join_path
from ftstudio.graders import Grader, error_reward, grader_type, parse_grader, walk
from ftstudio.validation import blocks_grading, check_grader

from ._context import Batch, Cancel, GradingContext, Rows, is_cancelled, prepare
from ._options import GradeOptions
from ._plan import Call, Column, Planned, compile_plan
from ._plan_python import Items, Ran
from ._progress import ProgressFn
from ._results import GradeResults, RowErrors
from ._scorers import SCORERS

if TYPE_CHECKING:  # the sandbox, the model client and the python and lambda types are imported when a node first
    # uses them (issue 23, start-up)
    from ftstudio.api import Endpoint, ModelRunner
    from ftstudio.graders import LambdaGrader, PythonGrader
    from ftstudio.sandbox import PythonGraderPool


class InvalidGrader(Exception):
    """The engine itself cannot evaluate this grader; `issues` say why (validation Issues)."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(i.line() for i in issues[:5]))
        self.issues = issues


# A grader as the engine takes it: its model, or its JSON form (validated and parsed on the way in).
GraderInput = Grader | dict[str, Any]


def to_grader(grader: GraderInput) -> Grader:
    """A grader model from a model or its JSON form; InvalidGrader if the engine can't evaluate it."""
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

    def __init__(self, grader: GraderInput, sample_field: str = DEFAULT_SAMPLE_FIELD,
                 options: GradeOptions | None = None):
        self.grader: Grader = to_grader(grader)
        # a multi's invalid_grade, read once: pydantic's attribute fallback costs a fifth of a one-row grade
        self._error_reward = error_reward(self.grader)
        self.sample_field = sample_field
        self._name = self.grader.name or self.grader.type
        self.options = options or GradeOptions()
        self._pools: dict[int, PythonGraderPool] = {}
        self._pools_lock = threading.Lock()  # a plan may ask for a pool from any caller's thread
        # the small-call plan of a cheap tree (None otherwise): calls whose rows all render skip the set-up
        self._plan = compile_plan(self.grader, self.python_pool)
        # whether it runs python nodes in their pools (score_columns then needs the items)
        self.plan_runs_code = self._plan is not None and any(n.type == "python" for _, n in walk(self.grader))
        self._runner: ModelRunner | None = None

    def __enter__(self) -> GradingSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()

    @property
    def endpoint(self) -> Endpoint:
        from ftstudio.api import Endpoint

        return self.options.endpoint or Endpoint.from_env()

    def runner(self) -> ModelRunner:
        if self._runner is None:
            from ftstudio.api import ModelRunner

            o = self.options
            self._runner = ModelRunner(self.endpoint, concurrency=o.concurrency, max_retries=o.max_retries,
                                       use_cache=o.use_cache, on_retry=o.on_retry)
        return self._runner

    def python_pool(self, node: PythonGrader | LambdaGrader, source: str | None = None) -> PythonGraderPool:
        """The warm sandbox pool of a python node (or of `source` run on behalf of a lambda node)."""
        pool = self._pools.get(id(node))
        if pool is None:
            with self._pools_lock:  # one pool per node, even when two threads ask at once
                pool = self._pools.get(id(node))
                if pool is None:
                    pool = self._pools[id(node)] = self._new_pool(node, source)
        return pool

    def _new_pool(self, node: PythonGrader | LambdaGrader, source: str | None) -> PythonGraderPool:
        from ftstudio.sandbox import PythonGraderPool

        o = self.options
        code = source if source is not None else node.source if node.type == "python" else ""
        return PythonGraderPool(code, workers=o.python_workers, timeout=o.python_timeout, memory_limit=o.python_memory)

    def grade(self, rows: Rows | Batch, progress: ProgressFn | None = None, cancel: Cancel | None = None,
              row_offset: int = 0, node_scores: bool = False) -> GradeResults:
        """`node_scores`: also keep every node's own score (`GradeResults.node_rewards`, by JSON path), so a
        verdict can name a node at any depth, not only a child of the root."""
        start = time.perf_counter()
        batch = rows if isinstance(rows, Batch) else prepare(rows, self.sample_field)
        ran: Ran = {}
        if self._plan is not None and not node_scores and progress is None and not batch.base_errors \
                and not is_cancelled(cancel):
            # rows without a usable output are batch.base_errors, which leave the call to the engine
            call = Call(cast(list[str], batch.outputs), _row_column(batch), lambda: batch.items, cancel)
            planned = self._planned(call, batch, start, row_offset)
            if planned is not None:
                return planned
            ran = call.ran
        return self._engine(batch, progress, cancel, row_offset, node_scores, start, ran)

    def _engine(self, batch: Batch, progress: ProgressFn | None, cancel: Cancel | None, row_offset: int,
                node_scores: bool, start: float, ran: Ran) -> GradeResults:
        """The whole-column pass; `ran`: python nodes' results a declined plan got for these rows, used as they are."""
        run = GradingContext(self, batch, progress, cancel, SCORERS)
        if node_scores:
            run.memo = {}  # every node of one pass is scored over the same rows, so a node's score is its memo
        active = [i for i in range(len(batch)) if i not in batch.base_errors] if batch.base_errors else \
            list(range(len(batch)))
        if ran:
            from ftstudio.graders import pool_results

            for node_id, results in ran.items():  # the plan ran every row (a call with base errors never reaches it)
                run.given[node_id] = pool_results(run, active, results)
        values, errs = run.score(self.grader, active)
        n = len(batch)
        rewards = array("d", bytes(8 * n))
        for r, v in zip(active, values):
            rewards[r] = v
        for r, problem in batch.base_errors.items():
            errs.setdefault(r, RowErrors()).add(problem.code, problem.message)
        scored_error = self._error_reward  # a multi's invalid_grade; rows without a sample get 0.0
        for r in errs:
            rewards[r] = 0.0 if r in batch.base_errors else scored_error
        subs = {k: _full(v, active, n) for k, v in run.top_sub_rewards.items()}
        missing = {k: run.top_sub_failed.get(k, set()) | set(batch.base_errors) for k in subs}
        nodes = {}
        if run.memo is not None:
            nodes = {node_path(path): _full(run.memo[id(node)][0], active, n) for path, node in walk(self.grader)
                     if id(node) in run.memo}
        return GradeResults(grader_name=self.grader.name or self.grader.type, grader_type=self.grader.type,
                            rewards=rewards, errors=errs, sub_rewards=subs, lines=batch.lines, token_usage=run.usage,
                            sub_missing={k: v for k, v in missing.items() if v}, node_rewards=nodes,
                            elapsed=time.perf_counter() - start, cancelled=run.cancelled, row_offset=row_offset)


    def score_columns(self, outputs: list[str], column: Column, items: Items | None = None,
                      cancel: Cancel | None = None) -> Planned | GradeResults | None:
        """The rewards (and a multi's child scores) `grade` computes for rows given as columns: the model outputs,
        `column(key)` the item field `key` per row (None when the rows lack it) and `items()` each row's item
        without the output field (what a python node sends; without it a tree with one answers None).
        None when the call needs the engine (a tree without a small-call plan, or a row that does not simply
        render): grade the rows then. A GradeResults when a python node ran and a row has an error (or the plan
        declined after it ran): `grade`'s answer for these rows, graded with those python results.
        A trainer's reward function calls this first; it builds no Batch, context or GradeResults."""
        if self._plan is None:
            return None
        start = time.perf_counter()
        call = Call(outputs, column, items, cancel)
        planned = self._plan(call)
        rows = call.items() if planned is None and call.ran else None
        if rows is None:
            return planned
        sf = self.sample_field
        batch = prepare([{**item, sf: out} for item, out in zip(rows, outputs)], sf)
        return self._engine(batch, None, cancel, 0, False, start, call.ran)

    def _planned(self, call: Call, batch: Batch, start: float, row_offset: int) -> GradeResults | None:
        assert self._plan is not None
        scored = self._plan(call)
        if scored is None:
            return None
        values, subs = scored
        return GradeResults(grader_name=self._name, grader_type=self.grader.type, rewards=array("d", values),
                            errors={}, sub_rewards={k: array("d", v) for k, v in subs.items()}, lines=batch.lines,
                            elapsed=time.perf_counter() - start, row_offset=row_offset)


def _row_column(batch: Batch) -> Column:
    """An engine Batch's item fields as columns (the output field is not part of the item)."""
    rows, sf = batch.rows, batch.sample_field

    def column(key: str) -> list[Any] | None:
        if key == sf:
            return None
        return [r.get(key, _MISSING) for r in rows]
    return column


_MISSING = object()  # not a str: the plan leaves a row without the field to the engine


def grade(grader: GraderInput, rows: Rows | Batch, sample_field: str = DEFAULT_SAMPLE_FIELD,
          progress: ProgressFn | None = None, cancel: Cancel | None = None,
          options: GradeOptions | None = None) -> GradeResults:
    """Score every row; never raises because of a row. InvalidGrader if the grader can't be evaluated."""
    with GradingSession(grader, sample_field, options) as session:
        return session.grade(rows, progress, cancel)


def grade_chunks(grader: GraderInput, chunks: Iterable[Rows | Batch], sample_field: str = DEFAULT_SAMPLE_FIELD,
                 progress: ProgressFn | None = None, cancel: Cancel | None = None,
                 options: GradeOptions | None = None) -> Iterator[GradeResults]:
    """Grade a stream of row chunks with one set of worker pools; yields one result per chunk."""
    offset = 0
    with GradingSession(grader, sample_field, options) as session:
        for chunk in chunks:
            result = session.grade(chunk, progress, cancel, row_offset=offset)
            offset += len(result)
            yield result
            if is_cancelled(cancel):
                return


def node_path(keys: Sequence[str]) -> str:
    """A node's JSON path from the multi keys leading to it: ("a", "b") -> graders.a.graders.b; "" the root."""
    return join_path(sum((("graders", k) for k in keys), ()))


def _full(values: Sequence[float], active: Sequence[int], n: int) -> array[float]:
    out = array("d", bytes(8 * n))
    for r, v in zip(active, values):
        out[r] = v
    return out


def explain(grader: GraderInput, row: dict[str, Any], sample_field: str = DEFAULT_SAMPLE_FIELD,
            options: GradeOptions | None = None) -> dict[str, Any]:
    """Everything about one row: reward, sub_rewards, errors and, per node, what its templates render to.

    Used by the single-sample playground and the results drill-down.
    """
    with GradingSession(grader, sample_field, options) as session:
        batch = prepare([row], sample_field)
        run = GradingContext(session, batch, None, None, SCORERS)
        run.memo = {}
        base = batch.base_errors.get(0)
        nodes = []
        for path, node in walk(session.grader):
            entry = _node_entry(path, node)
            if base is None:
                values, errs = run.score(node, [0])
                entry["score"] = values[0]
                entry["errors"] = dict(errs[0].codes) if 0 in errs else {}
                entry["rendered"] = grader_type(node.type).explain(node, batch)
            else:
                entry["score"], entry["errors"] = 0.0, {base.code: base.message}
            nodes.append(entry)
        top = nodes[0]
        subs = {n["key"]: n["score"] for n in nodes[1:] if n["path"].count("graders") == 1}
        return {"reward": top["score"] if not top["errors"] else 0.0, "sub_rewards": subs,
                "errors": sorted(top["errors"]), "error_details": top["errors"] or None, "nodes": nodes,
                "sample": batch.samples[0].as_dict() if batch.samples[0] else None, "item": batch.items[0]}


def _node_entry(path: tuple[str, ...], node: Grader) -> dict[str, Any]:
    return {"path": node_path(path), "key": path[-1] if path else None, "type": node.type, "name": node.name, "rendered": {}}


def rendered_inputs(grader: GraderInput, row: dict[str, Any], sample_field: str = DEFAULT_SAMPLE_FIELD) -> list[dict[str, Any]]:
    """Per node of the tree, what its templates render to for `row` (path, key, type, name, rendered), without
    scoring: no model is called and no code runs, so a report can show any row's inputs for free. A row the
    engine can't read (no output field, ...) renders nothing; `problem` says why."""
    batch = prepare([row], sample_field)
    base = batch.base_errors.get(0)
    nodes = []
    for path, node in walk(to_grader(grader)):
        entry = _node_entry(path, node)
        if base is None:
            entry["rendered"] = grader_type(node.type).explain(node, batch)
        else:
            entry["problem"] = base.message
        nodes.append(entry)
    return nodes


__all__ = ["Batch", "GradeOptions", "GraderInput", "GradingSession", "InvalidGrader", "explain", "grade", "grade_chunks",
           "node_path", "prepare", "rendered_inputs"]
