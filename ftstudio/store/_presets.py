"""Presets: complete job configs to start from — the bundled ones (presets/) and the user's own.

A preset file is {"title", "description", "config"}. User presets live in $FTSTUDIO_HOME/presets.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ftstudio.config import JobConfig, to_data
from ftstudio.core.records import datarecord

from ._autosave import home


@datarecord(frozen=True)
class Preset:
    slug: str
    title: str
    description: str
    path: Path
    config: dict[str, Any]
    user: bool = False

    @property
    def has_python(self) -> bool:
        return '"type": "python"' in json.dumps(self.config) or "'type': 'python'" in str(self.config)


def bundled_dir() -> Path:
    env = os.environ.get("FTSTUDIO_PRESETS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "presets"


def user_dir() -> Path:
    return home() / "presets"


def list_presets() -> tuple[list[Preset], list[str]]:
    """(presets, problems): unreadable files are reported, never fatal."""
    out: list[Preset] = []
    problems: list[str] = []
    for folder, user in ((bundled_dir(), False), (user_dir(), True)):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                out.append(Preset(path.stem, str(doc["title"]), str(doc.get("description", "")), path,
                                  doc["config"], user))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                problems.append(f"{path.name}: {type(exc).__name__}: {exc}")
    return out, problems


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:60] or "preset"


def save_preset(config: JobConfig | dict[str, Any], title: str, description: str, overwrite: bool = False) -> Path:
    title, description = title.strip(), " ".join(description.split())
    if not title:
        raise ValueError("give the preset a title")
    folder = user_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slugify(title)}.json"
    if path.exists() and not overwrite:
        raise FileExistsError(f"a preset named {path.stem!r} exists; choose another title or overwrite it")
    doc = {"title": title, "description": description, "config": to_data(config)}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
