"""string_check: eq / ne / like / ilike over the rendered input and reference columns."""

from __future__ import annotations

from ftstudio.graders import StringCheckGrader, TextSimilarityGrader, render_column

from ._context import Batch, GradingContext, Scored
from ._results import RowErrors


def two_columns(node: StringCheckGrader | TextSimilarityGrader, batch: Batch,
                rows: list[int]) -> tuple[list[str | None], list[str | None], dict[int, RowErrors]]:
    inputs, e1 = render_column(node.input, batch, rows)
    refs, e2 = render_column(node.reference, batch, rows)
    errs: dict[int, RowErrors] = {}
    for source, e in (("input", e1), ("reference", e2)):
        for r, (code, msg) in e.items():
            errs.setdefault(r, RowErrors()).add(code, f"{source}: {msg}")
    return inputs, refs, errs


def score(node: StringCheckGrader, ctx: GradingContext, rows: list[int]) -> Scored:
    batch = ctx.batch
    a, b, errs = two_columns(node, batch, rows)
    op = node.operation
    if op == "eq":
        out = [1.0 if x == y else 0.0 for x, y in zip(a, b)]
    elif op == "ne":
        out = [1.0 if x != y else 0.0 for x, y in zip(a, b)]
    elif op == "like":
        out = [1.0 if x is not None and y is not None and y in x else 0.0 for x, y in zip(a, b)]
    else:  # ilike: substring after casefold()
        out = [1.0 if x is not None and y is not None and y.casefold() in x.casefold() else 0.0 for x, y in zip(a, b)]
    if errs:
        for j, r in enumerate(rows):
            if r in errs:
                out[j] = 0.0
    return out, errs
