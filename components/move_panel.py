"""Export page: "Move this job to …": the same Move `ftstudio migrate` writes (files and CHANGES.md)."""

from __future__ import annotations

import io
import zipfile

import streamlit as st

from ftstudio.migrate import MOVE_TARGETS, MoveError, plan_move

_BEDROCK = (("role_arn", "IAM role ARN"), ("lambda_arn", "Reward Lambda ARN"), ("training_s3", "Training data (s3://)"),
            ("output_s3", "Output (s3://)"), ("validation_s3", "Validation data (s3://, optional)"),
            ("model", "Base model (optional)"))


def _zip(files: dict[str, str], folder: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(f"{folder}/{name}", text)
    return buf.getvalue()


def render(data: dict, slug: str) -> None:
    target = st.selectbox("Move this job to", MOVE_TARGETS, key="move_target",
                          help="What `ftstudio migrate CONFIG --to TARGET -o DIR` writes, and every change it makes")
    flags: dict[str, str] = {}
    if target == "bedrock-rft":
        cols = st.columns(2)
        for i, (name, label) in enumerate(_BEDROCK):
            value = cols[i % 2].text_input(label, key=f"move_{name}")
            if value.strip():
                flags[name] = value.strip()
    try:
        move = plan_move(data, target, **flags)
    except MoveError as exc:
        st.warning(f"Cannot move to {target} yet: {exc.message}")
        for issue in exc.issues[:10]:
            st.caption(issue.line())
        return
    lost = sum(c.lost for c in move.changes)
    (st.warning if lost else st.success)(f"{len(move.changes)} change(s); {lost} lose something.")
    st.markdown(move.markdown())
    files = {**move.files, "CHANGES.md": move.markdown()}
    st.download_button(f":material/download: Download {target} files (zip)", _zip(files, f"{slug}-{target}"),
                       file_name=f"{slug}-{target}.zip", mime="application/zip", key="move_zip")
    for name, text in move.files.items():
        with st.expander(name):
            st.code(text, language="json" if name.endswith(".json") else "python" if name.endswith(".py") else None)
