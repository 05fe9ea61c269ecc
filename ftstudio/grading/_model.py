"""score_model and label_model: one chat request per row through the bounded, cached model runner."""

from __future__ import annotations

import math

from ftstudio.core import ROW_ERROR
from ftstudio.graders import LabelModelGrader, ScoreModelGrader

from ._context import GradingContext, Scored
from ._model_requests import build_requests, interpret
from ._progress import Stage
from ._results import RowErrors, call_status


def score(node: ScoreModelGrader | LabelModelGrader, ctx: GradingContext, rows: list[int]) -> Scored:
    requests, render_errs = build_requests(node, ctx.batch, rows)
    errs: dict[int, RowErrors] = {r: RowErrors({code: msg}) for r, (code, msg) in render_errs.items()}
    out = [0.0] * len(rows)
    todo = [j for j, req in enumerate(requests) if req is not None]
    endpoint = ctx.session.endpoint
    if todo and not endpoint.configured:
        msg = ("no model endpoint configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for other servers), "
               "or configure one in the app")
        for j in todo:
            errs[rows[j]] = RowErrors({ROW_ERROR.MODEL_SERVER: msg})
        return out, errs
    results = ctx.session.runner().chat([req for req in requests if req is not None],
                                  progress=lambda d, t: ctx.report(d, t, Stage.REQUESTS, f"{node.type} {node.name}"),
                                  cancel=ctx.cancel)
    for j, res in zip(todo, results):
        r = rows[j]
        ctx.add_usage(res.model or node.model, res.usage)
        if res.error:
            if res.cancelled:
                ctx.cancelled = True
            errs[r] = RowErrors({res.error[0]: res.error[1]}, call_status(res))
            continue
        reward, err = interpret(node, res.value or {})
        if err:
            errs[r] = RowErrors({err[0]: err[1]})
        else:
            out[j] = reward if math.isfinite(reward) else 0.0
    return out, errs
