"""The serve paths made cheap per request give the same answers, log lines and metrics as before: records
encoded from columns, access log and metrics written once per turn of the event loop, the session key."""

from __future__ import annotations

import asyncio
import io
import json
import math
import re
import sys

import orjson
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from ftstudio.grading import grade
from ftstudio.serve import ServeConfig, create_app
from ftstudio.serve._bodies import records_json
from ftstudio.serve._guard import dumps
from ftstudio.serve._metrics import _BUCKETS, Metrics
from ftstudio.serve._sessions import Sessions, _key

EXACT = {"type": "string_check", "name": "eq", "input": "{{sample.output_text}}",
         "reference": "{{item.reference_answer}}", "operation": "eq"}
MULTI = {"type": "multi", "name": "mix", "calculate_output": "0.5 * same + 0.5 * like",
         "graders": {"same": EXACT,
                     "like": {"type": "text_similarity", "name": "like", "input": "{{sample.output_text}}",
                              "reference": "{{item.reference_answer}}", "evaluation_metric": "fuzzy_match"}}}
RUN_PATH = "/v1/fine_tuning/alpha/graders/run"


def _per_record(results) -> bytes:
    """What records_json answered before: each record as the server's JSON encoder writes it."""
    records = b",".join(dumps(r) for r in results.records())
    return b'{"records":[' + records + b'],"summary":' + dumps(results.summary()) + b"}"


def test_records_from_columns_are_the_records_bytes_for_bytes():
    rows = [{"model_sample": f"answer {i % 5}", "reference_answer": "answer 3", "id": i} for i in range(2500)]
    rows[7] = {"reference_answer": "no sample"}  # an error row
    rows[9] = {"model_sample": "x", "reference_answer": ["not", "a", "string"]}
    for grader in (EXACT, MULTI):
        results = grade(grader, rows)
        assert results.errors, "the check needs rows with errors"
        assert records_json(results) == _per_record(results)
        results.row_offset = 10**12
        results.rewards[3] = math.nan  # written null, as orjson writes it
        results.rewards[4] = 1e-7
        results.lines = [None] * len(rows)
        results.lines[5] = 42  # a file line: the record keeps it
        assert records_json(results) == _per_record(results)
    empty = grade(EXACT, [])
    assert records_json(empty) == _per_record(empty)


def test_histogram_counts_in_bulk_equal_one_observe_per_value():
    values = [0.0001, 0.0005, 0.0007, 0.001, 0.3, 5.0, 400.0, 0.0005, 60.0]
    metrics = Metrics()
    metrics.observe_many([("POST", "/v1/grade", 200, 3, v, None) for v in values])
    reference = CollectorRegistry()
    hist = Histogram("ftstudio_serve_request_seconds", "request latency (seconds)", ["path"], buckets=_BUCKETS,
                     registry=reference)
    for v in values:
        hist.labels("/v1/grade").observe(v)

    def samples(text: bytes) -> set[str]:
        return {line for line in text.decode().splitlines()
                if line.startswith("ftstudio_serve_request_seconds_") and "_created" not in line}

    assert samples(generate_latest(metrics.registry)) == samples(generate_latest(reference))
    text = metrics.exposition().decode()
    assert f'ftstudio_serve_requests_total{{method="POST",path="/v1/grade",status="200"}} {len(values)}.0' in text
    assert f'ftstudio_serve_rows_total{{path="/v1/grade"}} {3 * len(values)}.0' in text


