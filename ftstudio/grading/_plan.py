"""The small-call plan: a cheap grader tree compiled once, so a call of a few rows costs little more than the
comparisons themselves (and a python node, its one round trip to the sandbox).

The engine (GradingSession.grade) sets up a whole-column pass per call: a Batch, a GradingContext, a scorer
lookup per node, template parsing, error bookkeeping. For a trainer's 64 completions or serve's one row that
set-up is most of the time. A plan is built at session start for trees of string_check, text_similarity
(not cosine), python and multi nodes (at any depth) whose templates are a literal, `{{ sample.output_text }}`
or `{{ item.<key> }}`: each template becomes a getter, each pair leaf its type's PairScore (the same code its
scorer runs), each python node one run of its warm sandbox pool over the whole column (the rows its scorer
would send: each output's sample dict and its item), each multi its compiled formula.

A plan only answers a call in which nothing can go wrong: every value it reads is a string, every leaf scores
every row, no python row failed, timed out or was cancelled, every formula result is finite. Anything else
(a missing field, a number to render as JSON, a row too long for text_similarity, a python row's error, a
formula that divides by zero) makes it answer None, and the engine grades the call as before, with its
errors. So a plan's rewards are the engine's by construction; tests/test_plan.py checks them on the presets
and the external corpus. The python rows a declined call already ran are in `Call.ran`: the engine grades
the call with those results (GradingContext.given) instead of running the code a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from ftstudio.graders import Grader, MultiGrader, PairScore, grader_type, parse, templates

from ._plan_python import Items, Pools, Ran, python_column

if TYPE_CHECKING:  # the formula language and the python type are imported for a tree that has such nodes (start-up)
    from ftstudio.graders import PythonGrader, formula

# What a face gives the plan for an item field: the field's value per row (aligned with the outputs), or None
# when the rows don't have that field.
Column = Callable[[str], Sequence[Any] | None]
# A template over one call: its text per row, or None when a row would not render to a plain string.
Getter = Callable[[list[str], Column], list[str] | None]
# One node over one call: its score per row, or None when the engine must grade the call.
NodePlan = Callable[["Call"], list[float] | None]
# A call's answer: the reward per row, and a top-level multi's child scores per row ({} for other trees).
Planned = tuple[list[float], dict[str, list[float]]]


def _literal(text: str) -> Getter:
    return lambda outputs, column: [text] * len(outputs)


def _output(outputs: list[str], column: Column) -> list[str] | None:
    return outputs


def _field(key: str) -> Getter:
    def get(outputs: list[str], column: Column) -> list[str] | None:
        values = column(key)
        # the engine renders a non-string as JSON and a missing field as an error: both are its to do
        if values is None:
            return None
        try:
            "".join(values)  # TypeError unless every value is a string (a str subclass renders as itself)
        except TypeError:
            return None
        return values if isinstance(values, list) else list(values)
    return get


def _getter(source: str) -> Getter | None:
    tpl = parse(source)
    if tpl.problems or len(tpl.parts) > 1:
        return None
    if not tpl.parts:
        return _literal("")
    part = tpl.parts[0]
    if isinstance(part, str):
        return _literal(part)
    if part.namespace == "sample":
        return _output if part.path == ("output_text",) else _sample_path(part)
    return _field(part.path[0]) if len(part.path) == 1 and isinstance(part.path[0], str) else None


def _sample_path(ref: templates.Ref) -> Getter:
    """`{{ sample.output_json.label }}` and the like: resolved as the engine's renderer does, row by row."""
    resolve, sample, failed = templates.resolve, templates.Sample, templates.RenderError

    def get(outputs: list[str], column: Column) -> list[str] | None:
        try:
            values = [resolve(ref, None, sample(text)) for text in outputs]
        except failed:  # not JSON, a missing key: the row's error is the engine's to report
            return None
        return values if list(map(type, values)).count(str) == len(values) else None
    return get


