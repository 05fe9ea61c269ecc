"""An export spelled the way the user wrote it.

The app edits a typed JobConfig, whose dump turns `5` into `5.0` where a field is a float, sorts
keys by field order and leaves out nulls. When the config came from the user's own JSON, what
they wrote is the better spelling of every value that still means the same thing.
"""

from __future__ import annotations

from typing import Any

from ._hyperparameters import HYPERPARAMETER_MODELS
from ._job import LegacyHyperparameters

_MISSING = object()


def as_written(data: Any, written: Any) -> Any:
    """`data` (an export of the config) in the spelling of `written` (the document it was imported from).

    Where both mean the same, `written` wins: a number keeps its form (`5`, not `5.0`) and an object
    keeps the user's key order. An explicit null the user wrote stays, in place, while `data` has
    nothing there, or has the default the model read it as (a null hyperparameter is "auto").
    A default the model filled in (a hyperparameter left out is "auto") stays out.
    Everything else `data` changed, added or removed is `data`'s.
    """
    return _merge(data, written, _defaults(data))


def _merge(data: Any, written: Any, defaults: Any) -> Any:
    if isinstance(data, dict) and isinstance(written, dict):
        defaults = defaults if isinstance(defaults, dict) else {}
        out: dict[str, Any] = {}
        for key, value in written.items():
            mine = data.get(key, _MISSING)
            if value is None and _is_default(key, mine, defaults):
                out[key] = None
            elif mine is not _MISSING:
                out[key] = _merge(mine, value, defaults.get(key))
            elif value is None:
                out[key] = None
        for key, value in data.items():
            if key not in out and not _is_default(key, value, defaults):
                out[key] = value
        return out
    if isinstance(data, list) and isinstance(written, list) and len(data) == len(written):
        return [_merge(d, w, None) for d, w in zip(data, written, strict=True)]
    if _same_number(data, written):
        return written
    return data


def _is_default(key: str, value: Any, defaults: dict) -> bool:
    return key in defaults and not isinstance(value, dict) and defaults[key] == value


def _defaults(data: Any) -> dict:
    """What the model writes for fields the user left out: each method's hyperparameters."""
    out: dict[str, Any] = {"hyperparameters": LegacyHyperparameters().model_dump(mode="json", exclude_none=True)}
    method = data.get("method") if isinstance(data, dict) else None
    kind = method.get("type") if isinstance(method, dict) else None
    if kind in HYPERPARAMETER_MODELS:
        hyper = HYPERPARAMETER_MODELS[kind]().model_dump(mode="json", exclude_none=True)
        out["method"] = {kind: {"hyperparameters": hyper}}
    return out


def _same_number(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool) or not (isinstance(a, numbers) and isinstance(b, numbers)):
        return False
    return a == b
