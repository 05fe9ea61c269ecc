"""The "kept as written" panel: fields of an imported config that the editor doesn't model.

They are never dropped silently: the panel lists them, and every export puts them back in place.
"""

from __future__ import annotations

import json

import streamlit as st

from components import state
from ftstudio.core import join_path, redact


def render(key: str = state.key("kept")) -> None:
    kept = state.kept_fields()
    if not kept:
        return
    with st.container(border=True):
        st.markdown(f"**:material/push_pin: Kept as written** · {len(kept)} field(s) the editor doesn't know")
        st.caption("They come from the imported JSON and go back into every export, in their place. "
                   "Validation says whether the target accepts them.")
        for path, _, value in kept:
            shown = redact(json.dumps(value, ensure_ascii=False))
            st.markdown(f"`{join_path(path)}` = `{shown[:120] + ('…' if len(shown) > 120 else '')}`")
        if st.button("Drop them from exports", key=state.key(key, "drop"), help="Only these extra fields; the config stays"):
            state.set_kept_fields([])
            st.rerun()