class Call:
    """One call as a plan reads it: the outputs, the item fields as columns, the items themselves (what a python
    node sends, built on first use; None when the caller has none to give: a python node then declines), the
    cancel a python run watches, and the python results the call got (`ran`, by node id: the engine grades
    with them if the call falls back)."""

    __slots__ = ("outputs", "column", "cancel", "ran", "_items", "_rows")

    def __init__(self, outputs: list[str], column: Column, items: Items | None = None, cancel: Any = None):
        self.outputs, self.column, self.cancel = outputs, column, cancel
        self._items, self._rows = items, None
        self.ran: Ran = {}

    def items(self) -> Sequence[dict[str, Any]] | None:
        if self._rows is None and self._items is not None:
            self._rows = self._items()
        return self._rows


def _pair(sources: list[str], pair: PairScore) -> NodePlan | None:
    """A pair node (its templates are `input` then `reference`, as its PairScore takes them)."""
    getters = [_getter(source) for source in sources]
    if len(getters) != 2:
        return None
    first, second = getters
    if first is None or second is None:
        return None

    def run(call: Call) -> list[float] | None:
        a = first(call.outputs, call.column)
        if a is None:
            return None
        b = second(call.outputs, call.column)
        return None if b is None else pair(a, b)
    return run


def _python(node: PythonGrader, pools: Pools) -> NodePlan:
    def run(call: Call) -> list[float] | None:
        items = call.items()
        if items is None:
            return None
        return python_column(node, pools, call.outputs, items, call.cancel, call.ran)
    return run


class Plan:
    """`plan(call)` -> (rewards, the top multi's child columns) or None: see the module's docstring."""

    def __init__(self, root: NodePlan, top: dict[str, NodePlan], program: formula.Program | None):
        self._root, self._top, self._program = root, top, program

    def __call__(self, call: Call) -> Planned | None:
        if not call.outputs:
            return None
        if self._program is None:
            values = self._root(call)
            return None if values is None else (values, {})
        subs = _children(self._top, call)
        values = None if subs is None else _combine(self._program, subs, len(call.outputs))
        return None if values is None or subs is None else (values, subs)


def _children(children: dict[str, NodePlan], call: Call) -> dict[str, list[float]] | None:
    subs: dict[str, list[float]] = {}
    for key, child in children.items():
        values = child(call)
        if values is None:
            return None
        subs[key] = values
    return subs


def _combine(program: formula.Program, columns: dict[str, list[float]], n: int) -> list[float] | None:
    """The multi scorer's vector evaluation (grading a multi: graders.types.multi.score); None when a row's result
    is not finite, which the scorer re-runs row by row for its message."""
    import numpy as np  # lazily, as the scorer does: `import ftstudio.grading` starts without numpy

    vec = np.asarray(program.vector({k: np.asarray(v, dtype=float) for k, v in columns.items()}), dtype=float)
    if vec.shape != (n,):  # the scorer's broadcast, which a column already has
        vec = np.broadcast_to(vec, (n,))
    if not np.isfinite(vec).all():
        return None
    return vec.tolist()


def _node(node: Grader, pools: Pools | None) -> tuple[NodePlan, dict[str, NodePlan], formula.Program | None] | None:
    if node.type == "python":  # its model, PythonGrader, is not imported for a tree without one
        return None if pools is None else (_python(cast("PythonGrader", node), pools), {}, None)
    if isinstance(node, MultiGrader):
        from ftstudio.graders import formula

        try:
            program = formula.compile_formula(node.calculate_output)
        except formula.FormulaError:
            return None
        if set(program.variables) - set(node.graders) or not node.graders:
            return None
        children: dict[str, NodePlan] = {}
        for key, child in node.graders.items():
            built = _node(child, pools)
            if built is None:
                return None
            children[key] = built[0]

        def run(call: Call) -> list[float] | None:
            subs = _children(children, call)
            return None if subs is None else _combine(program, subs, len(call.outputs))
        return run, children, program
    kind = grader_type(node.type)
    pair = kind.plain(node) if kind.plain is not None else None
    leaf = _pair([source for _, source in kind.templates(node)], pair) if pair is not None else None
    return None if leaf is None else (leaf, {}, None)


def compile_plan(grader: Grader, pools: Pools | None = None) -> Plan | None:
    """The plan of `grader`, or None when some node has no short way (model graders, lambda, templates with
    more than one variable or a deeper path, cosine; python without `pools`, the session's pool of a node)."""
    built = _node(grader, pools)
    if built is None:
        return None
    return Plan(*built)


__all__ = ["Call", "Column", "Plan", "Planned", "compile_plan"]
