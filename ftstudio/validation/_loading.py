"""Read a job config or a bare grader from JSON, with validation Issues when it can't be one."""

from __future__ import annotations

from pydantic import ValidationError

from ftstudio.config import ImportProblem, JobConfig, exportable, parse_json
from ftstudio.graders import Grader, parse_grader

from ._check import check, check_grader
from ._schema_issues import data_path


def from_json(source: str | bytes | dict) -> JobConfig:
    """Parse what to_json writes (or any create-job body); ImportProblem with issues otherwise."""
    data = parse_json(source) if not isinstance(source, dict) else exportable(source)
    try:
        return JobConfig.model_validate(data)
    except ValidationError:
        issues = [i for i in check(data) if i.severity == "error"]
        raise ImportProblem("the JSON is not a valid job config", issues) from None


def grader_from_json(source: str | bytes | dict) -> Grader:
    data = parse_json(source) if not isinstance(source, dict) else exportable(source)
    try:
        return parse_grader(data)
    except ValidationError:
        issues = [i for i in check_grader(data) if i.severity == "error"]
        raise ImportProblem("the JSON is not a valid grader", issues) from None


# --- importing with fields the model doesn't know, keeping them as written -------------------

Kept = list[tuple[tuple, int, object]]  # (path of the field, its position among its siblings, value)
_MAX_PASSES = 8


def from_json_keeping(source: str | bytes | dict) -> tuple[JobConfig, Kept]:
    """A config from JSON, with unknown fields set aside (not dropped): (config, kept).

    `restore_kept(to_data(config), kept)` puts them back where they were. ImportProblem when the
    document fails for any other reason than unknown fields.
    """
    import copy

    data = parse_json(source) if not isinstance(source, dict) else exportable(source)
    if not isinstance(data, dict):
        return from_json(data), []
    work, kept = copy.deepcopy(data), []
    for _ in range(_MAX_PASSES):
        try:
            return JobConfig.model_validate(work), sorted(kept, key=lambda k: len(k[0]))
        except ValidationError as exc:
            extras = [e["loc"] for e in exc.errors(include_url=False) if e["type"] == "extra_forbidden"]
            removed = False
            for loc in extras:
                path = data_path(work, loc)
                if path and isinstance(path[-1], str) and _pop(work, path, kept, data):
                    removed = True
            if not removed:
                break
    return from_json(data), []  # raises ImportProblem naming the real problems


def _pop(work: dict, path: tuple, kept: Kept, original: dict) -> bool:
    parent = work
    for p in path[:-1]:
        parent = parent[p]
    if not isinstance(parent, dict) or path[-1] not in parent:
        return False
    orig_parent = original
    for p in path[:-1]:
        orig_parent = orig_parent[p]
    kept.append((path, list(orig_parent).index(path[-1]), parent.pop(path[-1])))
    return True


def restore_kept(data: dict, kept: Kept) -> dict:
    """`data` (an export of the config) with the kept fields back at their places, as written."""
    import copy

    out = copy.deepcopy(data)
    for path, index, value in kept:
        parent = out
        try:
            for p in path[:-1]:
                parent = parent[p]
        except (KeyError, IndexError, TypeError):
            continue  # the user removed the parent since: nothing to put it in
        if not isinstance(parent, dict):
            continue
        items = [(k, v) for k, v in parent.items() if k != path[-1]]
        items.insert(min(index, len(items)), (path[-1], value))
        parent.clear()
        parent.update(items)
    return out
