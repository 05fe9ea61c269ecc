"""The sidebar on every page: the job at a glance, the validation badge, presets, import,
Undo / Redo and New config."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components import dataset_drop, issues_panel, kept_fields, state, target_info
from ftstudio.config import METHODS, Document, ImportProblem, NoGrader, grader_of, new_config, parse_json, read_document
from ftstudio.core import count
from ftstudio.graders import MultiGrader
from ftstudio.store import list_presets
from ftstudio.validation import (
    OPENAI_CLOSED,
    TARGETS,
    check,
    check_grader,
    from_json_keeping,
    grader_from_json,
    openai_closed,
)

PAGE_TITLES = {"app_pages/method.py": "1 Method", "app_pages/hyperparameters.py": "2 Hyperparameters",
               "app_pages/graders.py": "3 Graders", "app_pages/test_grading.py": "4 Test grading", "app_pages/export.py": "5 Export"}


def render() -> None:
    with st.sidebar:
        st.markdown("### :material/tune: Fine-Tune Studio")
        _conflict()
        _glance()
        _badge()
        kept_fields.render("sb.kept")
        _history()
        with st.expander(":material/library_books: Presets", expanded=False):
            _presets()
        with st.expander(":material/download: Import JSON", expanded=False):
            # on_change="rerun": the account tab calls the API, so it runs only while it is the open tab.
            json_tab, account_tab = st.tabs(["JSON", "From my account"], key=state.key("sb", "import_tabs"), on_change="rerun")
            with json_tab:
                _import()
            if account_tab.open:
                from components import account_import

                with account_tab:
                    account_import.render("sb.acct")
        with st.expander(":material/note_add: New config", expanded=False):
            _new()
        ep = state.endpoint()
        with st.expander(":material/power: Connection" + (" · connected" if ep.configured else ""), expanded=False):
            from components import connection

            connection.render("sb.conn")
        _target()
        origin = state.app().take("untrusted_python")
        if origin:
            st.warning(f"{origin[0].upper() + origin[1:]} contains Python grader code. Nothing runs it until you "
                       "review it and confirm on the Test grading page or in the playground.", icon=":material/code:")
        note = state.app().take("restore_note")
        if note:
            st.info(f"Autosave: {note}")
        if state.app().save_error:
            st.warning(state.app().save_error)


def _target() -> None:
    """The provider whose rules apply (validation, model picker, export); default: the connection's kind,
    except that once OpenAI takes no new jobs a config is no longer put on openai unasked."""
    current = state.target()
    if state.app().target is None and current == "openai" and openai_closed():
        st.warning(f"{OPENAI_CLOSED}. Which target is this job for?", icon=":material/event_busy:")
        choice = st.selectbox("Target", TARGETS, index=None, placeholder="Choose a target", key=state.key("sb", "target"),
                              help="Until you choose, validation still shows OpenAI's rules")
        target_info.explain()
        if choice is not None:
            state.set_target(choice)
            st.rerun()
        return
    choice = st.selectbox("Target", TARGETS, index=TARGETS.index(current), key=state.key("sb", "target"),
                          help="openai, Azure OpenAI / Foundry, Amazon Bedrock, or any OpenAI-compatible "
                               "server: validation follows what that service accepts")
    target_info.explain()
    if choice != current:
        state.set_target(choice)
        st.rerun()


def _conflict() -> None:
    conflict = state.external_change()
    if conflict is None:
        return
    import datetime as dt

    when = dt.datetime.fromtimestamp(conflict.saved_at).strftime("%H:%M:%S") if conflict.saved_at else "recently"
    with st.container(border=True):
        st.warning(f"Another tab saved a different config at {when}. This tab's edits are kept as a draft until "
                   "you choose.", icon=":material/merge:")
        left, right = st.columns(2)
        if left.button("Load theirs", key=state.key("sb", "conflict_theirs"), help="Yours stays in Undo",
                       disabled=conflict.theirs is None, width="stretch"):
            state.take_theirs()
            st.rerun()
        if right.button("Keep mine", key=state.key("sb", "conflict_mine"), help="Theirs stays in the autosave history",
                        width="stretch"):
            state.keep_mine()
            st.rerun()


def _glance() -> None:
    cfg = state.config()
    grader = cfg.grader
    lines = [f"**Method** {cfg.method_type}", f"**Model** `{cfg.model or '—'}`"]
    if grader is not None:
        if isinstance(grader, MultiGrader):
            lines.append(f"**Grader** multi '{grader.name or '(no name)'}' · {len(grader.graders)} children")
        else:
            lines.append(f"**Grader** {grader.type} '{grader.name or '(no name)'}'")
    st.markdown("  \n".join(lines))


def _badge() -> None:
    issues = state.issues()
    c = count(issues)
    if c["error"]:
        label = f":material/error: {c['error']} error(s) · :material/warning: {c['warning']} warning(s)"
    elif c["warning"]:
        label = f":material/warning: {c['warning']} warning(s)"
    else:
        label = ":material/check_circle: Valid"
    with st.popover(label, width="stretch"):
        issues_panel.full_list(issues, PAGE_TITLES)


def _history() -> None:
    left, right = st.columns(2)
    u, r = state.can_undo(), state.can_redo()
    if left.button("↶ Undo", disabled=u is None, help=f"Undo: {u}" if u else "Nothing to undo",
                   width="stretch", key=state.key("sb", "undo")):
        state.undo()
        st.rerun()
    if right.button("↷ Redo", disabled=r is None, help=f"Redo: {r}" if r else "Nothing to redo",
                    width="stretch", key=state.key("sb", "redo")):
        state.redo()
        st.rerun()


def _presets() -> None:
    presets, problems = list_presets()
    for p in problems:
        st.caption(f":material/warning: unreadable preset {p}")
    if not presets:
        st.caption("No presets found.")
        return
    titles = {p.slug: p for p in presets}
    slug = st.selectbox("Preset", list(titles), format_func=lambda s: ("★ " if titles[s].user else "") + titles[s].title,
                        key=state.key("sb", "preset"))
    chosen = titles[slug]
    st.caption(chosen.description)
    if chosen.has_python:
        st.caption(":material/code: Contains Python grader code: it runs on your machine when you grade.")
    if st.button("Load preset", key=state.key("sb", "load_preset"), width="stretch", type="primary"):
        try:
            cfg, kept = from_json_keeping(chosen.config)
        except ImportProblem as exc:
            st.error(f"{chosen.path.name} is not a valid config: {exc.message}")
            return
        state.load(cfg, f"load preset {chosen.title}")
        state.set_written(chosen.config, kept)
        if state.mark_foreign(cfg.grader):
            state.app().untrusted_python = f"the preset “{chosen.title}”"
        st.rerun()


def _import() -> None:
    up = st.file_uploader("A JSON file", type=dataset_drop.ACCEPTS, key=state.key("sb", "import_file"),
                          help=dataset_drop.HELP)
    pasted = st.text_area("…or paste JSON", key=state.key("sb", "import_text"), height=120,
                          placeholder='{"model": "...", "training_file": "file-...", "method": {...}}')
    raw = up.getvalue() if up is not None else (pasted.encode() if pasted.strip() else None)
    if raw is None or dataset_drop.handled(raw, up.name if up is not None else ""):
        return
    try:
        data = parse_json(raw)
    except ImportProblem as exc:
        st.error(f"Can't read it: {exc.message}")
        return
    doc = read_document(data)
    bare = _bare_grader(data, doc)
    if bare is not None:
        issues = check_grader(bare, target=state.target())
        try:
            grader = grader_from_json(bare)
        except ImportProblem as exc:
            _show_problem(exc)
            return
        st.info(f"Found a bare **{grader.type}** grader '{grader.name or '(no name)'}' ({_counts(issues)}).")
        if st.button("Use it as the reinforcement grader", key=state.key("sb", "import_grader"), type="primary"):
            state.import_grader(grader, bare)
            _after_import(grader)
        return
    try:
        cfg, kept = from_json_keeping(doc.data)
    except ImportProblem as exc:
        _show_problem(exc)
        return
    title = f" “{doc.title}”" if doc.title else ""
    if kept:
        st.caption(f":material/push_pin: {len(kept)} field(s) the editor doesn't know are kept as written: "
                   + ", ".join(f"`{'.'.join(map(str, p))}`" for p, _, _ in kept))
    st.info(f"Found a job config{title}: **{cfg.method_type}** on `{cfg.model}`"
            + (f", grader {cfg.grader.type} '{cfg.grader.name or cfg.grader.type}'" if cfg.grader else "")
            + f" ({_counts(check(doc.data, target=state.target()))}).")
    if st.button("Replace the current config", key=state.key("sb", "import_apply"), type="primary",
                 help="The current config stays in Undo"):
        state.load(cfg, "import config")
        state.set_written(doc.data, kept)
        _after_import(cfg.grader)


def _bare_grader(data: Any, doc: Document) -> dict[str, Any] | None:
    """The grader, when the document is a grader rather than a job to import whole: a bare grader,
    {"grader": ...} as the graders API takes it, or a reinforcement method block (config.grader_of)."""
    if doc.kind == "config" and isinstance(doc.data, dict) and "method" in doc.data:
        return None  # a job config: imported whole, grader and all
    try:
        return grader_of(data)
    except NoGrader:
        return None


def _after_import(grader) -> None:
    if state.mark_foreign(grader):
        state.app().untrusted_python = "the imported JSON"
    state.forget_widget(state.key("sb", "import_text"))
    st.rerun()


def _show_problem(exc: ImportProblem) -> None:
    st.error(f"Not imported: {exc.message}.")
    for issue in exc.issues[:12]:
        st.caption(f":material/error: `{issue.path or '$'}` {issue.message}")


def _counts(issues) -> str:
    c = count(issues)
    return f"{c['error']} errors, {c['warning']} warnings"


def _new() -> None:
    method = st.selectbox("Method", METHODS, key=state.key("sb", "new_method"))
    if st.button("Start a new config", key=state.key("sb", "new"), help="The current config stays in Undo"):
        state.load(new_config(method), f"new {method} config")
        state.set_written(None)
        st.rerun()
