"""Test-grading results: the runs kept in the session, KPIs, charts, the row table with a detail
view, downloads, and the comparison with a baseline run.

Everything here reads stored runs (ftstudio.grading.GradingRun); nothing grades again (the row detail
renders the templates without scoring: components/row_inputs.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd
import streamlit as st

from components import report_download, row_inputs, run_cache, state
from ftstudio.grading import (
    Comparison,
    GradeResults,
    GradingJob,
    GradingRun,
    Summary,
    compare_runs,
    summary_text,
    to_csv,
    to_jsonl,
)
from ftstudio.report import charts as C

T = TypeVar("T")

TABLE_CAP = 10_000
_RESERVED = {"row", "line", "reward", "pass", "errors", "error details", "output"}


# --- the runs kept in the session ----------------------------------------------------------

def job() -> GradingJob | None:
    return state.app().job


def set_job(j: GradingJob | None) -> None:
    a = state.app()
    a.job = j
    if j is not None:
        a.notice = None  # a new run: the last run's notice (a cancel) no longer applies


def current_run() -> GradingRun | None:
    return state.app().run


def baseline() -> GradingRun | None:
    return state.app().baseline


def set_baseline(run: GradingRun | None) -> None:
    state.set_baseline(run)


def next_run_id() -> int:
    a = state.app()
    a.run_counter += 1
    return a.run_counter


def notice() -> tuple[str, str] | None:
    return state.app().notice


def collect(j: GradingJob) -> None:
    """Move a finished job's outcome into the session (results, or a notice saying what happened)."""
    a = state.app()
    a.notice = None
    if j.invalid is not None:
        a.notice = ("error", "The grader can't be evaluated: " + "; ".join(i.line() for i in j.invalid.issues[:5]))
    elif j.error is not None:
        a.notice = ("error", f"Grading stopped unexpectedly: {j.error}")
    elif j.run is None:
        kept = "; the previous results are still shown" if a.run is not None else ""
        a.notice = ("warning", f"Cancelled before any row was graded: no results were kept{kept}.")
    else:
        state.add_run(j.run)
        if j.cancelled:
            rest = j.total - j.finished_rows
            a.notice = ("warning", f"Cancelled after {j.finished_rows:,} of {j.total:,} rows: the other {rest:,} "
                                   "are marked other_error (cancelled) in this partial run.")
    a.job = None


# --- helpers -------------------------------------------------------------------------------

def summary(run: GradingRun) -> Summary:
    return run_cache.derived(run, "summary", run.results.summary)


def _cached(run: GradingRun, key: str, build: Callable[[GradeResults], T]) -> T:
    """A figure or table derived from the run's results, built on first use."""
    return run_cache.derived(run, key, lambda: build(run.results))


def _rewards(run: GradingRun) -> np.ndarray:
    return run_cache.derived(run, "rewards", lambda: C.as_array(run.results.rewards))


def pass_share(rewards: np.ndarray, threshold: float) -> float:
    return float((rewards >= threshold).mean()) if rewards.size else 0.0


def _text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def table(run: GradingRun) -> tuple[pd.DataFrame, pd.Series]:
    """(one row per result row, lower-cased search text per row); built once per run."""
    return run_cache.derived(run, "table", lambda: _table(run))


def _table(run: GradingRun) -> tuple[pd.DataFrame, pd.Series]:
    res, sf, n = run.results, run.sample_field, len(run.results)
    # Humans count from 1: the table's row (like its line) is 1-based; records keep the 0-based `row`.
    data: dict = {"row": [r + 1 for r in run.row_index], "line": pd.array([ln for ln in res.lines[:n]], dtype="Int64"),
                  "reward": C.as_array(res.rewards)}
    for k in res.sub_rewards:
        data[f"{k} (sub)" if k in _RESERVED else k] = C.sub_array(res, k)  # NaN (no value) where the child failed
    errors, details, outputs, hay = [""] * n, [""] * n, [], []
    for i, e in res.errors.items():
        errors[i] = ", ".join(sorted(e.codes))
        details[i] = "; ".join(f"{c}: {d}" for c, d in sorted(e.codes.items()))
    for i in range(n):
        entry = run.entry(i)
        if isinstance(entry, dict):
            out = _text(entry.get(sf))
            item = json.dumps({k: v for k, v in entry.items() if k != sf}, ensure_ascii=False)[:2000]
        else:
            out, item = "", str(entry)
        outputs.append(out if len(out) <= 300 else out[:300] + " …")
        hay.append(f"{out}\n{details[i]}\n{item}".casefold())
    df = pd.DataFrame(data)
    df["errors"], df["error details"], df["output"] = errors, [d[:300] for d in details], outputs
    return df, pd.Series(hay)


