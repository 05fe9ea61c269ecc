"""Submit the job from the app: upload the files, create the job, follow it, control it."""

from __future__ import annotations

import datetime as dt
import time

import streamlit as st

from components import state
from ftstudio.api import ApiError, jobs


def render(cfg, has_errors: bool) -> None:
    ep = state.endpoint()
    if not ep.configured:
        st.info("Connect an endpoint to submit: sidebar → :material/power: Connection, or OPENAI_API_KEY in the environment.",
                icon=":material/power:")
        return
    st.caption(f"Endpoint: `{ep.label}` · the key stays in this session's memory.")
    kept = state.app().uploaded
    left, right = st.columns(2)
    train = _source(left, "Training data", "training_file", cfg.training_file, kept)
    valid = _source(right, "Validation data (optional)", "validation_file", cfg.validation_file, kept)
    if has_errors:
        st.warning("The config has errors; the API will probably refuse it.")
    if st.button(":material/rocket_launch: Submit job", type="primary", key=state.key("submit", "go"), disabled=train is None):
        bar = st.progress(0.0, text="Uploading…")
        retries = st.empty()

        def uploading(role: str, s: int, t: int) -> None:
            bar.progress(min(1.0, s / max(t, 1)), text=f"Uploading {role.split('_')[0]}: "
                                                        f"{s / 1e6:,.1f} / {t / 1e6:,.1f} MB")

        try:
            sub = jobs.submit(ep, state.export_data(cfg), train, valid, progress=uploading,
                              on_retry=lambda a, why, d: retries.caption(f":material/hourglass_top: {why}: retry {a} in {d:.1f} s"))
        except jobs.SubmitError as exc:
            kept.update(exc.uploaded)
            bar.empty()
            st.error(exc.message)
            return
        bar.empty()
        kept.update(sub.uploaded)
        state.app().jobs[sub.job["id"]] = {"job": sub.job, "events": [], "next_poll": 0.0, "interval": 1.0}
        st.success(f"Created job `{sub.job['id']}` ({sub.job.get('status')}).")
    if state.app().jobs:
        _monitor()


def _source(col, label: str, role: str, config_id: str | None, kept: dict):
    with col:
        options = ["Upload a .jsonl"]
        if kept.get(role):
            options.insert(0, f"Already uploaded: {kept[role]}")
        if config_id and config_id.startswith("file-") and config_id != kept.get(role):
            options.append(f"The config's file id: {config_id}")
        if role == "validation_file":
            options.append("None")
        choice = st.radio(label, options, key=state.key("submit", "src", role))
        if choice.startswith("Already uploaded") or choice.startswith("The config"):
            return choice.split(": ", 1)[1]
        if choice == "None":
            return None
        up = st.file_uploader(f"{label} (.jsonl)", type=["jsonl"], key=state.key("submit", "up", role))
        return (up.name, up) if up is not None else None


@st.fragment(run_every=2)
def _monitor() -> None:
    ep = state.endpoint()
    for job_id, entry in list(state.app().jobs.items()):
        job = entry["job"]
        status = job.get("status")
        done = status in jobs.TERMINAL
        if not done and time.time() >= entry["next_poll"]:
            try:
                new = jobs.retrieve(ep, job_id, max_retries=2)
                events = jobs.events(ep, job_id, max_retries=2)
                changed = new.get("status") != status or len(events) != len(entry["events"])
                entry.update(job=new, events=events)
                entry["interval"] = 1.0 if changed else min(30.0, entry["interval"] * 2)
                entry.pop("error", None)
            except ApiError as exc:
                entry["error"] = exc.message
                entry["interval"] = min(30.0, entry["interval"] * 2)
            entry["next_poll"] = time.time() + entry["interval"]
            job, status = entry["job"], entry["job"].get("status")
        with st.container(border=True):
            st.markdown(f"**`{job_id}`** · status **{status}**"
                        + (f" · model `{job['fine_tuned_model']}`" if job.get("fine_tuned_model") else ""))
            if entry.get("error"):
                st.warning(entry["error"] + " — still trying with backoff.")
            cols = st.columns(4)
            for col, action, allowed in ((cols[0], "cancel", status not in jobs.TERMINAL),
                                         (cols[1], "pause", status == "running"),
                                         (cols[2], "resume", status == "paused")):
                if col.button(action.capitalize(), key=state.key("submit", "job", action, job_id), disabled=not allowed):
                    try:
                        entry["job"] = jobs.control(ep, job_id, action)
                        entry["next_poll"], entry["interval"] = 0.0, 1.0
                    except ApiError as exc:
                        st.error(exc.message)
                    st.rerun(scope="fragment")
            if not done:
                cols[3].caption(f"next check in {max(0, entry['next_poll'] - time.time()):.0f} s")
            for ev in reversed(entry["events"][-12:]):
                when = dt.datetime.fromtimestamp(ev.get("created_at", 0)).strftime("%H:%M:%S")
                icon = {"error": ":material/error:", "warn": ":material/warning:"}.get(ev.get("level"), "•")
                st.caption(f"{icon} {when} {ev.get('message', '')}")
