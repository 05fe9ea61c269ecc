"""The outermost ASGI layer: bearer token, concurrency limit, last-resort 500, access log and metrics.

Nothing a request does gets past this layer as an exception: the server keeps serving. The access log
line holds method, path, status, rows and milliseconds; never a header value or a body.
"""

from __future__ import annotations

import hmac
import json
import sys
import time
from typing import Any

import orjson

from ._errors import ApiProblem, error_bytes
from ._metrics import Metrics

# Load-balancer probes can't always send headers; they reveal nothing, so they need no token.
# The contract: with a token, every request carries it (probes too: send the header from the probe).
OPEN_PATHS: frozenset[str] = frozenset()
_GRADING_METHODS = frozenset({"POST"})


class Guard:
    def __init__(self, app: Any, *, token: str | None, max_concurrency: int, request_timeout: float,
                 metrics: Metrics, access_log: bool, route_of: Any):
        self.app = app
        self.token = token.encode() if token else None
        self.max_concurrency = max_concurrency
        self.request_timeout = request_timeout
        self.metrics = metrics
        self.access_log = access_log
        self.route_of = route_of
        self.in_flight = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state: dict[str, Any] = {"rows": 0, "status": 0, "code": None, "deadline": start + self.request_timeout}
        scope["ftstudio"] = state

        async def tracked_send(message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            await send(message)

        counted = False
        try:
            problem = self._refuse(scope)
            if problem is not None:
                await send_problem(tracked_send, problem, state)
                return
            if scope["method"] in _GRADING_METHODS:
                self.in_flight += 1
                counted = True
            await self.app(scope, receive, tracked_send)
        except Exception as exc:  # the last resort: a bug answers 500, the server keeps running
            print(f"ftstudio serve: internal error on {scope['method']} {scope['path']}: {type(exc).__name__}",
                  file=sys.stderr, flush=True)
            if not state["status"]:
                problem = ApiProblem(500, "The server failed while handling this request; it is still running. "
                                     "Please report this with the request shape (not its data).",
                                     type="server_error", code="internal_error")
                await send_problem(tracked_send, problem, state)
        finally:
            if counted:
                self.in_flight -= 1
            ms = (time.perf_counter() - start) * 1000
            path = self.route_of(scope["path"])
            status = state["status"] or 500
            self.metrics.observe(scope["method"], path, status, state["rows"], ms / 1000, state["code"])
            if self.access_log:
                sys.stdout.write(f"{scope['method']} {scope['path']} {status} rows={state['rows']} {ms:.1f}ms\n")
                sys.stdout.flush()

    def _refuse(self, scope) -> ApiProblem | None:
        if self.token is not None and scope["path"] not in OPEN_PATHS and not self._authorized(scope):
            return ApiProblem(401, "Missing or incorrect bearer token: send the server's token as "
                              "'Authorization: Bearer <token>'.", code="invalid_api_key",
                              headers={"www-authenticate": "Bearer"})
        if scope["method"] in _GRADING_METHODS and self.in_flight >= self.max_concurrency:
            return ApiProblem(429, f"The server is already handling {self.in_flight} requests, its limit "
                              "(--max-concurrency). Retry after a second, or add workers or replicas.",
                              type="requests", code="rate_limit_exceeded", headers={"retry-after": "1"})
        return None

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


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON; orjson for speed (batches are mostly JSON work), json for what orjson refuses
    (integers beyond 64 bits echoed back in a grader)."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
