"""Step 3 — Graders: build the reinforcement grader tree, see its issues live, try it on one sample."""

from __future__ import annotations

import streamlit as st

from components import api_checks, grader_editors, grader_tree, playground, state, target_info
from components import grader_edit as E
from components.template_field import context


def _switch_to_reinforcement(label: str = "switch to reinforcement") -> None:
    """Same switch as on 1 Method: model, files and shared hyperparameters stay; a set-aside grader returns."""
    state.set_method("reinforcement", label, note=False)
    E.select(())


def _page() -> None:
    st.title("3 · Graders")
    target_info.header("its rules check this tree and its grader models")
    cfg = state.config()
    if cfg.method_type != "reinforcement":
        st.info(f"Graders score the model's answers in **reinforcement** fine-tuning. This job uses "
                f"**{cfg.method_type}**, which learns from examples and needs no grader.")
        st.button("Switch this job to reinforcement", icon=":material/swap_horiz:", type="primary",
                  key=state.key("graders", "switch"), on_click=_switch_to_reinforcement,
                  help="Keeps the model, the files and the shared hyperparameters; brings back a grader set aside "
                       "on 1 Method, else starts with one string_check grader. Undo reverts it.")
        return

    root = cfg.grader
    if root is None:
        st.warning("The reinforcement method has no grader block yet.")
        st.button("Add a grader", icon=":material/add:", type="primary", key=state.key("graders", "add_block"),
                  on_click=_switch_to_reinforcement, args=("add a grader",))
        return

    st.caption("The grader turns each model answer into a reward. Combine graders in a **multi** with a formula; "
               "every edit is validated as you type, and Undo (sidebar) reverts it.")
    grader_editors.style()
    issues = state.issues()
    selected = E.selected(root)
    E.show_flash()
    grader_tree.render_deleted_banner()
    grader_tree.render_flatten(root)
    grader_tree.render_add_names(root)
    top = st.columns([4, 1])
    with top[1]:
        api_checks.validate_button(root, key=state.key("graders", "api_validate"))

    left, right = st.columns([0.42, 0.58], gap="large")
    with left:
        st.markdown("#### Tree")
        grader_tree.render_tree(root, selected, issues)
        note = context().note
        if note and state.dataset() is None:
            st.caption(note)
        with st.container(border=True):
            playground.render(root)
    with right:
        edit_tab, json_tab = st.tabs([":material/edit: Edit", "{ } JSON"])
        with edit_tab:
            grader_tree.render_actions(root, selected)
            grader_editors.render_editor(root, selected, issues)
        with json_tab:
            grader_editors.json_editor(root, selected)


_page()
