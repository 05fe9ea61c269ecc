"""Edits of a grader tree, as pure functions returning a new tree (the UI keeps the old for Undo).

A node is addressed by its key path from the root: () is the root, ("a", "x") is child "x" of
the multi under key "a". Renaming a key rewrites calculate_output so the formula follows.
"""

from __future__ import annotations

import re
from typing import Any

from . import formula as F
from ._grader import walk
from ._models import IDENTIFIER_PATTERN
from .types import find, grader_type
from .types.multi import MultiGrader

Path = tuple[str, ...]


class TreeError(ValueError):
    """An edit that can't be made (unknown path, key taken, not a multi); the message says why."""


def default_node(kind: str, name: str | None = None) -> Any:
    """The node "Add grader" inserts for a grader type (its type module's `default`)."""
    found = find(kind)
    if found is None:
        raise TreeError(f"unknown grader type {kind!r}")
    return found.default(name or kind)


def node_at(root: Any, path: Path) -> Any:
    node = root
    for key in path:
        if not isinstance(node, MultiGrader) or key not in node.graders:
            raise TreeError(f"no grader at {'/'.join(path)}")
        node = node.graders[key]
    return node


def replace_at(root: Any, path: Path, new: Any) -> Any:
    """A copy of the tree with the node at `path` replaced."""
    if not path:
        return new
    parent = node_at(root, path[:-1])
    if not isinstance(parent, MultiGrader) or path[-1] not in parent.graders:
        raise TreeError(f"no grader at {'/'.join(path)}")
    graders = dict(parent.graders)
    graders[path[-1]] = new
    return replace_at(root, path[:-1], parent.model_copy(update={"graders": graders}))


def _multi_at(root: Any, path: Path) -> MultiGrader:
    node = node_at(root, path)
    if not isinstance(node, MultiGrader):
        raise TreeError("only a multi grader has children")
    return node


def unique_key(taken, base: str) -> str:
    base = re.sub(r"\W", "_", base.strip().lower()) or "g"
    if not re.match(IDENTIFIER_PATTERN, base) or base in F.FUNCTIONS:
        base = "g_" + base
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def add_child(root: Any, multi_path: Path, kind: str, key: str | None = None) -> tuple[Any, str]:
    multi = _multi_at(root, multi_path)
    key = key or unique_key(multi.graders, kind if kind != "multi" else "group")
    if key in multi.graders:
        raise TreeError(f"key {key!r} is taken in this multi")
    if not re.match(IDENTIFIER_PATTERN, key) or key in F.FUNCTIONS:
        raise TreeError(f"{key!r} can't be a key: use letters, digits and _ (not a function name)")
    graders = dict(multi.graders)
    graders[key] = default_node(kind, key)
    formula = multi.calculate_output.strip()
    new_formula = key if not formula else formula  # a new child counts only once the user uses it
    return replace_at(root, multi_path, multi.model_copy(update={"graders": graders,
                                                                  "calculate_output": new_formula})), key


def rename_key(root: Any, multi_path: Path, old: str, new: str) -> Any:
    multi = _multi_at(root, multi_path)
    if old not in multi.graders:
        raise TreeError(f"no key {old!r}")
    if new == old:
        return root
    if new in multi.graders:
        raise TreeError(f"key {new!r} is taken in this multi")
    if not re.match(IDENTIFIER_PATTERN, new) or new in F.FUNCTIONS:
        raise TreeError(f"{new!r} can't be a key: use letters, digits and _, not starting with a digit, "
                        "and not a function name")
    graders = {(new if k == old else k): v for k, v in multi.graders.items()}
    return replace_at(root, multi_path, multi.model_copy(update={
        "graders": graders, "calculate_output": rename_in_formula(multi.calculate_output, old, new)}))


