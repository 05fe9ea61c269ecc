"""What the provider target is and changes, said where it matters: one line under the sidebar's selector, and the
active target in the header of the pages it shapes (3 Graders: which grader types and rules; 5 Export: the body's
format)."""

from __future__ import annotations

import streamlit as st

from components import state
from ftstudio.targets import target

WHAT = ("The target is the service the job goes to: it decides which rules validation applies, which base and "
        "grader models are offered, and what the export writes.")


def explain() -> None:
    """The one line under the sidebar's selector."""
    st.caption(WHAT)


def header(what: str) -> None:
    """Under a page title: the active target, what it changes on this page, and where to change it."""
    t = target(state.target())
    st.caption(f":material/flag: Target: **{t.title}** (`{t.name}`) — {what}. Change it at the bottom of the sidebar.")
