"""`ftstudio serve` can't be exhausted or made to answer outside its error shape, against a real server:
echoed names and answers are bounded, slow senders hold no grading slot and are cut off (at the wall limit,
or at once on SIGTERM), and a failure inside the server is a JSON 500, streaming or not."""

from __future__ import annotations

import io
import json
import signal
import socket
import sys
import threading
from pathlib import Path

import pytest
import uvicorn

from ftstudio.grading import GradeResults, grade
from ftstudio.serve import ServeConfig, create_app
from tests.serve_process import ServeProcess

EXACT = {"type": "string_check", "name": "eq", "input": "{{sample.output_text}}",
         "reference": "{{item.reference_answer}}", "operation": "eq"}
ERROR_KEYS = {"message", "type", "param", "code"}
NDJSON = {"accept": "application/x-ndjson"}
GIB = 1024 ** 3


def write(tmp_path: Path, grader: dict) -> str:
    path = tmp_path / "grader.json"
    path.write_text(json.dumps(grader))
    return str(path)


def the_error(content: bytes) -> dict:
    body = json.loads(content)
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    return body["error"]


# -- amplification ------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_long_sample_field_is_not_echoed_per_row(tmp_path):
    """1 MB of field name and 10,000 rows: each row's error names the field, shortened. The server's memory is
    capped at 3 GiB, so echoing it whole (10 GB) fails instead of taking the machine's memory."""
    body = {"rows": [{}] * 10_000, "sample_field": "x" * 1_000_000}
    with ServeProcess(write(tmp_path, EXACT), "--port", "0", memory_limit=3 * GIB) as s:
        for headers in ({}, NDJSON):
            status, h, content = s.request("POST", "/v1/grade", body, headers=headers)
            assert status == 200, content[:300]
            assert len(content) < 5_000_000  # about 280 bytes a row, not 1 MB
            records = json.loads(content)["records"] if not headers else \
                [json.loads(line) for line in content.splitlines()]
            assert len(records) == 10_000
            details = records[-1]["error_details"]["other_error"]
            assert "(1,000,000 characters)" in details and len(details) < 300


def test_names_from_the_grader_are_shortened_in_row_errors():
    """A template path and a multi key, long names repeated in each failing row's details, are shortened."""
    key = "k" + "z" * 5_000  # a formula holds at most 10,000 characters
    inner = dict(EXACT, reference="{{item." + "z" * 100_000 + "}}")
    grader = {"type": "multi", "name": "m", "calculate_output": key, "graders": {key: inner}}
    results = grade(grader, [{"model_sample": "a"}] * 50)
    for rec in results.records():
        details = rec["error_details"]["invalid_variable_error"]
        assert "(5,001 characters)" in details and "characters)" in details.split(":", 1)[1] and len(details) < 600


@pytest.mark.slow
def test_answers_are_bounded_in_size(tmp_path):
    """Sub-reward keys repeat in every record: 24 keys of 2,000 characters over 10,000 rows would be 480 MB.
    The answer stops at the server's limit: a 413 before anything is sent, or a last NDJSON line."""
    keys = {f"k{i}_" + "y" * 2000: EXACT for i in range(24)}
    grader = {"type": "multi", "name": "wide", "calculate_output": next(iter(keys)), "graders": keys}
    body = {"grader": grader, "rows": [{"model_sample": "a", "reference_answer": "a"}] * 10_000}
    with ServeProcess(write(tmp_path, EXACT), "--port", "0", memory_limit=3 * GIB) as s:
        status, _, content = s.request("POST", "/v1/grade", body)
        assert status == 413
        assert the_error(content)["code"] == "response_too_large"
        status, _, content = s.request("POST", "/v1/grade", body, headers=NDJSON)
        assert status == 200 and len(content) <= 64 * 1024 * 1024 + 1000
        lines = content.splitlines()
        assert json.loads(lines[0])["sub_rewards"][next(iter(keys))] == 1.0
        assert the_error(lines[-1])["code"] == "response_too_large"
        assert s.post("/v1/grade", dict(body, rows=body["rows"][:100]))[0] == 200  # fewer rows fit


