"""Plumbing shared by the Graders page's widgets: the selected node, edits of the tree, messages.

Every edit goes through `commit` (state.update_grader: Undo + autosave). Widget keys come from
`key()`, i.e. state.key following every re-key and the "graders" scope: edits that change a node other than by typing
into its own widget (JSON, type change, insert a variable, reorder messages) re-key that scope
so the widgets re-read their values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from components import state
from ftstudio.core import Issue, join_path
from ftstudio.graders import tree
from ftstudio.validation import GRADER_PATH

Path = tuple[str, ...]


def root() -> Any:
    return state.config().grader


def selected(grader: Any) -> Path:
    """The selected node's path; the root when the remembered one is gone (undo, delete, import)."""
    path = tuple(state.app().graders_selected)
    try:
        tree.node_at(grader, path)
    except tree.TreeError:
        path = ()
    return path


def select(path: Path) -> None:
    state.app().graders_selected = tuple(path)


def refresh() -> None:
    state.rekey("graders")


def key(path: Path, name: str) -> str:
    return state.key("graders", "node", "/".join(path), name, follows=(state.EVERY, "graders"))


def deleted() -> str | None:
    """The label of the delete just made (for its Undo banner)."""
    return state.app().graders_deleted


def set_deleted(label: str | None) -> None:
    state.app().graders_deleted = label


def json_path(path: Path, *rel: Any) -> str:
    """`method.reinforcement.grader.graders.k...` for a node path plus a path inside the node."""
    return join_path(GRADER_PATH + sum((("graders", k) for k in path), ()) + tuple(rel))


def commit(new_root: Any, label: str, *, redraw: bool = False) -> None:
    state.update_grader(new_root, label)
    if redraw:
        refresh()


def set_fields(path: Path, label: str, *, redraw: bool = False, **update: Any) -> None:
    """Replace fields of the node at `path` in the current config's tree."""
    grader = root()
    try:
        node = tree.node_at(grader, path)
        commit(tree.replace_at(grader, path, node.model_copy(update=update)), label, redraw=redraw)
    except tree.TreeError as exc:
        flash("error", str(exc))


def tree_edit(fn: Callable[[Any], tuple[Any, Path]], label: str) -> bool:
    """Run a tree edit returning (new_root, path_to_select); a TreeError becomes a message."""
    try:
        new_root, new_path = fn(root())
    except tree.TreeError as exc:
        flash("error", str(exc))
        return False
    commit(new_root, label, redraw=True)
    select(new_path)
    set_deleted(None)
    return True


def flash(kind: str, text: str) -> None:
    state.app().graders_flash = (kind, text)


def show_flash() -> None:
    item = state.app().take("graders_flash")
    if item:
        kind, text = item
        (st.error if kind == "error" else st.success if kind == "success" else st.info)(text)


def node_label(path: Path) -> str:
    return path[-1] if path else "root"


def own_issues(issues: list[Issue], path: Path, is_multi: bool) -> list[Issue]:
    """Issues of this node itself (a multi's children report under `.graders.<key>`)."""
    base = json_path(path)
    children = base + ".graders."
    out = []
    for i in issues:
        if i.path == base or i.path.startswith(base + ".") or i.path.startswith(base + "["):
            if is_multi and i.path.startswith(children):
                continue
            out.append(i)
    return out


class IssueBag:
    """A node's issues, handed out field by field; what no field claims is shown with the node."""

    def __init__(self, issues: list[Issue]):
        self.left = list(issues)

    def take(self, path: str) -> list[Issue]:
        mine = [i for i in self.left
                if i.path == path or i.path.startswith(path + ".") or i.path.startswith(path + "[")]
        self.left = [i for i in self.left if i not in mine]
        return mine
