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
import re
from typing import Any

from ._issues import Issue, join_path

MAX_NESTING = 100  # objects/arrays inside each other; a real config nests < 30 (a json_schema)
MAX_INT_BITS = 14_000  # about 4,200 digits: Python refuses to print longer integers
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_ok(s: str) -> bool:
    return s.isascii() or _SURROGATE.search(s) is None


def _dict_problem(value: dict, depth: int) -> str | None:
    if depth >= MAX_NESTING:
        return f"nests objects and arrays more than {MAX_NESTING} levels deep"
    for key in value:
        if not isinstance(key, str):
            return f"has a key of type {type(key).__name__}; JSON keys are strings"
        if not _text_ok(key):
            return "has a key with a lone UTF-16 surrogate (such as \\ud800), which is not text"
    return None


def json_problem(data: Any) -> tuple[tuple, str] | None:
    """(path, what is wrong) for the first value JSON export can't write as it is, else None."""
    stack: list[tuple[Any, tuple, int]] = [(data, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if not _text_ok(value):
                return path, "holds a lone UTF-16 surrogate (such as \\ud800), which is not text"
        elif isinstance(value, dict):
            what = _dict_problem(value, depth)
            if what:
                return path, what
            stack.extend((item, path + (key,), depth + 1) for key, item in value.items())
        elif isinstance(value, list):
            if depth >= MAX_NESTING:
                return path, f"nests objects and arrays more than {MAX_NESTING} levels deep"
            stack.extend((item, path + (i,), depth + 1) for i, item in enumerate(value))
        elif isinstance(value, float):
            if not math.isfinite(value):
                return path, f"is {value!r}, which JSON can't carry; write null or a finite number"
        elif isinstance(value, int):  # bool included
            if value.bit_length() > MAX_INT_BITS:
                return path, "is a number with thousands of digits"
        elif value is not None:
            return path, f"is a Python {type(value).__name__}, not a JSON value"
    return None


def nests_deeper(data: Any, levels: int) -> bool:
    """Whether objects and arrays nest more than `levels` deep (a scalar is 0, `{}` is 1); iterative."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > levels:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_issue(data: Any, prefix: tuple = ()) -> Issue | None:
    """The validation Issue for `json_problem`, or None."""
    found = json_problem(data)
    if found is None:
        return None
    path, what = found
    return Issue(path=join_path(prefix + path), severity="error", code="json_value_invalid", message=f"this value {what}",
                 hint="a job config holds only JSON text, finite numbers, true/false/null, objects and arrays", blocks_grading=True)


def compact_json(value: Any) -> str:
    """The one compact JSON form: no spaces, non-ASCII kept (how a non-string output becomes text)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