def _call(app, path: str, body: dict, host: bytes = b"127.0.0.1:9"):
    data = json.dumps(body).encode()
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", host), (b"content-type", b"application/json"),
                         (b"content-length", str(len(data)).encode())],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 9), "client": ("127.0.0.1", 2),
             "root_path": ""}
    statuses = []

    async def receive():
        return {"type": "http.request", "body": data, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def run():
        await app(scope, receive, send)
        return statuses[0]
    return run()


class _Writes(io.StringIO):
    def __init__(self):
        super().__init__()
        self.writes: list[str] = []

    def write(self, s: str) -> int:
        self.writes.append(s)
        return super().write(s)


def test_access_log_lines_of_one_loop_turn_are_one_write_and_the_shutdown_writes_the_rest(monkeypatch):
    out = _Writes()
    monkeypatch.setattr(sys, "stdout", out)
    app = create_app(ServeConfig(access_log=True), EXACT)
    body = {"grader": EXACT, "model_sample": "a", "item": {"reference_answer": "a"}}

    async def main():
        statuses = await asyncio.gather(*[_call(app, RUN_PATH, body) for _ in range(10)],
                                        _call(app, "/v1/grade", {"rows": "nope"}), _call(app, "/v1/grade", {"rows": []},
                                                                                          host=b"evil.example"))
        await asyncio.sleep(0)  # the turn's flush
        return statuses

    statuses = asyncio.run(main())
    assert statuses == [200] * 10 + [400, 403]
    lines = out.getvalue().splitlines()
    assert len(lines) == 12 and len(out.writes) == 1, out.writes
    assert all(re.match(r"^POST \S+ \d{3} rows=\d+ \d+\.\d+ms$", line) for line in lines)
    assert sum(line.startswith(f"POST {RUN_PATH} 200 rows=1 ") for line in lines) == 10
    assert any(line.startswith("POST /v1/grade 400 rows=0 ") for line in lines)
    text = app.metrics.exposition().decode()
    assert f'ftstudio_serve_requests_total{{method="POST",path="{RUN_PATH}",status="200"}} 10.0' in text
    assert 'ftstudio_serve_request_errors_total{code="invalid_type"} 1.0' in text
    assert 'ftstudio_serve_request_errors_total{code="host_not_allowed"} 1.0' in text

    # a request that ends with no turn of the loop after it: the app's shutdown writes its line
    async def last():
        await _call(app, RUN_PATH, body)
        app.flush()
    asyncio.run(last())
    assert out.getvalue().splitlines()[-1].startswith(f"POST {RUN_PATH} 200 rows=1 ")


def test_session_key_ignores_key_order_and_takes_integers_past_64_bits():
    reordered = dict(reversed(list(EXACT.items())))
    assert _key(EXACT) == _key(reordered) == orjson.dumps(EXACT, option=orjson.OPT_SORT_KEYS)
    big = {**EXACT, "extra": 2**70}
    assert _key(big) == json.dumps(big, sort_keys=True, separators=(",", ":"))
    sessions = Sessions(ServeConfig(), None)
    try:
        first = sessions.acquire(EXACT)
        assert sessions.acquire(reordered) is first
    finally:
        sessions.close()


def _answer(app, method: str, path: str, data: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", b"127.0.0.1:9"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(data)).encode())],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 9), "client": ("127.0.0.1", 2),
             "root_path": ""}
    out: dict = {"body": b""}

    async def receive():
        return {"type": "http.request", "body": data, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], dict(message["headers"])
        else:
            out["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return out["status"], out["headers"], out["body"]


def test_grading_posts_without_the_router_answer_as_through_it():
    """The guard calls the grading POSTs directly; the same requests through Starlette's router answer the same."""
    direct = create_app(ServeConfig(access_log=False), EXACT)
    routed = create_app(ServeConfig(access_log=False), EXACT)
    routed.direct = {}
    assert set(direct.direct) >= {RUN_PATH, "/openai" + RUN_PATH, "/score", "/openrlhf", "/v1/grade", "/verify"}
    one = {"grader": EXACT, "model_sample": "a", "item": {"reference_answer": "a"}}
    cases = [("POST", RUN_PATH, json.dumps(one).encode()), ("POST", RUN_PATH, b"{"), ("POST", RUN_PATH, b"[1]"),
             ("POST", RUN_PATH, json.dumps({**one, "grader": {"type": "string_check"}}).encode()),
             ("POST", "/v1/grade", json.dumps({"rows": [{"model_sample": "a", "reference_answer": "b"}]}).encode()),
             ("POST", "/v1/grade", json.dumps({"rows": 3}).encode()),
             ("POST", "/score", json.dumps({"sample": {"output_text": "a"}, "item": {"reference_answer": "a"}}).encode()),
             ("POST", "/openrlhf", json.dumps({"query": ["a"], "labels": ["a"]}).encode()),
             ("GET", RUN_PATH, b""), ("POST", "/nowhere", b"{}"), ("POST", "/healthz", b"{}")]
    for method, path, data in cases:
        got, want = _answer(direct, method, path, data), _answer(routed, method, path, data)
        if path == RUN_PATH and got[0] == 200:  # the run's execution_time differs between two runs
            got_body, want_body = json.loads(got[2]), json.loads(want[2])
            got_body["metadata"].pop("execution_time")
            want_body["metadata"].pop("execution_time")
            assert (got[0], got[1].keys(), got_body) == (want[0], want[1].keys(), want_body)
            continue
        if path == "/v1/grade" and got[0] == 200:
            got_body, want_body = json.loads(got[2]), json.loads(want[2])
            for b in (got_body, want_body):
                b["summary"].pop("elapsed_seconds"), b["summary"].pop("rows_per_second")
            assert got_body == want_body
            continue
        assert got == want, (method, path)
    assert _answer(direct, "GET", RUN_PATH, b"")[0] == 405
