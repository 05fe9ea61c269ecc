"""Import ▸ "From my account": the account's fine-tuning jobs, any one of them as the current config,
and "Save all to a folder" (the same pull as `ftstudio pull`).

Listing is a network call: it runs when the tab is first opened with a connection configured (the
sidebar renders this tab only while it is open) and again on "Refresh the list"; the result is
kept for the session. The endpoint is the one the Connection panel configures (its key never
reaches the page or the disk).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components import state
from ftstudio.api import ApiError
from ftstudio.config import ImportProblem
from ftstudio.core import count, redact
from ftstudio.store import pull
from ftstudio.validation import check, from_json_keeping

# The app waits for fewer retries than the CLI: a person is looking at a spinner.
_RETRIES = 1


def render(prefix: str = "acct") -> None:
    ep = state.endpoint()
    if not ep.configured:
        st.caption("Set up a connection first (Connection, below): then your account's fine-tuning jobs "
                   "are listed here.")
        return
    listed = state.widget(state.key(prefix, "jobs"))
    if listed is not None and listed[0] != ep.label:
        listed = None  # another endpoint: the old list belongs to another account
    if st.button("List my jobs" if listed is None else "Refresh the list", key=state.key(prefix, "list"), icon=":material/refresh:",
                 width="stretch"):
        listed = _fetch(prefix, ep)
    elif listed is None and state.widget(state.key(prefix, "tried")) != ep.label:
        listed = _fetch(prefix, ep)  # once per endpoint; after a failure the button retries
    error = state.widget(state.key(prefix, "error"))
    if error:
        st.error(error)
    if listed is None:
        st.caption(f"Lists every fine-tuning job at {ep.label}.")
        return
    jobs = listed[1]
    if not jobs:
        st.info(f"No fine-tuning jobs at {ep.label}.")
        return
    # The sidebar is narrow: two short lines per job read better than a table that scrolls sideways.
    with st.container(height=min(60 + 58 * len(jobs), 280), border=True, key=state.key(prefix, "listing")):
        st.markdown("\n".join(_line(j) for j in jobs))
    st.caption(f"{len(jobs)} jobs at {ep.label}")
    _choose(prefix, jobs)
    _save_all(prefix, ep)


def _fetch(prefix: str, ep):
    state.forget_widget(state.key(prefix, "error"))
    state.set_widget(state.key(prefix, "tried"), ep.label)
    try:
        with st.spinner(f"Reading the job list at {ep.label} …"):
            jobs = pull.fetch(ep, max_retries=_RETRIES)
    except pull.PullIncomplete as exc:  # a bound stopped the listing: show what was read, and why
        jobs = exc.jobs
        state.set_widget(state.key(prefix, "error"), redact(f"Only part of the list was read: {exc.message}."))
    except ApiError as exc:
        state.set_widget(state.key(prefix, "error"), redact(f"Couldn't list the jobs: {exc.message}"))
        state.forget_widget(state.key(prefix, "jobs"))
        return None
    except ValueError as exc:
        state.set_widget(state.key(prefix, "error"), redact(f"{ep.label} answered, but not with a job list: {exc}"))
        return None
    state.set_widget(state.key(prefix, "jobs"), (ep.label, jobs))
    return state.widget(state.key(prefix, "jobs"))


def _created(job) -> str:
    created = job.entry.get("created_at")
    if not isinstance(created, int):
        return "—"
    return dt.datetime.fromtimestamp(created, dt.UTC).strftime("%Y-%m-%d")


def _line(job) -> str:
    """One job as a list item: id and status, then model, created day and grader type (or method)."""
    what = f"grader {job.grader_type}" if job.grader_type else job.method
    return (f"- **{job.id}** · {job.entry.get('status')}  \n"
            f"  `{job.entry.get('model')}` · {_created(job)} · {what}")


def _choose(prefix: str, jobs) -> None:
    by_id = {j.id: j for j in jobs}
    chosen = by_id[st.selectbox("Job", list(by_id), key=state.key(prefix, "pick"),
                                format_func=lambda i: f"{i} · {by_id[i].entry.get('status')} · {by_id[i].method}")]
    try:
        cfg, kept = from_json_keeping(chosen.body)
    except ImportProblem as exc:
        st.error(f"{chosen.id} can't become a config here: {exc.message}.")
        for issue in exc.issues[:12]:
            st.caption(f":material/error: `{issue.path or '$'}` {issue.message}")
        return
    c = count(check(chosen.body, target=state.target()))
    grader = f", grader {cfg.grader.type} '{cfg.grader.name}'" if cfg.grader is not None else ""
    st.info(f"{chosen.id}: **{cfg.method_type}** on `{cfg.model}`{grader} "
            f"({c['error']} errors, {c['warning']} warnings).")
    if st.button("Replace the current config", key=state.key(prefix, "apply"), type="primary",
                 help="The current config stays in Undo"):
        state.load(cfg, f"import job {chosen.id}")
        state.set_written(chosen.body, kept)
        if state.mark_foreign(cfg.grader):
            state.app().untrusted_python = f"the job {chosen.id}"
        st.rerun()


def _save_all(prefix: str, ep) -> None:
    folder = st.text_input("Folder", value=pull.DEFAULT_OUT, key=state.key(prefix, "folder"),
                           help="Each job is written as <job id>.json (a config that validate, export and submit "
                                "accept) plus index.json; files are rewritten only when the job changed.")
    if st.button("Save all to a folder", key=state.key(prefix, "save"), icon=":material/save:", width="stretch"):
        try:
            with st.spinner("Saving every job …"):
                result = pull.pull(ep, folder.strip() or pull.DEFAULT_OUT, max_retries=_RETRIES)
        except pull.PullIncomplete as exc:
            saved = _saved_text(exc.result) if exc.result is not None else ""
            state.set_widget(state.key(prefix, "saved"), ("error", redact(f"The pull is incomplete: {exc.message}. {saved}")))
        except ApiError as exc:
            state.set_widget(state.key(prefix, "saved"), ("error", redact(f"Nothing was saved: {exc.message}")))
        except (OSError, ValueError) as exc:
            state.set_widget(state.key(prefix, "saved"), ("error", redact(f"Nothing was saved: {exc}")))
        else:
            state.set_widget(state.key(prefix, "saved"), ("ok", _saved_text(result)))
    saved = state.widget(state.key(prefix, "saved"))
    if saved:
        (st.success if saved[0] == "ok" else st.error)(saved[1])


def _saved_text(result) -> str:
    c = result.counts()
    text = (f"Saved {c['saved']} jobs to {result.out.resolve()} ({c['new']} new, {c['updated']} updated, "
            f"{c['unchanged']} unchanged).")
    if c["invalid"]:
        text += f" {c['invalid']} couldn't become a valid config; the reasons are in index.json."
    soon = pull.retiring(result.jobs)
    if soon:
        text += " Stop serving within 60 days: " + ", ".join(
            f"{j.entry['fine_tuned_model']} ({when.isoformat()})" for j, when in soon) + "."
    return text
