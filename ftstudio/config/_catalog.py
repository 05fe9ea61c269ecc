"""What the tool knows about models, read from one data table (data/models.json).

Model lists go stale fast (facts §0: several documented models are already shut down), so
nothing else in the package hard-codes a model id: validation and the UI ask this module.
An id the table doesn't know is allowed; callers turn that into an info note.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from functools import lru_cache

from ftstudio.core.records import datarecord, field, replace

FINE_TUNED_PREFIX = "ft:"


def _table_text() -> str:
    # importlib.resources here, not at the top: importing it costs more than reading the table (issue 23, start-up)
    from importlib import resources

    return resources.files("ftstudio").joinpath("data/models.json").read_text(encoding="utf-8")


@datarecord(frozen=True)
class ModelInfo:
    id: str
    family: str
    reasoning: bool
    methods: tuple[str, ...] = ()
    grader: bool = False
    retired: _dt.date | None = None
    efforts: tuple[str, ...] = ()
    maybe_efforts: tuple[str, ...] = ()
    default_effort: str | None = None
    note: str | None = None
    match: str = ""
    status: str | None = None  # "GA" | "preview" (provider tables)
    training_cutoff: str | None = None
    source: str | None = None
    retired_source: str | None = None
    _pattern: re.Pattern = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def retired_on(self, day: _dt.date | None = None) -> bool:
        return self.retired is not None and (day or today()) >= self.retired


def _parse(entry: dict) -> ModelInfo:
    retired = entry.get("retired")
    return ModelInfo(
        id=entry["id"],
        family=entry.get("family", ""),
        reasoning=bool(entry.get("reasoning", False)),
        methods=tuple(entry.get("methods", ())),
        grader=bool(entry.get("grader", False)),
        retired=_dt.date.fromisoformat(retired) if retired else None,
        efforts=tuple(entry.get("efforts", ())),
        maybe_efforts=tuple(entry.get("maybe_efforts", ())),
        default_effort=entry.get("default_effort"),
        note=entry.get("note"),
        status=entry.get("status"),
        training_cutoff=entry.get("training_cutoff"),
        source=entry.get("source"),
        retired_source=entry.get("retired_source"),
        match=entry.get("match") or "^" + re.escape(entry["id"]) + "$",
        _pattern=re.compile(entry.get("match") or "^" + re.escape(entry["id"]) + "$"),
    )


# Provider targets with a table of their own; `compatible` uses OpenAI's table for traits only.
PROVIDER_TABLES = ("azure", "bedrock", "bedrock-rft")


@lru_cache(maxsize=4)
def _data(override_path: str | None) -> dict:
    text = _table_text()
    data = json.loads(text)
    if override_path:
        # User entries come first so they win the first-match lookup.
        with open(override_path, encoding="utf-8") as fh:
            extra = json.load(fh)
        for key in ("models",) + PROVIDER_TABLES:
            data[key] = extra.get(key, []) + data.get(key, [])
    return data


@lru_cache(maxsize=16)
def _table(override_path: str | None, name: str, refresh_key: tuple = ()) -> tuple[ModelInfo, ...]:
    entries = tuple(_parse(e) for e in _data(override_path).get(name, []))
    refreshed = _refreshed(*refresh_key).get("openai" if name == "models" else name) if refresh_key else None
    return _apply_refresh(entries, refreshed) if isinstance(refreshed, dict) else entries


def table(target: str = "openai") -> tuple[ModelInfo, ...]:
    """The model table of a target (OpenAI's for openai and compatible), with what `ftstudio models refresh`
    read from the provider's models list applied."""
    name = target if target in PROVIDER_TABLES else "models"
    return _table(os.environ.get("FTSTUDIO_MODELS_FILE") or None, name, _refresh_key())


# --- the provider's own list (`ftstudio models refresh`) -----------------------------------------

REFRESHED_FILE = "models-refreshed.json"


def refreshed_path():
    from ftstudio.core import home

    return home() / REFRESHED_FILE


def _refresh_key() -> tuple:
    path = refreshed_path()
    try:
        return (str(path), path.stat().st_mtime_ns)
    except OSError:
        return ()


@lru_cache(maxsize=4)
def _refreshed(path: str, stamp: int) -> dict:
    """{target: {"fetched": "YYYY-MM-DD", "base_url": ..., "models": {id: shutdown date or None}}}."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _apply_refresh(entries: tuple[ModelInfo, ...], refreshed: dict) -> tuple[ModelInfo, ...]:
    """The provider's list decides a listed model's shutdown date (none given: not shut down)."""
    raw = refreshed.get("models")
    listed: dict = raw if isinstance(raw, dict) else {}
    source = f"the provider's models list (ftstudio models refresh, {refreshed.get('fetched', 'unknown date')})"
    out = []
    for info in entries:
        if info.id in listed:
            day = listed[info.id]
            try:
                retired = _dt.date.fromisoformat(day) if isinstance(day, str) else None
            except ValueError:
                retired = None
            info = replace(info, retired=retired, retired_source=source)
        out.append(info)
    return tuple(out)


def write_refreshed(target: str, base_url: str, models: dict[str, str | None], fetched: _dt.date) -> str:
    """Record a provider's models list (id -> shutdown date) for `target`; returns the file written."""
    path = refreshed_path()
    key = _refresh_key()
    data = dict(_refreshed(*key)) if key else {}
    data[target] = {"fetched": fetched.isoformat(), "base_url": base_url, "models": models}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return str(path)


def base_of(model_id: str) -> str:
    """The base model of a fine-tuned id `ft:<base>:<org>:<suffix>:<id>`; other ids unchanged."""
    if model_id.startswith(FINE_TUNED_PREFIX):
        parts = model_id.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else model_id
    return model_id


def _first(entries: tuple[ModelInfo, ...], mid: str) -> ModelInfo | None:
    return next((info for info in entries if info._pattern.search(mid)), None)


def lookup(model_id: str, target: str = "openai") -> ModelInfo | None:
    """The first table entry matching the id (fine-tuned ids are looked up by their base).

    On azure/bedrock an id missing from that provider's table takes its traits (reasoning,
    efforts) from OpenAI's table, without method support or retirement date: those are per provider.
    """
    mid = base_of(model_id.strip())
    if target in PROVIDER_TABLES:
        own = _first(table(target), mid)
        base = _first(table(), mid)
        if own is not None:
            if base is None:
                return own
            return replace(own, family=base.family, reasoning=base.reasoning, efforts=base.efforts,
                           maybe_efforts=base.maybe_efforts, default_effort=base.default_effort)
        return replace(base, methods=(), retired=None, grader=False) if base is not None else None
    return _first(table(), mid)


def is_known(model_id: str, target: str = "openai") -> bool:
    """True when the id names a listed model or alias, not just a family catch-all (`^o[1-9]`)."""
    mid = base_of(model_id.strip())
    tables = (table(target), table()) if target in PROVIDER_TABLES else (table(),)
    for entries in tables:
        info = _first(entries, mid)
        if info is not None and (info.id == mid or info.match.endswith("$")):
            return True
    return False


def fine_tunable(method: str | None = None, target: str = "openai") -> list[ModelInfo]:
    """Dated snapshots the docs list as base models, optionally for one method."""
    return [m for m in table(target) if m.methods and (method is None or method in m.methods)]


@datarecord(frozen=True)
class Provider:
    """Where jobs run (a target) and until when it takes new ones (data/models.json "providers")."""

    id: str
    label: str
    new_jobs_until: _dt.date | None = None  # the last day the provider creates new jobs
    instead: str = ""  # where to go once it stopped

    def closed_on(self, day: _dt.date) -> bool:
        return self.new_jobs_until is not None and day > self.new_jobs_until


@lru_cache(maxsize=1)
def _providers() -> dict[str, Provider]:
    doc = json.loads(_table_text())
    out = {}
    for pid, entry in (doc.get("providers") or {}).items():
        until = entry.get("new_jobs_until")
        out[pid] = Provider(pid, entry.get("label", pid), _dt.date.fromisoformat(until) if until else None,
                            entry.get("instead", ""))
    return out


def provider(target: str = "openai") -> Provider | None:
    return _providers().get(target)


def today() -> _dt.date:
    """Today, or FTSTUDIO_TODAY (YYYY-MM-DD) to see what the tool says on another day."""
    fixed = os.environ.get("FTSTUDIO_TODAY")
    try:
        return _dt.date.fromisoformat(fixed) if fixed else _dt.date.today()
    except ValueError:
        return _dt.date.today()


def current(method: str | None = None, target: str = "openai", on: _dt.date | None = None) -> list[ModelInfo]:
    """Base models a new job on `target` can use on day `on`: listed for the method, not retired,
    and none once the provider stopped creating jobs."""
    day = on or today()
    prov = provider(target)
    if prov is not None and prov.closed_on(day):
        return []
    return [m for m in fine_tunable(method, target) if not m.retired_on(day)]


def grader_models(target: str = "openai") -> list[ModelInfo]:
    return [m for m in table(target) if m.grader and "+" not in m.id]


def effort_support(model_id: str, effort: str, target: str = "openai") -> str:
    """'yes', 'no', 'unknown' (model not in the table) or 'maybe' (table can't tell)."""
    info = lookup(model_id, target)
    if info is None:
        return "unknown"
    if not info.reasoning:
        return "no"
    if effort in info.efforts:
        return "yes"
    if effort in info.maybe_efforts:
        return "maybe"
    return "no"
