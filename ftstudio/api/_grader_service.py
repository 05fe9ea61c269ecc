"""The official grader service: validate a grader, run it on one row.

Calls `client.fine_tuning.alpha.graders.validate` / `.run` through the openai SDK and reads the
answers as plain dicts (the SDK builds the wrong class for map-shaped multi graders, facts §7.6).
Official answers are cached on disk like model-grader answers, so a repeated comparison is free.
"""

from __future__ import annotations

from typing import Any

from ftstudio.core import REWARD_TOLERANCE
from ftstudio.core.records import datarecord
from ftstudio.validation import as_data

from ._calls import ApiError, call, raw_json
from ._endpoint import Endpoint
from ._model_client import ModelCache, cache_key

DIFF_TOLERANCE = REWARD_TOLERANCE  # a local and an official reward closer than this agree


@datarecord
class ValidateResult:
    ok: bool
    message: str
    param: str | None = None
    grader: dict | None = None  # the grader as the API echoed it


def validate_grader(endpoint: Endpoint, grader: Any, **kw) -> ValidateResult:
    data = as_data(grader)
    try:
        resp = call(endpoint, lambda c: c.fine_tuning.alpha.graders.with_raw_response.validate(grader=data),
                    what="validate grader", **kw)
    except ApiError as exc:
        if exc.status == 400:
            return ValidateResult(False, exc.message, exc.param)
        raise
    body = raw_json(resp)
    return ValidateResult(True, "The API accepts this grader.", None, body.get("grader"))


def official_errors(response: dict) -> dict[str, str]:
    """The flags set in metadata.errors, each with its *_details text when there is one."""
    errors = (response.get("metadata") or {}).get("errors") or {}
    out = {}
    for name, value in errors.items():
        if value is True:
            details = errors.get(f"{name}_details") or errors.get(f"{name}_type") or ""
            out[name] = str(details)
    return out


def run_grader(endpoint: Endpoint, request: dict, cache: ModelCache | None = None,
               **call_kw) -> tuple[dict | None, str | None, bool]:
    """One official `graders.run` call: (body, failure, cached). Answers are cached on disk."""
    key = cache_key(endpoint, "grader_run", request)
    if cache is not None:
        hit = cache.get_many([key]).get(key)
        if hit is not None:
            return hit["value"], None, True
    try:
        resp = call(endpoint, lambda c: c.fine_tuning.alpha.graders.with_raw_response.run(**request),
                    what=call_kw.pop("what", "official grading"), **call_kw)
        body = raw_json(resp)
    except (ApiError, ValueError) as exc:
        return None, getattr(exc, "message", str(exc)), False
    if cache is not None:
        cache.put_many({key: {"value": body}})
    return body, None, False
