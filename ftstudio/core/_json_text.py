"""JSON text to a value: the one decoder the config importer and the dataset readers share.

A failure is data (`JsonTextProblem`: what kind, the decoder's reason, where), so each face words it
for its place (a file name, a dataset line) without reading another message back.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, NamedTuple, cast


class JsonTextKind(StrEnum):
    SYNTAX = "syntax"      # not JSON
    CONSTANT = "constant"  # NaN, Infinity or -Infinity where they are refused
    DIGITS = "digits"      # an integer longer than Python reads (4,300 digits)
    DEPTH = "depth"        # nested deeper than the decoder's recursion allows


class JsonTextProblem(NamedTuple):
    kind: JsonTextKind
    reason: str  # the decoder's own words for SYNTAX and CONSTANT ("Expecting ',' delimiter")
    line: int = 1  # 1-based, within the text
    column: int = 1


class _Constant(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _Constant(f"{name} is not valid JSON; write null or a number instead")


# One decoder each: json.loads(..., parse_constant=...) would build a new one per call.
STRICT_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_DECODER = json.JSONDecoder()


def decode_json(text: str, *, constants: bool = False) -> tuple[Any, JsonTextProblem | None]:
    """(value, None), or (None, the problem). `constants`: read NaN and Infinity as floats."""
    try:
        return (_DECODER if constants else STRICT_DECODER).decode(text), None
    except json.JSONDecodeError as e:
        return None, JsonTextProblem(JsonTextKind.SYNTAX, e.msg, e.lineno, e.colno)
    except _Constant as e:
        return None, JsonTextProblem(JsonTextKind.CONSTANT, str(e))
    except ValueError:  # the only other ValueError json raises: Python refuses integers over 4,300 digits
        return None, JsonTextProblem(JsonTextKind.DIGITS, "a number has more than 4,300 digits")
    except RecursionError:
        return None, JsonTextProblem(JsonTextKind.DEPTH, "the JSON is nested too deeply")


def json_object(value: object) -> dict[str, Any] | None:
    """`value` as a JSON object (string keys), or None when it is something else: typed access to read JSON."""
    return cast(dict[str, Any], value) if isinstance(value, dict) else None


def json_list(value: object) -> list[Any]:
    """`value` as a JSON array, or [] when it is something else."""
    return cast(list[Any], value) if isinstance(value, list) else []
