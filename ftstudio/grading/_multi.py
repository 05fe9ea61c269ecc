"""multi: children scored column-wise, combined by the calculate_output formula over numpy columns."""

from __future__ import annotations

from ftstudio.core import ROW_ERROR, shorten
from ftstudio.graders import MultiGrader
from ftstudio.graders import formula as F

from ._context import GradingContext, Scored
from ._results import RowErrors


def score(node: MultiGrader, ctx: GradingContext, rows: list[int]) -> Scored:
    import numpy as np  # lazily: the CLI and `import ftstudio.grading` start without numpy

    columns: dict[str, list[float]] = {}
    errs: dict[int, RowErrors] = {}
    for key, child in node.graders.items():
        values, child_errs = ctx.score(child, rows)
        columns[key] = values
        shown = shorten(key)  # prefixed to every failing row's details
        for r, e in child_errs.items():
            target = errs.setdefault(r, RowErrors())
            for code, details in e.codes.items():
                target.add(code, f"{shown}: {details}")
    if node is ctx.top:
        ctx.top_sub_rewards = columns
    try:
        program = F.compile_formula(node.calculate_output)
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


def error_reward(node) -> float:
    """The reward of a row with an error: a multi's invalid_grade (Azure) when set, else 0.0."""
    value = getattr(node, "invalid_grade", None)
    return float(value) if value is not None else 0.0
