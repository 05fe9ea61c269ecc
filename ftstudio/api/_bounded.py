"""Read JSON from a server that may not play fair: a total deadline, a cap on decompressed bytes, a
nesting limit, and an end that names which one stopped it.

The deadline covers the whole call, not one read. An HTTP client's timeouts apply per socket read,
so a server that drips one byte every few seconds never trips them; here every request gets
timeouts no longer than the time left, the body is read chunk by chunk with the clock checked
between chunks, retries never sleep past the deadline, and the calling thread waits at most until
the deadline while the request runs in a worker thread (a request abandoned that way ends at its
next chunk or read timeout, both derived from the same deadline).

Decompression is done here with an output limit, so a gzip bomb stops at the cap instead of
filling memory (the client is asked for gzip or deflate only; any other Content-Encoding is
refused).
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any, Literal

from ftstudio.core import MAX_NESTING, nests_deeper
from ftstudio.core.records import datarecord, field

from ._calls import call
from ._endpoint import Endpoint

StopCause = Literal["max_pages", "deadline", "too_large", "too_deep"]
ACCEPT_ENCODING = "gzip, deflate"
_GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS  # zlib detects either header


class Stopped(Exception):  # not an error of the caller's: a bound was reached
    """A bound ended the read; `cause` says which (the caller words it for the user)."""

    def __init__(self, cause: StopCause, detail: str = ""):
        super().__init__(cause + (f": {detail}" if detail else ""))
        self.cause: StopCause = cause
        self.detail = detail


@datarecord
class Budget:
    """What one whole call may still spend: time until `deadline` (monotonic) and decompressed bytes."""

    seconds: float
    max_bytes: int
    deadline: float = 0.0
    used_bytes: int = 0
    abandoned: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self) -> None:
        if self.abandoned.is_set() or self.remaining() <= 0:
            raise Stopped("deadline")

    def timeout(self, usual: float) -> float:
        """A request's timeouts (connect, each read): the usual one, never past the deadline."""
        self.check()
        return max(0.001, min(usual, self.remaining()))

    def sleep(self, seconds: float, sleep: Callable[[float], None]) -> None:
        """A retry's back-off, unless it would end past the deadline."""
        if seconds >= self.remaining():
            raise Stopped("deadline", "a retry would wait past it")
        sleep(seconds)


def read_json(endpoint: Endpoint, request: Callable[[Any, float], Any], budget: Budget, *, what: str,
              sleep: Callable[[float], None] = time.sleep, **kw) -> Any:
    """The JSON body of `request(client, timeout)` (a `with_streaming_response` call), within `budget`.

    Raises Stopped (a bound), ApiError (the API failed after retries) or ValueError (not JSON).
    """

    def fetch(client):
        with request(client, budget.timeout(endpoint.timeout)) as response:
            return _body(response.http_response, budget)

    def attempt():
        return call(endpoint, fetch, what=what, sleep=lambda s: budget.sleep(s, sleep), **kw)

    raw = _until_deadline(attempt, budget)
    try:
        data = json.loads(raw)
    except RecursionError:
        raise Stopped("too_deep") from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise ValueError(f"not JSON: {raw[:120]!r}") from exc
    if nests_deeper(data, MAX_NESTING + 2):  # + the list object and its data array
        raise Stopped("too_deep")
    return data


def _until_deadline(fn: Callable[[], Any], budget: Budget) -> Any:
    """fn() in a worker thread; the caller waits no longer than the deadline."""
    budget.check()
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn()
        except MemoryError:  # the client library buffered too much (an error body, say)
            box["error"] = Stopped("too_large")
        except BaseException as exc:  # handed to the waiting thread as is
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="ftstudio-bounded-read", daemon=True).start()
    if not done.wait(max(0.0, budget.remaining())):
        budget.abandoned.set()  # the worker stops at its next chunk
        raise Stopped("deadline")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _body(response, budget: Budget) -> bytes:
    """The decoded body, chunk by chunk, within the budget's time and bytes."""
    import openai

    decoder = _decoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    try:
        for raw in response.iter_raw():
            budget.check()
            parts.append(_decode(decoder, raw, budget))
        parts.append(_decode(decoder, None, budget))
    except (Stopped, ValueError, MemoryError):
        raise
    except Exception as exc:  # the HTTP library's read errors surface as its own types while streaming
        budget.check()  # a read that timed out at the deadline is the deadline
        raise openai.APIConnectionError(message=f"the connection failed while reading: {type(exc).__name__}",
                                        request=response.request) from exc
    return b"".join(parts)


def _decoder(encoding: str):
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        return None
    if coding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(_GZIP_OR_ZLIB)
    raise ValueError(f"the server sent Content-Encoding {encoding[:40]!r}; ftstudio asked for {ACCEPT_ENCODING}")


def _decode(decoder, raw: bytes | None, budget: Budget) -> bytes:
    """`raw` decoded and counted against the budget (None: the end of the body)."""
    left = budget.max_bytes - budget.used_bytes
    try:
        if decoder is None:
            data = raw or b""
        elif raw is None:
            data = decoder.flush()
        else:  # at most one byte past the cap: decompressing stops there, whatever the ratio
            data = decoder.decompress(raw, left + 1)
    except zlib.error as exc:
        raise ValueError(f"the compressed body can't be read ({exc})") from None
    budget.used_bytes += len(data)
    if budget.used_bytes > budget.max_bytes:
        raise Stopped("too_large")
    return data
