"""What an API failure means for the user, said once for every caller (model graders, official
checks, uploads and jobs). Messages never contain a key."""

from __future__ import annotations

import math

from ftstudio.core import redact


def retry_after(exc) -> float | None:
    """Seconds the server asks to wait: a finite number, at least 0 (a negative one means now)."""
    try:
        value = exc.response.headers.get("retry-after")
        seconds = float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None
    return max(0.0, seconds) if seconds is not None and math.isfinite(seconds) else None


def body_message(exc) -> tuple[str | None, str | None]:
    """(message, param) from an OpenAI-style error body, when there is one."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        err = inner if isinstance(inner, dict) else body
        return err.get("message"), err.get("param")
    return None, None


def describe(exc, where: str, what: str | None = None, model: str | None = None) -> str:
    """A user-facing sentence for an HTTP error from `where` (the endpoint's URL)."""
    status = getattr(exc, "status_code", None)
    detail, _ = body_message(exc)
    if status == 401:
        text = f"authentication failed (401) at {where} — check the API key"
    elif status == 403:
        text = f"permission denied (403) at {where} — check the key's project and permissions for this model"
    elif status == 404 and model:
        text = f"model '{model}' was not found (404) — check the model name, or whether your account can use it"
    elif status == 404:
        text = f"not found (404) at {where}"
    elif status == 429:
        text = f"rate limited (429) at {where} and retries ran out — lower the concurrency or wait a little"
    else:
        text = f"HTTP {status} from {where}"
    if what:
        text = f"{what}: {text}"
    if detail:
        text += f". The server said: {detail}"
    return redact(text)[:600]