# --- the view ------------------------------------------------------------------------------

def render(run: GradingRun, fingerprint: str) -> None:
    """Results of `run`; `fingerprint` is the current grader/data fingerprint (stale when it differs)."""
    s = summary(run)
    res = run.results
    head, buttons = st.columns([3, 2], vertical_alignment="bottom")
    head.markdown(f"#### {run.label}")
    head.caption(f"{res.grader_type} '{res.grader_name}' on {run.scope_text} of {run.dataset.name} · "
                 f"output field `{run.sample_field}`")
    base = baseline()
    b1, b2 = buttons.columns(2)
    is_base = base is not None and base.id == run.id
    b1.button(":material/push_pin: Keep as baseline", key=state.key("tg", "keep-baseline"), on_click=set_baseline, args=(run,), disabled=is_base,
              width="stretch", help="Keep this run to compare the next runs against it.")
    b2.button("Clear baseline", key=state.key("tg", "clear-baseline"), on_click=set_baseline, args=(None,), disabled=base is None,
              width="stretch")
    if run.fingerprint != fingerprint:
        st.warning("**These results are from an earlier grader/data — re-run to refresh.** They stay viewable "
                   "below; nothing is re-run automatically (model graders cost money).", icon=":material/history:")
    if res.cancelled:
        done = run.finished_rows if run.finished_rows is not None else len(res)
        st.info(f"Partial run: cancelled after {done:,} of {run.total_rows:,} rows; the rows not graded carry "
                "other_error (cancelled).", icon=":material/stop:")

    rewards = _rewards(run)
    lo, hi = C.value_range(rewards)
    t = st.slider("Pass threshold", lo, hi, lo + (hi - lo) / 2, step=(hi - lo) / 100, key=state.key("tg", "threshold", f"{lo:g}", f"{hi:g}"),
                  help="A row passes when its reward is at least this value.")
    _kpis(run, s, rewards, t, base)
    tabs = st.tabs([":material/bar_chart: Charts", ":material/search: Rows", ":material/compare_arrows: Compare" + (f" with Run {base.id}" if base and not is_base else ""),
                    ":material/download: Download"])
    with tabs[0]:
        _charts(run, t)
    with tabs[1]:
        _rows(run, t)
    with tabs[2]:
        _compare(base, run, t)
    with tabs[3]:
        _downloads(run, s, t)


def _kpis(run: GradingRun, s: Summary, rewards: np.ndarray, t: float, base: GradingRun | None) -> None:
    cols = st.columns(5)
    delta, other_data = None, False
    base_mean = summary(base)["mean"] if base is not None and base.id != run.id else None
    if base is not None and base_mean is not None and s["mean"] is not None:
        # Like the Compare tab: means of different datasets are not comparable, so no delta is shown.
        other_data = not base.data_hash or base.data_hash != run.data_hash
        if not other_data:
            delta = f"{s['mean'] - base_mean:+.3f} vs Run {base.id}"
    cols[0].metric("Mean reward", f"{s['mean']:.3f}" if s["mean"] is not None else "—", delta, border=True,
                   help=f"std {s['std']:.3f}" if s["std"] is not None else None)
    if other_data and base is not None:
        cols[0].caption(f"No delta: baseline Run {base.id} graded a different dataset.")
    share = pass_share(rewards, t)
    cols[1].metric(f"Rows ≥ {t:g}", f"{100 * share:.1f}%", border=True,
                   help=f"{int(round(share * len(rewards))):,} of {len(rewards):,} rows reach the threshold")
    cols[2].metric("Error rate", f"{100 * s['error_rate']:.1f}%", border=True,
                   help=f"{s['rows_with_errors']:,} rows have an error flag (their reward is 0)")
    graded = f"{s['count']:,}" + (f" / {run.total_rows:,}" if run.total_rows != s["count"] else "")
    cols[3].metric("Rows graded", graded, border=True, help=f"{run.scope_text} of {run.dataset.name}")
    rate = f"{s['rows_per_second']:,.0f} rows/s" if s.get("rows_per_second") else None
    secs = run.wall_seconds
    cols[4].metric("Elapsed", f"{secs * 1000:.0f} ms" if secs < 1 else f"{secs:.1f} s", border=True, help=rate)


