"""Helpers for the AppTest page tests: a fresh app with its own autosave folder and a chosen config."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from components.state import AppState

ROOT = Path(__file__).resolve().parents[2]


def preset_config(name: str):
    from ftstudio.config import JobConfig

    return JobConfig.model_validate(json.loads((ROOT / "presets" / f"{name}.json").read_text())["config"])


def new_app(monkeypatch, tmp_path, config=None, page: str | None = None) -> AppTest:
    """AppTest of app.py with FTSTUDIO_HOME in tmp; `config` is pre-saved so the app restores it."""
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(ROOT)
    if config is not None:
        from ftstudio.store import autosave

        autosave.save(config)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def current_config(at):
    return AppState(at.session_state).config


def texts(at) -> str:
    """Everything the page shows as text, for loose assertions."""
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader", "header", "code",
                 "text"):
        parts += [str(getattr(e, "value", "")) for e in getattr(at, kind)]
    return "\n".join(parts)
