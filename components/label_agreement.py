"""Agreement with people, on Test grading: the last run's rewards against a human label column (Cohen's κ,
Spearman ρ, each with its bootstrap interval), a confusion matrix and the rows where grader and label
disagree. The figures come from ftstudio.probes; this module only draws them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import state
from ftstudio.probes import label_agreement, label_values, pass_threshold_of

_NONE = "(no label column)"
MAX_ROWS_SHOWN = 200


def _iv(interval) -> str:
    return "n/a" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def render(current, grader, fields: list[str]) -> None:
    st.markdown("**:material/groups: Agreement with people** — does the grader agree with human labels?")
    c1, c2 = st.columns([3, 1])
    choice = c1.selectbox("Label column", [_NONE, *fields], key=state.key("tg", "labels"),
                          help="A human label per row: a number, true/false or pass/fail.")
    threshold = float(c2.number_input("Pass at", value=pass_threshold_of(grader, None), step=0.1,
                                      key=state.key("tg", "labels-threshold"),
                                      help="A reward (or a numeric label) at or above this passes."))
    if choice == _NONE:
        return
    labels = label_values(current.iter_entries(), choice)
    rewards = list(current.results.rewards)
    found = label_agreement(rewards, labels, threshold)
    if not found["n_labels"]:
        st.info(f"No row has a readable label in `{choice}` (a number, true/false or pass/fail).")
        return
    m = st.columns(4)
    m[0].metric("Cohen's κ", "n/a" if found["kappa"] is None else f"{found['kappa']:.3f}",
                help=f"95% bootstrap interval {_iv(found['kappa_interval'])}")
    m[1].metric("Spearman ρ", "n/a" if found["spearman"] is None else f"{found['spearman']:.3f}",
                help=f"95% bootstrap interval {_iv(found['spearman_interval'])}")
    m[2].metric("Labels", f"{found['n_labels']:,}", help=f"base rate {100 * found['base_rate']:.0f}% pass")
    best = found["threshold_max_kappa"]
    m[3].metric("Threshold maximising κ", "n/a" if best is None else f"{best:.3g}")
    st.caption(f"κ {_iv(found['kappa_interval'])} · ρ {_iv(found['spearman_interval'])} (95% bootstrap, "
               f"1,000 resamples) · base rate {100 * found['base_rate']:.0f}% pass · {found['n_labels']:,} labels")
    if found["warning"]:
        st.warning(found["warning"], icon=":material/warning:")
    c = found["confusion"]
    matrix = pd.DataFrame([[c[h]["grader_pass"], c[h]["grader_fail"]] for h in ("label_pass", "label_fail")],
                          index=["label pass", "label fail"], columns=["grader pass", "grader fail"])
    st.dataframe(matrix, key=state.key("tg", "labels-matrix"))
    rows = found["label_disagreements"]
    if rows:
        st.markdown(f"**{found['label_disagreement_count']:,} rows where grader and label disagree**")
        st.dataframe(pd.DataFrame(rows[:MAX_ROWS_SHOWN]), hide_index=True, key=state.key("tg", "labels-disagree"))
