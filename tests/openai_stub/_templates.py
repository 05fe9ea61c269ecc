"""`{{ item.x }}` / `{{ sample.output_json.a[0] }}` rendering for the stub's graders."""

from __future__ import annotations

import json
import re
from typing import Any

TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_PATH = re.compile(r"^(item|sample)((?:\.[^.\[\]\s]+|\[\d+\]|\[\"[^\"]*\"\]|\['[^']*'\])*)$")
_STEP = re.compile(r"\.([^.\[\]\s]+)|\[(\d+)\]|\[\"([^\"]*)\"\]|\['([^']*)'\]")
_UNPARSED = object()


class RenderError(Exception):
    """`flag` is the run-response error flag this failure maps to."""

    def __init__(self, flag: str, message: str) -> None:
        super().__init__(message)
        self.flag = flag


def template_problems(text: str) -> list[str]:
    """Expressions inside {{ }} that are not item./sample. paths (for /validate)."""
    return [expr for expr in TEMPLATE.findall(text) if not _PATH.match(expr)]


def sample_namespace(model_sample: str) -> dict[str, Any]:
    try:
        output_json: Any = json.loads(model_sample)
    except (TypeError, ValueError):
        output_json = _UNPARSED
    return {
        "output_text": model_sample,
        "output_json": output_json,
        "output_tools": [],
        "output_audio": None,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": model_sample, "tool_calls": []}}],
    }


def python_sample(sample: dict[str, Any]) -> dict[str, Any]:
    """The `sample` dict a python grader receives (output_json is None when unparsable)."""
    return {**sample, "output_json": None if sample["output_json"] is _UNPARSED else sample["output_json"]}


def lookup(expr: str, item: dict[str, Any], sample: dict[str, Any]) -> Any:
    match = _PATH.match(expr)
    if not match:
        raise RenderError("invalid_variable_error", f"invalid template expression: {expr}")
    node: Any = item if match.group(1) == "item" else sample
    walked = match.group(1)
    for key, index, dq, sq in _STEP.findall(match.group(2)):
        if node is _UNPARSED:
            raise RenderError("sample_parse_error", "sample.output_json: the sample is not valid JSON")
        step: Any = int(index) if index else (key or dq or sq)
        walked += f"[{index}]" if index else f".{step}"
        if isinstance(step, int) and isinstance(node, list) and -len(node) <= step < len(node):
            node = node[step]
        elif isinstance(step, str) and isinstance(node, dict) and step in node:
            node = node[step]
        else:
            raise RenderError("invalid_variable_error", f"variable not found: {walked}")
    if node is _UNPARSED:
        raise RenderError("sample_parse_error", "sample.output_json: the sample is not valid JSON")
    return node


def as_text(value: Any) -> str:
    # Strings render as themselves; everything else as compact JSON.
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def render(text: str, item: dict[str, Any], sample: dict[str, Any]) -> str:
    return TEMPLATE.sub(lambda m: as_text(lookup(m.group(1), item, sample)), text)


def render_deep(value: Any, item: dict[str, Any], sample: dict[str, Any]) -> Any:
    """Render every string inside nested message content."""
    if isinstance(value, str):
        return render(value, item, sample)
    if isinstance(value, list):
        return [render_deep(v, item, sample) for v in value]
    if isinstance(value, dict):
        return {k: render_deep(v, item, sample) for k, v in value.items()}
    return value
