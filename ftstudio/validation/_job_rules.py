"""Job-level checks that depend on the provider target or on evidence beyond the schema.

response_format (RFT), agentic RFT tools / max_episode_steps (Azure), suffix (Bedrock) and
OpenAI's wind-down. Each finding names its rule; the registry gives the severity per target.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ftstudio.config import catalog
from ftstudio.core import Issue, join_path

from ._rules import issue

# The last day OpenAI accepts new fine-tuning jobs (data/models.json "providers"; deprecations page).
_OPENAI = catalog.provider("openai")
OPENAI_JOBS_CLOSE = _OPENAI.new_jobs_until if _OPENAI and _OPENAI.new_jobs_until else dt.date(2027, 1, 6)
OPENAI_CLOSED = (f"OpenAI no longer accepts new fine-tuning jobs (since {OPENAI_JOBS_CLOSE.isoformat()}); "
                 "Azure OpenAI, Bedrock RFT and Gemini do: see `ftstudio migrate`")


def openai_closed(today: dt.date | None = None) -> bool:
    """True from the day after OPENAI_JOBS_CLOSE (FTSTUDIO_TODAY pins today)."""
    return (today or catalog.today()) > OPENAI_JOBS_CLOSE
_RF = ("method", "reinforcement", "response_format")


def job_target_issues(data: dict, target: str, today: dt.date | None = None) -> list[Issue]:
    out: list[Issue] = []
    today = today or catalog.today()
    if target == "openai":
        if openai_closed(today):
            out.append(issue("", "openai_jobs_closed", OPENAI_CLOSED))
        elif (OPENAI_JOBS_CLOSE - today).days <= 60:
            out.append(issue("", "openai_jobs_closing",
                             f"OpenAI accepts new fine-tuning jobs only until {OPENAI_JOBS_CLOSE.isoformat()}",
                             "Azure OpenAI / Foundry keeps the same job and grader schema"))
    if data.get("suffix") is not None:
        out.append(issue("suffix", "suffix_unsupported",
                         "Bedrock's OpenAI-compatible fine-tuning API does not support suffix", "remove it"))
    method = data.get("method")
    block = method.get("reinforcement") if isinstance(method, dict) else None
    if isinstance(block, dict):
        if "response_format" in block and block["response_format"] is not None:
            out += response_format_issues(block["response_format"], _RF)
        if "tools" in block:
            out += _tools(block.get("tools"), target)
        if "max_episode_steps" in block:
            out += _max_steps(block.get("max_episode_steps"), "tools" in block)
        if isinstance(method, dict) and method.get("type") == "reinforcement" and not data.get("validation_file"):
            out.append(issue("validation_file", "azure_rft_validation_file",
                             "Azure RFT needs a validation file (\"Both a training and a validation dataset must "
                             "be provided\")", "upload one and set validation_file"))
    return out


def response_format_issues(rf: Any, base: tuple) -> list[Issue]:
    where = join_path(base)
    if not isinstance(rf, dict):
        return [issue(where, "response_format_type", "response_format must be an object",
                      '{"type": "json_schema", "json_schema": {"name": ..., "schema": {...}}}')]
    out: list[Issue] = []
    if rf.get("type") != "json_schema":
        return [issue(join_path(base + ("type",)), "response_format_type",
                      f"response_format type {rf.get('type')!r} is not accepted; use json_schema",
                      '{"type": "json_schema", "json_schema": {"name": ..., "schema": {...}}}')]
    if "json_schema" in rf:
        inner, inner_path = rf["json_schema"], base + ("json_schema",)
        if not isinstance(inner, dict):
            return [issue(join_path(inner_path), "response_format_shape", "json_schema must be an object",
                          "{name, schema, strict?}")]
        extra = [k for k in rf if k not in ("type", "json_schema")]
        for k in extra:
            out.append(issue(join_path(base + (k,)), "response_format_shape",
                             f"unexpected field {k!r} beside json_schema", "move it into json_schema or remove it"))
    else:
        inner, inner_path = rf, base
        out.append(issue(where, "response_format_flat",
                         "response_format in the flat form {type, name, schema, strict}",
                         'expected {"type": "json_schema", "json_schema": {"name", "schema", "strict"}} '
                         "(the Chat Completions form; Azure's how-to prints the flat one)"))
    if not isinstance(inner.get("name"), str) or not inner.get("name"):
        out.append(issue(join_path(inner_path + ("name",)), "response_format_shape",
                         "json_schema needs a name", "a short identifier, e.g. \"answer\""))
    if "strict" in inner and not isinstance(inner["strict"], bool) and inner["strict"] is not None:
        out.append(issue(join_path(inner_path + ("strict",)), "response_format_shape",
                         f"strict must be true or false (got {inner['strict']!r})"))
    if "schema" not in inner:
        out.append(issue(join_path(inner_path + ("schema",)), "response_format_shape",
                         "json_schema needs a schema", "a JSON Schema object"))
    else:
        out += _schema_errors(inner["schema"], inner_path + ("schema",))
    return out


def _schema_errors(schema: Any, base: tuple) -> list[Issue]:
    from jsonschema import Draft202012Validator, validators  # lazily: only configs with a response_format

    cls = validators.validator_for(schema if isinstance(schema, dict) else {}, default=Draft202012Validator)
    out = []
    for e in sorted(cls(cls.META_SCHEMA).iter_errors(schema), key=lambda e: list(e.absolute_path))[:10]:
        path = base + tuple(e.absolute_path)
        out.append(issue(join_path(path), "response_format_schema_invalid",
                         f"not a valid JSON Schema here: {e.message}",
                         f"checked against the {cls.META_SCHEMA.get('$schema', 'JSON Schema')} meta-schema"))
    return out


def _tools(tools: Any, target: str) -> list[Issue]:
    base = ("method", "reinforcement", "tools")
    out = [issue(join_path(base), "rft_tools",
                 "method.reinforcement.tools is Azure Foundry's agentic RFT (private preview)"
                 + ("" if target == "azure" else f"; the {target} target doesn't take it"),
                 "tools must also appear as function definitions in every dataset row")]
    if not isinstance(tools, list):
        return out + [issue(join_path(base), "rft_tools_shape", "tools must be a list",
                            '[{"name": ..., "server_url": "https://...", "headers": {...}}]')]
    seen = set()
    for i, tool in enumerate(tools):
        p = base + (i,)
        if not isinstance(tool, dict):
            out.append(issue(join_path(p), "rft_tools_shape", "a tool must be an object"))
            continue
        name, url = tool.get("name"), tool.get("server_url")
        if not isinstance(name, str) or not name:
            out.append(issue(join_path(p + ("name",)), "rft_tools_shape", "the tool needs a name"))
        elif name in seen:
            out.append(issue(join_path(p + ("name",)), "rft_tools_shape", f"tool name {name!r} is repeated"))
        seen.add(name)
        if not isinstance(url, str) or not url.startswith("https://"):
            out.append(issue(join_path(p + ("server_url",)), "rft_tools_shape",
                             "server_url must be an https URL", "Azure calls the tool there"))
        for k in tool:
            if k not in ("name", "server_url", "headers"):
                out.append(issue(join_path(p + (k,)), "schema_unknown_field", f"unknown field '{k}'",
                                 "allowed fields here: name, server_url, headers"))
    return out


def _max_steps(value: Any, has_tools: bool) -> list[Issue]:
    where = "method.reinforcement.max_episode_steps"
    out = [issue(where, "rft_max_episode_steps",
                 "max_episode_steps is Azure Foundry's agentic RFT (private preview)"
                 + ("" if has_tools else "; it matters only with tools"))]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        out.append(issue(where, "schema_value", f"max_episode_steps must be an integer >= 1 (got {value!r})",
                         "Azure's samples use 5-10"))
    return out
