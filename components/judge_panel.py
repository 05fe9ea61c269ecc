"""Model graders under test, in Test grading's "Before you train": the judge probes (master keys, authority,
flattery, …), the judge's self-consistency (each row graded K times, cache bypassed), and graders meant to agree
(children of a multi). Every figure comes from the functions the CLI calls (`ftstudio probe --probes judge`,
`ftstudio calibrate --repeat K`, `calibrate --agree`); this module only draws them.

Nothing that calls a model runs before its estimated cost is on screen, the user has ticked that they accept
it, and it is under the max cost they set (the app's `--max-cost`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

import pandas as pd
import streamlit as st

from components import connection, state, trust_gate
from ftstudio.grading import CostEstimate, GradeOptions, estimate_cost, model_requests, uses_models
from ftstudio.probes import (
    AGREE_MIN,
    DEFAULT_THRESHOLD,
    JUDGE_PROBES,
    calibrate,
    check_agree,
    grader_agreement,
    judge_nodes,
    pass_threshold_of,
    plan,
    run,
)

T = TypeVar("T")
DEFAULT_MAX_COST = 1.0  # USD; the user raises it on purpose
_JUDGE_REPORT = state.key("tg", "judge", "report")
_CONSISTENCY = state.key("tg", "consistency", "report")


def iv(interval) -> str:
    return "n/a" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def spend_gate(area: str, est: CostEstimate) -> bool:
    """The estimate, a max-cost field and a confirmation tied to this very estimate: True when it may run."""
    repeats = (f" Then {est.repeat_requests:,} more requests for {est.repeats} repeats (cache bypassed)."
               if est.repeats else "")
    st.caption(f":material/payments: {est.text()}.{repeats} **Estimated cost in all: ${est.cost:,.4f}.** "
               "Nothing is sent until you run it.")
    if not est.cost and not est.repeat_requests and not est.first.requests:
        return True
    c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
    limit = c1.number_input("Max cost (USD)", min_value=0.0, value=DEFAULT_MAX_COST, step=0.5, format="%.4f",
                            key=state.key("tg", area, "max-cost"),
                            help="Nothing is sent when the estimate is over this (the CLI's --max-cost).")
    if est.over(limit):
        st.warning(f"The estimated cost ${est.cost:,.4f} is over the max cost ${limit:,.4f}: nothing will be sent. "
                   "Use fewer rows, or raise the max cost.", icon=":material/money_off:")
        return False
    # Keyed by the estimate: a new estimate (more rows, other probes) asks again.
    return c2.checkbox(f"Send these requests (about ${est.cost:,.4f})", key=state.key("tg", area, "confirm",
                                                                                  round(est.cost * 1e6)))


def kept_run(label: str, key: str, icon: str, busy: str, slot: str, work: Callable[[], T],
             enabled: bool = True) -> T | None:
    """A button that runs `work` and keeps its result in `slot` for this grader and data; what is kept for them
    (None when nothing is, or the grader or data changed since)."""
    if enabled and st.button(label, key=key, icon=icon):
        with st.spinner(busy):
            state.set_widget(slot, (state.grader_fingerprint(), work()))
        st.rerun()  # the results above (their "Download report") were drawn before this ran
    saved = state.widget(slot)
    return saved[1] if saved and saved[0] == state.grader_fingerprint() else None


def _ready(grader, area: str, est: CostEstimate) -> bool:
    allowed = spend_gate(area, est)
    if not state.endpoint().configured:
        connection.render(state.key("tg", area, "conn"))
        return False
    return allowed and trust_gate.allowed(grader, state.key("tg", area, "trust"))


# --- judge probes ---------------------------------------------------------------------------------

def judge_probes(grader, dataset) -> None:
    """The `judge` probe family, listed apart from the free probes: they call the judge, so they cost money."""
    st.markdown("**:material/gavel: Judge probes** — can a model grader be talked into credit? Master-key openers, "
                "authority, flattery, a verbose wrong answer, its instructions quoted back, another language, a "
                "blank answer; each against known-wrong answers built from your rows.")
    if not judge_nodes(grader):
        st.caption("They need a score_model or label_model grader (alone or inside a multi).")
        return
    c1, c2 = st.columns([3, 1])
    names = c1.multiselect("Judge probes", JUDGE_PROBES, default=list(JUDGE_PROBES), key=state.key("tg", "judge", "names"))
    total = max(len(dataset), 1)
    rows = int(c2.number_input("Rows", 1, total, min(20, total), key=state.key("tg", "judge", "rows")))
    p = probe_plan(grader, dataset, names, rows)
    if p is None:
        return
    est = estimate_cost(model_requests(grader, p.rows, state.sample_field()), state.endpoint())
    report = kept_run(f"Run {len(names)} judge probes on {len(p.genuine):,} samples", state.key("tg", "judge", "run"),
                      ":material/gavel:", "Asking the judge about the probe variants …", _JUDGE_REPORT,
                      lambda: run(p, DEFAULT_THRESHOLD, GradeOptions(endpoint=state.endpoint())),
                      enabled=_ready(grader, "judge", est))
    if report is not None:
        judge_report(report)


def probe_plan(grader, dataset, names: Sequence[str], rows: int):
    """The variants of the first `rows` rows for these probes; None (said why) when there is nothing to probe."""
    if not names:
        return None
    p = plan(grader, dataset.store[:rows], names, rows, state.sample_field())
    if not p.genuine:
        st.info(f"No row has a `{state.sample_field()}` to probe.")
        return None
    return p


def judge_report(report) -> None:
    flagged = [j for j in report.judge if j.flagged]
    if flagged:
        st.error(f"**{len(flagged)} judge probe(s) get credit they don't deserve.**", icon=":material/flag:")
        for j in flagged:
            st.markdown(f"- **{j.probe}** at `{j.node}` — {j.why}")
    else:
        st.success("No judge probe gets more credit than a plain wrong answer.", icon=":material/check_circle:")
    table = pd.DataFrame([{"probe": j.probe, "node": j.node, "rows": j.rows, "mean": j.mean,
                           "genuine mean": j.genuine_mean, "wrong mean": j.wrong_mean, "95% interval": iv(j.interval),
                           "flagged": j.flagged, "fix": j.fix} for j in report.judge])
    st.dataframe(table, hide_index=True, width="stretch", key=state.key("tg", "judge", "table"),
                 column_config={"fix": st.column_config.TextColumn("fix", width="large")})
    st.download_button("Download the judge report (JSON)", json.dumps(report.to_dict(), indent=2), "judge-probes.json",
                       "application/json", key=state.key("tg", "judge", "download"))


# --- self-consistency -----------------------------------------------------------------------------

def consistency(grader, dataset, group_field: str | None) -> None:
    """`calibrate --repeat K` on the first rows: how much the judge's rewards move when asked again."""
    st.markdown("**:material/repeat: Self-consistency** — does the judge give the same reward when asked again?")
    if not uses_models(grader):
        st.caption("No model grader here: every repeat scores the same.")
        return
    c1, c2, c3 = st.columns(3)
    repeat = int(c1.number_input("Repeats (K)", 2, 10, 3, key=state.key("tg", "consistency", "k"),
                                 help="Each row is graded K more times with the cache bypassed."))
    total = max(len(dataset), 1)
    n = int(c2.number_input("Rows", 1, total, min(20, total), key=state.key("tg", "consistency", "rows")))
    threshold = float(c3.number_input("Pass at", value=pass_threshold_of(grader, None), step=0.1,
                                      key=state.key("tg", "consistency", "threshold"),
                                      help="A row flips when it passes in one repeat and fails in another."))
    rows = dataset.store[:n]
    est = estimate_cost(model_requests(grader, rows, state.sample_field()), state.endpoint(), repeat)
    found = kept_run(f"Grade {n:,} rows {repeat + 1} times", state.key("tg", "consistency", "run"), ":material/repeat:",
                     "Grading the rows again, cache bypassed …", _CONSISTENCY,
                     lambda: calibrate(grader, rows, repeat=repeat, threshold=threshold, group_field=group_field,
                                       sample_field=state.sample_field(),
                                       options=GradeOptions(endpoint=state.endpoint())),
                     enabled=_ready(grader, "consistency", est))
    if found is not None:
        consistency_report(found["self_consistency"])


