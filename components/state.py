"""The app's session state: one typed `AppState` owns every st.session_state key.

- Every value the app keeps lives in an `AppState` slot, stored under one prefix
  (`ftstudio.<slot>`); widgets keep their own keys, which only this module reads or writes
  (`widget`, `set_widget`, `forget_widget`). Pages and components never touch st.session_state.
- The JobConfig is the single source of truth (`config()`); `replace()` records an edit (Undo
  keeps the old one) and autosaves; `load()` is for wholesale replacements (undo, import,
  preset, new) and also re-keys the widgets.
- One re-key mechanism: `wkey(name, scope)` holds a counter per scope ("" for the whole app,
  "graders" for the Graders page's own redraws); `rekey(scope)` bumps it, so the widgets
  re-read their values from the new config instead of keeping stale ones.
- `set_method()` switches the training method and sets the grader aside (and brings it back).
- The dataset, grading runs and the connection live beside it; the API key only in memory.
- What a refresh or a restart must not lose (the dataset, the last runs, the baseline, Undo/Redo)
  is written through ftstudio.store.workspace after each change and restored by `ensure()`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

import streamlit as st

from ftstudio.config import JobConfig, new_config, to_json
from ftstudio.core import DEFAULT_SAMPLE_FIELD, Issue
from ftstudio.store import autosave, workspace

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


def app() -> AppState:
    ensure()
    return AppState()


def widget(key: str, default: Any = None) -> Any:
    return AppState().widget(key, default)


def set_widget(key: str, value: Any) -> None:
    AppState().set_widget(key, value)


def forget_widget(key: str) -> None:
    AppState().forget_widget(key)


def has_widget(key: str) -> bool:
    return AppState().has_widget(key)


def ensure() -> None:
    a = AppState()
    if a.has("config"):
        return
    try:
        config, meta, note = autosave.load()
    except OSError as exc:  # an unreadable home folder must not stop the app
        config, meta, note = None, {}, f"autosave unavailable: {exc}"
    a.config = config or new_config("supervised")
    a.undo, a.redo, a.rekeys = [], [], {}
    rev = meta.get("revision", 0)
    a.revision = rev if isinstance(rev, int) else 0
    a.writer = uuid.uuid4().hex[:12]
    a.restore_note = note or None
    _restore(a)


def _restore(a: AppState) -> None:
    """Bring back the dataset, runs, baseline and Undo/Redo of the last session (refresh or restart)."""
    from ftstudio.datasets import DatasetError, read_dataset

    try:
        saved = workspace.load_session()
        read: dict[str, Any] = {}

        def dataset_of(digest: str | None) -> Any:
            if digest and digest not in read:
                got = workspace.load_dataset(digest)
                try:
                    read[digest] = read_dataset(got[0], name=got[1]) if got else None
                except DatasetError:
                    read[digest] = None
            return read.get(digest) if digest else None

        if not a.has("dataset"):  # a dataset given before the first run (tests) wins
            a.dataset = dataset_of(saved.dataset)
            a.dataset_not_kept = saved.not_kept
        if saved.sample_field:
            a.sample_field = saved.sample_field
        runs = {}
        for run_id in saved.runs:
            doc = workspace.load_run(run_id)
            ds = dataset_of(doc.get("data_hash")) if doc else None
            if doc is not None and ds is not None:
                runs[run_id] = workspace.run_from_data(doc, ds)
        a.runs = runs
        a.run = runs.get(saved.current) if saved.current is not None else None
        a.baseline = runs.get(saved.baseline) if saved.baseline is not None else None
        a.run_counter = max([saved.counter, *runs])
        a.undo, a.redo = saved.undo, saved.redo
    except (OSError, ValueError, KeyError, TypeError) as exc:  # a damaged workspace must not stop the app
        a.workspace_error = f"The last session's data could not be restored ({exc})."


def persist() -> None:
    """Write what a refresh must not lose; a disk problem is said in the sidebar, never raised."""
    a = AppState()
    ds = a.dataset
    runs = a.runs
    session = workspace.Session(
        dataset=getattr(ds, "content_hash", None) if ds is not None and a.dataset_not_kept is None else None,
        dataset_name=getattr(ds, "name", None), sample_field=a.sample_field, runs=sorted(runs),
        run_data={i: r.data_hash for i, r in runs.items()}, current=a.run.id if a.run is not None else None,
        baseline=a.baseline.id if a.baseline is not None else None, counter=a.run_counter,
        undo=a.undo, redo=a.redo, not_kept=a.dataset_not_kept)
    try:
        workspace.save_session(session)
        a.workspace_error = None
    except OSError as exc:
        a.workspace_error = f"Could not keep the session on disk ({exc}); it stays in this tab."


def config() -> JobConfig:
    return app().config


def wkey(name: str, scope: str = "") -> str:
    """A widget key tied to the re-key counters: widgets re-initialise after undo/import/preset
    (the app-wide counter) or after a redraw of their own scope (`rekey(scope)`)."""
    counters = app().rekeys
    tail = f".{scope}{counters.get(scope, 0)}" if scope else ""
    return f"{name}@{counters.get('', 0)}{tail}"


def scoped_key(name: str, scope: str) -> str:
    """A widget key that changes only when `scope` is re-keyed (`name` itself until then). For widgets
    that can't be set from code, e.g. clearing a file uploader means giving it a new key."""
    n = app().rekeys.get(scope, 0)
    return f"{name}#{n}" if n else name


