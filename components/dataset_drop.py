"""A dataset dropped on the sidebar's Import JSON box: said to be one, with a link to where it goes (Test
grading), instead of a config error about its first line."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ftstudio.datasets import looks_like_rows

ACCEPTS = ["json", "jsonl", "csv"]  # what the box takes: a document (.json, a one-line .jsonl); a dataset is recognised
HELP = ("A job config, a bare grader or a preset (.json, or a .jsonl of one line). A dataset (.jsonl, .csv, a JSON "
        "array of rows) is recognised and sent to 4 Test grading.")


def handled(raw: bytes, name: str) -> bool:
    """True (and says where it goes) when `raw` is a dataset rather than a document to import."""
    if not looks_like_rows(raw, name):
        return False
    what = f"**{name}**" if name else "This"
    st.info(f"{what} looks like a dataset: upload it on **4 Test grading** (Import JSON takes a config, a grader "
            "or a preset).", icon=":material/dataset:")
    try:
        st.page_link("app_pages/test_grading.py", label="Open 4 Test grading", icon=":material/science:")
    except StreamlitAPIException:  # AppTest of a page alone has no router
        st.caption("→ 4 Test grading")
    return True
