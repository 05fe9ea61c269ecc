"""python: rows go to the sandbox's warm worker pool of this node; each call has its own deadline."""

from __future__ import annotations

from typing import cast

from ftstudio.core import ROW_ERROR
from ftstudio.graders import PythonGrader, Sample
from ftstudio.sandbox import PythonCallResult

from ._context import CANCELLED, GradingContext, Scored
from ._progress import Stage
from ._results import RowErrors, RowStatus


def score(node: PythonGrader, ctx: GradingContext, rows: list[int]) -> Scored:
    b = ctx.batch
    # Rows without an output carry a base error and never reach a scorer.
    calls = [(cast(Sample, b.samples[r]).as_dict(), b.items[r]) for r in rows]
    pool = ctx.session.python_pool(node)

    def progress(done: int, total: int) -> None:
        waiting = pool.waiting()  # while the count stands still: say why, and for how long at most
        ctx.report(done, total, Stage.SANDBOX, f"python grader {node.name or ''}", waiting,
                   pool.timeout if waiting else None)

    results = pool.run(calls, progress=progress, cancel=ctx.cancel)
    return pool_results(ctx, rows, results)


def pool_results(ctx: GradingContext, rows: list[int], results: list[PythonCallResult]) -> Scored:
    """Sandbox pool results as a scorer's answer; rows a cancelled run never reached are cancelled errors."""
    out, errs = [0.0] * len(rows), {}
    for j, (r, res) in enumerate(zip(rows, results)):
        if res.error:
            status = RowStatus.CANCELLED if res.cancelled else \
                RowStatus.TIMED_OUT if res.timed_out else RowStatus.FAILED
            if res.cancelled:
                ctx.cancelled = True
            errs[r] = RowErrors({res.error: res.details or ""}, status)
        else:
            out[j] = res.reward
    if len(results) < len(rows):  # a cancelled run may return fewer results
        ctx.cancelled = True
        for r in rows[len(results):]:
            errs[r] = RowErrors({ROW_ERROR.OTHER: CANCELLED}, RowStatus.CANCELLED)
    return out, errs
