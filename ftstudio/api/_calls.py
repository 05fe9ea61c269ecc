"""Synchronous API calls with the failures users rely on: retries with a visible count,
messages that say what to do, and never a key in any of them.

401/403: check the key. 404: names the model. 429 and 5xx: back off and retry (Retry-After is
honoured), reporting each retry through `on_retry`. A network failure says so; nothing the
caller holds is lost (callers keep uploaded file ids and local state).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from ftstudio.core import redact

from ._endpoint import Endpoint
from ._http_errors import body_message, describe, retry_after
from ._model_client import RETRY_STATUS


class ApiError(Exception):
    """A call that failed for good. `status` is the HTTP status (None for network failures)."""

    def __init__(self, message: str, status: int | None = None, param: str | None = None):
        super().__init__(message)
        self.message, self.status, self.param = message, status, param


def call(endpoint: Endpoint, fn: Callable[[Any], Any], *, what: str, model: str | None = None,
         max_retries: int = 4, on_retry: Callable[[int, str, float], None] | None = None,
         sleep: Callable[[float], None] = time.sleep) -> Any:
    """Run fn(client) with retries; raise ApiError with a user-facing message on failure."""
    import openai

    client = endpoint.sync_client()
    attempt = 0
    try:
        while True:
            try:
                return fn(client)
            except openai.APIStatusError as exc:
                if exc.status_code in RETRY_STATUS and attempt < max_retries:
                    attempt += 1
                    delay = _delay(attempt, exc)
                    if on_retry:
                        on_retry(attempt, f"HTTP {exc.status_code}", delay)
                    sleep(delay)
                    continue
                raise ApiError(describe(exc, endpoint.label, what, model), exc.status_code,
                               body_message(exc)[1]) from None
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                if attempt < max_retries:
                    attempt += 1
                    delay = _delay(attempt, None)
                    if on_retry:
                        on_retry(attempt, type(exc).__name__, delay)
                    sleep(delay)
                    continue
                kind = "timed out" if isinstance(exc, openai.APITimeoutError) else "could not connect to"
                raise ApiError(redact(f"{what}: network failure — {kind} {endpoint.label} after {attempt + 1} "
                                      "attempts. Check the URL and your connection; nothing was lost, try again.")) from exc
            except ValueError as exc:  # a 200 whose body isn't JSON
                raise ApiError(redact(f"{what}: the server sent an unreadable response ({exc})")[:400]) from None
    finally:
        client.close()


def raw_json(response) -> Any:
    """The JSON of a `with_raw_response` call, as plain dicts (the SDK mis-parses map-shaped multis)."""
    try:
        return json.loads(response.text)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not JSON: {str(response.text)[:120]!r}") from exc


def _delay(attempt: int, exc) -> float:
    after = retry_after(exc) if exc is not None else None
    base = after if after is not None else min(8.0, 0.5 * 2 ** (attempt - 1))
    return min(30.0, base) * (0.9 + 0.2 * random.random())
