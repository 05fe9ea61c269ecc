"""The typed session state: `AppState` owns every st.session_state key (one prefix, `ftstudio.`).

components/state.py is the API pages use; this module is only the typed store, so the workspace
sync (components/workspace_sync.py) can use it without importing state.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

import streamlit as st

from ftstudio.config import JobConfig, new_config
from ftstudio.core import DEFAULT_SAMPLE_FIELD
from ftstudio.store import autosave

PREFIX = "ftstudio."
MAX_HISTORY = 50
T = TypeVar("T")


class _Slot(Generic[T]):
    """One typed value of AppState, kept in st.session_state under `ftstudio.<name>`."""

    def __init__(self, default: Callable[[], T]) -> None:
        self.default = default
        self.key = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = PREFIX + name

    @overload
    def __get__(self, obj: None, owner: type) -> _Slot[T]: ...
    @overload
    def __get__(self, obj: AppState, owner: type) -> T: ...
    def __get__(self, obj: AppState | None, owner: type) -> T | _Slot[T]:
        if obj is None:
            return self
        ss = obj.session
        if self.key not in ss:
            ss[self.key] = self.default()
        return ss[self.key]

    def __set__(self, obj: AppState, value: T) -> None:
        obj.session[self.key] = value


def _none() -> Any:
    return None


class AppState:
    """Typed access to one session's state. `AppState()` in the app; `AppState(at.session_state)`
    in AppTest tests (any mapping with `in`, `[]` and `del`)."""

    # the config, its history and the autosave bookkeeping
    config: _Slot[JobConfig] = _Slot(lambda: new_config("supervised"))
    undo: _Slot[list[tuple[str, JobConfig]]] = _Slot(list)
    redo: _Slot[list[tuple[str, JobConfig]]] = _Slot(list)
    rekeys: _Slot[dict[str, int]] = _Slot(dict)  # scope -> counter, part of every versioned widget key
    revision: _Slot[int] = _Slot(int)
    writer: _Slot[str] = _Slot(lambda: uuid.uuid4().hex[:12])
    conflict: _Slot[autosave.Conflict | None] = _Slot(_none)
    restore_note: _Slot[str | None] = _Slot(_none)
    save_error: _Slot[str | None] = _Slot(_none)
    untrusted_python: _Slot[str | None] = _Slot(_none)  # where python code came from, for the trust gate
    issues_cache: _Slot[tuple | None] = _Slot(_none)
    # 1 Method: the grader set aside when leaving reinforcement; the note about dropped settings
    stashed_grader: _Slot[Any] = _Slot(_none)
    method_dropped: _Slot[tuple[str, list[str]] | None] = _Slot(_none)
    # 3 Graders
    graders_selected: _Slot[tuple[str, ...]] = _Slot(tuple)
    graders_flash: _Slot[tuple[str, str] | None] = _Slot(_none)
    graders_deleted: _Slot[str | None] = _Slot(_none)
    graders_key_error: _Slot[tuple[str, str] | None] = _Slot(_none)
    graders_json_error: _Slot[tuple | None] = _Slot(_none)
    graders_tree_last: _Slot[Any] = _Slot(_none)
    template_context: _Slot[tuple | None] = _Slot(_none)
    playground_seeded: _Slot[Any] = _Slot(_none)
    playground_result: _Slot[tuple | None] = _Slot(_none)
    playground_output: _Slot[str | None] = _Slot(_none)
    playground_item: _Slot[str | None] = _Slot(_none)
    # 4 Test grading: the dataset, runs, the baseline
    dataset: _Slot[Any] = _Slot(_none)
    sample_field: _Slot[str] = _Slot(lambda: DEFAULT_SAMPLE_FIELD)
    datasets: _Slot[dict] = _Slot(dict)  # recently read datasets by source
    dataset_source: _Slot[Any] = _Slot(_none)
    dataset_error: _Slot[str | None] = _Slot(_none)
    dataset_derived: _Slot[dict] = _Slot(dict)  # reports and token counts per dataset
    seen_upload: _Slot[Any] = _Slot(_none)  # the uploader's last file id: only a new upload replaces the dataset
    grade_check: _Slot[tuple | None] = _Slot(_none)
    preflight_cache: _Slot[tuple | None] = _Slot(_none)
    job: _Slot[Any] = _Slot(_none)  # the running GradingJob
    run: _Slot[Any] = _Slot(_none)  # the GradingRun on screen
    runs: _Slot[dict[int, Any]] = _Slot(dict)  # the kept runs by id (the workspace keeps the same ones)
    dataset_not_kept: _Slot[str | None] = _Slot(_none)  # why the dataset on screen won't survive a refresh
    workspace_error: _Slot[str | None] = _Slot(_none)
    baseline: _Slot[Any] = _Slot(_none)
    run_counter: _Slot[int] = _Slot(int)
    notice: _Slot[Any] = _Slot(_none)
    table_view: _Slot[list] = _Slot(list)
    reports: _Slot[dict[str, tuple]] = _Slot(dict)  # API check reports by widget prefix
    # connection and 5 Export
    endpoint: _Slot[Any] = _Slot(_none)
    connection_tests: _Slot[dict[str, Any]] = _Slot(dict)
    jobs: _Slot[dict[str, dict]] = _Slot(dict)  # job id -> {"job", "events", "next_poll", "interval"}
    uploaded: _Slot[dict] = _Slot(dict)
    # provider target chosen in the sidebar (None: the connection's kind), and imported fields kept as written
    target: _Slot[str | None] = _Slot(_none)
    kept_fields: _Slot[list] = _Slot(list)
    written: _Slot[dict | None] = _Slot(_none)  # the imported document, for exports in the user's spelling

    def __init__(self, session: Any = None) -> None:
        self.session = st.session_state if session is None else session

    def take(self, name: str) -> Any:
        """Read a slot and reset it to its default (one-shot messages)."""
        slot: _Slot = getattr(type(self), name)
        value = getattr(self, name)
        setattr(self, name, slot.default())
        return value

    def has(self, name: str) -> bool:
        return getattr(type(self), name).key in self.session

    # widget values: widgets own their keys; only AppState reads or sets them
    def widget(self, key: str, default: Any = None) -> Any:
        return self.session[key] if key in self.session else default

    def set_widget(self, key: str, value: Any) -> None:
        self.session[key] = value

    def forget_widget(self, key: str) -> None:
        if key in self.session:
            del self.session[key]

    def has_widget(self, key: str) -> bool:
        return key in self.session
