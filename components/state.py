"""The app's session state: one typed `AppState` owns every st.session_state key.

- Every value the app keeps lives in an `AppState` slot, stored under one prefix
  (`ftstudio.<slot>`); widgets keep their own keys, which only this module reads or writes
  (`widget`, `set_widget`, `forget_widget`). Pages and components never touch st.session_state.
- The JobConfig is the single source of truth (`config()`); `replace()` records an edit (Undo
  keeps the old one) and autosaves; `load()` is for wholesale replacements (undo, import,
  preset, new) and also re-keys the widgets.
- One key scheme for widgets, built by one function: `key(area, *parts, follows=...)` gives
  "area.part.part" (tests find widgets by these keys). `rekey(scope)` bumps a counter per scope
  (EVERY for the whole app, "graders" for the Graders page's own redraws); a widget that follows
  a scope gets a new key then, so it re-reads its value from the new config instead of a stale one.
- `set_method()` switches the training method and sets the grader aside (and brings it back).
- The dataset, grading runs and the connection live beside it; the API key only in memory.
- What a refresh or a restart must not lose (the dataset, the last runs, the baseline, Undo/Redo)
  is written through ftstudio.store.workspace after each change and restored by `ensure()`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from components.app_state import MAX_HISTORY, AppState
from components.workspace_sync import add_run as add_run  # re-exported: the run and baseline API
from components.workspace_sync import delete_run as delete_run
from components.workspace_sync import open_run as open_run
from components.workspace_sync import persist, restore
from components.workspace_sync import set_baseline as set_baseline
from ftstudio.config import JobConfig, new_config, to_json
from ftstudio.core import Issue
from ftstudio.store import autosave, trust, workspace


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
    _restore_as_written(a, meta.get("as_written"))
    restore(a)


def _restore_as_written(a: AppState, saved: Any) -> None:
    """The imported document and its kept fields from the autosave (a refresh must not lose them)."""
    if not isinstance(saved, dict):
        return
    doc = saved.get("document")
    a.written = doc if isinstance(doc, dict) else None
    kept = []
    for entry in saved.get("kept") or []:
        if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], list) and isinstance(entry[1], int):
            kept.append((tuple(entry[0]), entry[1], entry[2]))
    a.kept_fields = kept


def _as_written_payload(a: AppState) -> dict | None:
    kept = [[list(path), index, value] for path, index, value in (a.kept_fields or [])]
    if a.written is None and not kept:
        return None
    return {"document": a.written, "kept": kept}


def config() -> JobConfig:
    return app().config


# Re-key scopes a widget can follow: every re-key (undo, import, preset, new config) is EVERY.
EVERY = ""


def key(area: str, *parts: object, follows: tuple[str, ...] = ()) -> str:
    """The key of a widget, the one scheme of the app: "area.part.part", where `area` is the page or
    panel ("sb", "tg", "graders", "export", "job", ...; a component drawn in several places takes its
    area from the caller, e.g. "tg.conn").

    `follows`: the re-key scopes that give the widget a fresh key, so it re-reads its value from the
    config (EVERY: undo, import, preset; a named scope: its own redraws, e.g. "graders", or "upload" to
    clear a file uploader, which can't be set from code). The key carries their counters once any moved.
    """
    name = ".".join((area, *map(str, parts)))
    if not follows:
        return name
    counters = app().rekeys
    moved = [counters.get(scope, 0) for scope in follows]
    return f"{name}@{'.'.join(map(str, moved))}" if any(moved) else name


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
        a.revision = autosave.save(cfg, expected=a.revision, writer=a.writer, as_written=_as_written_payload(a))
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


def update_reinforcement(label: str, *, refresh: bool = False, **fields: Any) -> None:
    """Put `fields` (grader=..., response_format=...) on the config's reinforcement block: the one way
    the pages change it. A config under another method switches to reinforcement first (an imported
    grader); `refresh` re-keys every widget, for an import that replaces what the editors show."""
    from ftstudio.config import with_reinforcement

    (load if refresh else replace)(with_reinforcement(config(), **fields), label)


def import_grader(grader: Any, as_written: dict[str, Any]) -> None:
    """An imported grader becomes the reinforcement grader; the document as written gets it too, so an
    export keeps the grader's own spelling."""
    import copy

    update_reinforcement("import grader", refresh=True, grader=grader)
    written = app().written
    doc: dict[str, Any] = copy.deepcopy(written) if isinstance(written, dict) else {}
    method = doc.get("method")
    method = method if isinstance(method, dict) else {}
    block = method.get("reinforcement")
    block = block if isinstance(block, dict) else {}
    doc["method"] = {**method, "type": "reinforcement", "reinforcement": {**block, "grader": as_written}}
    set_written(doc, kept_fields())


def mark_foreign(grader: Any) -> bool:
    """After a load from elsewhere (import, preset, account job): its python code waits for a confirmation,
    except code the user already runs (the configs in Undo/Redo: typed or confirmed), which stays trusted by
    content hash through Undo and Redo. True when some code waits."""
    a = app()
    own = [c.grader for _label, c in [*a.undo, *a.redo]]
    return trust.mark_untrusted(grader, own=own) > 0


def update_grader(new_grader: Any, label: str) -> None:
    """An edit of the grader tree (only while the config is a reinforcement one)."""
    cfg = config()
    if cfg.method is None or cfg.method.reinforcement is None:
        return
    update_reinforcement(label, grader=new_grader)


# --- validation, computed once per rerun per (config, dataset fields) -------------------------

def issues() -> list[Issue]:
    from ftstudio.validation import check

    a = app()
    cfg = a.config
    fields = dataset_fields()
    kept, written = kept_fields(), a.written
    fkey = (tuple(fields) if fields is not None else None, target(), id(kept) if kept else None, id(written))
    cache = a.issues_cache
    if cache and cache[0] is cfg and cache[1] == fkey:  # identity: configs are never mutated in place
        return cache[2]
    if kept or written is not None:  # validate what export writes: as written, kept fields too
        result = check(_written_data(cfg.model_dump(mode="json", exclude_none=True)), dataset_fields=fields,
                       target=target())
    else:
        result = check(cfg, dataset_fields=fields, target=target())
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

def dataset_fields() -> list[str] | None:
    ds = dataset()
    if ds is None:
        return None
    sf = sample_field()
    return [f for f in ds.fields if f != sf]


def first_row() -> dict | None:
    ds = dataset()
    return ds.store[0] if ds is not None and len(ds) else None


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


# --- provider target and fields kept as written (issue 10) -------------------------------------

def target() -> str:
    """The provider whose rules apply: chosen in the sidebar, else the connection's kind, else openai."""
    chosen = app().target
    return chosen if chosen else endpoint().target


def set_target(name: str | None) -> None:
    app().target = name


def kept_fields() -> list:
    """Fields of the imported document the config model doesn't know: [(path, position, value)].

    Shown in the "kept as written" panel, validated, and put back into every export."""
    return app().kept_fields or []


def set_kept_fields(kept: list) -> None:
    a = app()
    a.kept_fields = list(kept)
    _save(a.config)


def set_written(document: dict | None, kept: list | None = None) -> None:
    """The document the current config was imported from (None: not imported), and the fields the
    editor doesn't know. Exports spell what still means the same as the user did; both are saved."""
    a = app()
    a.written = document
    a.kept_fields = list(kept or [])
    _save(a.config)


def export_data(cfg: JobConfig | None = None) -> dict:
    """The body every export writes (JSON, Python, curl, submit, presets): the config, with the
    fields kept at import back in place, in the spelling of the imported document."""
    from ftstudio.config import to_data

    return _written_data(to_data(cfg if cfg is not None else app().config))


def _written_data(data: dict) -> dict:
    """`data` with the kept fields back in place, in the imported document's spelling. Validation gets
    it unredacted (so a key pasted into the config is flagged); exports get it redacted."""
    from ftstudio.config import as_written
    from ftstudio.validation import restore_kept

    a = app()
    data = restore_kept(data, kept_fields())
    return as_written(data, a.written) if a.written is not None else data
