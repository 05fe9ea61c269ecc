"""Connected checks against the official grader service: "Validate with the API" and
"Compare with the API" (local vs official reward per row and per sub-grader)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import state
from ftstudio.api import DIFF_TOLERANCE, ApiError, validate_grader
from ftstudio.grading import GradeOptions, InvalidGrader, compare


def _endpoint_or_note():
    ep = state.endpoint()
    if not ep.configured:
        st.info("Connect an endpoint first: sidebar → :material/power: Connection (API key and base URL), or OPENAI_API_KEY "
                "in the environment.", icon=":material/power:")
        return None
    return ep


def validate_button(grader, key: str = state.key("api", "validate")) -> None:
    """Ask the API whether it accepts the grader; show its answer (or why it can't be asked)."""
    if st.button(":material/check: Validate with the API", key=key, help="POST /v1/fine_tuning/alpha/graders/validate"):
        ep = _endpoint_or_note()
        if ep is None:
            return
        try:
            with st.spinner("Asking the API…"):
                result = validate_grader(ep, grader)
        except ApiError as exc:
            st.error(exc.message)
            return
        if result.ok:
            st.success(result.message, icon=":material/check_circle:")
        else:
            where = f" (at `{result.param}`)" if result.param else ""
            st.error(f"The API rejects this grader{where}: {result.message}")


def compare_panel(grader, dataset, sample_field: str, key: str = state.key("api", "compare")) -> None:
    """Send N rows through the official run endpoint and show local against official."""
    st.caption("Sends the chosen rows to `POST /v1/fine_tuning/alpha/graders/run` and grades them locally too. "
               "Official answers are cached, so asking again for the same rows costs nothing.")
    n_rows = len(dataset) if dataset is not None else 0
    left, right = st.columns([1, 3])
    n = left.number_input("Rows", min_value=1, max_value=max(1, min(500, n_rows)), value=min(20, max(1, n_rows)),
                          key=state.key(key, "n"))
    start = right.number_input("Starting at row", min_value=1, max_value=max(1, n_rows), value=1,
                               key=state.key(key, "start"), help="Row numbers start at 1, like the results table's.") - 1
    if st.button(":material/compare_arrows: Compare with the API", key=state.key(key, "go"), disabled=dataset is None):
        ep = _endpoint_or_note()
        if ep is None:
            return
        bar = st.progress(0.0, text="Asking the official grader…")

        def shown(d: int, t: int) -> None:
            bar.progress(d / max(t, 1), text=f"{d}/{t} rows")

        try:
            report = compare(grader, dataset, ep, sample_field=sample_field,
                             indices=list(range(int(start), int(start) + int(n))),
                             options=GradeOptions(endpoint=ep, python_timeout=30),
                             progress=shown)
        except InvalidGrader as exc:
            st.error("The grader can't be evaluated: " + "; ".join(i.message for i in exc.issues[:3]))
            return
        bar.empty()
        state.app().reports[key] = (state.grader_fingerprint(), report)
    stored = state.app().reports.get(key)
    if stored:
        fingerprint, report = stored
        if fingerprint != state.grader_fingerprint():
            st.warning("This comparison is from an earlier grader or dataset; compare again to refresh.")
        show_report(report)


def show_report(report) -> None:
    s = report.summary()
    cols = st.columns(4)
    cols[0].metric("Rows compared", s["rows"])
    cols[1].metric("Differ (> 1e-6)", s["differ"])
    cols[2].metric("Max |Δ|", "—" if s["max_abs_delta"] is None else f"{s['max_abs_delta']:.3g}")
    cols[3].metric("Failed requests", s["failed"])
    for model, tokens in s["official_tokens"].items():
        st.caption(f"Official grader tokens — {model}: {tokens:,}")
    rows = []
    for r in report.rows:
        rec = {"row": r.row + 1, "local": r.local_reward, "official": r.official_reward, "Δ": r.delta,
               "differs": "yes" if r.differs else "", "official errors": ", ".join(r.official_errors),
               "local errors": ", ".join(r.local_errors), "request": r.failure or ("cached" if r.cached else "")}
        for k, d in r.sub_deltas.items():
            rec[f"Δ {k}"] = d
        rows.append(rec)
    frame = pd.DataFrame(rows)

    def highlight(col):
        if col.name == "Δ" or str(col.name).startswith("Δ "):
            return ["background-color: #fde2e1" if isinstance(v, float) and abs(v) > DIFF_TOLERANCE else ""
                    for v in col]
        return [""] * len(col)

    st.dataframe(frame.style.apply(highlight), hide_index=True, width="stretch")
    details = [r for r in report.rows if r.official_errors]
    if details:
        with st.expander("Official error details"):
            for r in details:
                st.markdown(f"**row {r.row + 1}**: " + "; ".join(f"`{k}` {v}" for k, v in r.official_errors.items()))
