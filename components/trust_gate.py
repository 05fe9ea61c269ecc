"""The confirmation a config's imported python code needs before anything runs it."""

from __future__ import annotations

import streamlit as st

from ftstudio.store import trust


def allowed(grader, key: str) -> bool:
    """True when grading may run this tree; otherwise shows why and a one-click confirmation."""
    waiting = trust.pending(grader)
    if not waiting:
        return True
    with st.container(border=True):
        st.warning(f"This grader contains {len(waiting)} Python grader(s) that came from an import or a preset. "
                   "Grading runs that code on this machine (in a sandbox: separate processes, no network, no "
                   "secrets, limited memory and time). Review it on the Graders page first.", icon=":material/code:")
        with st.expander("Show the code"):
            for source in waiting:
                st.code(source, language="python")
        if st.button("I trust this code — allow grading", key=key, type="primary"):
            trust.confirm(grader)
            st.rerun()
    return False
