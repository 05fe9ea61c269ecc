"""The ASGI app behind `ftstudio serve`: one engine (ftstudio.grading) behind four request shapes.

- POST /v1/fine_tuning/alpha/graders/run | /validate (also under /openai/v1): the official shapes;
- POST /score: Azure's endpoint grader, for the server's own grader;
- POST /openrlhf: OpenRLHF's remote reward;
- POST /gemini (and /gemini/KEY): Gemini's Cloud Run reward scorer (_gemini.py);
- POST /v1/grade: a batch, answered with the records `ftstudio grade --out` writes (NDJSON on request);
- GET /healthz, /readyz, /metrics.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ftstudio.grading import GradeResults, Planned, prepare
from ftstudio.validation import check_grader, errors

from . import _gemini, _nemo_gym, _shapes
from ._access import Access
from ._bodies import BodyReader, ndjson_lines, records_json
from ._config import ServeConfig, ServeError, load_grader
from ._errors import ApiProblem, error_bytes, issue_problem, missing
from ._guard import Guard, JsonResponse, Slots, dumps, internal_error
from ._metrics import CONTENT_TYPE, Metrics
from ._sessions import Entry, Sessions

RUN_PATH = "/v1/fine_tuning/alpha/graders/run"
VALIDATE_PATH = "/v1/fine_tuning/alpha/graders/validate"
STREAM_CHUNK = 256  # rows per NDJSON flush


class _Server:
    """Per-process state: the warm sessions, a thread pool for graders that block, metrics."""

    def __init__(self, config: ServeConfig, grader: dict[str, Any] | None):
        self.config = config
        self.metrics = Metrics()
        try:
            self.sessions = Sessions(config, grader)
        except ApiProblem as exc:
            raise ServeError(f"{config.grader_path or 'the grader'}: {exc.param}: {exc.message}") from None
        self.pool = ThreadPoolExecutor(max_workers=config.max_concurrency, thread_name_prefix="ftstudio-serve")
        self.reader = BodyReader(config.max_body_bytes, config.request_timeout)
        self.slots = Slots(config.max_concurrency)

    async def read_json(self, request: Request) -> Any:
        """The body as JSON, read under the request's deadline; then the request takes a grading slot."""
        state = request.scope["ftstudio"]
        raw = await self.reader.read(request, state["deadline"])
        self.slots.take(state)
        if not raw.strip():
            raise ApiProblem(400, "The body is empty: send a JSON object.", code="invalid_json")
        try:
            return orjson.loads(raw)
        except (ValueError, RecursionError) as exc:  # orjson: also NaN, lone surrogates, nesting past 1024
            why = str(exc) if isinstance(exc, ValueError) else "it nests too deeply"
            raise ApiProblem(400, f"The body is not valid JSON: {why}.", code="invalid_json") from None

    async def grade(self, request: Request, entry: Entry, rows: list[Any], field: str,
                    offset: int = 0) -> GradeResults:
        """Grade on the event loop when cheap, else in a thread under the request's wall limit."""
        state = request.scope["ftstudio"]
        batch = prepare(rows, field)
        if entry.inline:
            results = entry.session.grade(batch, row_offset=offset)
        else:
            cancel = threading.Event()
            loop = asyncio.get_running_loop()
            with entry.lock:
                entry.users += 1  # held by the thread until it ends, even after a timeout answered
            future = loop.run_in_executor(self.pool, _grade_then_release, entry, batch, cancel, offset)
            try:
                results = await asyncio.wait_for(asyncio.shield(future), max(0.0, state["deadline"] - time.perf_counter()))
            except TimeoutError:
                cancel.set()
                raise ApiProblem(504, f"The request took longer than the server's wall limit of "
                                 f"{self.config.request_timeout:g} s (--request-timeout); its unfinished rows were "
                                 "cancelled. Send fewer rows per request.", type="timeout_error",
                                 code="request_timeout") from None
        state["rows"] += len(results)
        self.metrics.graded(results)
        return results


    def planned(self, request: Request, entry: Entry, item: dict[str, Any], sample: str) -> tuple[Planned, float] | None:
        """One row by the session's small-call plan (GradingSession.score_columns, the function TRL's reward
        calls): what `grade` answers for it when the row can't have an error, without a batch or GradeResults;
        with the seconds it took. None when the grader has no plan, runs off the event loop, or the row needs
        the engine."""
        if not entry.inline:
            return None
        start = time.perf_counter()
        planned = entry.session.score_columns([sample], partial(_item_column, item))
        if not isinstance(planned, tuple):  # None (no items given: a python node declines before it runs)
            return None
        request.scope["ftstudio"]["rows"] += 1  # metrics.graded counts row errors: a planned row has none
        return planned, time.perf_counter() - start


