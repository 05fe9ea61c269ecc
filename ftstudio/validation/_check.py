"""check(config, dataset_fields=None) -> list[Issue]; never raises.

Runs on every UI rerun and in `ftstudio validate`. Works on the JSON form, so a config that
fails the schema still gets its formula, template and model checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from ftstudio.config import METHODS, JobConfig
from ftstudio.core import DEFAULT_MODEL, Issue, find_secrets, internal_issue, join_path, json_issue, sort_issues
from ftstudio.graders import GraderRoot

from ._grader_rules import GraderChecker, model_notes
from ._schema_issues import schema_issues

GRADER_PATH = ("method", "reinforcement", "grader")
_SUFFIX_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")


def as_data(obj: Any) -> Any:
    """The JSON form of a config or grader (models are dumped; dicts pass through)."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json", exclude_none=True)
    return obj


def check(config: Any, dataset_fields: Iterable[str] | None = None) -> list[Issue]:
    """Validate a whole job config (JobConfig or its JSON dict)."""
    issues: list[Issue] = []  # filled as the checks go, so a failing check keeps what the others found
    try:
        data = as_data(config)
        # Data export can't write (NaN, lone surrogates, deep nesting) gets that one issue: the other
        # checks walk recursively and would say less.
        bad = json_issue(data)
        return [bad] if bad else sort_issues(_check_config(data, dataset_fields, issues))
    except RecursionError:
        return [_TOO_DEEP]
    except Exception as exc:  # never raise: a bug here must not take a page down; logged with its traceback
        return sort_issues(_dedupe(issues) + [internal_issue("validation", exc)])


def check_grader(grader: Any, dataset_fields: Iterable[str] | None = None, *, reinforcement: bool = True,
                 has_response_format: bool = False) -> list[Issue]:
    """Validate a bare grader, as the top-level reinforcement grader by default. Paths are relative."""
    issues: list[Issue] = []
    rules: list[Issue] = []  # the grader rules' findings so far (the checker appends as it walks)
    try:
        data = as_data(grader)
        bad = json_issue(data)
        if bad:
            return [bad]
        issues += _schema(data, grader_only=True)
        issues += _secrets(data)
        checker = GraderChecker(dataset_fields, reinforcement, has_response_format)
        rules = checker.out
        checker.check(data, ())
        return sort_issues(_dedupe(issues + rules))
    except RecursionError:
        return [_TOO_DEEP]
    except Exception as exc:  # as in check(): keep every other finding, log the traceback
        return sort_issues(_dedupe(issues + rules) + [internal_issue("validation", exc)])


# Only reachable when the caller's own stack is nearly exhausted; json_issue catches deep data first.
_TOO_DEEP = Issue(path="", severity="error", code="json_value_invalid", message="the document nests too deeply to check",
                  hint="a job config nests objects and arrays a few levels deep, not hundreds", blocks_grading=True)


