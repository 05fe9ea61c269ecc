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
import uuid
from typing import Any

import streamlit as st

from ftstudio.config import JobConfig, new_config, to_json
from ftstudio.core import DEFAULT_SAMPLE_FIELD, Issue
from ftstudio.store import autosave

KEY = "ftstudio_config"
UNDO, REDO, VERSION = "ftstudio_undo", "ftstudio_redo", "ftstudio_version"
MAX_HISTORY = 50


REV, WRITER, CONFLICT = "ftstudio_rev", "ftstudio_writer", "ftstudio_conflict"


def ensure() -> None:
    ss = st.session_state
    if KEY in ss:
        return
    try:
        config, meta, note = autosave.load()
    except OSError as exc:  # an unreadable home folder must not stop the app
        config, meta, note = None, {}, f"autosave unavailable: {exc}"
    ss[KEY] = config or new_config("supervised")
    ss[UNDO], ss[REDO], ss[VERSION] = [], [], 0
    ss[REV] = meta.get("revision", 0) if isinstance(meta.get("revision", 0), int) else 0
    ss[WRITER] = uuid.uuid4().hex[:12]
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
    """Save unless another tab saved since we last did; then keep ours as a draft and flag it."""
    ss = st.session_state
    try:
        if ss.get(CONFLICT) is not None:
            autosave.save_draft(cfg, ss[WRITER])
            return
        ss[REV] = autosave.save(cfg, expected=ss.get(REV, 0), writer=ss[WRITER])
        ss.pop("ftstudio_save_error", None)
    except autosave.Conflict as conflict:
        ss[CONFLICT] = conflict
        try:
            autosave.save_draft(cfg, ss[WRITER])
        except OSError:
            pass
    except OSError as exc:
        ss["ftstudio_save_error"] = f"Autosave failed ({exc}); your edits are kept in this tab."


def external_change() -> autosave.Conflict | None:
    """A conflict with another tab: either met while saving, or a newer save seen on disk."""
    ss = st.session_state
    ensure()
    if ss.get(CONFLICT) is not None:
        return ss[CONFLICT]
    try:
        on_disk = autosave.revision()
    except OSError:
        return None
    if on_disk > ss.get(REV, 0):
        config, meta, _ = autosave.load()
        if config is not None and config == ss[KEY]:
            ss[REV] = on_disk  # same content: nothing to decide
            return None
        ss[CONFLICT] = autosave.Conflict(on_disk, config, meta.get("writer"), meta.get("saved_at"))
        return ss[CONFLICT]
    return None


def take_theirs() -> None:
    """Load the other tab's config (ours stays in Undo)."""
    ss = st.session_state
    conflict = ss.pop(CONFLICT, None)
    if conflict is None or conflict.theirs is None:
        return
    ss[REV] = conflict.revision
    ss[UNDO] = (ss[UNDO] + [("before loading the other tab's config", ss[KEY])])[-MAX_HISTORY:]
    ss[KEY] = conflict.theirs
    ss[VERSION] += 1


def keep_mine() -> None:
    """Overwrite the other tab's save with ours (theirs stays in the autosave's version history)."""
    ss = st.session_state
    conflict = ss.pop(CONFLICT, None)
    if conflict is None:
        return
    ss[REV] = conflict.revision
    _save(ss[KEY])


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


def _step(source: str, target: str) -> None:
    """Move one config from the `source` history stack to the screen; the current one to `target`."""
    ss = st.session_state
    if ss[source]:
        label, config = ss[source].pop()
        ss[target].append((label, ss[KEY]))
        ss[KEY] = config
        ss[VERSION] += 1
        _save(config)


def undo() -> None:
    _step(UNDO, REDO)


def redo() -> None:
    _step(REDO, UNDO)


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
    return st.session_state.get("ftstudio_sample_field", DEFAULT_SAMPLE_FIELD)


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
    from ftstudio.api import Endpoint

    ep = st.session_state.get("ftstudio_endpoint")
    return ep if ep is not None else Endpoint.from_env()


def set_endpoint(ep) -> None:
    from ftstudio.core import register_secret

    register_secret(getattr(ep, "api_key", None))
    st.session_state["ftstudio_endpoint"] = ep
