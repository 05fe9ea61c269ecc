"""multi: children scored column-wise, combined by the calculate_output formula over numpy columns.

`graders` is a map from a formula variable to a grader: the HTTP API takes a map even though the SDK
types a single grader (facts §7.6). A multi nested inside a multi is accepted here, because users
build such trees and grade them locally; validation flags it for the API and `flatten()` fixes it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any, Literal

from ftstudio.core import ROW_ERROR, RowErrors, json_object, shorten

from .._light import StringConstraints
from .._models import IDENTIFIER_PATTERN, GraderModel
from ._registry import Grader, grader_type
from ._type import Checker, GraderType, Path, Rows, Scored, ScoringContext

if TYPE_CHECKING:
    from .. import formula

FormulaVariable = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]


class MultiGrader(GraderModel):
    type: Literal["multi"] = "multi"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    graders: dict[FormulaVariable, Grader]
    calculate_output: str
    pass_threshold: int | float | None = None
    # Azure's RFT how-to: the reward of a row whose sub-grader errors or whose formula can't be evaluated
    # (0.0 when unset). Only Azure documents it: validation's rule multi_invalid_grade says so per target.
    invalid_grade: float | None = None


def default(name: str) -> MultiGrader:
    # A multi starts with one child, an exact match.
    return MultiGrader(name=name, graders={"a": grader_type("string_check").default("a")}, calculate_output="a")


@functools.lru_cache(maxsize=256)
def _program(calculate_output: str) -> formula.Program:
    """The compiled formula, once per text (a trainer grades with the same tree every call; a Program is never
    changed once built). A FormulaError is raised again on each call, not kept."""
    from .. import formula as F

    return F.compile_formula(calculate_output)


def score(node: MultiGrader, ctx: ScoringContext, rows: list[int]) -> Scored:
    import numpy as np  # lazily: the CLI and `import ftstudio.grading` start without numpy

    from .. import formula as F  # lazily too: a grade without a multi grader never parses a formula

    columns: dict[str, list[float]] = {}
    failed: dict[str, set[int]] = {}
    errs: dict[int, RowErrors] = {}
    for key, child in node.graders.items():
        values, child_errs = ctx.score(child, rows)
        columns[key] = values
        failed[key] = set(child_errs)
        shown = shorten(key)  # prefixed to every failing row's details
        for r, e in child_errs.items():
            target = errs.setdefault(r, RowErrors())
            for code, details in e.codes.items():
                target.add(code, f"{shown}: {details}")
            target.mark(e.status)
    if node is ctx.top:
        ctx.top_sub_rewards, ctx.top_sub_failed = columns, failed
    try:
        program = _program(node.calculate_output)
    except F.FormulaError as exc:
        for r in rows:
            errs.setdefault(r, RowErrors()).add(ROW_ERROR.FORMULA_PARSE, exc.message)
        return [error_reward(node)] * len(rows), errs
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
            errs.setdefault(r, RowErrors()).add(ROW_ERROR.FORMULA_PARSE, f"calculate_output failed: {exc}")
    fallback = error_reward(node)
    for j, r in enumerate(rows):
        if r in errs:
            out[j] = fallback
    return out, errs


def error_reward(node: Any) -> float:
    """The reward of a row with an error: a multi's invalid_grade (Azure) when set, else 0.0."""
    value = getattr(node, "invalid_grade", None)
    return float(value) if value is not None else 0.0


def check(c: Checker, g: dict[str, Any], path: Path, depth: int) -> None:
    from .. import formula as F

    found = g.get("graders")
    if depth >= 1:
        c.add(path, "multi_nested", "a multi grader inside a multi grader is not accepted by the API",
              "use 'Flatten for the API' (CLI: ftstudio flatten FILE); local grading works as is")
    if "invalid_grade" in g:
        c.add(path + ("invalid_grade",), "multi_invalid_grade",
              "unknown field 'invalid_grade': only Azure's RFT how-to documents it (on multi graders)",
              "remove it, or validate for Azure (--target azure), where it is the reward of a row whose "
              "sub-grader errors or whose calculate_output can't be evaluated")
    graders = json_object(found)
    if graders is None:
        if isinstance(found, list):
            c.add(path + ("graders",), "multi_graders_list",
                  "graders is a list; it must be an object keyed by the names used in calculate_output",
                  'for example {"graders": {"similarity": {...}, "exact": {...}}, '
                  '"calculate_output": "0.5 * similarity + 0.5 * exact"}', True)
            formula = g.get("calculate_output")
            if isinstance(formula, str):
                c.formula(formula, [], path + ("calculate_output",), check_unused=False)
        return
    if not graders:
        c.add(path + ("graders",), "multi_empty", "a multi grader needs at least one grader", "add a child grader", True)
    for key in graders:
        if key in F.FUNCTIONS:
            c.add(path + ("graders", key), "multi_key_reserved",
                  f"grader key '{key}' is also a formula function name", "rename the key", True)
    for key, child in graders.items():
        node = json_object(child)
        if node is not None:
            c.node(node, path + ("graders", key), depth + 1)
    formula = g.get("calculate_output")
    if isinstance(formula, str):
        c.formula(formula, list(graders), path + ("calculate_output",))


def explain(node: MultiGrader, batch: Rows) -> dict[str, Any]:
    return {"calculate_output": node.calculate_output}


def fix(node: MultiGrader, probe: str) -> str:
    return (f"calculate_output `{node.calculate_output}` lets the {probe} probe through even though no single "
            "child explains it: make the strict check a factor (multiply by it) rather than a term")


TYPE = GraderType(
    name="multi", model=MultiGrader, order=60, default=default, remote=False, calls_model=False,
    # The formula over its children's columns is cheap; serve grades it inline when every child is.
    inline=True,
    score=score, check=check, explain=explain, fix=fix,
)
