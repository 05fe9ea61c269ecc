"""lambda (Amazon Bedrock): a reward function that runs on AWS, or locally from a handler file.

Without AWS there is nothing to call, so rows get other_error "lambda graders run on Bedrock"
unless the user points the function ARN at a local handler file (GradeOptions.lambda_handlers,
`ftstudio grade --lambda-handler ARN=handler.py`). That file runs in the python sandbox, called
with the event Bedrock sends: a list of {"id", "messages" (the prompt plus the generated assistant
turn), ...the row's other fields such as reference_answer}; it returns a list of
{"id", "aggregate_reward_score", "metrics_list"?}.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from ftstudio.core import ErrorCode, RowErrors, Unavailable

from .._light import Field
from .._models import GraderModel, StrictModel
from ._type import GENERIC_FIX, Checker, GraderType, Rows, Scored, ScoringContext, Translation, as_is
from ._type import Path as JsonPath
from .python import pool_results, sandbox_progress


class LambdaFunction(StrictModel):
    function: str = Field(description="The Lambda function ARN")


class LambdaGrader(GraderModel):
    """Bedrock's reward function: {"type": "lambda", "lambda": {"function": ARN}}."""

    type: Literal["lambda"] = "lambda"
    name: str | None = None
    lambda_: LambdaFunction = Field(alias="lambda")
    model_config = {"extra": "forbid", "populate_by_name": True, "serialize_by_alias": True}


def default(name: str) -> LambdaGrader:
    return LambdaGrader.model_validate({"name": name, "lambda": {"function": "<the Lambda function ARN>"}})

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


def score(node: LambdaGrader, ctx: ScoringContext, rows: list[int]) -> Scored:
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
    results = pool.run(calls, progress=sandbox_progress(ctx, pool, f"lambda {Path(path).name}"), cancel=ctx.cancel)
    return pool_results(ctx, rows, results)


_ARN = re.compile(r"^arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:"
                  r"[a-zA-Z0-9-_\.]+(:(\$LATEST|[a-zA-Z0-9-_]+))?$")


def check(c: Checker, g: dict[str, Any], path: JsonPath, depth: int) -> None:
    fn = g.get("lambda", {}).get("function") if isinstance(g.get("lambda"), dict) else None
    if c.is_placeholder(fn):
        c.add(path + ("lambda", "function"), "model_placeholder",
              f"{fn!r} is a placeholder to replace with the Lambda function ARN")
    elif isinstance(fn, str) and not _ARN.match(fn):
        c.add(path + ("lambda", "function"), "lambda_arn", f"{fn!r} is not a Lambda function ARN",
              "arn:aws:lambda:<region>:<12-digit account>:function:<name>")


def explain(node: LambdaGrader, batch: Rows) -> dict[str, Any]:
    return {}  # the event is the row itself


def _elsewhere(target: str) -> Unavailable:
    return Unavailable(f"lambda graders run only on Amazon Bedrock, not on the {target} target", "lambda_grader",
                       "grade locally with --lambda-handler ARN=handler.py")


_TARGETS: dict[str, Translation | Unavailable] = {"bedrock": as_is}
_TARGETS.update({t: _elsewhere(t) for t in ("openai", "azure", "compatible")})

TYPE = GraderType(
    name="lambda", model=LambdaGrader, order=80, default=default, remote=True, calls_model=False, inline=False,
    score=score, check=check, explain=explain, fix=lambda node, probe: GENERIC_FIX.get(probe, "tighten the grader"),
    targets=_TARGETS,
)
