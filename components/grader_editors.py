"""The editor of the selected grader node (its type's form, from `components.grader_types`), plus its raw
JSON (editable).

Each field applies on change (Undo records it) and shows its own validation issues right under
it; what no field claims is shown at the top of the node.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import streamlit as st

from components import grader_edit as E
from components import issues_panel, state
from components.editors_basic import set_text
from components.grader_types import ui_for
from ftstudio.config import ImportProblem, to_json
from ftstudio.core import Issue
from ftstudio.graders import (
    MultiGrader,
    tree,
)
from ftstudio.validation import grader_from_json

_CSS = """<style>
.st-key-graders_code textarea, .st-key-graders_json textarea, .st-key-graders_pg_item textarea {
  font-family: "Source Code Pro", ui-monospace, Menlo, Consolas, monospace; font-size: 0.85rem;
  line-height: 1.35; tab-size: 4; }
.st-key-graders_tree button { min-height: 2rem; padding-top: 0.1rem; padding-bottom: 0.1rem; }
</style>"""


def style() -> None:
    """Monospace for code and JSON boxes, a tighter tree (scoped by container keys)."""
    st.html(_CSS)


def render_editor(root: Any, path: tuple, issues: list[Issue]) -> None:
    node = tree.node_at(root, path)
    bag = E.IssueBag(E.own_issues(issues, path, isinstance(node, MultiGrader)))
    st.markdown(f"#### {ui_for(node.type).icon} {node.type}")
    st.caption(f"`{E.json_path(path)}`")
    top = st.container()
    _identity(path, node, bag)
    ui_for(node.type).editor(path, node, bag)
    _pass_threshold(path, node, bag)
    with top:
        issues_panel.inline(bag.left)


def _identity(path: tuple, node: Any, bag: E.IssueBag) -> None:
    k = lambda name: E.key(path, name)  # noqa: E731
    cols = st.columns(2) if path else [st.container()]
    if path:
        with cols[0]:
            st.text_input("Key", value=path[-1], key=k("key"), on_change=_rename, args=(path, k("key")),
                          help="The variable the parent's calculate_output uses; renaming updates the formula.")
            err = state.app().graders_key_error
            if err and err[0] == k("key"):
                st.error(err[1])
    with cols[-1]:
        st.text_input("Name", value=node.name, key=k("name"), on_change=set_text, args=(path, "name", k("name")),
                      help="Shown in the API's metrics and results.")
        issues_panel.inline(bag.take(E.json_path(path, "name")))
    if path:
        _in_step(path, node)


def key_for(name: str) -> str:
    """The key a name suggests: `exact answer` -> `exact_answer` (letters, digits, _)."""
    slug = re.sub(r"\W+", "_", name.strip().lower()).strip("_")
    return ("g_" + slug if slug[:1].isdigit() else slug)[:40]


def _in_step(path: tuple, node: Any) -> None:
    """Key and name side by side, and an offer to bring them in step when they differ."""
    key, suggested = path[-1], key_for(node.name)
    st.caption(f"key `{key}` (in the formula) · name `{node.name or '(none)'}` (in the API's results)")
    if suggested and suggested != key and suggested not in tree.node_at(E.root(), path[:-1]).graders:
        st.button(f"Use `{suggested}` as the key (from the name)", key=E.key(path, "in-step"),
                  icon=":material/sync:", on_click=_rename_to, args=(path, suggested))


def _rename_to(path: tuple, new: str) -> None:
    try:
        new_root = tree.rename_key(E.root(), path[:-1], path[-1], new)
    except tree.TreeError as exc:
        state.app().graders_key_error = (E.key(path, "key"), f"Not renamed: {exc}")
        return
    E.commit(new_root, f"rename {path[-1]} to {new}", redraw=True)
    E.select(path[:-1] + (new,))


def _rename(path: tuple, key: str) -> None:
    new = (state.widget(key) or "").strip()
    state.app().graders_key_error = None
    try:
        new_root = tree.rename_key(E.root(), path[:-1], path[-1], new)
    except tree.TreeError as exc:
        state.app().graders_key_error = (key, f"Not renamed: {exc}")
        return
    E.commit(new_root, f"rename {path[-1]} to {new}", redraw=True)
    E.select(path[:-1] + (new,))


def _pass_threshold(path: tuple, node: Any, bag: E.IssueBag) -> None:
    value = getattr(node, "pass_threshold", None)
    if value is None:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown(f"`pass_threshold` = {value:g} (fine-tuning accepts and ignores it; it matters to evals)",
                    width="content")
        st.button("Remove", key=E.key(path, "rm-threshold"), icon=":material/delete:", on_click=lambda: E.set_fields(
            path, "remove pass_threshold", redraw=True, pass_threshold=None))
    issues_panel.inline(bag.take(E.json_path(path, "pass_threshold")))


# --- raw JSON of the selected node or the whole tree -------------------------------------

JSON_SCOPE = "graders_json_scope"


def json_editor(root: Any, path: tuple) -> None:
    scope = st.segmented_control("Show", ["Selected grader", "Whole tree"], key=JSON_SCOPE, default="Selected grader",
                                 required=True, label_visibility="collapsed")
    target = () if scope == "Whole tree" or not path else path
    text = to_json(tree.node_at(root, target))
    # The key follows the JSON: an edit elsewhere shows up here; a rejected edit keeps the typed text.
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    key = E.key(target, f"json-{digest}")
    with st.container(key="graders_json"):
        st.text_area("Grader JSON", value=text, key=key, height=420, on_change=_apply_json, args=(target, key),
                     help="Edit and click outside (or Ctrl+Enter) to apply. Invalid JSON is not applied.")
    err = state.app().graders_json_error
    if err and err[0] == key:
        st.error(err[1])
        issues_panel.inline(err[2], show_path=True)
    st.caption("This is exactly what the export puts at " + f"`{E.json_path(target)}`.")


def _apply_json(path: tuple, key: str) -> None:
    state.app().graders_json_error = None
    try:
        node = grader_from_json(state.widget(key) or "")
        new_root = tree.replace_at(E.root(), path, node)
    except ImportProblem as exc:
        state.app().graders_json_error = (key, f"Not applied: {exc.message}", exc.issues)
        return
    except tree.TreeError as exc:
        state.app().graders_json_error = (key, f"Not applied: {exc}", [])
        return
    E.commit(new_root, f"JSON edit of {E.node_label(path)}", redraw=True)
