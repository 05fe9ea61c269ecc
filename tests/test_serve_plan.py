"""serve's single-row graders.run through the session's small-call plan answers exactly as through the engine;
the body read from receive() and the JSON response written by hand are Starlette's."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.responses import Response

from ftstudio.grading import prepare
from ftstudio.serve import ServeConfig, _shapes, create_app
from ftstudio.serve._guard import JsonResponse

RUN_PATH = "/v1/fine_tuning/alpha/graders/run"
EXACT = {"type": "string_check", "name": "eq", "input": "{{sample.output_text}}",
         "reference": "{{item.reference_answer}}", "operation": "eq"}
LABEL = {"type": "string_check", "name": "label", "input": "{{ sample.output_json.label }}",
         "reference": "{{ item.label }}", "operation": "ilike"}
MULTI = {"type": "multi", "name": "mix", "calculate_output": "same / (1 - label) + 2",
         "graders": {"same": EXACT, "label": LABEL}}
NAMELESS = {k: v for k, v in EXACT.items() if k != "name"}
# python trees grade off the event loop, through GradingSession.grade's plan (never srv.planned, which runs inline)
PYTHON = {"type": "python", "name": "py", "source": "def grade(sample, item):\n"
          "    if sample['output_text'] == 'x':\n        raise ValueError('x')\n"
          "    return len(sample['output_text']) / 10 + len(item)\n"}
MULTI_PY = {"type": "multi", "name": "mixpy", "calculate_output": "same + py", "graders": {"same": EXACT, "py": PYTHON}}


async def _post(app: Any, data: bytes, chunks: int = 1, path: str = RUN_PATH) -> tuple[int, list, bytes]:
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", b"127.0.0.1:9"), (b"content-type", b"application/json")],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 9), "client": ("127.0.0.1", 2),
             "root_path": ""}
    size = -(-len(data) // chunks) if data else 1
    parts = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
    messages = [{"type": "http.request", "body": p, "more_body": True} for p in parts]
    messages.insert(1, {"type": "http.request", "body": b"", "more_body": True})  # an empty message counts for nothing
    messages.append({"type": "http.request", "body": b"", "more_body": False})
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], message["headers"]
        else:
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], out["headers"], out["body"]


def _engine_answer(app: Any, body: dict[str, Any]) -> dict[str, Any]:
    """What graders.run answered before the plan: the row through the engine, as run_response writes it."""
    row, field = _shapes.row_of(*_shapes.run_parts(body))
    srv = app.direct[RUN_PATH].__self__.srv
    entry = srv.sessions.acquire(body["grader"])
    try:
        results = entry.session.grade(prepare([row], field), progress=lambda _p: None)
    finally:
        entry.release()
    return _shapes.run_response(results)


CASES = [
    (EXACT, "a", {"reference_answer": "a"}, True),
    (EXACT, "a", {"reference_answer": "b", "model_sample": "a"}, True),  # the output goes in _model_sample
    (EXACT, "a", {"reference_answer": 1}, False),  # rendered as JSON: the engine's
    (EXACT, "a", {}, False),  # missing: an invalid_variable_error
    (NAMELESS, "a", {"reference_answer": "a"}, True),
    (LABEL, '{"label": "Math"}', {"label": "math"}, True),
    (LABEL, "not json", {"label": "math"}, False),
    (MULTI, '{"label": "x"}', {"reference_answer": '{"label": "x"}', "label": "y"}, True),
    (MULTI, '{"label": "x"}', {"reference_answer": "b", "label": "x"}, False),  # 0 / 0: formula error
    (PYTHON, "abc", {"reference_answer": "a"}, False),
    (PYTHON, "x", {"reference_answer": "a"}, False),  # the code raises: the engine's error, from the same run
    (MULTI_PY, "a", {"reference_answer": "a", "model_sample": "b"}, False),
    (MULTI_PY, "x", {"reference_answer": "x"}, False),
]


@pytest.mark.parametrize(("grader", "sample", "item", "planned"), CASES)
def test_graders_run_answers_as_the_engine(grader: dict[str, Any], sample: str, item: dict[str, Any],
                                           planned: bool) -> None:
    app = create_app(ServeConfig(access_log=False, allow_request_code=True))
    body = {"grader": grader, "model_sample": sample, "item": item}
    for chunks in (1, 3):
        status, headers, raw = asyncio.run(_post(app, json.dumps(body).encode(), chunks))
        got, want = json.loads(raw), _engine_answer(app, body)
        assert status == 200
        assert headers == [(b"content-length", str(len(raw)).encode()), (b"content-type", b"application/json")]
        assert got["metadata"].pop("execution_time") >= 0
        want["metadata"].pop("execution_time")
        assert got == want
    srv = app.direct[RUN_PATH].__self__.srv
    entry = srv.sessions.acquire(grader)
    try:
        scope: dict[str, Any] = {"ftstudio": {"rows": 0}}
        fast = srv.planned(type("R", (), {"scope": scope})(), entry, *_shapes.run_parts(body))
    finally:
        entry.release()
    assert (fast is not None) == planned and scope["ftstudio"]["rows"] == int(planned)


def test_a_body_past_the_limit_in_chunks_is_a_413_and_a_disconnect_is_no_answer() -> None:
    app = create_app(ServeConfig(access_log=False, max_body_mb=0.001))
    big = json.dumps({"grader": EXACT, "model_sample": "a" * 5000, "item": {}}).encode()
    status, _, raw = asyncio.run(_post(app, big, chunks=4))
    assert status == 413 and json.loads(raw)["error"]["code"] == "request_too_large"

    async def gone() -> list[int]:
        scope = {"type": "http", "method": "POST", "path": RUN_PATH, "raw_path": RUN_PATH.encode(),
                 "query_string": b"", "headers": [(b"host", b"127.0.0.1:9"), (b"content-type", b"application/json")],
                 "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 9), "client": ("127.0.0.1", 2),
                 "root_path": ""}
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
        await app(scope, receive, send)
        return statuses
    assert asyncio.run(gone()) == [500]  # as through Starlette's Request.stream(): its ClientDisconnect reaches the guard


@pytest.mark.parametrize("status", [200, 201, 400, 404, 413, 429, 500, 503, 204, 304, 101])
@pytest.mark.parametrize("headers", [None, {"retry-after": "1"}, {"Content-Type": "text/plain"}])
def test_json_response_writes_starlettes_headers(status: int, headers: dict[str, str] | None) -> None:
    ours, theirs = JsonResponse(b'{"a":1}', status, headers), Response(b'{"a":1}', status, headers=headers,
                                                                      media_type="application/json")
    assert (ours.status_code, ours.raw_headers, ours.body, ours.background) == \
        (theirs.status_code, theirs.raw_headers, theirs.body, theirs.background)
