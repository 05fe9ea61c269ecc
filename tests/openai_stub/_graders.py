"""POST /fine_tuning/alpha/graders/{validate,run}: the stub's stand-in for the official grader service."""

from __future__ import annotations

import json
import math
import numbers
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from ._chat import model_answer
from ._errors import ApiError
from ._grader_check import check_grader
from ._metrics import FormulaError, MetricUnavailable, evaluate_formula, text_similarity
from ._templates import RenderError, python_sample, render, render_deep, sample_namespace

_STEPS = {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                     "properties": {"description": {"type": "string"},
                                                    "conclusion": {"type": "string"}},
                                     "required": ["description", "conclusion"]}}


@dataclass(frozen=True)
class GraderSettings:
    """A snapshot of the stub's grader controls, taken once per request."""
    unknown_models: frozenset[str] = frozenset()
    reward_offset: float = 0.0
    reward_overrides: dict[str, float] = field(default_factory=dict)
    token_usage_style: str = "int"  # "int" (SPEC/SDK) or "object" (the API reference's example)
    allow_top_level_label_model: bool = False


def empty_errors() -> dict[str, Any]:
    return {"formula_parse_error": False, "sample_parse_error": False, "truncated_observation_error": False,
            "unresponsive_reward_error": False, "invalid_variable_error": False, "other_error": False,
            "python_grader_server_error": False, "python_grader_server_error_type": None,
            "python_grader_runtime_error": False, "python_grader_runtime_error_details": None,
            "model_grader_server_error": False, "model_grader_refusal_error": False,
            "model_grader_parse_error": False, "model_grader_server_error_details": None}


@dataclass
class _Run:
    settings: GraderSettings
    item: dict[str, Any]
    sample: dict[str, Any]
    errors: dict[str, Any] = field(default_factory=empty_errors)
    usage: dict[str, dict[str, int]] = field(default_factory=dict)
    sampled_model: str | None = None

    def flag(self, name: str, details: tuple[str, str] | None = None) -> float:
        self.errors[name] = True
        if details and self.errors.get(details[0]) is None:
            self.errors[details[0]] = details[1]
        return 0.0


def validate(body: Any, settings: GraderSettings) -> dict[str, Any]:
    grader = body.get("grader") if isinstance(body, dict) else None
    if grader is None:
        raise ApiError(400, "Missing required parameter: 'grader'.", param="grader", code="missing_required_parameter")
    check_grader(grader, allow_label_top=settings.allow_top_level_label_model)
    return {"grader": grader}


