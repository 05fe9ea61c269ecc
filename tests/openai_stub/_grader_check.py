"""Structural checks for /graders/validate and /graders/run: 400s that name the offending field."""

from __future__ import annotations

import ast
from typing import Any

from ._errors import ApiError
from ._metrics import METRICS, FormulaError, check_formula
from ._templates import template_problems

TOP_LEVEL_TYPES = ("string_check", "text_similarity", "python", "score_model", "multi")
SUB_GRADER_TYPES = ("string_check", "text_similarity", "python", "score_model", "label_model")
OPERATIONS = ("eq", "ne", "like", "ilike")
ROLES = ("user", "assistant", "system", "developer")


def _missing(path: str) -> ApiError:
    return ApiError(400, f"Missing required parameter: '{path}'.", param=path, code="missing_required_parameter")


def _bad_type(path: str, expected: str) -> ApiError:
    return ApiError(400, f"Invalid type for '{path}': expected {expected}.", param=path, code="invalid_type")


def _bad_value(path: str, value: Any, allowed: tuple[str, ...] | None = None, why: str = "") -> ApiError:
    text = f"Invalid value for '{path}': {value!r}."
    if allowed:
        text += " Supported values are: " + ", ".join(f"'{a}'" for a in allowed) + "."
    if why:
        text += f" {why}"
    return ApiError(400, text, param=path, code="invalid_value")


def _require_str(grader: dict[str, Any], field: str, path: str) -> str:
    if field not in grader:
        raise _missing(f"{path}.{field}")
    if not isinstance(grader[field], str):
        raise _bad_type(f"{path}.{field}", "a string")
    return grader[field]


def _check_templates(value: Any, path: str) -> None:
    if isinstance(value, str):
        bad = template_problems(value)
        if bad:
            raise _bad_value(path, value, why=f"Invalid template variable: {{{{{bad[0]}}}}} "
                                              "(only item.* and sample.* are available).")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_templates(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_templates(v, f"{path}.{k}")


def _check_messages(grader: dict[str, Any], path: str) -> None:
    if "input" not in grader:
        raise _missing(f"{path}.input")
    messages = grader["input"]
    if not isinstance(messages, list) or not messages:
        raise _bad_type(f"{path}.input", "a non-empty array of messages")
    for i, message in enumerate(messages):
        where = f"{path}.input[{i}]"
        if not isinstance(message, dict):
            raise _bad_type(where, "an object")
        if message.get("role") not in ROLES:
            raise _bad_value(f"{where}.role", message.get("role"), ROLES)
        if "content" not in message:
            raise _missing(f"{where}.content")
        if not isinstance(message["content"], (str, dict, list)):
            raise _bad_type(f"{where}.content", "a string, an object or an array")


def _check_python(source: str, path: str) -> None:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise _bad_value(f"{path}.source", "<source>", why=f"Syntax error on line {exc.lineno}: {exc.msg}.") from None
    grade = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "grade"]
    if not grade:
        raise _bad_value(f"{path}.source", "<source>", why="The source must define grade(sample, item).")
    args = grade[-1].args
    if len(args.posonlyargs) + len(args.args) != 2 or args.vararg or args.kwonlyargs:
        raise _bad_value(f"{path}.source", "<source>", why="grade must take exactly two arguments (sample, item).")


def check_grader(grader: Any, path: str = "grader", *, nested: bool = False, full: bool = True,
                 allow_label_top: bool = False) -> None:
    """Raise ApiError(400) naming the first bad field. `full` adds template/formula/source checks (validate)."""
    if not isinstance(grader, dict):
        raise _bad_type(path, "an object")
    kind = grader.get("type")
    if kind is None:
        raise _missing(f"{path}.type")
    allowed = SUB_GRADER_TYPES if nested else TOP_LEVEL_TYPES + (("label_model",) if allow_label_top else ())
    if kind not in allowed:
        why = "Multi graders cannot be nested." if kind == "multi" and nested else ""
        raise _bad_value(f"{path}.type", kind, allowed, why)
    _require_str(grader, "name", path)
    if kind in ("string_check", "text_similarity"):
        _check_text_grader(grader, kind, path, full)
    elif kind == "python":
        source = _require_str(grader, "source", path)
        if len(source.encode()) > 256 * 1024:
            raise _bad_value(f"{path}.source", "<source>", why="The source must be under 256 kB.")
        if full:
            _check_python(source, path)
    elif kind in ("score_model", "label_model"):
        _check_model_grader(grader, kind, path, full)
    elif kind == "multi":
        _check_multi(grader, path, full)


def _check_text_grader(grader: dict, kind: str, path: str, full: bool) -> None:
    for field in ("input", "reference"):
        _require_str(grader, field, path)
    field, options = ("operation", OPERATIONS) if kind == "string_check" else ("evaluation_metric", METRICS)
    if field not in grader:
        raise _missing(f"{path}.{field}")
    if grader[field] not in options:
        raise _bad_value(f"{path}.{field}", grader[field], options)
    if full:
        _check_templates(grader["input"], f"{path}.input")
        _check_templates(grader["reference"], f"{path}.reference")


def _check_model_grader(grader: dict, kind: str, path: str, full: bool) -> None:
    _require_str(grader, "model", path)
    _check_messages(grader, path)
    if full:
        _check_templates(grader["input"], f"{path}.input")
    if kind == "score_model" and "range" in grader:
        rng = grader["range"]
        if (not isinstance(rng, list) or len(rng) != 2 or not all(isinstance(x, (int, float)) for x in rng)
                or rng[0] >= rng[1]):
            raise _bad_value(f"{path}.range", rng, why="Expected two increasing numbers.")
    if "sampling_params" in grader and not isinstance(grader["sampling_params"], (dict, type(None))):
        raise _bad_type(f"{path}.sampling_params", "an object")
    if kind == "label_model":
        _check_labels(grader, path)


def _check_labels(grader: dict, path: str) -> None:
    for field in ("labels", "passing_labels"):
        if field not in grader:
            raise _missing(f"{path}.{field}")
        if not isinstance(grader[field], list) or not all(isinstance(x, str) for x in grader[field]):
            raise _bad_type(f"{path}.{field}", "an array of strings")
    if not grader["labels"]:
        raise _bad_value(f"{path}.labels", [], why="At least one label is required.")
    extra = [x for x in grader["passing_labels"] if x not in grader["labels"]]
    if extra:
        raise _bad_value(f"{path}.passing_labels", extra, why="passing_labels must be a subset of labels.")


def _check_multi(grader: dict, path: str, full: bool) -> None:
    if "graders" not in grader:
        raise _missing(f"{path}.graders")
    graders = grader["graders"]
    if not isinstance(graders, dict) or not graders:
        raise _bad_type(f"{path}.graders", "an object mapping names to graders")
    for key, sub in graders.items():
        if not key.isidentifier():
            raise _bad_value(f"{path}.graders", key, why="Grader keys must be identifiers.")
        check_grader(sub, f"{path}.graders.{key}", nested=True, full=full)
    formula = _require_str(grader, "calculate_output", path)
    if full:
        try:
            check_formula(formula, set(graders))
        except FormulaError as exc:
            raise _bad_value(f"{path}.calculate_output", formula, why=f"Could not parse formula: {exc}.") from None
