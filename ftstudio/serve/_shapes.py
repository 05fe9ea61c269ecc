"""The wire shapes: request bodies into engine rows (a wrong shape is an ApiProblem naming the JSON path) and
GradeResults into the official GraderRunResponse, the Azure score and the OpenRLHF reward lists."""

from __future__ import annotations

from typing import Any

from ftstudio.core import DEFAULT_SAMPLE_FIELD, compact_json
from ftstudio.grading import GradeResults, Planned, completion_text, item_from_label, strip_prompt

from ._errors import ApiProblem, missing, wrong_type

# metadata.errors of a graders.run response: every flag, and the string that carries a flag's details.
ERROR_FLAGS = ("formula_parse_error", "sample_parse_error", "truncated_observation_error",
               "unresponsive_reward_error", "invalid_variable_error", "other_error", "python_grader_server_error",
               "python_grader_runtime_error", "model_grader_server_error", "model_grader_refusal_error",
               "model_grader_parse_error")
DETAIL_FIELDS = {"python_grader_server_error": "python_grader_server_error_type",
                 "python_grader_runtime_error": "python_grader_runtime_error_details",
                 "model_grader_server_error": "model_grader_server_error_details"}


def need_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise wrong_type("body", "an object", body) from None
    return body


def free_field(items: list[dict[str, Any]]) -> str:
    """A row field name for the model output that no item already uses (items are passed through whole)."""
    name = DEFAULT_SAMPLE_FIELD
    while any(name in item for item in items):
        name = "_" + name
    return name


# -- graders.run ---------------------------------------------------------------------------------