def rekey(scope: str = "") -> None:
    """Make the widgets of `scope` ("" = every widget) re-read their values on the next run."""
    a = app()
    a.rekeys = {**a.rekeys, scope: a.rekeys.get(scope, 0) + 1}


def _save(cfg: JobConfig) -> None:
    """Save unless another tab saved since we last did; then keep ours as a draft and flag it."""
    a = app()
    try:
        if a.conflict is not None:
            autosave.save_draft(cfg, a.writer)
            return
        a.revision = autosave.save(cfg, expected=a.revision, writer=a.writer)
        a.save_error = None
    except autosave.Conflict as conflict:
        a.conflict = conflict
        try:
            autosave.save_draft(cfg, a.writer)
        except OSError:
            pass
    except OSError as exc:
        a.save_error = f"Autosave failed ({exc}); your edits are kept in this tab."


def external_change() -> autosave.Conflict | None:
    """A conflict with another tab: either met while saving, or a newer save seen on disk."""
    a = app()
    if a.conflict is not None:
        return a.conflict
    try:
        on_disk = autosave.revision()
    except OSError:
        return None
    if on_disk > a.revision:
        config, meta, _ = autosave.load()
        if config is not None and config == a.config:
            a.revision = on_disk  # same content: nothing to decide
            return None
        a.conflict = autosave.Conflict(on_disk, config, meta.get("writer"), meta.get("saved_at"))
        return a.conflict
    return None


def take_theirs() -> None:
    """Load the other tab's config (ours stays in Undo)."""
    a = app()
    conflict = a.take("conflict")
    if conflict is None or conflict.theirs is None:
        return
    a.revision = conflict.revision
    a.undo = (a.undo + [("before loading the other tab's config", a.config)])[-MAX_HISTORY:]
    a.config = conflict.theirs
    rekey()
    _history_changed()


def keep_mine() -> None:
    """Overwrite the other tab's save with ours (theirs stays in the autosave's version history)."""
    a = app()
    conflict = a.take("conflict")
    if conflict is None:
        return
    a.revision = conflict.revision
    _save(a.config)


def replace(new: JobConfig, label: str = "edit") -> None:
    """Record a user edit: the old config goes on the Undo stack; the new one is saved."""
    a = app()
    old = a.config
    if new == old:
        return
    a.undo = (a.undo + [(label, old)])[-MAX_HISTORY:]
    a.redo = []
    a.config = new
    _save(new)
    _history_changed()


def load(new: JobConfig, label: str) -> None:
    """Replace the config wholesale (import, preset, new) — undoable — and refresh every widget."""
    replace(new, label)
    rekey()