def rename_in_formula(text: str, old: str, new: str) -> str:
    try:
        node = F.parse(text)
    except F.FormulaError:
        return re.sub(rf"\b{re.escape(old)}\b", new, text)  # keep the user's broken text, renamed
    if old not in {v.name for v in F.variables(node)}:
        return text
    # Replace by position so the user's spacing and layout survive.
    out, last = [], 0
    for var in F.variables(node):
        if var.name == old:
            out += [text[last:var.pos], new]
            last = var.pos + len(old)
    return "".join(out) + text[last:]


def delete(root: Any, path: Path) -> Any:
    if not path:
        raise TreeError("the root grader can't be deleted; change its type instead")
    multi = _multi_at(root, path[:-1])
    graders = {k: v for k, v in multi.graders.items() if k != path[-1]}
    return replace_at(root, path[:-1], multi.model_copy(update={"graders": graders}))


def duplicate(root: Any, path: Path) -> tuple[Any, str]:
    if not path:
        raise TreeError("the root grader can't be duplicated")
    multi = _multi_at(root, path[:-1])
    key = unique_key(multi.graders, path[-1] + "_copy")
    graders: dict[str, Any] = {}
    for k, v in multi.graders.items():
        graders[k] = v
        if k == path[-1]:
            graders[key] = v.model_copy(deep=True, update={"name": (v.name or key) + " (copy)"})
    return replace_at(root, path[:-1], multi.model_copy(update={"graders": graders})), key


def move(root: Any, path: Path, target_multi: Path) -> tuple[Any, Path]:
    """Move a node into another multi (keeping its key when free). Returns (tree, new path)."""
    if not path:
        raise TreeError("the root grader can't be moved")
    if target_multi[: len(path)] == path:
        raise TreeError("a grader can't be moved into itself")
    node = node_at(root, path)
    target = _multi_at(root, target_multi)
    if target_multi == path[:-1]:
        return root, path
    key = path[-1] if path[-1] not in target.graders else unique_key(target.graders, path[-1])
    without = delete(root, path)
    target = _multi_at(without, target_multi)
    graders = dict(target.graders)
    graders[key] = node
    return replace_at(without, target_multi, target.model_copy(update={"graders": graders})), target_multi + (key,)


_SHARED = {"name", "input", "reference", "model", "sampling_params", "pass_threshold"}


def change_type(node: Any, kind: str) -> Any:
    """The node as another grader type, keeping the fields the two share (name, input, model...)."""
    if node.type == kind:
        return node
    fresh = default_node(kind, node.name)
    keep: dict[str, Any] = {}
    new_fields = grader_type(kind).model.model_fields
    for field in _SHARED & set(new_fields):
        value = getattr(node, field, None)
        if value is None:
            continue
        if field == "input" and isinstance(value, list) != isinstance(getattr(fresh, "input", None), list):
            continue  # text templates and message lists don't convert
        keep[field] = value
    if kind == "multi" and node.type != "multi":
        return MultiGrader(name=node.name, graders={"a": node}, calculate_output="a")
    return fresh.model_copy(update=keep)


def wrap_in_multi(root: Any, path: Path = ()) -> Any:
    node = node_at(root, path)
    key = unique_key((), node.type if node.type != "multi" else "group")
    return replace_at(root, path, MultiGrader(name=(node.name or node.type) + " (multi)", graders={key: node}, calculate_output=key))


def nameless(root: Any) -> list[Path]:
    """Paths of the nodes without a name (the API validates them; the SDK types want one)."""
    return [path for path, node in walk(root) if not node.name]


def add_names_from_keys(root: Any) -> Any:
    """Each nameless node named after its multi key (the root after its type); named nodes unchanged."""
    def named(node, key: str | None):
        update: dict[str, Any] = {}
        if not node.name:
            update["name"] = key or node.type
        if isinstance(node, MultiGrader):
            update["graders"] = {k: named(v, k) for k, v in node.graders.items()}
        return node.model_copy(update=update) if update else node

    return named(root, None)
