"""lambda (Amazon Bedrock): a reward function that runs on AWS, or locally from a handler file.

Without AWS there is nothing to call, so rows get other_error "lambda graders run on Bedrock"
unless the user points the function ARN at a local handler file (GradeOptions.lambda_handlers,
`ftstudio grade --lambda-handler ARN=handler.py`). That file runs in the python sandbox, called
with the event Bedrock sends: a list of {"id", "messages" (the prompt plus the generated assistant
turn), ...the row's other fields such as reference_answer}; it returns a list of
{"id", "aggregate_reward_score", "metrics_list"?}.
"""

from __future__ import annotations

from pathlib import Path

from ftstudio.core import ErrorCode
from ftstudio.graders import LambdaGrader

from ._context import GradingContext, Scored
from ._progress import Stage
from ._python import pool_results
from ._results import RowErrors

NOT_LOCAL = ("lambda graders run on Bedrock; to grade locally, point the function at a handler file "
             "(ftstudio grade --lambda-handler ARN=handler.py)")

# Appended to the handler file: the sandbox calls grade(sample, item); this builds Bedrock's event.
ADAPTER = '''

def grade(sample, item):
    _handler = globals().get("lambda_handler") or globals().get("handler")
    if _handler is None:
        raise NameError("the handler file defines neither lambda_handler(event, context) nor handler(event, context)")
    _item = dict(item) if isinstance(item, dict) else {}
    _messages = list(_item.pop("messages", None) or [])
    _messages.append({"role": "assistant", "content": sample["output_text"]})
    _record = {"id": str(_item.get("id", "row")), **{k: v for k, v in _item.items() if k != "id"},
               "messages": _messages}
    _out = _handler([_record], None)
    if isinstance(_out, dict) and "body" in _out:
        import json as _json
        _out = _json.loads(_out["body"]) if isinstance(_out["body"], str) else _out["body"]
    _first = _out[0] if isinstance(_out, list) and _out else _out
    if not isinstance(_first, dict) or "aggregate_reward_score" not in _first:
        raise ValueError(f"the handler returned {str(_out)[:120]}, not [{{'id', 'aggregate_reward_score'}}]")
    return float(_first["aggregate_reward_score"])
'''


def handler_source(path: str) -> str:
    return Path(path).read_text(encoding="utf-8") + ADAPTER


def score(node: LambdaGrader, ctx: GradingContext, rows: list[int]) -> Scored:
    arn = node.lambda_.function
    path = ctx.session.options.lambda_handlers.get(arn)
    if path is None:
        return [0.0] * len(rows), {r: RowErrors({ErrorCode.OTHER: NOT_LOCAL}) for r in rows}
    try:
        source = handler_source(path)
    except OSError as exc:
        msg = f"cannot read the lambda handler {path}: {exc.strerror or exc}"
        return [0.0] * len(rows), {r: RowErrors({ErrorCode.OTHER: msg}) for r in rows}
    b = ctx.batch
    calls = [(s.as_dict() if (s := b.samples[r]) is not None else {}, b.items[r]) for r in rows]
    pool = ctx.session.python_pool(node, source)
    results = pool.run(calls, progress=lambda d, t: ctx.report(d, t, Stage.SANDBOX, f"lambda {Path(path).name}"), cancel=ctx.cancel)
    return pool_results(ctx, rows, results)
