"""Step 1: method, base model, files, suffix, seed, metadata, W&B."""

from __future__ import annotations

import streamlit as st

from components import issues_panel, job_fields, state
from ftstudio.core import under

METHOD_CARDS = {
    "supervised": (":material/edit_note: Supervised (SFT)", "Teach tone, format and answers from example conversations.",
                   "JSONL of `{\"messages\": [...]}` chats ending in the assistant answer to learn."),
    "dpo": (":material/compare_arrows: DPO", "Steer style or preference when you can say which of two answers is better.",
            "JSONL of `{\"input\": {\"messages\": [...]}, \"preferred_output\": [...], \"non_preferred_output\": [...]}`."),
    "reinforcement": (":material/target: Reinforcement (RFT)", "Improve reasoning on tasks a grader can score, with no answers to copy.",
                      "JSONL of `{\"messages\": [...], ...your fields}`; the fields feed `{{ item.* }}` in graders."),
}

st.title("1 · Method")
st.caption("Choose how to fine-tune, the base model, and the job's files and settings.")

cfg = state.config()
issues = state.issues()

cols = st.columns(3)
for col, (method, (title, when, fmt)) in zip(cols, METHOD_CARDS.items()):
    with col.container(border=True):
        chosen = cfg.method_type == method
        st.markdown(f"##### {title}")  # the chosen card says so on its button: a mark here wrapped onto its own line
        st.write(when)
        st.caption(f"Dataset: {fmt}")
        if st.button("Selected" if chosen else "Use this method", key=state.key("method", "pick", method, follows=(state.EVERY,)),
                     disabled=chosen, type="primary" if not chosen else "secondary", width="stretch",
                     icon=":material/check_circle:" if chosen else None):
            state.set_method(method)
            st.rerun()

dropped = state.method_note()
if dropped:
    method, items = dropped
    if items:
        st.info(f"Switched to **{method}**. Not carried over: " + "; ".join(items) + ". Undo brings it all back.")
    else:
        st.success(f"Switched to **{method}**; everything carried over.")

st.subheader("Base model")
job_fields.model_picker(cfg)
issues_panel.inline(under(issues, "model"))

st.subheader("Files")
job_fields.files(cfg)
issues_panel.inline(under(issues, "training_file") + under(issues, "validation_file"))

st.subheader("Name and reproducibility")
job_fields.suffix_and_seed(cfg)
issues_panel.inline(under(issues, "suffix") + under(issues, "seed"))

left, right = st.columns(2)
with left:
    st.subheader("Metadata")
    job_fields.metadata(cfg)
    issues_panel.inline(under(issues, "metadata"))
with right:
    st.subheader("Weights & Biases")
    job_fields.wandb(cfg)
    issues_panel.inline(under(issues, "integrations"))

if cfg.method is not None and cfg.method.reinforcement is not None:
    st.subheader("Structured output (optional)")
    job_fields.response_format(cfg)
    issues_panel.inline(under(issues, "method.reinforcement.response_format"))

other = [i for i in issues if i.path in ("method", "hyperparameters") or i.path.startswith("method.") and
         not any(i.path.startswith(p) for p in ("method.reinforcement.grader", "method.reinforcement.response_format"))
         and ".hyperparameters" not in i.path]
if other:
    st.subheader("Method")
    issues_panel.inline(other, show_path=True)
