"""The Export page's "Train with open-source tools" tab: the TRL recipe's files, a zip of them, and the
verl / OpenRLHF snippets that use this job's grader as their reward function."""

from __future__ import annotations

import streamlit as st

from ftstudio.reward import GRADER_FILE, openrlhf_snippet, recipe_files, recipe_zip, verl_snippet

_LANGUAGES = {".py": "python", ".json": "json", ".md": "markdown", ".txt": "text"}


def render(cfg, slug: str) -> None:
    files = recipe_files(cfg)
    method = cfg.method_type
    trainer = {"supervised": "SFTTrainer", "dpo": "DPOTrainer", "reinforcement": "GRPOTrainer"}[method]
    st.markdown(f"A small runnable project that trains this **{method}** job with Hugging Face TRL's "
                f"`{trainer}` on any open model, from the same OpenAI-format JSONL files. "
                "`ftstudio export CONFIG --format trl -o DIR` writes the same files.")
    st.download_button(":material/download: Download the recipe (zip)", recipe_zip(files, f"{slug}-trl"), file_name=f"{slug}-trl.zip",
                       mime="application/zip", key="dl_trl_zip", type="primary")
    st.code("pip install -r requirements.txt\n"
            "python train.py --model Qwen/Qwen2.5-0.5B-Instruct --train-file train.jsonl --output-dir out "
            "--max-steps 2", language="bash")
    for name, text in files.items():
        with st.expander(name, expanded=name == "train.py"):
            st.code(text, language=_LANGUAGES.get(name[name.rfind("."):], "text"))
    if cfg.grader is None:
        st.caption("verl and OpenRLHF take a reward function: they apply to reinforcement jobs, which have a grader.")
        return
    st.markdown(f"**The grader in other trainers.** Save `{GRADER_FILE}` (in the zip) next to your run; "
                "verl gets its path as a reward keyword, OpenRLHF from `$FTSTUDIO_GRADER`; both give the same rewards "
                "as `ftstudio grade`.")
    left, right = st.columns(2)
    with left:
        st.markdown("verl (`custom_reward_function`)")
        st.code(verl_snippet(), language="bash")
    with right:
        st.markdown("OpenRLHF (`--reward.remote_url`, a Python file)")
        st.code(openrlhf_snippet(), language="bash")
