"""Turn pydantic's ValidationError into Issues that name the JSON path and the allowed values.

pydantic's `loc` mixes data keys with union-branch labels ('string_check', 'list[...]',
'function-after[...]'); we walk the data alongside it to recover the real JSON path, then keep
the most specific error per place so a user sees one clear message, not one per union branch.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from ftstudio.config import methods_taking, spec_by_name
from ftstudio.core import Issue, join_path
from ftstudio.graders import GRADER_TYPES, REMOTE_GRADER_TYPES, GraderUnion, LightModel

from ._rules import issue

# When several union branches fail at one place, these say the most about what the user meant.
_PREFERRED = {"union_tag_invalid": 0, "union_tag_not_found": 1, "string_pattern_mismatch": 1, "missing": 2,
              "extra_forbidden": 2, "value_error": 3, "literal_error": 3}

_FRIENDLY_UNION = {
    "content": "content must be a string, a content block ({type: input_text|output_text|input_image|"
               "input_audio, ...}) or a list of them",
    "range": "range must be a list of two numbers [low, high]",
}


def schema_issues(exc: ValidationError, data: Any, root_cls: type[BaseModel], strip: int = 0,
                  grader_prefix: tuple | None = None) -> list[Issue]:
    """Issues for a failed validation of `data` against `root_cls`.

    `strip` drops leading path parts (a bare grader is validated wrapped as {"grader": ...});
    errors under `grader_prefix` block grading.
    """
    found: dict[tuple, list[tuple[Any, tuple]]] = {}
    key_errors: set[tuple] = set()
    for err in exc.errors(include_url=False):
        path = data_path(data, err["loc"], err["type"])
        found.setdefault(path, []).append((err, err["loc"]))
        if err["loc"] and err["loc"][-1] == "[key]":
            key_errors.add(path)
    paths = list(found)
    issues = []
    for path in paths:
        # A union reports each failed branch; a deeper error means the data did pick a branch.
        if path not in key_errors and any(len(p) > len(path) and p[: len(path)] == path for p in paths):
            continue
        errs = sorted((e for e, _ in found[path]), key=lambda e: _PREFERRED.get(e["type"], 9))
        blocks = grader_prefix is not None and path[: len(grader_prefix)] == grader_prefix
        issue = _issue(path, errs, data, root_cls, blocks, strip)
        if issue is not None:
            issues.append(issue)
    return issues


def data_path(data: Any, loc: tuple[str | int, ...], etype: str = "") -> tuple[str | int, ...]:
    """The JSON path in `data` of a pydantic error location: union branch labels and '[key]' are
    not part of it; a missing field's name is (etype "missing")."""
    path: list[str | int] = []
    cur = data
    for i, el in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(cur, dict) and isinstance(el, str) and el in cur:
            path.append(el)
            cur = cur[el]
        elif isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur):
            path.append(el)
            cur = cur[el]
        elif last and etype == "missing" and isinstance(el, str):
            path.append(el)
        # else: a union branch label or '[key]'; not part of the JSON path
    return tuple(path)


def _issue(rel: tuple, errs: list[dict], data: Any, root_cls, blocks: bool, strip: int) -> Issue | None:
    err = errs[0]
    etype, msg, ctx = err["type"], err["msg"], err.get("ctx") or {}
    path = rel[strip:]
    where = join_path(path)
    in_content = "content" in path
    field = next((p for p in reversed(path) if isinstance(p, str)), "")
    value = _get(data, rel)
    if etype == "missing":
        return issue(where, "schema_missing", f"missing required field '{field}'",
                     _missing_hint(field), blocks)
    if etype == "extra_forbidden":
        return _extra(where, rel, field, data, root_cls, blocks)
    if etype == "union_tag_not_found":
        if in_content:
            return issue(where, "schema_type_missing", "content block without \"type\"",
                         "use input_text, output_text, input_image or input_audio", blocks)
        return issue(where, "schema_grader_type", f"grader without \"type\"; use one of {', '.join(GRADER_TYPES + REMOTE_GRADER_TYPES)}",
                     "every grader names its type", blocks)
    if etype == "union_tag_invalid":
        expected = ctx.get("expected_tags", "")
        tags = [t.strip().strip("'") for t in str(expected).split(",")]
        if set(tags) <= set(GRADER_TYPES) | set(REMOTE_GRADER_TYPES):  # a grader's type: say so, and list the grader types
            return issue(where, "schema_type_invalid",
                         f"unknown grader type {ctx.get('tag')!r}; one of {', '.join(tags)}", "", blocks)
        return issue(where, "schema_type_invalid", f"unknown type {ctx.get('tag')!r}; use one of {expected}",
                     "", blocks)
    if etype == "value_error" and spec_by_name(field):
        return issue(where, "hyperparameter_range", msg.removeprefix("Value error, "), "", False)
    if etype == "string_pattern_mismatch" and len(path) >= 2 and path[-2] == "graders":
        return issue(where, "multi_key_invalid",
                     f"grader key {path[-1]!r} is not a formula variable name",
                     "use letters, digits and _ (not starting with a digit): calculate_output refers to it", True)
    if etype == "literal_error":
        got = f" (got {value!r})" if value is not None else ""
        hint = "the graders guide spells it 'neq', but the API's enum is 'ne'" if value == "neq" else ""
        return issue(where, "schema_value", f"{field}: {msg[0].lower() + msg[1:]}{got}", hint, blocks)
    if len(errs) > 1 and field in _FRIENDLY_UNION and etype not in _PREFERRED:
        return issue(where, "schema_type", _FRIENDLY_UNION[field], "", blocks)
    if len(errs) > 1:
        msgs = sorted({e["msg"] for e in errs})
        return issue(where, "schema_type", f"{field or 'value'} has the wrong shape: " + "; or ".join(msgs),
                     "", blocks)
    if etype == "value_error":
        return issue(where, "schema_value", msg.removeprefix("Value error, "), "", blocks)
    text = msg
    got = f" (got {_short(value)})" if value is not None else ""
    return issue(where, "schema_" + etype.split("_")[0], f"{field or 'value'}: {text[0].lower() + text[1:]}{got}",
                 "", blocks)


