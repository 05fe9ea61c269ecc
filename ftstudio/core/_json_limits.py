"""What a config or grader document may hold, so that export writes it back unchanged.

Python's json module reads things a create-job body can't carry: NaN and Infinity (and 1e999,
which reads as Infinity), lone UTF-16 surrogates such as "\\ud800" (no UTF-8 encoding exists for
them), and nesting deep enough to break recursive walks (pydantic stops serialising at about 255
levels, well before the JSON reader's limit). Data built in Python adds sets, tuples, bytes,
non-string keys and integers too long to print. The walk is iterative: safe at any depth.
"""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple, cast

from ._issues import Issue, join_path

MAX_NESTING = 100  # objects/arrays inside each other; a real config nests < 30 (a json_schema)
MAX_INT_BITS = 14_000  # about 4,200 digits: Python refuses to print longer integers


def _text_ok(s: str) -> bool:
    if s.isascii():
        return True
    try:  # only a lone surrogate fails: cheaper than compiling a pattern for it at import (issue 23, start-up)
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _dict_problem(value: dict[Any, Any]) -> str | None:
    for key in value:
        if not isinstance(key, str):
            return f"has a key of type {type(key).__name__}; JSON keys are strings"
        if not _text_ok(key):
            return "has a key with a lone UTF-16 surrogate (such as \\ud800), which is not text"
    return None


class JsonProblem(NamedTuple):
    path: tuple[str | int, ...]
    what: str
    too_deep: bool = False  # nests past MAX_NESTING (the rest is readable: it can be shown, not exported)

    def issue(self, prefix: tuple[str | int, ...] = ()) -> Issue:
        return Issue(path=join_path(prefix + self.path), severity="error", code="json_value_invalid",
                     message=f"this value {self.what}", blocks_grading=True,
                     hint="a job config holds only JSON text, finite numbers, true/false/null, objects and arrays")


_TOO_DEEP = f"nests objects and arrays more than {MAX_NESTING} levels deep"


def json_problem(data: Any) -> JsonProblem | None:
    """The first value JSON export can't write as it is (where, what is wrong), else None."""
    stack: list[tuple[Any, tuple[str | int, ...], int]] = [(data, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if not _text_ok(value):
                return JsonProblem(path, "holds a lone UTF-16 surrogate (such as \\ud800), which is not text")
        elif isinstance(value, dict):
            if depth >= MAX_NESTING:
                return JsonProblem(path, _TOO_DEEP, True)
            obj = cast(dict[Any, Any], value)
            what = _dict_problem(obj)
            if what:
                return JsonProblem(path, what)
            stack.extend((item, (*path, key), depth + 1) for key, item in obj.items())
        elif isinstance(value, list):
            if depth >= MAX_NESTING:
                return JsonProblem(path, _TOO_DEEP, True)
            stack.extend((item, (*path, i), depth + 1) for i, item in enumerate(cast(list[Any], value)))
        elif isinstance(value, float):
            if not math.isfinite(value):
                return JsonProblem(path, f"is {value!r}, which JSON can't carry; write null or a finite number")
        elif isinstance(value, int):  # bool included
            if value.bit_length() > MAX_INT_BITS:
                return JsonProblem(path, "is a number with thousands of digits")
        elif value is not None:
            return JsonProblem(path, f"is a Python {type(value).__name__}, not a JSON value")
    return None


def nests_deeper(data: Any, levels: int) -> bool:
    """Whether objects and arrays nest more than `levels` deep (a scalar is 0, `{}` is 1); iterative."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: list[Any] = list(cast(dict[Any, Any], value).values())
        elif isinstance(value, list):
            children = cast(list[Any], value)
        else:
            continue
        if depth > levels:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_issue(data: Any, prefix: tuple[str | int, ...] = ()) -> Issue | None:
    """The validation Issue for `json_problem`, or None."""
    found = json_problem(data)
    return None if found is None else found.issue(prefix)


def compact_json(value: Any) -> str:
    """The one compact JSON form: no spaces, non-ASCII kept (how a non-string output becomes text)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
