"""The Export page's "Train anywhere" tab: the folder `ftstudio export --format F -o DIR` writes for each
trainer (TRL, verl, OpenRLHF, verifiers, NeMo-Gym), the exact commands with the release it was tested with,
its files, and the folder as a zip (the wheel of ftstudio included, so it installs on a fresh machine)."""

from __future__ import annotations

import streamlit as st

from ftstudio.config import to_json
from ftstudio.reward import FORMATS, export_files, export_zip, openrlhf_snippet, verl_snippet

_LANGUAGES = {".py": "python", ".json": "json", ".md": "markdown", ".txt": "text", ".sh": "bash", ".yaml": "yaml",
              ".jsonl": "json"}


@st.cache_data(max_entries=8, show_spinner=False)
def _zip(config_json: str, fmt: str, folder: str) -> bytes:
    from ftstudio.validation import from_json

    return export_zip(from_json(config_json), fmt, folder)


def _commands(fmt: str, folder: str) -> str:
    spec = FORMATS[fmt]
    return (f"ftstudio export job.json --format {fmt} -o {folder}   # or unzip the download\n"
            f"cd {folder} && {spec.smoke}")


def render(cfg, slug: str) -> None:
    rft = cfg.method_type == "reinforcement" and cfg.grader is not None
    formats = [f for f, spec in FORMATS.items() if rft or not spec.needs_grader]
    labels = {f: f"{FORMATS[f].trainer} {FORMATS[f].version}" for f in formats}
    st.markdown("A folder per trainer that installs on a fresh machine with one command (ftstudio comes as a "
                "wheel inside it) and has an offline smoke run: no model download, no GPU.")
    fmt = st.radio("Trainer", formats, format_func=labels.__getitem__, horizontal=True, key="train_anywhere_format")
    spec = FORMATS[fmt]
    folder = f"{slug}-{fmt}"
    st.caption(f"Tested with {spec.trainer} {spec.version}: the tests run {spec.trainer}'s own code on this "
               "folder and compare its rewards with `ftstudio grade` (README, compatibility table).")
    st.code(_commands(fmt, folder), language="bash")
    st.download_button(f":material/download: Download the {spec.trainer} folder (zip)",
                       _zip(to_json(cfg), fmt, folder), file_name=f"{folder}.zip", mime="application/zip",
                       key=f"dl_{fmt}_zip", type="primary")
    for name, text in export_files(cfg, fmt, f"/path/to/{folder}/grader.json").items():
        with st.expander(name, expanded=name in ("train.py", "overrides.txt", "reward_func.py", "taskset.py")):
            st.code(text, language=_LANGUAGES.get(name[name.rfind("."):], "text"))
    if not rft:
        st.caption("verl, OpenRLHF, verifiers and NeMo-Gym take a reward function: they apply to reinforcement "
                   "jobs, which have a grader.")
        return
    st.markdown("**Only the reward, in your own run.** The grader as a reward function, from an installed ftstudio:")
    left, right = st.columns(2)
    with left:
        st.markdown("verl (`reward.custom_reward_function`)")
        st.code(verl_snippet(), language="bash")
    with right:
        st.markdown("OpenRLHF (`--reward.remote_url`, a Python file)")
        st.code(openrlhf_snippet(), language="bash")