def consistency_report(sc: dict) -> None:
    m = st.columns(3)
    m[0].metric("Per-row std (mean)", num(sc["std_mean"]), help=f"over {sc['repeats']} repeats")
    m[1].metric("Rows that flip pass/fail", "n/a" if sc["flip_rate"] is None else f"{100 * sc['flip_rate']:.1f}%")
    m[2].metric("Groups whose advantage flips sign", f"{sc['group_sign_flips']} of {sc['groups']}",
                help="GRPO learns from each sample's reward against its group's mean: where that sign changes "
                     "between repeats, the training signal is noise.")
    if sc["flip_rate"]:
        st.warning("The judge changes its verdict on the same answer: fix its temperature/seed, sharpen the rubric, "
                   "or average several calls.", icon=":material/shuffle:")
    if sc["per_row_std"]:
        st.bar_chart(pd.DataFrame({"row": range(len(sc["per_row_std"])), "std": sc["per_row_std"]}), x="row", y="std",
                     height=160)


# --- graders meant to agree -------------------------------------------------------------------------

def meant_to_agree(grader, current) -> None:
    """Children of a multi the user marks as meant to agree: ρ with its interval per pair, from the last run."""
    keys = list(current.results.sub_rewards)
    if getattr(grader, "type", None) != "multi" or len(keys) < 2:
        return
    st.markdown("**:material/join_inner: Graders meant to agree** — sub-graders that measure the same thing should "
                f"rank the rows alike (Spearman ρ ≥ {AGREE_MIN:g}).")
    picked = st.multiselect("Meant to agree", keys, key=state.key("tg", "agree", "keys"),
                            help="Pick two or more children of the multi (the CLI's calibrate --agree KEY,KEY).")
    for a, b in itertools.combinations(picked, 2):
        try:
            check_agree(grader, [a, b])
        except ValueError as exc:  # the config changed since the run
            st.info(str(exc))
            continue
        subs = current.results.sub_rewards
        found = grader_agreement(list(subs[a]), list(subs[b]))
        agreement_report(a, b, found)


def agreement_report(a: str, b: str, found: dict) -> None:
    rho = found["spearman"]
    text = (f"**{a}** and **{b}**: Spearman ρ **{num(rho)}** {iv(found['interval'])} (95% bootstrap) on "
            f"{found['n']:,} rows")
    if found["flagged"]:
        st.error(text + f" — under {AGREE_MIN:g}: they don't measure the same thing. Check the rows below.",
                 icon=":material/flag:")
    else:
        st.success(text + " — they agree.", icon=":material/check_circle:")
    if found["disagreements"]:
        st.dataframe(pd.DataFrame(found["disagreements"]).rename(columns={"a": a, "b": b}), hide_index=True,
                     key=state.key("tg", "agree", a, b))