def run(body: Any, settings: GraderSettings) -> dict[str, Any]:
    if not isinstance(body, dict) or "grader" not in body:
        raise ApiError(400, "Missing required parameter: 'grader'.", param="grader", code="missing_required_parameter")
    if not isinstance(body.get("model_sample"), str):
        raise ApiError(400, "Missing required parameter: 'model_sample'.", param="model_sample",
                       code="missing_required_parameter")
    item = body.get("item") if body.get("item") is not None else {}
    if not isinstance(item, dict):
        raise ApiError(400, "Invalid type for 'item': expected an object.", param="item", code="invalid_type")
    grader = body["grader"]
    # Run checks structure only: template, formula and source problems come back as error flags.
    check_grader(grader, full=False, allow_label_top=settings.allow_top_level_label_model)
    state = _Run(settings, item, sample_namespace(body["model_sample"]))
    started = time.perf_counter()
    reward, sub_rewards = _grade_top(grader, state)
    if grader["name"] in settings.reward_overrides:
        reward = settings.reward_overrides[grader["name"]]
    reward += settings.reward_offset
    total = sum(u["total_tokens"] for u in state.usage.values())
    token_usage: Any = None
    if state.usage:
        token_usage = total if settings.token_usage_style == "int" else {
            k: sum(u[k] for u in state.usage.values())
            for k in ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens")}
    return {
        "reward": reward,
        "metadata": {"name": grader["name"], "type": grader["type"], "errors": state.errors,
                     "execution_time": time.perf_counter() - started, "scores": dict(sub_rewards),
                     "token_usage": token_usage, "sampled_model_name": state.sampled_model},
        "sub_rewards": sub_rewards,
        "model_grader_token_usage_per_model": state.usage,
    }


def _grade_top(grader: dict[str, Any], state: _Run) -> tuple[float, dict[str, float]]:
    if grader["type"] != "multi":
        return _grade_leaf(grader, state), {}
    sub_rewards: dict[str, float] = {}
    for key, sub in grader["graders"].items():
        reward = _grade_leaf(sub, state)
        sub_rewards[key] = state.settings.reward_overrides.get(sub["name"], reward)
    if any(v for k, v in state.errors.items() if isinstance(v, bool)):
        return 0.0, sub_rewards  # an invalid sample scores 0, whatever the formula says
    try:
        return evaluate_formula(grader["calculate_output"], sub_rewards), sub_rewards
    except FormulaError:
        return state.flag("formula_parse_error"), sub_rewards
    except (ArithmeticError, ValueError, TypeError):
        # Formula failures at run time: the docs name only formula_parse_error for formula problems.
        return state.flag("formula_parse_error"), sub_rewards


def _grade_leaf(grader: dict[str, Any], state: _Run) -> float:
    try:
        kind = grader["type"]
        if kind == "python":
            return _python(grader["source"], state)
        if kind in ("score_model", "label_model"):
            return _model(grader, state)
        hypothesis = render(grader["input"], state.item, state.sample)
        reference = render(grader["reference"], state.item, state.sample)
        if kind == "string_check":
            op = grader["operation"]
            ok = {"eq": hypothesis == reference, "ne": hypothesis != reference, "like": reference in hypothesis,
                  "ilike": reference.lower() in hypothesis.lower()}[op]
            return 1.0 if ok else 0.0
        return text_similarity(grader["evaluation_metric"], hypothesis, reference)
    except RenderError as exc:
        return state.flag(exc.flag)
    except MetricUnavailable:
        return state.flag("other_error")


def _python(source: str, state: _Run) -> float:
    namespace: dict[str, Any] = {"__name__": "grader"}
    try:
        exec(compile(source, "<grader>", "exec"), namespace)  # test-only, trusted source
        result = namespace["grade"](python_sample(state.sample), state.item)
    except BaseException as exc:  # a grader may raise anything, even SystemExit
        details = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return state.flag("python_grader_runtime_error", ("python_grader_runtime_error_details", details))
    if isinstance(result, bool) or not isinstance(result, numbers.Real) or not math.isfinite(float(result)):
        return state.flag("python_grader_runtime_error",
                          ("python_grader_runtime_error_details", f"grade() returned a non-numeric value: {result!r}"))
    return float(result)


def _model(grader: dict[str, Any], state: _Run) -> float:
    messages = [{"role": m["role"], "content": render_deep(m["content"], state.item, state.sample)}
                for m in grader["input"]]
    model = grader["model"]
    if model in state.settings.unknown_models:
        return state.flag("model_grader_server_error", (
            "model_grader_server_error_details", f"The model `{model}` does not exist or you do not have access to it."))
    labels = grader.get("labels") if grader["type"] == "label_model" else None
    result_schema = {"type": "string", "enum": labels} if labels is not None else {"type": "number"}
    schema = {"type": "object", "additionalProperties": False, "required": ["steps", "result"],
              "properties": {"steps": _STEPS, "result": result_schema}}
    answer = model_answer(messages, {"type": "json_schema",
                                     "json_schema": {"name": "grader_output", "strict": True, "schema": schema}})
    if answer.delay:
        time.sleep(answer.delay)
    if answer.status is not None and answer.status >= 400:
        return state.flag("model_grader_server_error", ("model_grader_server_error_details",
                                                        f"Error code: {answer.status}"))
    state.sampled_model = state.sampled_model or model
    usage = state.usage.setdefault(model, {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0,
                                           "cached_tokens": 0})
    usage["prompt_tokens"] += answer.prompt_tokens
    usage["completion_tokens"] += answer.completion_tokens
    usage["total_tokens"] += answer.prompt_tokens + answer.completion_tokens
    if answer.refusal is not None:
        return state.flag("model_grader_refusal_error")
    try:
        result = json.loads(answer.content or "")["result"]
    except (ValueError, TypeError, KeyError):
        return state.flag("model_grader_parse_error")
    if labels is not None:
        if result not in labels:
            return state.flag("model_grader_parse_error")
        return 1.0 if result in grader["passing_labels"] else 0.0
    if isinstance(result, bool) or not isinstance(result, (int, float)):
        return state.flag("model_grader_parse_error")  # non-numeric output scores 0
    low, high = grader.get("range") or [0, 1]
    return float(min(max(result, low), high))
