"""The outermost ASGI layer: who may call (Host, Origin, bearer token, Content-Type), CORS for the named
origins, the grading slots, the last-resort 500, access log and metrics.

Nothing a request does gets past this layer as an exception: the server keeps serving, and every refusal
and failure is JSON in the API's error shape. The access log line holds method, path, status, rows and
milliseconds; never a header value or a body.

Access log and metrics are written once per turn of the event loop for every request that ended in it (one
write and one flush, one counter increment per label set), not per request: under load a turn ends dozens.
A request's line and counts are written before the loop waits for anything else, and `flush()` (the app's
shutdown) writes what is left, so nothing is lost or late.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import sys
import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ftstudio.core import log_failure, log_path

from ._access import PREFLIGHT_HEADERS, Access, Seen
from ._errors import ApiProblem, error_bytes
from ._metrics import Metrics

# Load-balancer probes can't always send headers; they reveal nothing, so they need no token.
# The contract: with a token, every request carries it (probes too: send the header from the probe).
OPEN_PATHS: frozenset[str] = frozenset()


class Slots:
    """Grading requests in flight in this process (--max-concurrency). A request takes its slot once its body
    is in, so clients that send slowly never hold one; the guard gives it back when the answer is sent."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0

    def take(self, state: dict[str, Any]) -> None:
        if self.used >= self.limit:
            raise ApiProblem(429, f"The server is already handling {self.used} requests, its limit "
                             "(--max-concurrency). Retry after a second, or add workers or replicas.",
                             type="requests", code="rate_limit_exceeded", headers={"retry-after": "1"})
        self.used += 1
        state["slot"] = True

    def give_back(self, state: dict[str, Any]) -> None:
        if state.pop("slot", False):
            self.used -= 1


def internal_error() -> ApiProblem:
    return ApiProblem(500, "The server failed while handling this request; it is still running. Please report "
                      "this with the request shape (not its data).", type="server_error", code="internal_error")


def report_failure(scope, exc: BaseException) -> None:
    """One line on stderr (no traceback there), the traceback in the log file."""
    where = f"ftstudio serve {scope['method']} {scope['path'][:200]}"
    log_failure(where, exc)
    try:
        print(f"{where}: internal error {type(exc).__name__}; the traceback is in {log_path()}",
              file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed under a supervisor: the log file still has it
        pass


class Guard:
    def __init__(self, app: Any, *, token: str | None, access: Access, slots: Slots, request_timeout: float,
                 metrics: Metrics, access_log: bool, route_of: Any, direct: dict[str, Any] | None = None,
                 problem: Any = None):
        self.app = app
        self.token = token.encode() if token else None
        self.access = access
        self.slots = slots
        self.request_timeout = request_timeout
        self.metrics = metrics
        self.access_log = access_log
        self.route_of = route_of
        self.direct = direct or {}  # POST path -> handler(request) called without the app's router
        self.problem = problem  # handler(request, ApiProblem) -> the response
        self._ended: list[tuple[str, str, int, int, float, str | None, str | None]] = []  # since the last flush

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state: dict[str, Any] = {"rows": 0, "status": 0, "code": None, "deadline": start + self.request_timeout}
        scope["ftstudio"] = state
        seen = Seen(scope)
        cors = self.access.cors_headers(seen)

        async def tracked_send(message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                if cors:
                    message = {**message, "headers": [*message.get("headers", ()), *cors]}
            await send(message)

        try:
            if self.access.is_preflight(scope, seen):
                await self._preflight(scope, seen, tracked_send, state)
                return
            problem = self._refuse(scope, seen)
            if problem is not None:
                await send_problem(tracked_send, problem, state)
                return
            handler = self.direct.get(scope["path"]) if scope["method"] == "POST" else None
            if handler is None:
                await self.app(scope, receive, tracked_send)
                return
            request = Request(scope, receive, tracked_send)
            try:
                response = await handler(request)
            except ApiProblem as exc:
                response = await self.problem(request, exc)
            if cors or type(response) is not JsonResponse:
                await response(scope, receive, tracked_send)
            else:  # its start message carries this status and no header to add: no wrapper around each send
                state["status"] = response.status_code
                await response(scope, receive, send)
        except Exception as exc:  # the last resort: a bug answers 500 in the API's shape, the server keeps running
            report_failure(scope, exc)
            if not state["status"]:
                await send_problem(tracked_send, internal_error(), state)
        finally:
            self.slots.give_back(state)
            seconds = time.perf_counter() - start
            status = state["status"] or 500
            line = f"{scope['method']} {scope['path']} {status} rows={state['rows']} {seconds * 1000:.1f}ms\n" \
                if self.access_log else None
            self._ended.append((scope["method"], self.route_of(scope["path"]), status, state["rows"], seconds,
                                state["code"], line))
            if len(self._ended) == 1:  # the first to end in this turn of the loop: flush at its end
                asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Metrics and access-log lines of the requests ended since the last flush (in the order they ended)."""
        ended, self._ended = self._ended, []
        if not ended:
            return
        self.metrics.observe_many(ended)
        lines = [e[6] for e in ended if e[6] is not None]
        if lines:
            try:
                sys.stdout.write("".join(lines))
                sys.stdout.flush()
            except (OSError, ValueError):  # stdout closed under a supervisor: the requests were answered
                pass

    def _refuse(self, scope, seen: Seen) -> ApiProblem | None:
        problem = self.access.refuse_host(scope, seen) or self.access.refuse_origin(seen)
        if problem is not None:
            return problem
        if self.token is not None and scope["path"] not in OPEN_PATHS and not self._authorized(scope):
            return ApiProblem(401, "Missing or incorrect bearer token: send the server's token as "
                              "'Authorization: Bearer <token>'.", code="invalid_api_key",
                              headers={"www-authenticate": "Bearer"})
        return self.access.refuse_content_type(scope, seen)

    async def _preflight(self, scope, seen: Seen, send, state: dict[str, Any]) -> None:
        """A browser asking whether a page may send a JSON POST: yes for the named origins only (no token:
        browsers never send one on a preflight)."""
        problem = self.access.refuse_host(scope, seen) or self.access.refuse_origin(seen)
        if problem is not None:
            await send_problem(send, problem, state)
            return
        headers = [(b"content-length", b"0"), *PREFLIGHT_HEADERS]  # + allow-origin, from `send`
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    def _authorized(self, scope) -> bool:
        assert self.token is not None
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, rest = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    given = rest.strip()
            elif name == b"api-key" and not given:  # what AzureOpenAI clients send
                given = value.strip()
        return hmac.compare_digest(given, self.token)


async def send_problem(send, problem: ApiProblem, state: dict[str, Any]) -> None:
    state["code"] = problem.code or str(problem.status)
    body = error_bytes(problem)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in problem.headers.items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class JsonResponse(Response):
    """Starlette's Response for a JSON body, its headers written as Starlette writes them (content-length, then
    content-type) without its general header handling, which cost a tenth of a one-row request."""

    media_type = "application/json"

    def __init__(self, body: bytes, status: int = 200, headers: dict[str, str] | None = None):
        if headers or status < 200 or status in (204, 304):
            super().__init__(body, status, headers=headers)
            return
        self.status_code, self.background, self.body = status, None, body
        self.raw_headers = [(b"content-length", str(len(body)).encode("latin-1")), (b"content-type", b"application/json")]


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON; orjson for speed (batches are mostly JSON work), json for what orjson refuses
    (integers beyond 64 bits echoed back in a grader)."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