def blocks_grading(issues: Iterable[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error" and i.blocks_grading]


def errors(issues: Iterable[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


def _schema(data: Any, grader_only: bool = False) -> list[Issue]:
    if not isinstance(data, dict):
        what = "a grader" if grader_only else "a job config"
        return [Issue(path="", severity="error", code="schema_not_object", message=f"expected {what} as a JSON object, got {type(data).__name__}",
                      hint="", blocks_grading=True)]
    try:
        if grader_only:
            GraderRoot.model_validate({"grader": data})
        else:
            JobConfig.model_validate(data)
    except ValidationError as exc:
        if grader_only:
            return schema_issues(exc, {"grader": data}, GraderRoot, strip=1, grader_prefix=("grader",))
        return schema_issues(exc, data, JobConfig, grader_prefix=GRADER_PATH)
    return []


def _secrets(data: Any, prefix: tuple = ()) -> list[Issue]:
    return [Issue(path=join_path(prefix + p), severity="error", code="secret_in_config", message="this value looks like an API key",
                  hint="remove it; keys never belong in a config, and exports replace it with [REDACTED]")
            for p in find_secrets(data)]


def _check_config(data: Any, dataset_fields, issues: list[Issue]) -> list[Issue]:
    issues += _schema(data)
    if not isinstance(data, dict):
        return issues
    issues += _secrets(data)
    issues += _job_fields(data)
    method = data.get("method")
    mtype = method.get("type") if isinstance(method, dict) else None
    model = data.get("model")
    if isinstance(model, str) and model.strip():
        issues += model_notes(model, ("model",), method=mtype if mtype in METHODS else "supervised")
        if model.startswith("ft:"):
            issues.append(Issue(path="model", severity="info", code="model_fine_tuned",
                                message="continues training from a fine-tuned model; it must come from the same method"))
    if isinstance(method, dict):
        issues += _method(method, data, dataset_fields)
    elif method is None:
        issues.append(Issue(path="method", severity="info", code="method_missing",
                            message="no method: the API runs supervised fine-tuning with the deprecated top-level "
                            "hyperparameters", hint="set method.type explicitly"))
    return _dedupe(issues)


def _job_fields(data: dict) -> list[Issue]:
    out = []
    for key, hint in (("model", f"e.g. {DEFAULT_MODEL}"),
                      ("training_file", "upload a JSONL file (purpose fine-tune) and use its id, file-...")):
        if isinstance(data.get(key), str) and not data[key].strip():
            out.append(Issue(path=key, severity="error", code=f"{key}_empty", message=f"{key} is empty", hint=hint))
    train, valid = data.get("training_file"), data.get("validation_file")
    for key in ("training_file", "validation_file"):
        val = data.get(key)
        if isinstance(val, str) and val.strip() and not val.startswith("file-"):
            out.append(Issue(path=key, severity="warning", code="file_id_format", message=f"{val!r} does not look like a file id (file-...)",
                             hint="upload the JSONL with purpose fine-tune and paste the returned id"))
    if isinstance(train, str) and train and train == valid:
        out.append(Issue(path="validation_file", severity="warning", code="validation_same_as_training",
                         message="validation_file is the training file", hint="the validation data must not overlap training"))
    suffix = data.get("suffix")
    if isinstance(suffix, str) and suffix and len(suffix) <= 64 and not _SUFFIX_CHARS.match(suffix):
        out.append(Issue(path="suffix", severity="warning", code="suffix_characters",
                         message="suffix has characters other than letters, digits, '.', '_' and '-'",
                         hint="the allowed set is undocumented; ':' in particular would break the model name"))
    if data.get("hyperparameters") is not None:
        out.append(Issue(path="hyperparameters", severity="warning", code="hyperparameters_deprecated",
                         message="top-level hyperparameters are deprecated",
                         hint="move them to method.<type>.hyperparameters (Azure ignores them when method is set)"))
    return out


def _method(method: dict, data: dict, dataset_fields) -> list[Issue]:
    out = []
    mtype = method.get("type")
    if mtype not in METHODS:
        return out
    for other in METHODS:
        if other != mtype and method.get(other) is not None:
            out.append(Issue(path=f"method.{other}", severity="error", code="method_block_mismatch",
                             message=f"method.type is {mtype!r} but a {other!r} block is present",
                             hint=f"remove method.{other}, or set method.type to {other!r}"))
    if mtype == "reinforcement":
        block = method.get("reinforcement")
        if not isinstance(block, dict):
            if block is None:
                out.append(Issue(path="method.reinforcement", severity="error", code="reinforcement_missing",
                                 message="reinforcement needs a method.reinforcement block with a grader", hint="add a grader",
                                 blocks_grading=True))
            return out
        if not data.get("validation_file"):
            out.append(Issue(path="validation_file", severity="warning", code="reinforcement_validation_file",
                             message="reinforcement fine-tuning needs a validation file in practice",
                             hint="the RFT guide passes both a training and a validation file"))
        if block.get("response_format") is not None:
            out.append(Issue(path="method.reinforcement.response_format", severity="info", code="response_format_untyped",
                             message="response_format is in the RFT guide but not in the SDK or spec types",
                             hint="the SDK sends it unchanged; a type checker will flag it"))
        grader = block.get("grader")
        if grader is not None:
            out += GraderChecker(dataset_fields, True, block.get("response_format") is not None).check(grader, GRADER_PATH)
    return out


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen, out = set(), []
    for i in issues:
        key = (i.path, i.code, i.message)
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out
