"""Before you train, on the Test grading page: calibration of the last run, "Can this grader be gamed?"
(the probes, the judge probes in components/judge_panel.py) and "Generate samples". The domain lives in ftstudio.probes; this module only draws it.

Nothing that calls a model runs without a click: the probes and the sampler show their request count and
token estimate first, and answers come from the model runner's disk cache when they can.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from components import connection, dataset_panel, judge_panel, label_agreement, state, trust_gate
from components import results_view as R
from components.report_download import CAL_GROUP, IDENTICAL, PROBE_REPORT, calibration_of
from ftstudio.grading import GradeOptions, InvalidGrader, estimate_requests, model_requests, to_grader, uses_models
from ftstudio.probes import (
    DEFAULT_THRESHOLD,
    PROBES,
    estimate_samples,
    generate,
    kind_of,
    run,
)

_PROBE_REPORT = PROBE_REPORT  # the report download includes it when it is this run's
_SAMPLES = state.key("tg", "samples")


def render(cfg, dataset) -> None:
    """The whole section; the page calls only this."""
    current = R.current_run()
    grader = cfg.grader if cfg.method_type == "reinforcement" else None
    if current is None and grader is None and dataset is None:
        return
    st.subheader("Before you train", divider="gray")
    valid = _valid(grader)
    if current is not None:
        field = _calibration(current)
        if valid is not None and dataset is not None:
            judge_panel.consistency(valid, dataset, field)
        label_agreement.render(current, grader, state.dataset_fields() or [])
        judge_panel.meant_to_agree(valid, current)
    if grader is not None and dataset is not None:
        with st.expander(":material/policy: Can this grader be gamed?", expanded=bool(state.widget(_PROBE_REPORT))):
            _probes(grader, dataset)
            if valid is not None:
                judge_panel.judge_probes(valid, dataset)
    if dataset is not None:
        with st.expander(":material/casino: Generate samples", expanded=bool(state.widget(_SAMPLES))):
            _samples(cfg, dataset)


def _valid(grader):
    """The grader the engine can evaluate, or None (Grade above says what to fix)."""
    if grader is None:
        return None
    try:
        return to_grader(grader)
    except InvalidGrader:
        return None


# --- calibration ---------------------------------------------------------------------------------

def _calibration(current) -> str | None:
    """The figures of the last run; the grouping field chosen (None: identical items)."""
    st.markdown("**:material/straighten: Calibration** — is there a learning signal in these rewards?")
    fields = [IDENTICAL] + (state.dataset_fields() or [])
    choice = st.selectbox("Samples of one item share", fields, key=CAL_GROUP,
                          help="Rows with the same value (or identical items) are samples of one prompt: "
                               "GRPO-style training learns nothing from a group whose rewards don't vary.")
    field = None if choice == IDENTICAL else choice
    c = calibration_of(current, choice)
    if not c["count"]:
        return field
    m = st.columns(5)
    m[0].metric("Reward std", f"{c['std']:.3f}")
    m[1].metric("At the minimum", f"{100 * c['share_at_min']:.0f}%", help=f"reward {c['min']:.4g}")
    m[2].metric("At the maximum", f"{100 * c['share_at_max']:.0f}%", help=f"reward {c['max']:.4g}")
    for col, (label, t) in zip(m[3:], c["fail_thresholds"].items()):
        if t["threshold"] is None:
            col.metric(f"Threshold failing {label}", "—", help="Every row scores the same: no threshold fails "
                                                                f"{label} of rows.")
            continue
        # Ties at the threshold make the share it fails differ from the target: say the real one (as the CLI).
        col.metric(f"Threshold failing {100 * t['share_failing']:.1f}%", f"{t['threshold']:.3g}",
                   help=f"A row fails when its reward is below this. Aimed at {label} of rows; rows tied at one "
                        f"reward pass or fail together, so it fails {100 * t['share_failing']:.1f}%.")
    if c["warning"]:
        st.warning(c["warning"], icon=":material/trending_down:")
    g = c["groups"]
    if g and g["groups"]:
        st.markdown(f"**Groups ({g['by']})**: {g['groups']:,} with 2+ samples · "
                    f"**{100 * g['zero_variance_share']:.0f}%** have zero reward variance · per-group std mean "
                    f"{g['std_mean']:.3f}, median {g['std_median']:.3f}")
        stds = pd.DataFrame({"group": list(g["per_group_std"]), "std": list(g["per_group_std"].values())})
        st.bar_chart(stds, x="group", y="std", height=180)
    elif g:
        st.caption(f"Groups ({g['by']}): {g['note']}")
    return field


# --- probes --------------------------------------------------------------------------------------

def _probes(grader, dataset) -> None:
    st.caption("Each genuine sample is changed into what a lazy or adversarial policy might output (empty, padded, "
               "hedged, an injection, …) and graded. A probe that scores well means training can learn to game "
               "the grader.")
    try:
        grader = to_grader(grader)
    except InvalidGrader:
        st.info("Fix the grader first (see Grade above).")
        return
    c1, c2, c3 = st.columns([3, 1, 1])
    names = c1.multiselect("Probes", PROBES, default=list(PROBES), key=state.key("tg", "probe-names"))
    total = len(dataset)
    rows = int(c2.number_input("Rows", 1, max(total, 1), min(50, max(total, 1)), key=state.key("tg", "probe-rows")))
    threshold = float(c3.number_input("Threshold", value=DEFAULT_THRESHOLD, step=0.1, key=state.key("tg", "probe-threshold"),
                                      help="A degenerate probe is flagged when it scores at least this on 5% of rows."))
    p = judge_panel.probe_plan(grader, dataset, names, rows)
    if p is None:
        return
    models = uses_models(grader)
    if models:
        requests = model_requests(grader, p.rows, state.sample_field())
        st.caption(":material/payments: " + estimate_requests(requests, state.endpoint()).text() + ". They run only when you click.")
        if not state.endpoint().configured:
            connection.render("tg.probe-conn")
            return
    if not trust_gate.allowed(grader, state.key("tg", "probe-trust")):
        return
    report = judge_panel.kept_run(f"Run {len(names)} probes on {len(p.genuine):,} samples", state.key("tg", "probe-run"),
                                  ":material/policy:", "Grading the probe variants …", _PROBE_REPORT,
                                  lambda: run(p, threshold, GradeOptions(endpoint=state.endpoint())))
    if report is not None:
        _report(report)


def _report(report) -> None:
    if report.flagged:
        st.error(f"**{len(report.flagged)} probe(s) game this grader** (genuine mean "
                 f"{report.genuine_mean:.3f}, threshold {report.threshold:g}).", icon=":material/flag:")
        for p in report.flagged:
            st.markdown(f"- **{p.probe}** — {p.why} *(e.g. rows {', '.join(map(str, p.examples))})*")
    else:
        st.success(f"No probe games this grader (genuine mean {report.genuine_mean:.3f}).", icon=":material/check_circle:")
    table = pd.DataFrame([{"probe": p.probe, "kind": kind_of(p.probe), "rows": p.rows, "mean reward": p.mean_reward,
                           "above genuine": p.share_above_genuine, "tied": p.share_tied_with_genuine,
                           "≥ threshold": p.share_at_or_above_threshold, "flagged": p.flagged} for p in report.probes])
    col = st.column_config.NumberColumn
    shares = {"above genuine": col("above genuine", format="percent",
                                   help="Rows where the probe scores strictly more than the genuine answer"),
              "tied": col("tied", format="percent",
                          help="Rows where the probe scores the same as the genuine answer (both 0 included)"),
              "≥ threshold": col("≥ threshold", format="percent")}
    st.dataframe(table, hide_index=True, width="stretch", key=state.key("tg", "probe-table"), column_config=shares)
    st.download_button("Download the report (JSON)", json.dumps(report.to_dict(), indent=2), "probes.json",
                       "application/json", key=state.key("tg", "probe-download"))


# --- sample generation -----------------------------------------------------------------------------

def _samples(cfg, dataset) -> None:
    st.caption("Ask a chat model (the configured endpoint: OpenAI, Azure, Ollama, vLLM, …) for several answers to "
               "each row's `messages`. Each row becomes K rows with `model_sample` filled and a `group` id, ready "
               "to grade, probe and calibrate.")
    c1, c2, c3 = st.columns([3, 1, 1])
    model = c1.text_input("Model", value=cfg.model or "", key=state.key("tg", "sample-model"))
    n = int(c2.number_input("Samples per row (K)", 1, 64, 4, key=state.key("tg", "sample-n")))
    total = len(dataset)
    limit = int(c3.number_input("Rows", 1, max(total, 1), min(20, max(total, 1)), key=state.key("tg", "sample-rows")))
    rows = dataset.store[:limit]
    est = estimate_samples(rows, n, sample_field=state.sample_field())
    st.caption(":material/payments: " + est.text().split("; cost:")[0] + ".")
    ep = state.endpoint()
    if not ep.configured:
        connection.render("tg.sample-conn")
        return
    if st.button(f"Generate {n} samples for {est.requests:,} rows", key=state.key("tg", "sample-run"), icon=":material/casino:",
                 disabled=not model or not est.requests):
        # The runner reports progress from its own thread, which can't draw: a spinner instead.
        with st.spinner(f"Sampling {est.requests:,} prompts …"):
            result = generate(rows, model, n, endpoint=ep, sample_field=state.sample_field())
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in result.rows).encode()
        state.set_widget(_SAMPLES, (data, len(result.rows), result.failed[:5]))
    saved = state.widget(_SAMPLES)
    if not saved:
        return
    data, count, failed = saved
    st.success(f"{count:,} samples generated.", icon=":material/casino:")
    for i, why in failed:
        st.caption(f"row {i}: {why}")
    c1, c2 = st.columns(2)
    c1.download_button("Download samples.jsonl", data, "samples.jsonl", "application/jsonl", key=state.key("tg", "sample-download"))
    if c2.button("Use them as the dataset", key=state.key("tg", "sample-use"), disabled=not count):
        dataset_panel.load_bytes(data, "samples.jsonl", "generated samples")
        state.forget_widget(_SAMPLES)
        st.rerun()