def _charts(run: GradingRun, t: float) -> None:
    c1, c2 = st.columns(2)
    c1.plotly_chart(C.reward_histogram(run.results, t), key=state.key("tg", "chart-hist"), width="stretch")
    err = _cached(run, "fig-errors", C.errors_bar)
    if err is not None:
        c2.plotly_chart(err, key=state.key("tg", "chart-errors"), width="stretch")
    else:
        c2.success("No row has an error flag.", icon=":material/check_circle:")
    subs = _cached(run, "fig-subs", C.sub_reward_histograms)
    corr = _cached(run, "fig-corr", C.correlation_heatmap)
    if subs is not None:
        left, right = st.columns([2, 1]) if corr is not None else (st.container(), None)
        left.plotly_chart(subs, key=state.key("tg", "chart-subs"), width="stretch")
        if right is not None:
            right.plotly_chart(corr, key=state.key("tg", "chart-corr"), width="stretch")
    else:
        st.caption("Per-sub-grader charts appear when the grader is a multi grader.")


def clicked_position(selection) -> int | None:
    """The table position the user clicked: a selected row, or the row of a clicked cell (a click on any
    cell opens its row; the checkbox column selects it too)."""
    sel = (selection or {}).get("selection") or {}
    rows = list(sel.get("rows") or [])
    if rows:
        return int(rows[0])
    cells = list(sel.get("cells") or [])
    return int(cells[0][0]) if cells else None


def _select_row(run_id: int) -> None:
    pos = clicked_position(state.widget(state.key("tg", "table", run_id)))
    view = state.app().table_view
    if pos is not None and pos < len(view):
        state.set_widget(state.key("tg", "detail", run_id), view[pos])


def _rows(run: GradingRun, t: float) -> None:
    df, hay = table(run)
    c1, c2, c3 = st.columns([1, 2, 2], vertical_alignment="bottom")
    errors_only = c1.toggle("Errors only", key=state.key("tg", "f-errors"))
    lo, hi = C.value_range(df["reward"])
    r = c2.slider("Reward range", lo, hi, (lo, hi), step=(hi - lo) / 100, key=state.key("tg", "f-range", f"{lo:g}", f"{hi:g}"))
    q = c3.text_input("Search", key=state.key("tg", "f-search"), placeholder="text in the output, the item or the errors")
    mask = (df["reward"] >= r[0]) & (df["reward"] <= r[1])
    if errors_only:
        mask &= df["errors"] != ""
    if q.strip():
        mask &= hay.str.contains(q.strip().casefold(), regex=False)
    view = df[mask]
    shown = view.head(TABLE_CAP)
    state.app().table_view = shown.index.tolist()
    st.caption(f"{len(view):,} of {len(df):,} rows match" + (f"; the first {TABLE_CAP:,} are listed" if
                                                            len(view) > TABLE_CAP else "")
               + ". Click any cell of a row to open its details below; click a column header to sort.")
    subs = [c for c in df.columns if c not in _RESERVED]
    cfg = {"reward": st.column_config.ProgressColumn("reward", format="%.3f", min_value=lo, max_value=hi),
           "line": st.column_config.NumberColumn("line", format="%d"),
           "pass": st.column_config.CheckboxColumn(f"≥ {t:g}", width="small"),
           "output": st.column_config.TextColumn(f"output ({run.sample_field})", width="large"),
           **{c: st.column_config.NumberColumn(c, format="%.3f") for c in subs}}
    shown = shown.assign(**{"pass": shown["reward"] >= t})
    st.dataframe(shown, key=state.key("tg", "table", run.id), on_select=lambda: _select_row(run.id),
                 selection_mode=["single-row", "single-cell"],
                 hide_index=True, column_config=cfg, width="stretch", height=min(420, 38 + 35 * max(len(shown), 1)),
                 placeholder="—",  # a sub-grader that failed on the row has no score (not 0)
                 column_order=["row", "line", "reward", "pass", *subs, "errors", "output", "error details"])
    if len(shown):
        _detail(run, shown.index.tolist())


def _detail(run: GradingRun, options: list[int]) -> None:
    key = state.key("tg", "detail", run.id)
    if state.widget(key) not in options:
        state.forget_widget(key)
    res = run.results

    def label(i: int) -> str:
        line = f" · line {res.lines[i]}" if res.lines and res.lines[i] is not None else ""
        return f"row {run.row_index[i] + 1}{line} · reward {res.rewards[i]:.3f}" + (" · ⚠ error" if i in res.errors else "")

    with st.container(border=True):
        i = st.selectbox("Row details", options, format_func=label, key=key)
        rec = run.record(i)
        left, right = st.columns(2)
        with left:
            st.metric("Reward", f"{rec['reward']:.4f}")
            if rec["sub_rewards"]:
                scores = {k: res.sub_value(k, i) for k in rec["sub_rewards"]}
                st.dataframe([{"sub-grader": k, "score": "—" if v is None else f"{v:.4g}"} for k, v in scores.items()],
                             hide_index=True, width="stretch")
            for code, details in (rec["error_details"] or {}).items():
                st.error(f"**{code}** — {details}")
        entry = run.entry(i)
        with right:
            if isinstance(entry, dict):
                st.markdown(f"**Output** (`{run.sample_field}`)")
                st.code(_text(entry.get(run.sample_field)) or "(none)", language=None, wrap_lines=True)
                with st.expander("Item"):
                    st.json({k: v for k, v in entry.items() if k != run.sample_field}, expanded=1)
            else:
                st.warning(f"Unreadable line: {entry}")
        if isinstance(entry, dict):
            row_inputs.render(run, i)


