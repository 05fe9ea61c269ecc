"""POST /verify in NeMo-Gym's resources-server shape (nemo_gym/base_resources_server.py, NeMo-Gym 0.7.0).

Request: `{responses_create_params, response, ...}`: the rollout's Responses-API request and response, with
the dataset row's own fields at the top level (as NeMo-Gym's environments put `expected_answer`). Those
fields are the grader's item; the response's assistant output text is the sample.
Answer: the request echoed, plus `reward` (and `reward_components`, the sub-rewards, for a multi grader).
A row the grader could not score gets reward 0.0 with `failure_kind: "grader_error"` and its error flags
in `failure_reason`, so NeMo-Gym can tell it from a wrong answer.
"""

from __future__ import annotations

from typing import Any

from ftstudio.grading import GradeResults

from ._errors import missing, wrong_type
from ._shapes import free_field

ENVELOPE = ("responses_create_params", "response")


def output_text(response: dict[str, Any]) -> str:
    """The text of the response's assistant messages (`output[i].content[j]` of type output_text)."""
    output = response.get("output")
    if not isinstance(output, list):
        raise wrong_type("response.output", "an array of output items", output)
    parts = []
    for i, item in enumerate(output):
        if not isinstance(item, dict):
            raise wrong_type(f"response.output[{i}]", "an object", item)
        if item.get("type") != "message":
            continue  # reasoning, function calls: not the answer
        for j, part in enumerate(item.get("content") or []):
            if isinstance(part, dict) and part.get("type") == "output_text":
                text = part.get("text")
                if not isinstance(text, str):
                    raise wrong_type(f"response.output[{i}].content[{j}].text", "a string", text)
                parts.append(text)
    return "".join(parts)


def verify_row(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    for key in ENVELOPE:
        if body.get(key) is None:
            raise missing(key)
    if not isinstance(body["responses_create_params"], dict):
        raise wrong_type("responses_create_params", "an object", body["responses_create_params"])
    if not isinstance(body["response"], dict):
        raise wrong_type("response", "an object (a Responses-API response)", body["response"])
    item = {k: v for k, v in body.items() if k not in ENVELOPE}
    field = free_field([item])
    return {**item, field: output_text(body["response"])}, field


def verify_response(body: dict[str, Any], results: GradeResults, multi: bool) -> dict[str, Any]:
    record = results.record(0)
    out = {**body, "reward": record["reward"]}
    if multi:
        out["reward_components"] = dict(record["sub_rewards"])
    if record["errors"]:
        out["failure_kind"] = "grader_error"
        out["failure_reason"] = ",".join(record["errors"])
    return out
