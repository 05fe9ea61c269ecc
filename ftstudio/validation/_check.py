"""check(config, dataset_fields=None, target="openai") -> list[Issue]; never raises.

Runs on every UI rerun and in `ftstudio validate`. Works on the JSON form, so a config that
fails the schema still gets its formula, template and model checks. Each issue's severity comes
from the rules registry for the provider target (`_rules.resolve`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from datetime import date
from typing import Any

from ftstudio.core import Issue, find_secrets, internal_issue, join_path, json_issue, sort_issues
from ftstudio.graders import is_model, parse_grader, validation_error

from ._grader_rules import GraderChecker, model_notes
from ._rules import check_target, issue, resolve
from ._target_rules import config_issues, tree_issues

GRADER_PATH = ("method", "reinforcement", "grader")
_SUFFIX_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")


def as_data(obj: Any) -> Any:
    """The JSON form of a config or grader (models are dumped; dicts pass through)."""
    if is_model(obj):
        return obj.model_dump(mode="json", exclude_none=True)
    return obj


def check(config: Any, dataset_fields: Iterable[str] | None = None, *, target: str | None = None,
          today: date | None = None) -> list[Issue]:
    """Validate a whole job config (JobConfig or its JSON dict) for a provider target (default openai).

    `today` (a date) is for tests: OpenAI's wind-down and model retirements depend on it.
    """
    tgt = check_target(target)
    found: list[Issue] = []  # filled as the checks go, so a failing check keeps what the others found
    try:
        data = as_data(config)
        # Data export can't write (NaN, lone surrogates, deep nesting) gets that one issue: the other
        # checks walk recursively and would say less.
        bad = json_issue(data)
        return [bad] if bad else sort_issues(resolve(_check_config(data, dataset_fields, tgt, today, found), tgt))
    except RecursionError:
        return [_too_deep()]
    except Exception as exc:  # never raise: a bug here must not take a page down; logged with its traceback
        return sort_issues(resolve(_dedupe(found), tgt) + [internal_issue("validation", exc)])


def check_grader(grader: Any, dataset_fields: Iterable[str] | None = None, *, reinforcement: bool = True,
                 has_response_format: bool = False, target: str | None = None) -> list[Issue]:
    """Validate a bare grader, as the top-level reinforcement grader by default. Paths are relative."""
    tgt = check_target(target)
    issues: list[Issue] = []
    rules: list[Issue] = []  # the grader rules' findings so far (the checker appends as it walks)
    try:
        data = as_data(grader)
        bad = json_issue(data)
        if bad:
            return [bad]
        issues += _schema(data, grader_only=True)
        issues += _secrets(data)
        checker = GraderChecker(dataset_fields, reinforcement, has_response_format, tgt)
        rules = checker.out
        checker.check(data, ())
        if not errors(resolve(issues + rules, tgt)):
            rules += tree_issues(data, (), tgt)
        return sort_issues(resolve(_dedupe(issues + rules), tgt))
    except RecursionError:
        return [_too_deep()]
    except Exception as exc:  # as in check(): keep every other finding, log the traceback
        return sort_issues(resolve(_dedupe(issues + rules), tgt) + [internal_issue("validation", exc)])


def _too_deep() -> Issue:
    """Only reachable when the caller's own stack is nearly exhausted (json_issue catches deep data first). Made
    here, since an issue reads the rules registry, which a clean grade never loads (issue 23); the stack gets
    room for that first read."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 500)
    try:
        return issue("", "json_value_invalid", "the document nests too deeply to check",
                     "a job config nests objects and arrays a few levels deep, not hundreds", True)
    finally:
        sys.setrecursionlimit(limit)