# -- no 500 is plain text -----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_reward_of_1e308_never_gets_a_plain_text_answer(tmp_path):
    """Its summary overflowed (a plain-text 500 before). Whatever the engine makes of it, the answer is JSON."""
    grader = {"type": "python", "name": "huge", "source": "def grade(sample, item):\n    return 1e308\n"}
    with ServeProcess(write(tmp_path, EXACT), "--port", "0", "--allow-request-code") as s:
        status, headers, content = s.request("POST", "/v1/grade", {"grader": grader, "rows": [{"model_sample": "a"}] * 3})
        assert headers["content-type"].startswith("application/json")
        body = json.loads(content)
        assert status == 200 and len(body["records"]) == 3 or status == 500 and the_error(content)
        assert s.get("/healthz")[0] == 200


class _Embedded:
    """The app on a real uvicorn server in a thread of this process, so a test can break a piece of it."""

    def __init__(self, grader: dict):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(create_app(ServeConfig(port=self.port), grader), log_level="warning",
                                access_log=False, lifespan="on", log_config=None)  # keep this process's logging: dictConfig would close handlers other tests set up
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> _Embedded:
        self.thread.start()
        while not self.server.started:
            self.thread.join(0.02)
            assert self.thread.is_alive()
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()

    def post(self, path: str, body: dict, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()


def test_any_failure_inside_the_server_is_a_json_500(monkeypatch, tmp_path):
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path))
    # The server thread prints to whatever sys.stderr is when it fails; a buffer of this test's own keeps the
    # check independent of pytest's capture streams (capfd's file is closed under a still-running thread).
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)

    def broken(self):
        raise RuntimeError("a bug in the summary")

    monkeypatch.setattr(GradeResults, "summary", broken)
    rows = {"rows": [{"model_sample": "a", "reference_answer": "a"}]}
    with _Embedded(EXACT) as server:
        status, headers, content = server.post("/v1/grade", rows)
        assert status == 500 and headers["content-type"] == "application/json"
        error = the_error(content)
        assert error["code"] == "internal_error" and error["type"] == "server_error"
        assert "a bug in the summary" not in content.decode()
        monkeypatch.setattr(GradeResults, "records", broken)  # while streaming: the last line is the error
        status, headers, content = server.post("/v1/grade", rows, NDJSON)
        assert status == 200 and the_error(content.splitlines()[-1])["code"] == "internal_error"
        monkeypatch.undo()
        assert server.post("/score", {"sample": {"output_text": "a"}, "item": {"reference_answer": "a"}})[0] == 200
    err = stderr.getvalue()
    assert "Traceback" not in err and "internal error RuntimeError" in err
    assert "a bug in the summary" in (tmp_path / "logs" / "ftstudio.log").read_text()  # the traceback is kept


# -- slow senders -------------------------------------------------------------------------------------------------

def _trickle(port: int, n: int) -> list[socket.socket]:
    """n connections that send their headers and the first byte of a 1,000-byte body, then nothing."""
    out = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port), timeout=60)
        c.sendall(f"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                  "Content-Length: 1000\r\n\r\n{".encode())
        out.append(c)
    return out


def _answer(c: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


@pytest.mark.slow
def test_slow_senders_hold_no_grading_slot_and_sigterm_cuts_them_off(tmp_path):
    s = ServeProcess(write(tmp_path, EXACT), "--port", "0", "--max-concurrency", "2", "--request-timeout", "600")
    try:
        slow = _trickle(s.port, 16)
        request = {"rows": [{"model_sample": "a", "reference_answer": "a"}]}
        for _ in range(5):  # not a 429: the slow bodies are not being graded
            assert s.post("/v1/grade", request)[0] == 200
        s.proc.send_signal(signal.SIGTERM)
        for c in slow:  # cut off now, not after the 600 s wall limit
            status, body = _answer(c)
            assert status == 503 and json.loads(body)["error"]["code"] == "shutting_down"
            c.close()
        assert s.proc.wait(60) == 0
        assert not any("Traceback" in line or "CancelledError" in line for line in s.errors), s.errors
    finally:
        s.kill()


@pytest.mark.slow
def test_a_body_must_arrive_within_the_wall_limit(tmp_path):
    with ServeProcess(write(tmp_path, EXACT), "--port", "0", "--request-timeout", "1") as s:
        (c,) = _trickle(s.port, 1)
        status, body = _answer(c)  # the connection is answered (and closed) at the deadline
        c.close()
        error = json.loads(body)["error"]
        assert status == 408 and error["code"] == "request_body_timeout" and "--request-timeout" in error["message"]
        assert s.post("/v1/grade", {"rows": [{"model_sample": "a", "reference_answer": "a"}]})[0] == 200