def run_parts(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(item, model_sample) from a graders.run body, checked."""
    if body.get("grader") is None:
        raise missing("grader")
    sample = body.get("model_sample")
    if sample is None:
        raise missing("model_sample")
    if not isinstance(sample, str):
        raise wrong_type("model_sample", "a string", sample)
    item = body.get("item")
    if item is None:
        item = {}
    if not isinstance(item, dict):
        raise wrong_type("item", "an object", item)
    return item, sample


def row_of(item: dict[str, Any], sample: str) -> tuple[dict[str, Any], str]:
    """({**item, field: sample}, field): the engine's row, the output under a field no item key uses."""
    field = free_field([item])
    return {**item, field: sample}, field


def run_response(results: GradeResults) -> dict[str, Any]:
    """GradeResults of one row as the official GraderRunResponse (every key present, null where empty)."""
    rec = results.record(0)
    errors = _errors(rec["error_details"] or {})
    usage = {model: {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                     "total_tokens": u.total_tokens, "cached_tokens": u.cached_tokens}
             for model, u in results.token_usage.items()}
    return _run_body(results.grader_name, results.grader_type, rec["reward"], rec["sub_rewards"], errors, usage,
                     results.elapsed)


def _errors(details: dict[str, str]) -> dict[str, Any]:
    """metadata.errors: every flag, true for the row's; each details field its text, else null."""
    errors: dict[str, Any] = {}
    for flag in ERROR_FLAGS:
        errors[flag] = flag in details
        if flag in DETAIL_FIELDS:
            errors[DETAIL_FIELDS[flag]] = (details.get(flag) or None) if flag in details else None
    return errors


_NO_ERRORS = _errors({})  # a row without errors


def planned_run_response(grader_name: str, grader_type: str, planned: Planned, elapsed: float) -> dict[str, Any]:
    """run_response for a row the small-call plan graded (GradingSession.score_columns): no errors, no tokens."""
    rewards, subs = planned
    return _run_body(grader_name, grader_type, rewards[0], {k: v[0] for k, v in subs.items()}, dict(_NO_ERRORS), {},
                     elapsed)


def _run_body(name: str, kind: str, reward: float, subs: dict[str, float], errors: dict[str, Any],
              usage: dict[str, dict[str, int]], elapsed: float) -> dict[str, Any]:
    total = sum(u["total_tokens"] for u in usage.values())
    return {
        "reward": reward,
        "metadata": {"name": name, "type": kind, "errors": errors,
                     "execution_time": elapsed, "scores": dict(subs),
                     "token_usage": total if usage else None,
                     "sampled_model_name": next(iter(usage), None)},
        "sub_rewards": dict(subs),
        "model_grader_token_usage_per_model": usage,
    }


# -- Azure endpoint grader -----------------------------------------------------------------------

def score_row(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """An Azure endpoint-grader body {sample, item, trace_id} as one engine row.

    The engine grades the sample's output text; a sample without output_text falls back to its output_json
    (as compact JSON) and then to the first choice's message content.
    """
    if "sample" not in body or body["sample"] is None:
        raise missing("sample")
    sample = body["sample"]
    if isinstance(sample, str):
        text = sample
    elif isinstance(sample, dict):
        text = _sample_text(sample)
    else:
        raise wrong_type("sample", "an object", sample)
    item = body.get("item")
    if item is None:
        item = {}
    if not isinstance(item, dict):
        raise wrong_type("item", "an object", item)
    trace = body.get("trace_id")
    if trace is not None and not isinstance(trace, str):
        raise wrong_type("trace_id", "a string", trace)
    field = free_field([item])
    return {**item, field: text}, field


def _sample_text(sample: dict[str, Any]) -> str:
    text = sample.get("output_text")
    if isinstance(text, str):
        return text
    if sample.get("output_json") is not None:
        return compact_json(sample["output_json"])
    choices = sample.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return completion_text(choices[0].get("message") or "")
    return ""


# -- OpenRLHF remote reward ----------------------------------------------------------------------

def openrlhf_rows(body: dict[str, Any], max_rows: int) -> tuple[list[dict[str, Any]], str]:
    """{query: [...], prompts: [...], labels: [...]} as rows: completion = query minus prompt, item from label."""
    queries = body.get("query")
    if queries is None:
        raise missing("query")
    if isinstance(queries, str):
        queries = [queries]
    if not isinstance(queries, list):
        raise wrong_type("query", "an array of strings", queries)
    if len(queries) > max_rows:
        raise too_many_rows("query", len(queries), max_rows)
    prompts = _aligned(body, "prompts", len(queries), "")
    labels = _aligned(body, "labels", len(queries), "")  # as OpenRLHF sends without --data.label_key
    for name, values in (("query", queries), ("prompts", prompts)):
        for i, v in enumerate(values):
            if not isinstance(v, str):
                raise wrong_type(f"{name}[{i}]", "a string", v)
    items = [item_from_label(label) for label in labels]
    field = free_field(items)
    return [{**item, field: strip_prompt(q, p)} for item, q, p in zip(items, queries, prompts)], field


def _aligned(body: dict[str, Any], name: str, n: int, default: Any) -> list[Any]:
    values = body.get(name)
    if values is None:
        return [default] * n
    if isinstance(values, str) and n == 1:
        return [values]
    if not isinstance(values, list):
        raise wrong_type(name, "an array", values)
    if len(values) != n:
        raise ApiProblem(400, f"'{name}' has {len(values)} entries but 'query' has {n}: send one per query.",
                         param=name, code="invalid_value")
    return values


def openrlhf_response(results: GradeResults) -> dict[str, Any]:
    rewards = list(results.rewards)
    logs: dict[str, list[float]] = {k: list(v) for k, v in results.sub_rewards.items()}
    logs["grader_error"] = [1.0 if i in results.errors else 0.0 for i in range(len(results))]
    return {"rewards": rewards, "scores": rewards, "extra_logs": logs}


# -- batch ---------------------------------------------------------------------------------------

def grade_rows(body: dict[str, Any], max_rows: int) -> tuple[list[Any], str]:
    rows = body.get("rows")
    if rows is None:
        raise missing("rows")
    if not isinstance(rows, list):
        raise wrong_type("rows", "an array of objects", rows)
    if len(rows) > max_rows:
        raise too_many_rows("rows", len(rows), max_rows)
    field = body.get("sample_field")
    if field is None:
        field = DEFAULT_SAMPLE_FIELD
    if not isinstance(field, str):
        raise wrong_type("sample_field", "a string", field)
    if not field:
        raise ApiProblem(400, "'sample_field' is empty: name the row field that holds the model output "
                         "(or leave it out for 'model_sample').", param="sample_field", code="invalid_value")
    return rows, field


def too_many_rows(param: str, n: int, limit: int) -> ApiProblem:
    return ApiProblem(413, f"This request has {n:,} rows; the limit is {limit:,} rows per request (--max-rows). "
                      "Split it into smaller requests.", param=param, code="too_many_rows")
