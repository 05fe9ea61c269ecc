"""The sidebar shown on every page: the job at a glance and the validation count."""

from __future__ import annotations

import streamlit as st

from components import state
from ftstudio.issues import count
from ftstudio.validation import check


def render(pages) -> None:
    cfg = state.config()
    c = count(check(cfg))
    with st.sidebar:
        st.markdown(f"**{cfg.method_type}** · `{cfg.model or '(no model)'}`")
        st.caption(f"{c['error']} errors · {c['warning']} warnings")
