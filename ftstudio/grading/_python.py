"""python: rows go to the sandbox's warm worker pool of this node; each call has its own deadline."""

from __future__ import annotations

from typing import cast

from ftstudio.core import ROW_ERROR
from ftstudio.graders import Sample

from ._context import GradingContext, Scored
from ._results import RowErrors


def score(node, ctx: GradingContext, rows: list[int]) -> Scored:
    b = ctx.batch
    # Rows without an output carry a base error and never reach a scorer.
    calls = [(cast(Sample, b.samples[r]).as_dict(), b.items[r]) for r in rows]
    pool = ctx.session.python_pool(node)
    results = pool.run(calls, progress=lambda d, t: ctx.report(d, t, f"python grader {node.name}"), cancel=ctx.cancel)
    out, errs = [0.0] * len(rows), {}
    for j, (r, res) in enumerate(zip(rows, results)):
        if res.error:
            if res.details == "cancelled":
                ctx.cancelled = True
            errs[r] = RowErrors({res.error: res.details or ""})
        else:
            out[j] = res.reward
    if len(results) < len(rows):  # a cancelled run may return fewer results
        ctx.cancelled = True
        for r in rows[len(results):]:
            errs[r] = RowErrors({ROW_ERROR.OTHER: "cancelled"})
    return out, errs
