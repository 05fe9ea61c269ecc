"""Step 5: the exact create-job body (JSON), the Python SDK call and curl; save as a preset."""

from __future__ import annotations

import streamlit as st

from components import (
    issues_panel,
    loop_export,
    move_panel,
    sdk_note,
    serve_panel,
    state,
    submit_panel,
    target_info,
    trainer_export,
)
from ftstudio import config as export
from ftstudio.config import flatten_config, is_nested
from ftstudio.core import count
from ftstudio.store import save_preset

st.title("5 · Export")
st.caption("Exactly the body of `POST /v1/fine_tuning/jobs` (`client.fine_tuning.jobs.create`). "
           "No API key is ever part of an export.")
target_info.header("the checks below are its rules; 'Move this job to …' writes it for another service")

cfg = state.config()
issues = state.issues()
c = count(issues)
errors = [i for i in issues if i.severity == "error"]

if errors:
    st.error(f"The config has {c['error']} error(s): the API is likely to reject it.")
    issues_panel.full_list(errors, {"app_pages/method.py": "1 Method", "app_pages/hyperparameters.py": "2 Hyperparameters",
                                    "app_pages/graders.py": "3 Graders"})
    if cfg.grader is not None and is_nested(cfg.grader):
        if st.button("Flatten nested multi graders for the API", key=state.key("export", "flatten")):
            state.load(flatten_config(cfg), "flatten for the API")
            st.rerun()
    anyway = st.checkbox("Export anyway", key=state.key("export", "anyway"),
                         help="For example to share a work in progress, or if you know your provider accepts it.")
elif c["warning"]:
    st.warning(f"{c['warning']} warning(s) — exporting is fine; see the sidebar badge for details.")
    anyway = True
else:
    st.success("Valid: ready to export.")
    anyway = True

if anyway:
    data = state.export_data(cfg)  # kept fields back in place, spelled as the user wrote them
    body = export.to_json(data)
    slug = (cfg.suffix or cfg.method_type or "job").replace(" ", "-")
    tab_json, tab_py, tab_curl, tab_trl, tab_tinker, tab_promptfoo = st.tabs(
        ["JSON body", "Python (openai SDK)", "curl", "Train anywhere", "Tinker-style environment", "promptfoo"])
    with tab_json:
        st.download_button(":material/download: Download job.json", body, file_name=f"{slug}-job.json", mime="application/json",
                           key=state.key("export", "dl_json"), type="primary")
        sdk_note.render(data)
        st.code(body, language="json")
    with tab_py:
        py = export.to_python(data)
        st.download_button(":material/download: Download create_job.py", py, file_name=f"{slug}-create_job.py", mime="text/x-python",
                           key=state.key("export", "dl_py"))
        sdk_note.render(data, workaround=False)  # the snippet itself sends the method in extra_body
        st.code(py, language="python")
    with tab_curl:
        sh = export.to_curl(data)
        st.download_button(":material/download: Download create_job.sh", sh, file_name=f"{slug}-create_job.sh", mime="text/x-sh",
                           key=state.key("export", "dl_curl"))
        st.code(sh, language="bash")
    with tab_trl:
        trainer_export.render(cfg, slug)
    with tab_tinker:
        loop_export.render_tinker(cfg, slug)
    with tab_promptfoo:
        loop_export.render_promptfoo(cfg, slug)
    st.caption("The copy icon on each block copies it. Set OPENAI_API_KEY (and OPENAI_BASE_URL for other providers) "
               "in your shell before running the snippets.")
    with st.expander("Move this job to … (Azure, Bedrock RFT, Gemini, TRL)"):
        move_panel.render(data, slug)

with st.expander("Serve the grader over HTTP (`ftstudio serve`)"):
    serve_panel.render(cfg)

st.subheader("Submit to the API")
with st.expander("Upload the files and create the job", expanded=bool(state.app().jobs)):
    submit_panel.render(cfg, bool(errors))

st.subheader("Save as a preset")
with st.form(state.key("export", "save_preset"), border=True):
    title = st.text_input("Title", placeholder="My summarizer RFT")
    description = st.text_input("One-line description", placeholder="What this config is for")
    overwrite = st.checkbox("Overwrite a preset with the same title")
    if st.form_submit_button("Save preset"):
        try:
            path = save_preset(state.export_data(cfg), title, description, overwrite=overwrite)
        except (ValueError, FileExistsError, OSError) as exc:
            st.error(f"Not saved: {exc}")
        else:
            st.success(f"Saved to {path}. It appears in the sidebar's preset picker (marked :material/star:).")