def _compare(base: GradingRun | None, run: GradingRun, t: float) -> None:
    if base is None or base.id == run.id:
        st.info("Keep a run as the baseline (:material/push_pin: above), change the grader or the data, grade again: the new run is "
                "compared here row by row.", icon=":material/compare_arrows:")
        return
    # The rows are matched once per pair of runs; the threshold only filters.
    cmp: Comparison = run_cache.derived(run, ("compare", id(base)), lambda: compare_runs(base, run, t)).at(t)
    st.caption(f"Baseline: {base.label} · {base.results.grader_type} '{base.results.grader_name}' on "
               f"{base.scope_text}. New: {run.label}.")
    if not cmp.same_data:
        st.warning("The baseline graded different data, so rows can't be matched: only the distributions are "
                   "compared.", icon=":material/warning:")
    elif not cmp.rows:
        st.warning("The two runs have no rows in common (different samples).", icon=":material/warning:")
    c1, c2 = st.columns(2)
    c1.plotly_chart(C.overlay_histograms(_rewards(base), _rewards(run), (f"Run {base.id}", f"Run {run.id}"), t),
                    key=state.key("tg", "chart-overlay"), width="stretch")
    if not cmp.rows:
        return
    c2.plotly_chart(C.delta_histogram(cmp.new_rewards - cmp.base_rewards), key=state.key("tg", "chart-delta"), width="stretch")
    deltas = cmp.new_rewards - cmp.base_rewards
    was, now = cmp.base_rewards >= t, cmp.new_rewards >= t
    k = st.columns(4)
    k[0].metric("Rows compared", f"{len(cmp.rows):,}")
    k[1].metric("Changed", f"{int((np.abs(deltas) > 1e-12).sum()):,}")
    k[2].metric("Pass → fail", f"{int((was & ~now).sum()):,}", help=f"reward fell below {t:g}")
    k[3].metric("Fail → pass", f"{int((now & ~was).sum()):,}", help=f"reward reached {t:g}")
    frame = pd.DataFrame({"row": [r + 1 for r in cmp.rows], "baseline": cmp.base_rewards, "new": cmp.new_rewards, "delta": deltas,
                          "flip": np.where(was & ~now, "pass → fail", np.where(now & ~was, "fail → pass", ""))})
    show = st.segmented_control("Rows", ["changed", "flipped", "all"], default="changed", required=True,
                                key=state.key("tg", "cmp-show"), format_func={"changed": "Changed", "flipped": "Flipped across "
                                                                f"{t:g}", "all": "All"}.__getitem__)
    if show == "changed":
        frame = frame[frame["delta"].abs() > 1e-12]
    elif show == "flipped":
        frame = frame[frame["flip"] != ""]
    frame = frame.reindex(pd.Series(frame["delta"]).abs().sort_values(ascending=False).index)
    st.dataframe(frame.head(TABLE_CAP), hide_index=True, width="stretch",
                 column_config={"baseline": st.column_config.NumberColumn(f"Run {base.id}", format="%.3f"),
                                "new": st.column_config.NumberColumn(f"Run {run.id}", format="%.3f"),
                                "delta": st.column_config.NumberColumn("delta", format="%+.3f")})


def _downloads(run: GradingRun, s: Summary, t: float) -> None:
    st.caption("The records: one per graded row, as `ftstudio grade --out` writes them (row, reward, sub_rewards, "
               "errors, error_details, line). The report: one HTML file to share with a reviewer, as `ftstudio grade "
               "--report` writes it; it opens offline.")
    c1, c2, c3, _ = st.columns([1, 1, 1, 1])
    c1.download_button("Results as JSONL", data=lambda: to_jsonl(run), file_name=f"grading-run-{run.id}.jsonl",
                       mime="application/jsonl", key=state.key("tg", "dl-jsonl"), icon=":material/download:", on_click="ignore", width="stretch")
    c2.download_button("Results as CSV", data=lambda: to_csv(run), file_name=f"grading-run-{run.id}.csv",
                       mime="text/csv", key=state.key("tg", "dl-csv"), icon=":material/download:", on_click="ignore", width="stretch")
    with c3:
        report_download.button(run, t)
    st.code(summary_text(run.results.grader_name, run.results.grader_type, s), language=None)