def _item_column(item: dict[str, Any], key: str) -> list[Any] | None:
    """The field `key` of a one-row request's item. The output's field is never in the item (free_field), so
    `{{ item.<that field> }}` is missing here as in the engine's row."""
    return [item[key]] if key in item else None


def _grade_then_release(entry: Entry, batch, cancel: threading.Event, offset: int) -> GradeResults:
    try:
        return entry.session.grade(batch, cancel=cancel, row_offset=offset)
    finally:
        entry.release()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JsonResponse(dumps(data), status, headers)


def create_app(config: ServeConfig, grader: dict[str, Any] | None = None) -> Any:
    """The ASGI app. `grader` defaults to the one at config.grader_path (if any)."""
    if grader is None and config.grader_path:
        grader = load_grader(config.grader_path)
    srv = _Server(config, grader)
    h = _Handlers(srv)
    routes = []
    for prefix in ("", "/openai"):
        routes += [Route(prefix + RUN_PATH, h.run, methods=["POST"]),
                   Route(prefix + VALIDATE_PATH, h.validate, methods=["POST"])]
    routes += [Route("/score", h.score, methods=["POST"]), Route("/openrlhf", h.openrlhf, methods=["POST"]),
               Route("/v1/grade", h.grade, methods=["POST"]), Route("/verify", h.verify, methods=["POST"]),
               Route("/healthz", h.healthz, methods=["GET"]),
               Route("/readyz", h.readyz, methods=["GET"]), Route("/metrics", h.metrics, methods=["GET"])]
    routes += _gemini.routes(srv)
    known = {r.path for r in routes}
    # The grading POSTs skip Starlette's router and middleware (a fifth of a one-row request): called directly,
    # with the same answer for an ApiProblem (h.problem); anything else is the guard's JSON 500, as it is
    # behind Starlette. Other methods and paths take Starlette's way (its 404 and 405 answers).
    direct = {r.path: r.endpoint for r in routes if r.methods == {"POST"} and "{" not in r.path}

    @asynccontextmanager
    async def lifespan(app):
        warm = threading.Thread(target=srv.sessions.warm, name="ftstudio-serve-warm", daemon=True)
        warm.start()
        srv.reader.watch_signals()
        # What start-up made (the grader, the libraries' modules) lives as long as the server: out of the
        # collector's sight, a full collection no longer walks it between requests (p99 of large batches).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            srv.reader.unwatch_signals()
            srv.pool.shutdown(wait=False, cancel_futures=True)
            srv.sessions.close()
            guard.flush()  # the access-log lines and metrics of the last requests

    # Exception: Starlette's last resort would answer a plain-text 500; this one answers in the API's shape.
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={ApiProblem: h.problem, HTTPException: h.problem, Exception: h.internal})
    guard = Guard(app, token=config.token(), access=Access(config), slots=srv.slots,
                  request_timeout=config.request_timeout, metrics=srv.metrics, access_log=config.access_log,
                  route_of=lambda path: path if path in known else "other", direct=direct, problem=h.problem)
    return guard


