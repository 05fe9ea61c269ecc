"""Request bodies in, answers out, both bounded.

In: a body must arrive within the request's wall limit (--request-timeout), so a client that trickles it
holds a connection for that long at most, and no grading slot at all (the slot is taken once the body is
in). At SIGTERM a body still arriving is cut off at once (503) so the drain doesn't wait for it.

Out: an answer is at most MAX_RESPONSE_BYTES. Records are written one at a time and counted, so a request
whose records would grow past it (names echoed per row, long sub-reward keys) costs that much memory and
no more: a 413 before anything is sent, or, when streaming NDJSON, a last line holding the error.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request

from ftstudio.grading import GradeResults, records_bytes

from ._errors import ApiProblem, error_bytes
from ._guard import dumps, internal_error, report_failure

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_DRAIN_BYTES = 64 * 1024 * 1024  # how much of an oversized body is read (and dropped) before the 413
_CLOSE = {"connection": "close"}


class BodyReader:
    def __init__(self, max_bytes: int, request_timeout: float):
        self.max_bytes, self.request_timeout = max_bytes, request_timeout
        self.stopping = False
        self._arriving: set[asyncio.Timeout] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: dict[int, Any] = {}

    async def read(self, request: Request, deadline: float) -> bytes:
        """The whole body, or ApiProblem: 413 too large, 408 past the deadline, 503 at shutdown."""
        if self.stopping:
            raise _shutting_down()
        try:
            async with asyncio.timeout(max(0.0, deadline - time.perf_counter())) as timeout:
                self._arriving.add(timeout)
                try:
                    return await self._read(request)
                finally:
                    self._arriving.discard(timeout)
        except TimeoutError:
            if self.stopping:
                raise _shutting_down() from None
            raise ApiProblem(408, f"The body did not arrive within the server's wall limit of "
                             f"{self.request_timeout:g} s (--request-timeout).", type="timeout_error",
                             code="request_body_timeout", headers=_CLOSE) from None

    async def _read(self, request: Request) -> bytes:
        limit = self.max_bytes
        declared = request.headers.get("content-length")
        size = int(declared) if declared and declared.isdigit() else 0
        chunks, seen = [], 0
        async for chunk in request.stream():
            seen += len(chunk)
            if max(seen, size) > limit:
                # Read on (up to a bound) before answering: a client still sending its body would otherwise
                # see a broken pipe instead of the 413.
                if seen > limit + _DRAIN_BYTES:
                    break
                chunks = []
                continue
            chunks.append(chunk)
        if max(seen, size) > limit:
            raise ApiProblem(413, f"The body is at least {max(seen, size):,} bytes; the limit is {limit:,} bytes "
                             "(--max-body-mb). Send fewer rows per request.", code="request_too_large")
        return b"".join(chunks)

    # -- shutdown ------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Cut off every body still arriving (on the event loop's thread)."""
        self.stopping = True
        for timeout in list(self._arriving):
            try:
                timeout.reschedule(-1)  # already past: the reader raises TimeoutError at once
            except RuntimeError:  # it has just fired or ended
                pass

    def watch_signals(self) -> None:
        """Chain onto uvicorn's SIGTERM/SIGINT handlers (it starts the drain; this cuts slow bodies off)."""
        if threading.current_thread() is not threading.main_thread():
            return  # signals are only delivered to the main thread; an embedded server has no say over them
        self._loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)
            self._previous[sig] = previous
            signal.signal(sig, self._on_signal)

    def unwatch_signals(self) -> None:
        for sig, previous in self._previous.items():
            if signal.getsignal(sig) == self._on_signal:
                signal.signal(sig, previous)
        self._previous.clear()

    def _on_signal(self, sig: int, frame: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.stop)
        previous = self._previous.get(sig)
        if callable(previous):
            previous(sig, frame)


def _shutting_down() -> ApiProblem:
    return ApiProblem(503, "The server is shutting down; send the request to another replica or retry shortly.",
                      type="server_error", code="shutting_down", headers={**_CLOSE, "retry-after": "1"})


# -- answers -------------------------------------------------------------------------------------

def too_large_answer(limit: int = MAX_RESPONSE_BYTES) -> ApiProblem:
    return ApiProblem(413, f"The answer to this request would be larger than {limit:,} bytes, the server's limit. "
                      "Send fewer rows per request.", code="response_too_large")


def records_json(results: GradeResults, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """{"records": [...], "summary": {...}}, or too_large_answer() once the records pass `limit`."""
    parts, size = [], 0
    for rec in results.records():
        part = dumps(rec)
        size += len(part) + 1
        if size > limit:
            raise too_large_answer(limit)
        parts.append(part)
    return b'{"records":[' + b",".join(parts) + b'],"summary":' + dumps(results.summary()) + b"}"


async def ndjson_lines(scope, parts: Iterable[Callable[[], Awaitable[GradeResults]]],
                       limit: int = MAX_RESPONSE_BYTES) -> AsyncIterator[bytes]:
    """The records of each graded part as NDJSON, one chunk per part. A failure (the wall limit, the size limit,
    a bug) ends the stream with one line holding the error in the API's shape: the status is long sent."""
    sent = 0
    try:
        for grade_part in parts:
            results = await grade_part()
            lines = []
            for rec in results.records():
                line = records_bytes([rec], "jsonl")
                sent += len(line)
                if sent > limit:
                    raise too_large_answer(limit)
                lines.append(line)
            yield b"".join(lines)
    except ApiProblem as exc:
        scope["ftstudio"]["code"] = exc.code
        yield error_bytes(exc) + b"\n"
    except Exception as exc:
        report_failure(scope, exc)
        scope["ftstudio"]["code"] = "internal_error"
        yield error_bytes(internal_error()) + b"\n"
