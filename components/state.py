"""The app's session state, behind one small API (pages never touch st.session_state keys directly).

- The JobConfig is the single source of truth (`config()`); `replace()` records an edit (Undo
  keeps the old one) and autosaves; `load()` is for wholesale replacements (undo, import,
  preset, new) and also bumps `version()`, which is part of every widget key (`wkey`) so the
  widgets re-read their values from the new config instead of keeping stale ones.
- The dataset, grading results and the connection live beside it; the API key only in memory.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import streamlit as st

from ftstudio import autosave
from ftstudio.config import JobConfig, new_config
from ftstudio.export import to_json
from ftstudio.issues import Issue

KEY = "ftstudio_config"
UNDO, REDO, VERSION = "ftstudio_undo", "ftstudio_redo", "ftstudio_version"
MAX_HISTORY = 50


def ensure() -> None:
    ss = st.session_state
    if KEY in ss:
        return
    try:
        config, _extra, note = autosave.load()
    except OSError as exc:  # an unreadable home folder must not stop the app
        config, note = None, f"autosave unavailable: {exc}"
    ss[KEY] = config or new_config("supervised")
    ss[UNDO], ss[REDO], ss[VERSION] = [], [], 0
    if note:
        ss["ftstudio_restore_note"] = note


def config() -> JobConfig:
    ensure()
    return st.session_state[KEY]


def version() -> int:
    ensure()
    return st.session_state[VERSION]


def wkey(name: str) -> str:
    """A widget key tied to the config version: widgets re-initialise after undo/import/preset."""
    return f"{name}@{version()}"


def _save(cfg: JobConfig) -> None:
    try:
        autosave.save(cfg)
        st.session_state.pop("ftstudio_save_error", None)
    except OSError as exc:
        st.session_state["ftstudio_save_error"] = f"Autosave failed ({exc}); your edits are kept in this tab."


def replace(new: JobConfig, label: str = "edit") -> None:
    """Record a user edit: the old config goes on the Undo stack; the new one is saved."""
    old = config()
    if new == old:
        return
    ss = st.session_state
    ss[UNDO] = (ss[UNDO] + [(label, old)])[-MAX_HISTORY:]
    ss[REDO] = []
    ss[KEY] = new
    _save(new)


def load(new: JobConfig, label: str) -> None:
    """Replace the config wholesale (import, preset, new) — undoable — and refresh every widget."""
    replace(new, label)
    st.session_state[VERSION] += 1


def can_undo() -> str | None:
    ensure()
    return st.session_state[UNDO][-1][0] if st.session_state[UNDO] else None


def can_redo() -> str | None:
    ensure()
    return st.session_state[REDO][-1][0] if st.session_state[REDO] else None


def undo() -> None:
    ss = st.session_state
    if ss[UNDO]:
        label, old = ss[UNDO].pop()
        ss[REDO].append((label, ss[KEY]))
        ss[KEY] = old
        ss[VERSION] += 1
        _save(old)


def redo() -> None:
    ss = st.session_state
    if ss[REDO]:
        label, new = ss[REDO].pop()
        ss[UNDO].append((label, ss[KEY]))
        ss[KEY] = new
        ss[VERSION] += 1
        _save(new)


def update_grader(new_grader: Any, label: str) -> None:
    cfg = config()
    if cfg.method is None or cfg.method.reinforcement is None:
        return
    rf = cfg.method.reinforcement.model_copy(update={"grader": new_grader})
    replace(cfg.model_copy(update={"method": cfg.method.model_copy(update={"reinforcement": rf})}), label)


# --- validation, computed once per rerun per (config, dataset fields) -------------------------

def issues() -> list[Issue]:
    from ftstudio.validation import check

    cfg = config()
    fields = dataset_fields()
    fkey = tuple(fields) if fields is not None else None
    cache = st.session_state.get("ftstudio_issues_cache")
    if cache and cache[0] is cfg and cache[1] == fkey:  # identity: configs are never mutated in place
        return cache[2]
    result = check(cfg, dataset_fields=fields)
    st.session_state["ftstudio_issues_cache"] = (cfg, fkey, result)
    return result


# --- dataset, results, connection ----------------------------------------------------------

def dataset():
    return st.session_state.get("ftstudio_dataset")


def set_dataset(ds) -> None:
    st.session_state["ftstudio_dataset"] = ds


def sample_field() -> str:
    return st.session_state.get("ftstudio_sample_field", "model_sample")


def set_sample_field(name: str) -> None:
    st.session_state["ftstudio_sample_field"] = name


def dataset_fields() -> list[str] | None:
    ds = dataset()
    if ds is None:
        return None
    sf = sample_field()
    return [f for f in ds.fields if f != sf]


def first_row() -> dict | None:
    ds = dataset()
    return ds.rows[0] if ds is not None and ds.rows else None


def grader_fingerprint() -> str:
    """What a grading run depends on: the grader, the data, the output field."""
    cfg = config()
    grader = cfg.grader
    ds = dataset()
    payload = json.dumps({"grader": json.loads(to_json(grader)) if grader is not None else None,
                          "data": getattr(ds, "content_hash", None), "field": sample_field()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def endpoint():
    from ftstudio.model_client import Endpoint

    ep = st.session_state.get("ftstudio_endpoint")
    return ep if ep is not None else Endpoint.from_env()


def set_endpoint(ep) -> None:
    from ftstudio.secrets import register_secret

    register_secret(getattr(ep, "api_key", None))
    st.session_state["ftstudio_endpoint"] = ep
