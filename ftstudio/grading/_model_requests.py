"""score_model and label_model: render the messages per row, ask the model, read its answer.

score_model asks for structured output {steps: [{description, conclusion}], result: number}
and clamps result to `range`; label_model asks for {steps, result: one of labels} and scores 1
when the label is in passing_labels. A refusal is model_grader_refusal_error; anything that
isn't a usable answer is model_grader_parse_error; both score 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from ftstudio.core import ROW_ERROR
from ftstudio.graders import (
    InputAudio,
    InputImage,
    InputText,
    LabelModelGrader,
    OutputText,
    ScoreModelGrader,
    render_column,
)

_STEPS = {"type": "array", "items": {"type": "object", "properties": {
    "description": {"type": "string"}, "conclusion": {"type": "string"}},
    "required": ["description", "conclusion"], "additionalProperties": False}}


def response_format(grader) -> dict[str, Any]:
    if isinstance(grader, ScoreModelGrader):
        lo, hi = grader.range or [0.0, 1.0]
        result = {"type": "number", "description": f"The score, from {lo:g} to {hi:g}"}
        name = "score_model_grader"
    else:
        result = {"type": "string", "enum": list(grader.labels), "description": "The chosen label"}
        name = "label_model_grader"
    schema = {"type": "object", "properties": {"steps": _STEPS, "result": result},
              "required": ["steps", "result"], "additionalProperties": False}
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


def sampling_kwargs(grader) -> dict[str, Any]:
    sp = getattr(grader, "sampling_params", None)
    if sp is None:
        return {}
    out = {"seed": sp.seed, "top_p": sp.top_p, "temperature": sp.temperature,
           "max_completion_tokens": sp.max_completions_tokens, "reasoning_effort": sp.reasoning_effort}
    return {k: v for k, v in out.items() if v is not None}


def build_requests(grader, batch, rows: Sequence[int]):
    """(requests aligned to rows (None where rendering failed), render errors by row)."""
    errs: dict[int, tuple[str, str]] = {}
    rendered: dict[str, list[str | None]] = {}
    sources = _template_sources(grader)
    for key, source in sources.items():
        values, e = render_column(source, batch, rows)
        rendered[key] = values
        for r, err in e.items():
            errs.setdefault(r, err)
    fmt, extra = response_format(grader), sampling_kwargs(grader)
    requests: list[dict | None] = []
    for j, r in enumerate(rows):
        if r in errs:
            requests.append(None)
            continue
        messages = [_message(msg, i, lambda k, j=j: rendered[k][j]) for i, msg in enumerate(grader.input)]
        requests.append({"model": grader.model, "messages": messages, "response_format": fmt, **extra})
    return requests, errs


def _template_sources(grader) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, msg in enumerate(grader.input):
        content = msg.content
        parts = content if isinstance(content, list) else [content]
        for j, part in enumerate(parts):
            key = f"{i}.{j}"
            if isinstance(part, str):
                out[key] = part
            elif isinstance(part, (InputText, OutputText)):
                out[key] = part.text
            elif isinstance(part, InputImage):
                out[key] = part.image_url or ""
            elif isinstance(part, InputAudio):
                out[key] = part.input_audio.data or ""
    return out


def _message(msg, i: int, get) -> dict[str, Any]:
    content = msg.content
    if isinstance(content, str):
        return {"role": msg.role, "content": get(f"{i}.0")}
    parts = content if isinstance(content, list) else [content]
    out = []
    for j, part in enumerate(parts):
        value = get(f"{i}.{j}")
        if isinstance(part, (str, InputText, OutputText)):
            out.append({"type": "text", "text": value})
        elif isinstance(part, InputImage):
            image = {"url": value}
            if part.detail:
                image["detail"] = part.detail
            out.append({"type": "image_url", "image_url": image})
        elif isinstance(part, InputAudio):
            out.append({"type": "input_audio", "input_audio": {"data": value, "format": part.input_audio.format}})
    if msg.role == "assistant":  # assistant turns take text only in chat completions
        return {"role": "assistant", "content": "".join(p.get("text", "") for p in out)}
    return {"role": msg.role, "content": out}


def interpret(grader, value: dict[str, Any]) -> tuple[float, tuple[str, str] | None]:
    """Reward and error for one answer {content, refusal}."""
    if value.get("refusal"):
        return 0.0, (ROW_ERROR.MODEL_REFUSAL, f"the grader model refused: {str(value['refusal'])[:200]}")
    content = value.get("content")
    if not content:
        return 0.0, (ROW_ERROR.MODEL_PARSE, "the grader model returned no content")
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return 0.0, (ROW_ERROR.MODEL_PARSE, f"the answer is not JSON: {content[:200]!r}")
    result = data.get("result") if isinstance(data, dict) else None
    if isinstance(grader, LabelModelGrader):
        if not isinstance(result, str) or result not in grader.labels:
            return 0.0, (ROW_ERROR.MODEL_PARSE, f"the answer's result {result!r} is not one of the labels "
                                                     f"{grader.labels}")
        return (1.0 if result in grader.passing_labels else 0.0), None
    if isinstance(result, bool) or not isinstance(result, (int, float)) or not math.isfinite(result):
        return 0.0, (ROW_ERROR.MODEL_PARSE, f"the answer's result {result!r} is not a number")
    lo, hi = grader.range or [0.0, 1.0]
    return float(min(max(result, lo), hi)), None
