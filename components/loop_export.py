"""The Export page's "Tinker-style environment" and "promptfoo" tabs: what each folder is, the command that runs
it, and a zip of it (the files `ftstudio export --format tinker|promptfoo` writes, ftstudio's wheel included)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from components import state
from ftstudio.datasets import example_path, read_dataset
from ftstudio.reward import (
    PROMPTFOO_COMMAND,
    PROMPTFOO_VERSION,
    TINKER_COMMAND,
    TINKER_COOKBOOK_VERSION,
    promptfoo_files,
    promptfoo_zip,
    tinker_readme,
    tinker_zip,
)


def _rows() -> tuple[Sequence[dict], str]:
    """The Test grading dataset's rows (decoded as the files are written), else the bundled example rows (said so)."""
    ds = state.dataset()
    if ds is not None and len(ds):
        return ds.store, f"the {len(ds):,} rows of **{ds.name}** (the dataset on 4 · Test grading)"
    example = read_dataset(example_path("reinforcement"))
    return example.store, ("the bundled example rows: load your dataset on 4 · Test grading to export its rows "
                          "instead")


def _needs_grader(cfg) -> bool:
    if cfg.method_type == "reinforcement" and cfg.grader is not None:
        return False
    st.caption("These exports take a grader: they apply to reinforcement jobs.")
    return True


def _command(fmt: str, folder: str, sample_field: str, run: str) -> None:
    st.code(f"cd {folder}\n{run}", language="bash")
    st.caption("The same folder from the command line (DATA: your dataset, job.json: the JSON body above):")
    st.code(f"ftstudio export job.json --format {fmt} --data DATA --sample-field {sample_field} -o {folder}",
            language="bash")


def render_tinker(cfg, slug: str) -> None:
    if _needs_grader(cfg):
        return
    rows, where = _rows()
    sample_field, folder = state.sample_field(), f"{slug}-tinker"
    st.markdown(f"The grader as **tinker-cookbook {TINKER_COOKBOOK_VERSION}** environments: one row is one problem "
                "(its messages the prompt, the row the grader's item), each rollout's reward is `ftstudio grade`'s. "
                "`train.py` runs the cookbook's RL loop on Tinker (or Together's Tinker-compatible shim); the "
                "README has an example loop for Azure Fine-Tuning Sessions. The command installs the folder and "
                f"runs `train.py --smoke`: the `{sample_field}` column rolled out offline, no service, no model.")
    st.caption(f"Rows: {where}.")
    st.download_button(":material/download: Download the environment (zip)",
                       lambda: tinker_zip(cfg, rows, sample_field, folder), file_name=f"{folder}.zip",
                       mime="application/zip", key=state.key("export", "loop_zip", "tinker"), type="primary")
    _command("tinker", folder, sample_field, TINKER_COMMAND)
    with st.expander("README.md"):
        st.markdown(tinker_readme(cfg, len(rows), sample_field))  # the rows are encoded for the download only


def render_promptfoo(cfg, slug: str) -> None:
    if _needs_grader(cfg):
        return
    rows, where = _rows()
    sample_field, folder = state.sample_field(), f"{slug}-promptfoo"
    files, notes = promptfoo_files(cfg, rows[:1], sample_field)  # the YAML and notes follow the tree, not the rows
    st.markdown(f"The grader as **promptfoo {PROMPTFOO_VERSION}** assertions: each row is a test, the output comes "
                f"from the `{sample_field}` column (no model is called), and each test's score is `ftstudio "
                "grade`'s reward. String checks map to promptfoo's own assertions; the rest calls `grader.py`, "
                "which grades with ftstudio. promptfoo needs Node 22.22 or later.")
    st.caption(f"Rows: {where}.")
    for note in notes:
        st.warning(f"Approximate: {note}", icon=":material/warning:")
    st.download_button(":material/download: Download the promptfoo config (zip)",
                       lambda: promptfoo_zip(cfg, rows, sample_field, folder), file_name=f"{folder}.zip",
                       mime="application/zip", key=state.key("export", "loop_zip", "promptfoo"), type="primary")
    _command("promptfoo", folder, sample_field, PROMPTFOO_COMMAND)
    with st.expander("promptfooconfig.yaml", expanded=True):
        st.code(files["promptfooconfig.yaml"], language="yaml")