def set_method(method: str, label: str | None = None, *, note: bool = True) -> None:
    """Switch the training method: model, files and shared hyperparameters stay; the grader is
    set aside when leaving reinforcement and comes back on return. Undoable. With `note`, 1 Method
    says once what was not carried over (`method_note()`)."""
    from ftstudio.config import switch_method

    a = app()
    stash = a.take("stashed_grader")
    new, dropped, aside = switch_method(a.config, method, stash_grader=stash)
    if aside is not None:
        a.stashed_grader = aside
    elif stash is not None and method != "reinforcement":
        a.stashed_grader = stash
    load(new, label or f"switch to {method}")
    if note:
        a.method_dropped = (method, dropped)


def method_note() -> tuple[str, list[str]] | None:
    """(method, what was not carried over) after a switch, once."""
    return app().take("method_dropped")


def can_undo() -> str | None:
    a = app()
    return a.undo[-1][0] if a.undo else None


def can_redo() -> str | None:
    a = app()
    return a.redo[-1][0] if a.redo else None


def _step(source: str, target: str) -> None:
    """Move one config from the `source` history stack to the screen; the current one to `target`."""
    a = app()
    stack: list = getattr(a, source)
    if stack:
        label, config = stack.pop()
        getattr(a, target).append((label, a.config))
        a.config = config
        rekey()
        _save(config)
        _history_changed()


def undo() -> None:
    _step("undo", "redo")


def redo() -> None:
    _step("redo", "undo")


def _history_changed() -> None:
    persist()


def update_grader(new_grader: Any, label: str) -> None:
    cfg = config()
    if cfg.method is None or cfg.method.reinforcement is None:
        return
    rf = cfg.method.reinforcement.model_copy(update={"grader": new_grader})
    replace(cfg.model_copy(update={"method": cfg.method.model_copy(update={"reinforcement": rf})}), label)


# --- validation, computed once per rerun per (config, dataset fields) -------------------------

def issues() -> list[Issue]:
    from ftstudio.validation import check

    a = app()
    cfg = a.config
    fields = dataset_fields()
    fkey = tuple(fields) if fields is not None else None
    cache = a.issues_cache
    if cache and cache[0] is cfg and cache[1] == fkey:  # identity: configs are never mutated in place
        return cache[2]
    result = check(cfg, dataset_fields=fields)
    a.issues_cache = (cfg, fkey, result)
    return result


# --- dataset, results, connection ----------------------------------------------------------

def dataset():
    return app().dataset


def set_dataset(ds, data: bytes | None = None) -> None:
    """Make `ds` the current dataset; its bytes are kept on disk when within the bound."""
    a = app()
    a.dataset, a.dataset_not_kept = ds, None
    if ds is not None and data is not None:
        try:
            _digest, a.dataset_not_kept = workspace.save_dataset(data, ds.name)
        except OSError as exc:
            a.dataset_not_kept = f"it could not be written to disk ({exc})"
    persist()


def sample_field() -> str:
    return app().sample_field


def set_sample_field(name: str) -> None:
    app().sample_field = name
    persist()


def add_run(run) -> None:
    """A finished run goes on screen and on disk; only the newest runs (and the baseline) are kept."""
    a = app()
    a.run = run
    runs = {**a.runs, run.id: run}
    keep = sorted(runs)[-workspace.MAX_RUNS:]
    a.runs = {i: r for i, r in runs.items() if i in keep or (a.baseline is not None and i == a.baseline.id)}
    try:
        if not workspace.save_run(run):
            a.workspace_error = (f"Run {run.id} has more than {workspace.MAX_RUN_ROWS:,} rows: it is shown but not "
                                 "kept across a refresh.")
    except OSError as exc:
        a.workspace_error = f"Could not keep run {run.id} on disk ({exc}); it stays in this tab."
    persist()


def set_baseline(run) -> None:
    a = app()
    a.baseline = run
    if run is not None and run.id not in a.runs:
        a.runs = {**a.runs, run.id: run}
    persist()


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

    ep = app().endpoint
    return ep if ep is not None else Endpoint.from_env()


def set_endpoint(ep) -> None:
    from ftstudio.core import register_secret

    register_secret(getattr(ep, "api_key", None))
    app().endpoint = ep
