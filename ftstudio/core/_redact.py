"""Keep API keys out of everything the tool writes or shows.

Two nets: the key values this process knows about (from the environment or typed into the app)
are registered here, and anything shaped like an OpenAI key is caught by pattern. Every error
message, log line and export passes through `redact`.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

REDACTED = "[REDACTED]"
# OpenAI keys: sk-..., sk-proj-..., sk-svcacct-...; long enough not to hit ordinary words.
_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")
_ENV_KEYS = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "FTSTUDIO_API_KEY")
_known: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a key so it is masked wherever it would appear (short values are ignored)."""
    if value and len(value) >= 8:
        with _lock:
            _known.add(value)


def _env_secrets() -> list[str]:
    return [v for k in _ENV_KEYS if (v := os.environ.get(k)) and len(v) >= 8]


def redact(text: str) -> str:
    if not isinstance(text, str) or not text:
        return text
    with _lock:
        known = sorted(_known | set(_env_secrets()), key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _KEY_PATTERN.sub(REDACTED, text)


def contains_secret(text: str) -> bool:
    return isinstance(text, str) and redact(text) != text


def redact_data(data: Any) -> Any:
    """A copy of JSON-like data with every secret-looking string masked (object keys too)."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {redact(k): redact_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [redact_data(v) for v in data]
    return data


def find_secrets(data: Any, path: tuple = ()) -> list[tuple]:
    """Paths of string values that look like or equal a known key."""
    if isinstance(data, str):
        return [path] if contains_secret(data) else []
    out: list[tuple] = []
    if isinstance(data, dict):
        for k, v in data.items():
            out += find_secrets(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += find_secrets(v, path + (i,))
    return out
