"""The grader tree drawn as a tree (select a node), and the actions on the selected node.

Each row shows the node's key, type (icon + name), its name and the validation state of
everything under it: :material/check_circle:, or the count of errors (:material/error:) and warnings (:material/warning:).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from components import grader_edit as E
from components import state
from components.grader_types import icons, ui_for
from ftstudio.config import flatten, is_nested
from ftstudio.core import Issue, count, under
from ftstudio.graders import GRADER_TYPES, MultiGrader, tree, walk
from ftstudio.graders.formula import FormulaError

# The icon of each grader type (Material icons: components.grader_types).
ICONS = icons()


def type_label(kind: str) -> str:
    return kind  # menu options are plain text: no icon markup there


def status(issues: list[Issue], path: tuple, plain: bool = False) -> str:
    """Markdown with Material icons for a button; `plain` words for a table cell (no markup there)."""
    c = count(under(issues, E.json_path(path)))
    parts = []
    if c["error"]:
        parts.append(f"{c['error']} error(s)" if plain else f":material/error: {c['error']}")
    if c["warning"]:
        parts.append(f"{c['warning']} warning(s)" if plain else f":material/warning: {c['warning']}")
    return " ".join(parts) or ("ok" if plain else ":material/check_circle:")


def _escape(text: str) -> str:
    out = text.replace("\\", "\\\\")
    for ch in "*_`[]<>#~|$":
        out = out.replace(ch, "\\" + ch)
    return out


BIG_TREE = 40  # above this many nodes, one selectable table instead of a widget per node


def render_tree(root: Any, selected: tuple, issues: list[Issue]) -> None:
    nodes = list(walk(root))
    if len(nodes) > BIG_TREE:
        _render_table(nodes, selected, issues)
        return
    with st.container(border=True, gap=None, key="graders_tree"):
        for path, node in walk(root):
            depth = len(path)
            raw = node.name or ""
            name = raw if len(raw) <= 40 else raw[:39] + "…"
            # The formula uses keys, the API shows names: both, said as what they are.
            shown = name.replace("`", "'")  # inside code spans nothing else needs escaping
            who = (f"key `{E.node_label(path)}` · name `{shown}`" if path else f"name `{shown}`") \
                if name else f"key `{E.node_label(path)}` · _(no name)_"
            label = f"{ICONS.get(node.type, '•')} {who} · {node.type} &nbsp; {status(issues, path)}"
            with st.container(horizontal=True, vertical_alignment="center", gap="xxsmall"):
                if depth:
                    st.space(26 * depth)
                st.button(label, key=f"graders_tree|{'/'.join(path)}", on_click=E.select, args=(path,),
                          type="primary" if path == selected else "tertiary", help=E.json_path(path))
            if isinstance(node, MultiGrader):
                with st.container(horizontal=True, gap="xxsmall"):
                    st.space(26 * depth + 30)
                    formula = node.calculate_output.strip() or "(empty formula)"
                    st.caption(f"= {_escape(formula[:80])}")


def _render_table(nodes: list, selected: tuple, issues: list[Issue]) -> None:
    """A big tree as one table (a widget per node would make every rerun slow); click a row to edit it."""
    import pandas as pd

    rows = [{"node": "\u2003" * len(path) + E.node_label(path), "type": node.type,
             "name": node.name, "status": status(issues, path, plain=True)} for path, node in nodes]
    st.caption(f"{len(nodes)} graders — click a row to edit it.")
    chosen = st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=420,
                          on_select="rerun", selection_mode="single-row", key="graders_tree_table")
    picked = chosen.selection.rows if chosen is not None and hasattr(chosen, "selection") else []
    if picked:
        path = nodes[picked[0]][0]
        if path != selected and state.app().graders_tree_last != picked[0]:
            state.app().graders_tree_last = picked[0]
            E.select(path)
            st.rerun()
    current = next((i for i, (path, _) in enumerate(nodes) if path == selected), 0)
    st.caption(f"Editing: **{_escape(E.node_label(selected))}** ({nodes[current][1].type})")


# --- actions on the selected node ---------------------------------------------------------

def multi_paths(root: Any) -> list[tuple]:
    return [p for p, n in walk(root) if isinstance(n, MultiGrader)]


def render_actions(root: Any, path: tuple) -> None:
    node = tree.node_at(root, path)
    k = lambda name: E.key(path, name)  # noqa: E731 - short local key maker
    with st.container(horizontal=True, gap="xsmall"):
        if isinstance(node, MultiGrader):
            st.menu_button("Add grader", list(GRADER_TYPES), key=k("add"), icon=":material/add:",
                           format_func=lambda t: f"{type_label(t)} — {'nested multi' if t == 'multi' else ui_for(t).help}",
                           on_click=_add, args=(path, k("add")), help="Add a child grader to this multi")
        elif not path:
            st.button("Wrap in multi", key=k("wrap"), icon=":material/account_tree:", on_click=_wrap, args=(path,),
                      help="Put this grader inside a multi grader so you can combine it with others")
        others = [t for t in GRADER_TYPES if t != node.type]
        st.menu_button("Change type", others, key=k("type"), icon=":material/swap_horiz:",
                       format_func=type_label, on_click=_change_type, args=(path, k("type")),
                       help="Keeps the fields both types share (name, input/reference, model, sampling_params)")
        if path:
            targets = ["/".join(p) for p in multi_paths(root) if p != path[:-1] and p[:len(path)] != path]
            st.menu_button("Move to", targets or ["(no other multi)"], key=k("move"), icon=":material/drive_file_move:",
                           format_func=lambda p: "root" if not p else " › ".join(p.split("/")), disabled=not targets,
                           on_click=_move, args=(path, k("move")),
                           help="Move this grader into another multi" if targets else "There is no other multi")
            st.button("Duplicate", key=k("dup"), icon=":material/content_copy:", on_click=_duplicate, args=(path,))
            st.button("Delete", key=k("del"), icon=":material/delete:", on_click=_delete, args=(path,))


def _add(path: tuple, menu_key: str) -> None:
    kind = state.widget(menu_key)
    if kind:
        E.tree_edit(lambda r: _added(tree.add_child(r, path, kind), path), f"add {kind} grader")


def _added(result, path):
    new_root, key = result
    return new_root, path + (key,)


def _wrap(path: tuple) -> None:
    E.tree_edit(lambda r: (tree.wrap_in_multi(r, path), path), "wrap in multi")


def _change_type(path: tuple, menu_key: str) -> None:
    kind = state.widget(menu_key)
    if kind:
        E.tree_edit(lambda r: (tree.replace_at(r, path, tree.change_type(tree.node_at(r, path), kind)), path),
                    f"change type to {kind}")


def _move(path: tuple, menu_key: str) -> None:
    target = state.widget(menu_key)
    if target is not None and target != "(no other multi)":
        dest = tuple(target.split("/")) if target else ()
        E.tree_edit(lambda r: tree.move(r, path, dest), f"move {path[-1]}")


def _duplicate(path: tuple) -> None:
    E.tree_edit(lambda r: _added(tree.duplicate(r, path), path[:-1]), f"duplicate {path[-1]}")


def _delete(path: tuple) -> None:
    label = f"delete {path[-1]}"
    if E.tree_edit(lambda r: (tree.delete(r, path), path[:-1]), label):
        E.set_deleted(label)


def undo_delete() -> None:
    E.set_deleted(None)
    state.undo()


def render_deleted_banner() -> None:
    """Right after a delete: a message with its own Undo (the sidebar's Undo works too)."""
    label = E.deleted()
    if not label:
        return
    if state.can_undo() != label:
        E.set_deleted(None)
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown(f":material/delete: Deleted **{_escape(label.removeprefix('delete '))}**.", width="content")
        st.button("Undo", key="graders_undo_delete", icon=":material/undo:", on_click=undo_delete)


def render_add_names(root: Any) -> None:
    """Graders without a name are accepted by the API, but the SDK types want one: offer names from keys."""
    missing = tree.nameless(root)
    if not missing:
        return
    with st.container(border=True, horizontal=True, vertical_alignment="center"):
        st.markdown(f":material/label: {len(missing)} grader(s) without a name (fine for the API; the SDK types want one).",
                    width="stretch")
        st.button("Add names from keys", key="graders_add_names", icon=":material/label:", on_click=_add_names,
                  help="Each nameless grader gets its multi key as its name (the top grader its type)")


def _add_names() -> None:
    if E.tree_edit(lambda r: (tree.add_names_from_keys(r), E.selected(r)), "add names from keys"):
        E.flash("success", "Named every grader after its key.")


def render_flatten(root: Any) -> None:
    """When a multi sits inside a multi (the API refuses it): what flattening does, and a button."""
    if not is_nested(root):
        return
    with st.container(border=True):
        st.markdown(":material/warning: **A multi grader is nested inside a multi.** The API accepts one level only (grading here "
                    "works as is). Flattening inlines each nested multi into its parent.")
        try:
            flat = flatten(root)
        except FormulaError as exc:
            st.caption(f"Can't flatten yet: a formula doesn't parse ({exc.message}). Fix it first.")
            return
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.button("Flatten for the API", key="graders_flatten", icon=":material/layers_clear:", type="primary",
                      on_click=_flatten)
            with st.popover("What it will do", icon=":material/visibility:"):
                st.markdown("Keys after flattening: " + ", ".join(f"`{k}`" for k in flat.graders))
                st.markdown("New `calculate_output`:")
                st.code(flat.calculate_output, language=None, wrap_lines=True)
                st.caption("Rewards stay the same row for row (a nested formula that fails at run time now fails "
                           "the whole formula instead of scoring 0 for its key).")


def _flatten() -> None:
    def edit(r):
        try:
            return flatten(r), ()
        except FormulaError as exc:
            raise tree.TreeError(f"can't flatten: {exc.message}") from None

    if E.tree_edit(edit, "flatten for the API"):
        E.flash("success", "Flattened: the tree now has a single multi level.")
