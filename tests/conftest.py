"""Shared fixtures. Every test runs with $FTSTUDIO_HOME and $FTSTUDIO_CACHE_DIR in a temporary folder of its own
(the user's saved work and caches are never read or written). The OpenAI stub: a real HTTP server on 127.0.0.1
that the real `openai` SDK talks to."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/ is not a package, so pytest puts tests/ (not the repo root) on sys.path; the stub lives at
# tests.openai_stub for `python -m tests.openai_stub` too, so make that one import path work everywhere.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.openai_stub import OpenAIStub  # noqa: E402

# Where ftstudio keeps things. tiktoken's cache is seeded by ftstudio (it sets TIKTOKEN_CACHE_DIR for the
# rest of the process), so it is pinned too: one folder for the session, never the user's.
ISOLATED = ("FTSTUDIO_HOME", "FTSTUDIO_CACHE_DIR", "TIKTOKEN_CACHE_DIR", "FTSTUDIO_TODAY")
# The day the suite's expectations hold on, read by the tool as today (catalog.today()): provider dates (OpenAI
# stops creating jobs on 2027-01-06, models retire on 2027-01-14) must not change results with the calendar.
# Tests about dates set their own FTSTUDIO_TODAY or pass `today=`.
TODAY = "2026-12-07"


def pytest_configure(config: pytest.Config) -> None:
    """Before collection and before any session fixture: imports, module-level code and session-wide
    servers already see temporary folders, not the user's ~/.ftstudio and ~/.cache/ftstudio."""
    base = Path(tempfile.mkdtemp(prefix="ftstudio-tests-"))
    saved = {name: os.environ.get(name) for name in ISOLATED}
    os.environ.update(FTSTUDIO_HOME=str(base / "home"), FTSTUDIO_CACHE_DIR=str(base / "cache"),
                      TIKTOKEN_CACHE_DIR=str(base / "cache" / "tiktoken"), FTSTUDIO_TODAY=TODAY)

    def restore() -> None:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(base, ignore_errors=True)

    config.add_cleanup(restore)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own $FTSTUDIO_HOME and $FTSTUDIO_CACHE_DIR (autosave, workspace, runs, trust, model-call
    cache), so no test sees another's saved config or cached answers, and the pinned day. Tests may still set
    their own."""
    base = tmp_path_factory.mktemp("isolated")
    monkeypatch.setenv("FTSTUDIO_HOME", str(base / "home"))
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("FTSTUDIO_TODAY", TODAY)
    return base


@pytest.fixture(scope="session")
def _openai_stub_server() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


@pytest.fixture
def openai_stub(_openai_stub_server: OpenAIStub) -> Iterator[OpenAIStub]:
    """One server per session, reset before each test: .base_url, .api_key, faults, recorded requests."""
    _openai_stub_server.reset()
    yield _openai_stub_server
    _openai_stub_server.reset()
