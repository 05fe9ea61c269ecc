"""The app's autosave: the current config on disk, so a refresh or a restart loses no work.

Folder: $FTSTUDIO_HOME or ~/.ftstudio. Writes are atomic (temporary file + fsync + rename) and
the previous versions are kept as config.json.1 .. .N, so a crash mid-write or a bad edit can
be rolled back. Nothing secret is ever in a JobConfig, and export.to_json masks anything that
looks like a key, so the file is safe to keep.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .config import JobConfig
from .export import to_json

KEEP_VERSIONS = 5
FILENAME = "config.json"


def home() -> Path:
    return Path(os.environ.get("FTSTUDIO_HOME") or Path.home() / ".ftstudio")


def path() -> Path:
    return home() / FILENAME


def save(config: JobConfig, target: Path | None = None, extra: dict[str, Any] | None = None) -> Path:
    """Atomically replace the autosave, rotating the previous versions first."""
    target = target or path()
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"config": json.loads(to_json(config)), **(extra or {})}, indent=2, ensure_ascii=False)
    if target.exists():
        try:
            if target.read_text(encoding="utf-8") == payload:
                return target  # unchanged: don't churn the version history
        except OSError:
            pass
        _rotate(target)
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def _rotate(target: Path) -> None:
    for n in range(KEEP_VERSIONS - 1, 0, -1):
        older = target.with_name(f"{target.name}.{n}")
        if older.exists():
            os.replace(older, target.with_name(f"{target.name}.{n + 1}"))
    try:
        # A hard link keeps the current version as .1 while the new one is renamed into place.
        os.link(target, target.with_name(f"{target.name}.1"))
    except OSError:
        import shutil

        shutil.copy2(target, target.with_name(f"{target.name}.1"))


def load(target: Path | None = None) -> tuple[JobConfig | None, dict[str, Any], str | None]:
    """(config, extra, note): the newest readable version; note says what was recovered or why not."""
    target = target or path()
    candidates = [target] + [target.with_name(f"{target.name}.{n}") for n in range(1, KEEP_VERSIONS + 1)]
    problems = []
    for i, candidate in enumerate(candidates):
        if not candidate.exists():
            continue
        try:
            doc = json.loads(candidate.read_text(encoding="utf-8"))
            config = JobConfig.model_validate(doc["config"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
            problems.append(f"{candidate.name}: {type(exc).__name__}")
            continue
        extra = {k: v for k, v in doc.items() if k != "config"}
        note = None if i == 0 and not problems else f"restored {candidate.name} ({'; '.join(problems)} unreadable)"
        return config, extra, note
    return None, {}, ("no readable autosave: " + "; ".join(problems)) if problems else None


def versions(target: Path | None = None) -> list[Path]:
    target = target or path()
    return [p for p in [target] + [target.with_name(f"{target.name}.{n}") for n in range(1, KEEP_VERSIONS + 1)]
            if p.exists()]