# Fields some provider documents, checked by their own rule (job_rules) instead of "unknown field".
_TARGET_FIELDS = {("method", "reinforcement", "tools"), ("method", "reinforcement", "max_episode_steps")}
# Misspellings seen in published bodies (a find/replace of "val" -> "test"), and old names.
_ALIASES = {"test_file": "validation_file", "etest_samples": "eval_samples", "epochs": "n_epochs",
            "test_interval": "eval_interval"}


def _extra(where, rel, field, data, root_cls, blocks) -> Issue | None:
    path = rel
    parent = path[-2] if len(path) >= 2 else ""
    if tuple(path) in _TARGET_FIELDS:
        return None
    if tuple(path) == ("prompt_loss_weight",) or (parent == "hyperparameters" and field == "prompt_loss_weight"):
        return issue(where, "prompt_loss_weight",
                     "prompt_loss_weight is a legacy /v1/fine-tunes parameter; Azure's docs show it, no spec lists it",
                     "remove it (OpenAI rejects unknown parameters)", False)
    if tuple(path) == ("trainingType",):
        return issue(where, "azure_training_type",
                     "trainingType is Azure-specific (standard | globalStandard | developerTier)",
                     "remove it for other targets", False)
    if field == "l2_multiplier" and "dpo" in path:
        return issue(where, "dpo_l2_multiplier",
                     "l2_multiplier appears only in an Azure docs example, not in Azure's REST spec; it may be "
                     "ignored or rejected", "remove it unless you have confirmed Azure takes it", False)
    if len(path) == 3 and path[:2] == ("method", "dpo") and spec_by_name(field):
        return issue(where, "dpo_flat_hyperparameter",
                     f"{field} belongs in method.dpo.hyperparameters",
                     f"did you mean method.dpo.hyperparameters.{field}? Azure's DPO REST example puts it under method.dpo", False)
    if parent == "hyperparameters" and spec_by_name(field):
        owners = methods_taking(field)
        method = next((p for p in path if p in ("supervised", "dpo", "reinforcement")), "this method")
        return issue(where, "hyperparameter_foreign",
                     f"{field} is a hyperparameter of {' and '.join(owners)}, not of {method}",
                     f"remove it, or switch method.type to {owners[0]}", False)
    allowed = _allowed_fields(root_cls, data, rel[:-1])
    hint = f"allowed fields here: {', '.join(allowed)}" if allowed else "remove it"
    guess = did_you_mean(field, allowed)
    message = f"unknown field '{field}'" + (f"; did you mean '{guess}'?" if guess else "")
    return issue(where, "schema_unknown_field", message, hint, blocks)


def did_you_mean(field: str, allowed: list[str]) -> str | None:
    """The known field a user most likely meant (an alias, else the closest name)."""
    import difflib

    alias = _ALIASES.get(field)
    if alias and (alias in allowed or not allowed):
        return alias
    close = difflib.get_close_matches(field, allowed, n=1, cutoff=0.75)
    return close[0] if close else None


def _missing_hint(field: str) -> str:
    return {
        "model": "name the base model, e.g. gpt-4.1-mini-2025-04-14",
        "training_file": "upload a JSONL file with purpose fine-tune and use its id (file-...)",
        "calculate_output": "combine the grader keys, e.g. (a + b) / 2",
        "grader": "reinforcement needs a grader",
    }.get(field, "add it")


def _get(data: Any, rel: tuple) -> Any:
    cur = data
    for p in rel:
        try:
            cur = cur[p]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_fields(root_cls, data, rel: tuple) -> list[str]:
    """Field names of the model that sits at `rel` in the data (following grader types)."""
    ann: Any = root_cls
    cur = data
    for p in rel:
        cls = _pick_model(ann, cur)
        if cls is not None:
            info = cls.model_fields.get(p)
            if info is None:
                return []
            # pydantic keeps an Annotated field's metadata apart: put the Grader union back.
            union = next((m for m in info.metadata if isinstance(m, GraderUnion)), None)
            ann = Annotated[info.annotation, union] if union is not None else info.annotation
        else:
            ann = _container_item(ann)
            if ann is None:
                return []
        cur = _get(cur, (p,))
    cls = _pick_model(ann, cur)
    return list(cls.model_fields) if cls else []


def _pick_model(ann: Any, value: Any):
    for t in _flat(ann):
        if isinstance(t, type) and issubclass(t, (BaseModel, LightModel)):
            tag = t.model_fields.get("type")
            if tag is None or tag.is_required() or not isinstance(value, dict) or value.get("type") == tag.default:
                return t
    return None


def _container_item(ann: Any):
    for t in _flat(ann):
        origin = typing.get_origin(t)
        if origin in (list, dict):
            return typing.get_args(t)[-1]
    return None


def _flat(ann: Any) -> list:
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(ann)
        # The Grader union is built from the registered grader types: its members, not its base class.
        union = next((m for m in meta if isinstance(m, GraderUnion)), None)
        return [t for m in union.members() for t in _flat(m)] if union is not None else _flat(base)
    if origin in (typing.Union, types.UnionType):
        out = []
        for a in typing.get_args(ann):
            out += _flat(a)
        return out
    return [ann]
