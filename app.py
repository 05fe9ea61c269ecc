"""Fine-Tune Studio: the Streamlit entry point (`streamlit run app.py`).

A thin router: st.navigation over the five steps, with the shared sidebar. All state lives in
one JobConfig in st.session_state (components/state.py); pages only read it and call ftstudio.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components import sidebar, state

# A local image: an emoji or :material: page_icon makes every page fetch its favicon from a CDN
# (fails offline and tells a third party the app is open). Streamlit serves this file itself.
ICON = Path(__file__).resolve().parent / "assets" / "favicon.png"
st.set_page_config(page_title="Fine-Tune Studio", page_icon=str(ICON), layout="wide")
state.ensure()

PAGES = [
    st.Page("app_pages/method.py", title="1 Method", icon=":material/route:", url_path="method", default=True),
    st.Page("app_pages/hyperparameters.py", title="2 Hyperparameters", icon=":material/tune:", url_path="hyperparameters"),
    st.Page("app_pages/graders.py", title="3 Graders", icon=":material/rule:", url_path="graders"),
    st.Page("app_pages/test_grading.py", title="4 Test grading", icon=":material/science:", url_path="test-grading"),
    st.Page("app_pages/export.py", title="5 Export", icon=":material/ios_share:", url_path="export"),
]

nav = st.navigation(PAGES, position="sidebar")
try:
    nav.run()
finally:
    # After the page, so Undo, the badge and the glance reflect the edit this rerun just made.
    sidebar.render()
