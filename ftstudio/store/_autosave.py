"""The app's autosave: the current config on disk, so a refresh or a restart loses no work.

Folder: $FTSTUDIO_HOME or ~/.ftstudio. Writes are atomic (temporary file + fsync + rename) and
the previous versions are kept as config.json.1 .. .N, so a crash mid-write or a bad edit can be
rolled back. Each save carries a revision number; a writer that last saw revision r may only
replace revision r (compare-and-swap under a file lock), so two browser tabs can't silently
overwrite each other: the second gets a Conflict and keeps its version as a draft.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ftstudio.config import JobConfig, to_data
from ftstudio.core import home, json_object, redact_data

from ._files import atomic_write

KEEP_VERSIONS = 5
FILENAME = "config.json"



class Conflict(Exception):
    """Someone else saved since this writer's last read; `theirs` is what is on disk now."""

    def __init__(self, revision: int, theirs: JobConfig | None, writer: str | None, saved_at: float | None):
        super().__init__(f"the autosave is at revision {revision}, written by another tab")
        self.revision, self.theirs, self.writer, self.saved_at = revision, theirs, writer, saved_at


def path() -> Path:
    return home() / FILENAME


@contextlib.contextmanager
def _locked(target: Path):
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_meta(target: Path) -> dict[str, Any]:
    try:
        return json_object(json.loads(target.read_text(encoding="utf-8"))) or {}
    except (OSError, ValueError):
        return {}


def revision(target: Path | None = None) -> int:
    """The revision on disk (0 when there is no readable autosave)."""
    rev = _read_meta(target or path()).get("revision", 0)
    return rev if isinstance(rev, int) else 0


def save(config: JobConfig, target: Path | None = None, *, expected: int | None = None,
         writer: str | None = None, as_written: dict[str, Any] | None = None) -> int:
    """Atomically replace the autosave; returns the new revision.

    With `expected`, refuse (raise Conflict) unless the file is still at that revision.
    `as_written`: how the user wrote the config they imported, {"document", "kept"}, so exports
    after a refresh keep their spelling and unknown fields. Secrets in it are redacted first.
    """
    target = target or path()
    with _locked(target):
        # Under the lock no other write is in flight: a temporary file is a killed writer's leftover.
        for stale in target.parent.glob(".config-*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()
        meta = _read_meta(target)
        current = meta.get("revision", 0) if isinstance(meta.get("revision", 0), int) else 0
        if expected is not None and current != expected:
            theirs = None
            with contextlib.suppress(KeyError, TypeError, ValidationError):
                theirs = JobConfig.model_validate(meta["config"])
            raise Conflict(current, theirs, meta.get("writer"), meta.get("saved_at"))
        data = to_data(config)
        written = redact_data(as_written) if as_written else None
        if meta.get("config") == data and meta.get("as_written") == written and target.exists():
            return current  # unchanged: don't churn the version history
        doc = {"revision": current + 1, "writer": writer, "saved_at": time.time(), "config": data}
        if written:
            doc["as_written"] = written
        payload = json.dumps(doc, indent=2, ensure_ascii=False)
        if target.exists():
            _rotate(target)
        _atomic_write(target, payload)
        return current + 1


def _atomic_write(target: Path, payload: str) -> None:
    atomic_write(target, payload, ".config-")


def _rotate(target: Path) -> None:
    for n in range(KEEP_VERSIONS - 1, 0, -1):
        older = target.with_name(f"{target.name}.{n}")
        if older.exists():
            os.replace(older, target.with_name(f"{target.name}.{n + 1}"))
    first = target.with_name(f"{target.name}.1")
    try:
        # A hard link keeps the current version as .1 while the new one is renamed into place.
        os.link(target, first)
    except OSError:
        import shutil

        shutil.copy2(target, first)


def load(target: Path | None = None) -> tuple[JobConfig | None, dict[str, Any], str | None]:
    """(config, meta, note): the newest readable version; note says what was recovered or why not."""
    target = target or path()
    candidates = [target] + [target.with_name(f"{target.name}.{n}") for n in range(1, KEEP_VERSIONS + 1)]
    problems: list[str] = []
    for i, candidate in enumerate(candidates):
        if not candidate.exists():
            continue
        try:
            doc: dict[str, Any] = json.loads(candidate.read_text(encoding="utf-8"))
            config = JobConfig.model_validate(doc["config"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
            problems.append(f"{candidate.name}: {type(exc).__name__}")
            continue
        meta = {k: v for k, v in doc.items() if k != "config"}
        meta["revision"] = revision(target) if i else meta.get("revision", 0)
        note = None if i == 0 and not problems else f"restored {candidate.name} ({'; '.join(problems)} unreadable)"
        return config, meta, note
    return None, {"revision": revision(target)}, ("no readable autosave: " + "; ".join(problems)) if problems else None


def versions(target: Path | None = None) -> list[Path]:
    target = target or path()
    return [p for p in [target] + [target.with_name(f"{target.name}.{n}") for n in range(1, KEEP_VERSIONS + 1)]
            if p.exists()]


def save_draft(config: JobConfig, writer: str) -> Path:
    """A tab's own copy while it is in conflict, so its edits survive whatever the user decides."""
    folder = home() / "drafts"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{writer}.json"
    _atomic_write(target, json.dumps({"saved_at": time.time(), "config": to_data(config)}, indent=2,
                                      ensure_ascii=False))
    return target
