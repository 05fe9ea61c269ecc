"""Shared fixtures. The OpenAI stub: a real HTTP server on 127.0.0.1 that the real `openai` SDK talks to."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/ is not a package, so pytest puts tests/ (not the repo root) on sys.path; the stub lives at
# tests.openai_stub for `python -m tests.openai_stub` too, so make that one import path work everywhere.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.openai_stub import OpenAIStub  # noqa: E402


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
