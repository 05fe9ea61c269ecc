"""The run history on Test grading: every kept run (the newest workspace.MAX_RUNS and the baseline) with
its time, grader, dataset, rows and mean; any of them can be opened, kept as the baseline, downloaded
as records or deleted. The runs are those components.state keeps in the session and on disk."""

from __future__ import annotations

import time

import streamlit as st

from components import state
from ftstudio.grading import GradingRun, to_jsonl

WIDTHS = [1.6, 1.3, 2.3, 1.1, 4.7]


def _mean(run: GradingRun) -> str:
    if "summary" not in run.cache:
        run.cache["summary"] = run.results.summary()
    mean = run.cache["summary"]["mean"]
    return f"{mean:.3f}" if mean is not None else "—"


def _rows(run: GradingRun) -> str:
    shown = f"{len(run):,}"
    return shown + (f" of {run.total_rows:,}" if run.total_rows and run.total_rows != len(run) else "")


def _when(run: GradingRun) -> str:
    at = time.localtime(run.started_at)
    today = time.strftime("%Y-%m-%d") == time.strftime("%Y-%m-%d", at)
    return time.strftime("%H:%M:%S" if today else "%Y-%m-%d %H:%M", at)


def render() -> None:
    """The kept runs, newest first; nothing when no run is kept."""
    a = state.app()
    runs = sorted(a.runs.values(), key=lambda r: r.id, reverse=True)
    if not runs:
        return
    current = a.run.id if a.run is not None else None
    base = a.baseline.id if a.baseline is not None else None
    title = f":material/history: Run history ({len(runs)} kept)"
    with st.expander(title, expanded=len(runs) > 1):
        st.caption("The last runs are kept across a refresh and a restart. Open one to see its results below; keep one as "
                   "the baseline to compare the others against it.")
        head = st.columns(WIDTHS)
        for col, name in zip(head, ["Run", "Grader", "Dataset", "Rows · mean", ""]):
            col.markdown(f"**{name}**")
        for run in runs:
            _row(run, run.id == current, run.id == base)


def _row(run: GradingRun, is_current: bool, is_base: bool) -> None:
    c = st.columns(WIDTHS, vertical_alignment="center")
    tags = (" · :blue-badge[on screen]" if is_current else "") + (" · :orange-badge[baseline]" if is_base else "")
    c[0].markdown(f"**Run {run.id}** · {_when(run)}{tags}")
    res = run.results
    c[1].markdown(f"{res.grader_type} *{res.grader_name}*" + (" (cancelled)" if res.cancelled else ""))
    c[2].markdown(f"{run.dataset.name} · {run.scope_text}")
    c[3].markdown(f"{_rows(run)} · **{_mean(run)}**")
    with c[4].container(horizontal=True, gap="small"):  # buttons as wide as their labels: never cut
        _actions(run, is_current, is_base)


def _actions(run: GradingRun, is_current: bool, is_base: bool) -> None:
    st.button("Open", key=f"tg-hist-open-{run.id}", icon=":material/visibility:", disabled=is_current,
              on_click=state.open_run, args=(run,), help="Show this run's results below")
    st.button("Baseline", key=f"tg-hist-base-{run.id}", icon=":material/push_pin:", disabled=is_base,
              on_click=state.set_baseline, args=(run,), help="Compare the other runs against this one")
    st.download_button("JSONL", data=lambda: to_jsonl(run), file_name=f"grading-run-{run.id}.jsonl",
                       mime="application/jsonl", key=f"tg-hist-dl-{run.id}", icon=":material/download:",
                       on_click="ignore", help="One record per row, as `ftstudio grade --out`")
    st.button("Delete", key=f"tg-hist-del-{run.id}", icon=":material/delete:", on_click=state.delete_run,
              args=(run.id,), help="Forget this run (here and on disk)")