class _Handlers:
    def __init__(self, srv: _Server):
        self.srv, self.sessions, self.config = srv, srv.sessions, srv.config

    async def run(self, request: Request) -> Response:
        body = _shapes.need_object(await self.srv.read_json(request))
        item, sample = _shapes.run_parts(body)
        entry = self.sessions.acquire(body["grader"])
        try:
            fast = self.srv.planned(request, entry, item, sample)
            if fast is not None:
                g = entry.session.grader
                return _json(_shapes.planned_run_response(g.name or g.type, g.type, *fast))
            row, field = _shapes.row_of(item, sample)
            results = await self.srv.grade(request, entry, [row], field)
        finally:
            entry.release()
        return _json(_shapes.run_response(results))

    async def validate(self, request: Request) -> Response:
        body = _shapes.need_object(await self.srv.read_json(request))
        if body.get("grader") is None:
            raise missing("grader")
        found = errors(check_grader(body["grader"]))
        if found:
            raise issue_problem(found[0], "grader")
        return _json({"grader": body["grader"]})

    async def score(self, request: Request) -> Response:
        body = _shapes.need_object(await self.srv.read_json(request))
        row, field = _shapes.score_row(body)
        entry = self.sessions.acquire_server()
        try:
            results = await self.srv.grade(request, entry, [row], field)
        finally:
            entry.release()
        flags = results.record(0)["errors"]
        return _json({"score": results.rewards[0]}, headers={"x-ftstudio-errors": ",".join(flags)} if flags else None)

    async def openrlhf(self, request: Request) -> Response:
        body = _shapes.need_object(await self.srv.read_json(request))
        rows, field = _shapes.openrlhf_rows(body, self.config.max_rows)
        entry = self.sessions.acquire_server()
        try:
            results = await self.srv.grade(request, entry, rows, field)
        finally:
            entry.release()
        return _json(_shapes.openrlhf_response(results))

    async def verify(self, request: Request) -> Response:
        """NeMo-Gym's resources-server /verify, for the server's grader (see _nemo_gym.py)."""
        body = _shapes.need_object(await self.srv.read_json(request))
        row, field = _nemo_gym.verify_row(body)
        entry = self.sessions.acquire_server()
        try:
            results = await self.srv.grade(request, entry, [row], field)
        finally:
            entry.release()
        return _json(_nemo_gym.verify_response(body, results, entry.session.grader.type == "multi"))

    async def grade(self, request: Request) -> Response:
        body = _shapes.need_object(await self.srv.read_json(request))
        rows, field = _shapes.grade_rows(body, self.config.max_rows)
        entry = self.sessions.acquire(body["grader"]) if body.get("grader") is not None else \
            self.sessions.acquire_server()
        if "application/x-ndjson" in request.headers.get("accept", ""):
            parts = (partial(self.srv.grade, request, entry, rows[start:start + STREAM_CHUNK], field, start)
                     for start in range(0, len(rows), STREAM_CHUNK))
            return StreamingResponse(self._stream(request, entry, parts), media_type="application/x-ndjson")
        try:
            results = await self.srv.grade(request, entry, rows, field)
        finally:
            entry.release()
        return Response(records_json(results), media_type="application/json")

    async def _stream(self, request: Request, entry: Entry, parts):
        try:
            async for chunk in ndjson_lines(request.scope, parts):
                yield chunk
        finally:
            entry.release()

    async def healthz(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        ready = self.sessions.ready.is_set()
        g = self.sessions.server.session.grader if self.sessions.server else None
        body = {"status": "ready" if ready else "warming", "grader": {"name": g.name, "type": g.type} if g else None}
        return _json(body, 200 if ready else 503)

    async def metrics(self, request: Request) -> Response:
        return Response(self.srv.metrics.exposition(), media_type=CONTENT_TYPE)

    async def problem(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            exc = ApiProblem(exc.status_code, _http_message(request, exc.status_code),
                             code="not_found" if exc.status_code == 404 else "method_not_allowed")
        assert isinstance(exc, ApiProblem)
        request.scope["ftstudio"]["code"] = exc.code or str(exc.status)
        return Response(error_bytes(exc), exc.status, headers=exc.headers, media_type="application/json")

    async def internal(self, request: Request, exc: Exception) -> Response:
        """A bug: 500 in the API's shape (Starlette then re-raises it, and the guard logs it)."""
        return await self.problem(request, internal_error())


def _http_message(request: Request, status: int) -> str:
    if status == 404:
        return (f"Invalid URL ({request.method} {request.url.path}): this server serves {RUN_PATH}, {VALIDATE_PATH}, "
                "/score, /openrlhf, /gemini, /v1/grade, /healthz, /readyz and /metrics.")
    if status == 405:
        return f"{request.method} is not allowed on {request.url.path}."
    return f"HTTP {status}"


def app_from_env() -> Any:
    """The app factory each uvicorn worker process calls (the config comes through the environment)."""
    return create_app(ServeConfig.from_env())
