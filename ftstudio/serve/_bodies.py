"""Request bodies in, answers out, both bounded.

In: a body must arrive within the request's wall limit (--request-timeout), so a client that trickles it
holds a connection for that long at most, and no grading slot at all (the slot is taken once the body is
in). At SIGTERM a body still arriving is cut off at once (503) so the drain doesn't wait for it.

Out: an answer is at most MAX_RESPONSE_BYTES. Records are written a few MB at a time and counted, so a
request whose records would grow past it (long sub-reward keys repeated per row) costs that much memory and
no more: a 413 before anything is sent, or, when streaming NDJSON, a last line holding the error.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from starlette.requests import ClientDisconnect, Request

from ftstudio.grading import GradeResults, RowRecord, records_bytes

from ._errors import ApiProblem, error_bytes
from ._guard import dumps, internal_error, report_failure

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_DRAIN_BYTES = 64 * 1024 * 1024  # how much of an oversized body is read (and dropped) before the 413
_CLOSE = {"connection": "close"}
_CHUNK_BYTES = 4 * 1024 * 1024
SWEEP_SECONDS = 0.25  # how late past its deadline a body may be cut off


class BodyReader:
    """Reads bodies under their request's deadline. One timer for all readers (a sweep every SWEEP_SECONDS
    while any body is arriving) instead of one per request: most bodies arrive in a single read."""

    def __init__(self, max_bytes: int, request_timeout: float):
        self.max_bytes, self.request_timeout = max_bytes, request_timeout
        self.stopping = False
        self._arriving: dict[asyncio.Task, float] = {}  # reader -> its deadline (perf_counter)
        self._expired: set[asyncio.Task] = set()  # readers the sweep cancelled
        self._sweep: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: dict[int, Any] = {}

    async def read(self, request: Request, deadline: float) -> bytes:
        """The whole body, or ApiProblem: 413 too large, 408 past the deadline, 503 at shutdown."""
        if self.stopping:
            raise _shutting_down()
        task = asyncio.current_task()
        assert task is not None
        self._arriving[task] = deadline
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(SWEEP_SECONDS, self._cut_off)
        try:
            return await self._read(request)
        except asyncio.CancelledError:
            if task not in self._expired:
                raise  # cancelled by someone else (the client went away)
            task.uncancel()
            if self.stopping:
                raise _shutting_down() from None
            raise ApiProblem(408, f"The body did not arrive within the server's wall limit of "
                             f"{self.request_timeout:g} s (--request-timeout).", type="timeout_error",
                             code="request_body_timeout", headers=_CLOSE) from None
        finally:
            self._arriving.pop(task, None)
            self._expired.discard(task)

    def _cut_off(self) -> None:
        """Cancel the readers past their deadline (all of them when stopping); run again while any are left."""
        self._sweep = None
        now = time.perf_counter()
        for task, deadline in list(self._arriving.items()):
            if (self.stopping or now >= deadline) and task not in self._expired:
                self._expired.add(task)
                self._arriving.pop(task)
                task.cancel()
        if self._arriving:
            self._sweep = asyncio.get_running_loop().call_later(SWEEP_SECONDS, self._cut_off)

    async def _read(self, request: Request) -> bytes:
        limit = self.max_bytes
        # the raw header, as Starlette's Headers would give it first, without building them for one value
        declared = next((v for k, v in request.scope["headers"] if k == b"content-length"), None)
        size = int(declared) if declared and declared.isdigit() else 0
        # Starlette's Request.stream() as it reads, without an async generator per request (most bodies are one
        # message): only non-empty bodies count, the last has no more_body, an http.disconnect is ClientDisconnect.
        receive = request.receive
        chunks: list[bytes] = []
        seen, more = 0, True
        while more:
            message = await receive()
            kind = message["type"]
            if kind == "http.disconnect":
                raise ClientDisconnect()
            if kind != "http.request":
                continue
            more = message.get("more_body", False)
            chunk = message.get("body", b"")
            if not chunk:
                continue
            seen += len(chunk)
            if seen > limit or size > limit:
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
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    # -- shutdown ------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Cut off every body still arriving (on the event loop's thread)."""
        self.stopping = True
        if self._sweep is not None:
            self._sweep.cancel()
        self._cut_off()

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
    """{"records": [...], "summary": {...}}, or too_large_answer() once the records pass `limit`.

    The same bytes as encoding each record (`GradeResults.record`), built from the columns: the rewards and
    each sub-reward column encoded once by orjson and split at the commas (a JSON number holds none), a
    record's fixed keys written once. Rows with an error or a file line take the record's own encoding."""
    n, offset = len(results), results.row_offset
    rewards = _numbers(results.rewards)
    cells = [[key + v for v in _numbers(column)] for key, column in
             ((dumps(k) + b":", column) for k, column in results.sub_rewards.items())]
    subs = [b",".join(row) for row in zip(*cells)] if cells else [b""] * n
    own = set(results.errors)
    if results.lines:
        own.update(i for i, line in enumerate(results.lines) if line is not None)
    parts, size, step = [], 0, _chunk_rows(results)
    for start in range(0, n, step):
        stop = min(n, start + step)
        chunk = [_RECORD % (offset + i, rewards[i], subs[i]) for i in range(start, stop)]
        for i in own:
            if start <= i < stop:
                chunk[i - start] = dumps(results.record(i))
        part = b",".join(chunk)
        size += len(part) + 1
        if size > limit:
            raise too_large_answer(limit)
        parts.append(part)
    return b'{"records":[' + b",".join(parts) + b'],"summary":' + dumps(results.summary()) + b"}"


_RECORD = b'{"row":%d,"reward":%b,"sub_rewards":{%b},"errors":[],"error_details":null}'


def _numbers(column: Sequence[float]) -> list[bytes]:
    """Each number of a column as orjson writes it (NaN as null), encoded in one call."""
    text = dumps(list(column))[1:-1]
    return text.split(b",") if text else []


async def ndjson_lines(scope, parts: Iterable[Callable[[], Awaitable[GradeResults]]],
                       limit: int = MAX_RESPONSE_BYTES) -> AsyncIterator[bytes]:
    """The records of each graded part as NDJSON, one flush per part. A failure (the wall limit, the size limit,
    a bug) ends the stream with one line holding the error in the API's shape: the status is long sent."""
    sent = 0
    try:
        for grade_part in parts:
            results = await grade_part()
            lines = []
            for chunk in _chunks(results):
                text = records_bytes(chunk, "jsonl")
                sent += len(text)
                if sent > limit:
                    raise too_large_answer(limit)
                lines.append(text)
            yield b"".join(lines)
    except ApiProblem as exc:
        scope["ftstudio"]["code"] = exc.code
        yield error_bytes(exc) + b"\n"
    except Exception as exc:
        report_failure(scope, exc)
        scope["ftstudio"]["code"] = "internal_error"
        yield error_bytes(internal_error()) + b"\n"


def _chunks(results: GradeResults) -> Iterator[list[RowRecord]]:
    """The records in runs written at once (see _chunk_rows)."""
    size = _chunk_rows(results)
    records = results.records()
    while chunk := list(islice(records, size)):
        yield chunk


def _chunk_rows(results: GradeResults) -> int:
    """Rows per run of records written at once, each run a few MB at most: every record repeats the sub-reward
    keys, and a row's error details stay within a few KB (names echoed in them are shortened)."""
    per_record = 8192 + sum(len(k) + 32 for k in results.sub_rewards)
    return max(1, min(1024, _CHUNK_BYTES // per_record))
