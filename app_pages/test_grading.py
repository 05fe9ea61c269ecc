"""4 Test grading: score a dataset of model outputs with the current grader, locally, and study the scores.

Grading runs in a background thread (ftstudio.grading.GradingJob) so Cancel stays clickable; a fragment
polls its progress twice a second. A cheap grader usually finishes within QUICK_WAIT and its
results show at once. Nothing is ever graded without a click: model graders cost money.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from components import (
    api_checks,
    before_training,
    connection,
    dataset_panel,
    dataset_report,
    preflight_panel,
    run_history,
    state,
    time_limit,
    trust_gate,
)
from components import results_view as R
from ftstudio.grading import (
    GradeOptions,
    GradingJob,
    InvalidGrader,
    Scope,
    model_nodes,
    select_rows,
    to_grader,
    uses_models,
)

QUICK_WAIT = 0.3  # seconds a click waits for the job before switching to the progress view
SCOPES = {"all": "All rows", "random": "Random sample", "first": "First N"}


def _blocking_issues(grader) -> list:
    """What stops the engine from evaluating the grader; cached per grader object (never mutated)."""
    cache = state.app().grade_check
    if cache and cache[0] is grader:
        return cache[1]
    try:
        to_grader(grader)
        issues = []
    except InvalidGrader as exc:
        issues = exc.issues
    state.app().grade_check = (grader, issues)
    return issues


def _options() -> GradeOptions:
    return GradeOptions(endpoint=state.endpoint(), concurrency=int(state.widget(state.key("tg", "concurrency"), 8)),
                        python_timeout=time_limit.seconds())


def _fmt_seconds(s: float | None) -> str:
    if s is None:
        return "estimating …"
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"


@st.fragment(run_every=0.5)
def _progress() -> None:
    job = R.job()
    if job is None or job.done:
        st.rerun()  # the whole page: it collects the results
    p = job.progress()
    stage = "cancelling …" if p.cancelling else p.label
    st.progress(p.fraction, text=f"Grading {p.total:,} rows · {stage}")
    c1, c2 = st.columns([4, 1], vertical_alignment="center")
    retries = f" · :material/hourglass_top: {p.retries} retries ({p.last_retry})" if p.retries else ""
    left = p.waiting_text or f"about {_fmt_seconds(p.eta)} left"  # no ETA is honest while a row hangs
    c1.caption(f"{p.rows_done:,} of {p.total:,} rows done · {_fmt_seconds(p.elapsed)} elapsed · "
               f"{left}{retries}")
    c2.button("Cancel", key=state.key("tg", "cancel"), icon=":material/stop:", on_click=job.cancel, disabled=p.cancelling, width="stretch")
    time_limit.notice(p)


def _start(grader, ds, scope: Scope) -> None:
    job = GradingJob(R.next_run_id(), grader, ds, state.sample_field(), scope, _options(),
                     state.grader_fingerprint()).start()
    R.set_job(job)
    job.wait(QUICK_WAIT)  # a cheap grader is done by now: the rerun shows its results, not a progress bar
    st.rerun()


def _link(where, name: str, label: str, icon: str) -> None:
    """A link to another step's page."""
    try:
        where.page_link(f"app_pages/{name}.py", label=label, icon=icon)
    except StreamlitAPIException:  # AppTest of a page alone has no router
        where.caption(f"→ {label}")


def _needs_reinforcement() -> None:
    st.info("Test grading needs a **reinforcement** grader. Choose Reinforcement in **1 Method**, then build the "
            "grader in **3 Graders**. The dataset checks above work for every method.", icon=":material/route:")
    c1, c2, _ = st.columns([1, 1, 4])
    _link(c1, "method", "1 Method", ":material/route:")
    _link(c2, "graders", "3 Graders", ":material/rule:")


def _run_panel(grader, ds) -> None:
    job = R.job()
    if job is not None and job.done:
        R.collect(job)
        job = None
    note = R.notice()
    if note:
        (st.warning if note[0] == "warning" else st.error)(note[1])
    if job is not None:
        _progress()
        return
    issues = _blocking_issues(grader)
    if issues:
        st.error("**The grader can't be evaluated yet.** Fix these in 3 Graders:", icon=":material/block:")
        for i in issues:
            st.markdown(f"- `{i.path or '$'}` — {i.message}" + (f" *({i.hint})*" if i.hint else ""))
        _link(st, "graders", "Open 3 Graders", ":material/rule:")
        return
    if ds is None:
        st.info("Load a dataset above, then grade it here.", icon=":material/upload:")
        return
    models = uses_models(grader)
    if models:
        ep = state.endpoint()
        last = R.current_run()
        usage = R.summary(last)["token_usage"] if last is not None else None
        with st.container(border=True):
            st.markdown("**:material/power: Model endpoint** — this grader calls a model" +
                        ("" if ep.configured else ": set a key or a server to grade"))
            connection.render("tg.conn", usage=usage)
    total = len(ds) + len(ds.errors)
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    mode = c1.segmented_control("Rows to grade", list(SCOPES), format_func=SCOPES.__getitem__, default="all",
                                key=state.key("tg", "scope"), required=True) or "all"
    n = seed = 0
    if mode != "all":
        n = c2.number_input("N rows", 1, max(total, 1), min(100, total), key=state.key("tg", "n", total))
    if mode == "random":
        seed = c3.number_input("Seed", 0, 2**31 - 1, 0, key=state.key("tg", "seed"),
                               help="The same seed picks the same rows, so runs stay comparable.")
    time_limit.render(c4 if not models else st.columns([2, 1, 1, 1])[3], grader)
    if models:
        c4.number_input("Concurrent requests", 1, 64, 8, key=state.key("tg", "concurrency"),
                        help="Model calls in flight at once; lower it if the endpoint rate-limits (429).")
    scope = Scope(mode, None if mode == "all" else int(n), int(seed))
    count = len(select_rows(total, scope))
    if models:
        st.caption(f":material/payments: This grader calls a model: up to {count * max(model_nodes(grader), 1):,} requests for "
                   f"{count:,} rows. Answers already in the local cache (identical requests) are free.")
    preflight_panel.render(grader, ds, state.sample_field())
    if not trust_gate.allowed(grader, state.key("tg", "trust")):
        return
    if st.button(f"Grade {scope.describe(total)}", type="primary", icon=":material/play_arrow:", key=state.key("tg", "run")):
        _start(grader, ds, scope)


st.title("4 · Test grading")
st.caption("Score model outputs with your grader, locally and by the API's rules, before you pay for a job.")
cfg = state.config()

st.subheader("Data", divider="gray")
dataset = dataset_panel.render(cfg)

st.subheader("Grade", divider="gray")
if cfg.method_type != "reinforcement" or cfg.grader is None:
    _needs_reinforcement()
else:
    _run_panel(cfg.grader, dataset)

run = R.current_run()
if run is not None or state.app().runs:
    st.subheader("Results", divider="gray")
    run_history.render()
if run is not None:
    R.render(run, state.grader_fingerprint())

if cfg.method_type == "reinforcement" and cfg.grader is not None and dataset is not None:
    st.subheader("Compare with the API", divider="gray")
    with st.expander(":material/compare_arrows: Local scores against the official grader service", expanded=False):
        if not state.endpoint().configured:
            connection.render("tg.cmp-conn")
        if trust_gate.allowed(cfg.grader, state.key("tg", "cmp-trust")):
            api_checks.compare_panel(cfg.grader, dataset, state.sample_field())

before_training.render(cfg, dataset)
dataset_report.start_pending()  # the big dataset's checks, now that the page is drawn