def blocks_grading(issues: Iterable[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error" and i.blocks_grading]


def errors(issues: Iterable[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


def _schema(data: Any, grader_only: bool = False) -> list[Issue]:
    if not isinstance(data, dict):
        what = "a grader" if grader_only else "a job config"
        return [issue("", "schema_not_object", f"expected {what} as a JSON object, got {type(data).__name__}",
                      "", True)]
    # JobConfig (its hyperparameter models) and the error translation are imported when used: checking a bare
    # grader that fits imports neither (issue 23, start-up).
    if grader_only:
        try:
            parse_grader(data)
        except validation_error() as exc:  # pydantic is imported only when a grader does not fit
            from ftstudio.graders import GraderRoot

            from ._schema_issues import schema_issues

            return schema_issues(exc, {"grader": data}, GraderRoot, strip=1, grader_prefix=("grader",))
        return []
    from ftstudio.config import JobConfig

    try:
        JobConfig.model_validate(data)
    except validation_error() as exc:
        from ._schema_issues import schema_issues

        return schema_issues(exc, data, JobConfig, grader_prefix=GRADER_PATH)
    return []


def _secrets(data: Any, prefix: tuple = ()) -> list[Issue]:
    return [issue(join_path(prefix + p), "secret_in_config", "this value looks like an API key",
                  "remove it; keys never belong in a config, and exports replace it with [REDACTED]")
            for p in find_secrets(data)]


def _check_config(data: Any, dataset_fields, target: str = "openai", today=None,
                  issues: list[Issue] | None = None) -> list[Issue]:
    from ftstudio.config import METHODS

    # Here: a job's rules read the model table as they load; checking a bare grader reads none (issue 23, start-up).
    from ._job_rules import job_target_issues

    issues = [] if issues is None else issues
    issues += _schema(data)
    if not isinstance(data, dict):
        return issues
    issues += _secrets(data)
    issues += _job_fields(data)
    issues += job_target_issues(data, target, today)
    issues += config_issues(data, target)
    method = data.get("method")
    mtype = method.get("type") if isinstance(method, dict) else None
    model = data.get("model")
    if isinstance(model, str) and model.strip():
        issues += model_notes(model, ("model",), method=mtype if mtype in METHODS else "supervised",
                              target=target, today=today)
        if model.startswith("ft:"):
            issues.append(issue("model", "model_fine_tuned",
                                "continues training from a fine-tuned model; it must come from the same method"))
    if isinstance(method, dict):
        issues += _method(method, data, dataset_fields, target)
    elif method is None:
        issues.append(issue("method", "method_missing",
                            "no method: the API runs supervised fine-tuning with the deprecated top-level "
                            "hyperparameters", "set method.type explicitly"))
    return _dedupe(issues)


def _job_fields(data: dict) -> list[Issue]:
    out = []
    for key, hint in (("model", "e.g. gpt-4.1-mini-2025-04-14"),
                      ("training_file", "upload a JSONL file (purpose fine-tune) and use its id, file-...")):
        if isinstance(data.get(key), str) and not data[key].strip():
            out.append(issue(key, f"{key}_empty", f"{key} is empty", hint))
    train, valid = data.get("training_file"), data.get("validation_file")
    for key in ("training_file", "validation_file"):
        val = data.get(key)
        if isinstance(val, str) and val.strip() and not val.startswith("file-"):
            out.append(issue(key, "file_id_format", f"{val!r} does not look like a file id (file-...)",
                             "upload the JSONL with purpose fine-tune and paste the returned id"))
    if isinstance(train, str) and train and train == valid:
        out.append(issue("validation_file", "validation_same_as_training",
                         "validation_file is the training file", "the validation data must not overlap training"))
    suffix = data.get("suffix")
    if isinstance(suffix, str) and suffix and len(suffix) <= 64 and not _SUFFIX_CHARS.match(suffix):
        out.append(issue("suffix", "suffix_characters",
                         "suffix has characters other than letters, digits, '.', '_' and '-'",
                         "the allowed set is undocumented; ':' in particular would break the model name"))
    if data.get("hyperparameters") is not None:
        out.append(issue("hyperparameters", "hyperparameters_deprecated",
                         "top-level hyperparameters are deprecated",
                         "move them to method.<type>.hyperparameters (Azure ignores them when method is set)"))
    return out


def _method(method: dict, data: dict, dataset_fields, target: str = "openai") -> list[Issue]:
    from ftstudio.config import METHODS

    out = []
    mtype = method.get("type")
    if mtype not in METHODS:
        return out
    for other in METHODS:
        if other != mtype and method.get(other) is not None:
            out.append(issue(f"method.{other}", "method_block_mismatch",
                             f"method.type is {mtype!r} but a {other!r} block is present",
                             f"remove method.{other}, or set method.type to {other!r}"))
    if mtype == "reinforcement":
        block = method.get("reinforcement")
        if not isinstance(block, dict):
            if block is None:
                out.append(issue("method.reinforcement", "reinforcement_missing",
                                 "reinforcement needs a method.reinforcement block with a grader", "add a grader",
                                 True))
            return out
        if not data.get("validation_file"):
            out.append(issue("validation_file", "reinforcement_validation_file",
                             "reinforcement fine-tuning needs a validation file in practice",
                             "the RFT guide passes both a training and a validation file"))
        if block.get("response_format") is not None:
            out.append(issue("method.reinforcement.response_format", "response_format_untyped",
                             "response_format is in the RFT guide but not in the SDK or spec types",
                             "the SDK sends it unchanged; a type checker will flag it"))
        grader = block.get("grader")
        out += _sdk_multi(grader)
        if grader is not None:
            found = GraderChecker(dataset_fields, True, block.get("response_format") is not None,
                                  target).check(grader, GRADER_PATH)
            out += found
            if not errors(resolve(found, target)):
                out += tree_issues(grader, GRADER_PATH, target)
    return out


def _sdk_multi(grader: Any) -> list[Issue]:
    """Once per config, at the first multi grader with a map of graders: the openai SDK's types disagree with the
    API there, and the one line that sends the body anyway."""
    from ftstudio.config import SDK_MULTI_WORKAROUND, multi_map_path  # a job's check only (issue 23, start-up)

    at = multi_map_path(grader)
    if at is None:
        return []
    where = join_path((*GRADER_PATH, *at, "graders"))
    return [issue(where, "multi_graders_sdk_types",
                  "the openai SDK types multi.graders as one grader while the API takes this map, so "
                  "TypeAdapter(JobCreateParams) rejects this correct body (the API accepts it)",
                  f"with the SDK, send method in extra_body: {SDK_MULTI_WORKAROUND}")]


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen, out = set(), []
    for i in issues:
        key = (i.path, i.code, i.message)
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out
