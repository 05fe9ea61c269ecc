"""The one JobConfig in st.session_state: read it, replace it (with undo), autosave it."""

from __future__ import annotations

import streamlit as st

from ftstudio import autosave
from ftstudio.config import JobConfig, new_config

KEY = "ftstudio_config"
UNDO, REDO = "ftstudio_undo", "ftstudio_redo"
MAX_HISTORY = 50


def ensure() -> None:
    if KEY in st.session_state:
        return
    config, _extra, note = autosave.load()
    st.session_state[KEY] = config or new_config("supervised")
    st.session_state[UNDO], st.session_state[REDO] = [], []
    if note:
        st.session_state["ftstudio_restore_note"] = note


def config() -> JobConfig:
    ensure()
    return st.session_state[KEY]


def replace(new: JobConfig, label: str = "edit") -> None:
    """Make `new` the config: remember the old one for Undo, save to disk."""
    old = config()
    if new == old:
        return
    st.session_state[UNDO] = (st.session_state[UNDO] + [(label, old)])[-MAX_HISTORY:]
    st.session_state[REDO] = []
    st.session_state[KEY] = new
    autosave.save(new)


def undo() -> None:
    if st.session_state[UNDO]:
        label, old = st.session_state[UNDO].pop()
        st.session_state[REDO].append((label, config()))
        st.session_state[KEY] = old
        autosave.save(old)


def redo() -> None:
    if st.session_state[REDO]:
        label, new = st.session_state[REDO].pop()
        st.session_state[UNDO].append((label, config()))
        st.session_state[KEY] = new
        autosave.save(new)
