"""Who may drive `ftstudio serve`, and what a grader sent in a request may do, against a real server.

The attack this stops: a web page the user visits POSTs (text/plain, no preflight) a python grader that
reads a file, to a server on 127.0.0.1, and reads the answer after rebinding a name it controls to
127.0.0.1. Each layer is tested alone: Origin, Host, Content-Type, and the request-grader flags
(--allow-request-code, --allow-request-models, --allow-request-endpoint).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.serve_process import ServeProcess

TOKEN = "tok-" + "Zq7w" * 8
EXACT = {"type": "string_check", "name": "eq", "input": "{{sample.output_text}}",
         "reference": "{{item.reference_answer}}", "operation": "eq"}
READER = {"type": "python", "name": "reader", "source": (
    "def grade(sample, item):\n"
    "    raise ValueError(open(item['path']).read())\n")}
JUDGE = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14",
         "input": [{"role": "user", "content": "Grade {{ sample.output_text }} [[score:0.5]]"}]}
COSINE = {"type": "text_similarity", "name": "cos", "input": "{{sample.output_text}}", "reference": "x",
          "evaluation_metric": "cosine"}
ERROR_KEYS = {"message", "type", "param", "code"}


def multi(**graders) -> dict:
    return {"type": "multi", "name": "m", "calculate_output": " + ".join(graders), "graders": graders}


def write(tmp_path: Path, grader: dict) -> str:
    path = tmp_path / "grader.json"
    path.write_text(json.dumps(grader))
    return str(path)


def send(server: ServeProcess, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Exactly these headers (http.client adds Host and Content-Length only: no default Content-Type)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        names = {k.lower() for k in headers or {}}
        conn.putrequest(method, path, skip_host="host" in names, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def wait_until_ready(server: ServeProcess, headers: dict[str, str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if send(server, "GET", "/readyz", headers=headers)[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "the server never became ready"
        time.sleep(0.05)


def error_of(status: int, headers: dict[str, str], content: bytes) -> dict:
    """The error object of a refusal, after checking it is JSON in the API's error shape."""
    assert headers["content-type"].startswith("application/json"), (status, content)
    body = json.loads(content)
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS and body["error"]["message"]
    return body["error"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServeProcess(write(tmp_path_factory.mktemp("serve-access"), EXACT), "--port", "0") as s:
        yield s


@pytest.fixture
def secret_file(tmp_path) -> str:
    path = tmp_path / "id_rsa"
    path.write_text("SECRET-KEY-MATERIAL-0123")
    return str(path)


def test_the_web_page_attack_is_refused_at_every_layer(server, secret_file):
    body = json.dumps({"grader": READER, "rows": [{"model_sample": "x", "path": secret_file}]}).encode()
    json_type = {"Content-Type": "application/json"}
    page = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    for headers in (page, {**page, **json_type}, {"Content-Type": "text/plain"}, json_type,
                    {**json_type, "Host": f"evil.example:{server.port}"}):
        status, h, content = send(server, "POST", "/v1/grade", body, headers)
        assert status in (403, 415), (headers, status)
        assert b"SECRET-KEY-MATERIAL" not in content
        error_of(status, h, content)
    assert error_of(*send(server, "POST", "/v1/grade", body, page))["code"] == "origin_not_allowed"
    assert error_of(*send(server, "POST", "/v1/grade", body, {"Content-Type": "text/plain"}))["code"] == \
        "unsupported_media_type"
    error = error_of(*send(server, "POST", "/v1/grade", body, json_type))
    assert error["code"] == "python_not_allowed" and error["param"] == "grader"
    assert "--allow-request-code" in error["message"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/jsonx"])
def test_a_post_that_is_not_json_is_415(server, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    status, h, content = send(server, "POST", "/score", b'{"sample": {"output_text": "a"}}', headers)
    assert status == 415 and error_of(status, h, content)["code"] == "unsupported_media_type"
    status, _, content = send(server, "POST", "/score", b'{"sample": {"output_text": "a"}, "item": {}}',
                              {"Content-Type": "application/json; charset=utf-8"})
    assert status == 200, content


@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "localhost:1", "127.0.0.1:{other}",
                                  "localhost.evil.example:{port}", "[::2]:{port}", ""])
def test_loopback_answers_only_loopback_names_with_its_port(server, host):
    host = host.format(port=server.port, other=server.port + 1)
    status, h, content = send(server, "GET", "/healthz", headers={"Host": host})
    assert status == 403 and error_of(status, h, content)["code"] == "host_not_allowed"
    assert "--allow-host" in json.loads(content)["error"]["message"]


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "LocalHost:{port}"])
def test_loopback_names_are_accepted(server, host):
    assert send(server, "GET", "/healthz", headers={"Host": host.format(port=server.port)})[0] == 200


@pytest.mark.parametrize(("grader", "param", "code", "flag"), [
    (READER, "grader", "python_not_allowed", "--allow-request-code"),
    (multi(a=EXACT, b=READER), "grader.graders.b", "python_not_allowed", "--allow-request-code"),
    (JUDGE, "grader", "models_not_allowed", "--allow-request-models"),
    (multi(a=EXACT, j=dict(JUDGE, type="label_model", labels=["a", "b"], passing_labels=["a"])), "grader.graders.j",
     "models_not_allowed", "--allow-request-models"),
    (COSINE, "grader", "models_not_allowed", "--allow-request-models"),
    ({"type": "endpoint", "name": "e", "url": "http://169.254.169.254/latest/meta-data"}, "grader.url",
     "endpoint_not_allowed", "--allow-request-endpoint"),
    (multi(a=EXACT, e={"type": "endpoint", "name": "e", "url": "http://127.0.0.1:9/score"}), "grader.graders.e.url",
     "endpoint_not_allowed", "--allow-request-endpoint"),
])
def test_request_graders_that_act_with_the_servers_powers_are_403_by_default(server, grader, param, code, flag):
    for path, body in (("/v1/grade", {"grader": grader, "rows": [{"model_sample": "a"}]}),
                       ("/v1/fine_tuning/alpha/graders/run", {"grader": grader, "model_sample": "a"})):
        status, h, content = server.request("POST", path, body)
        error = error_of(status, h, content)
        assert status == 403 and error["code"] == code and error["param"] == param, content
        assert flag in error["message"] and error["type"] == "permission_error"
    # Validating runs nothing (cosine is still refused there as evals-only), and the server's own grader works.
    assert server.post("/v1/fine_tuning/alpha/graders/validate", {"grader": grader})[0] in (200, 400)
    assert server.post("/score", {"sample": {"output_text": "a"}, "item": {"reference_answer": "a"}}) == \
        (200, {"score": 1.0})


@pytest.mark.slow
def test_the_servers_own_grader_is_trusted(tmp_path, secret_file):
    with ServeProcess(write(tmp_path, multi(a=EXACT, r=READER)), "--port", "0") as s:
        status, body = s.post("/v1/grade", {"rows": [{"model_sample": "a", "reference_answer": "a",
                                                      "path": secret_file}]})
        assert status == 200 and body["records"][0]["errors"] == ["python_grader_runtime_error"]


# -- the flags open exactly what they name ------------------------------------------------------------------------

class _Endpoint(BaseHTTPRequestHandler):
    """An internal service: scores 'ok' rows; answers others with errors whose bodies hold a secret."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        what = body["item"].get("do")
        answers = {"404": (404, b"INTERNAL-SECRET not here"), "500": (500, b'{"detail": "INTERNAL-SECRET db down"}'),
                   "text": (200, b"INTERNAL-SECRET plain text"), "json": (200, b'{"INTERNAL-SECRET": 1}'),
                   "string": (200, b'{"score": "INTERNAL-SECRET"}')}
        status, raw = answers.get(what, (200, b'{"score": 0.75}'))
        self.send_response(status, "INTERNAL-SECRET reason" if status != 200 else None)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint_url():
    service = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    threading.Thread(target=service.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{service.server_address[1]}/score"
    service.shutdown()
    service.server_close()


@pytest.mark.slow
def test_allow_request_endpoint_names_hosts_and_error_bodies_never_come_back(tmp_path, endpoint_url):
    with ServeProcess(write(tmp_path, EXACT), "--port", "0", "--allow-request-endpoint", "127.0.0.1") as s:
        grader = {"type": "endpoint", "name": "e", "url": endpoint_url}
        rows = [{"model_sample": "a", "do": d} for d in ("ok", "404", "500", "text", "json", "string")]
        status, body = s.post("/v1/grade", {"grader": grader, "rows": rows})
        assert status == 200
        records = body["records"]
        assert records[0]["reward"] == 0.75 and records[0]["errors"] == []
        assert "INTERNAL-SECRET" not in json.dumps(body)
        details = [json.dumps(r["error_details"]) for r in records[1:]]
        assert "HTTP 404 (Not Found)" in details[0] and "HTTP 500 (Internal Server Error)" in details[1]
        assert all(r["errors"] for r in records[1:])
        # Another host (even another name for the same machine) is still refused.
        other = dict(grader, url=endpoint_url.replace("127.0.0.1", "localhost"))
        status, body = s.post("/v1/grade", {"grader": other, "rows": rows[:1]})
        assert status == 403 and body["error"]["code"] == "endpoint_not_allowed"
        status, body = s.post("/v1/grade", {"grader": JUDGE, "rows": rows[:1]})
        assert status == 403 and body["error"]["code"] == "models_not_allowed"


@pytest.mark.slow
def test_allow_request_models_spends_the_key_only_with_the_flag(tmp_path, openai_stub):
    env = {"OPENAI_BASE_URL": openai_stub.base_url, "OPENAI_API_KEY": openai_stub.api_key}
    request = {"grader": multi(a=EXACT, j=JUDGE), "rows": [{"model_sample": "a", "reference_answer": "a"}]}
    with ServeProcess(write(tmp_path, EXACT), "--port", "0", env=env) as s:
        assert s.post("/v1/grade", request)[1]["error"]["code"] == "models_not_allowed"
    assert openai_stub.requests_to("/chat/completions") == []
    with ServeProcess(write(tmp_path, EXACT), "--port", "0", "--allow-request-models", env=env) as s:
        status, body = s.post("/v1/grade", request)
        assert status == 200 and body["records"][0]["sub_rewards"] == {"a": 1.0, "j": 0.5}
        assert s.post("/v1/grade", dict(request, grader=READER))[1]["error"]["code"] == "python_not_allowed"
    assert len(openai_stub.requests_to("/chat/completions")) == 1


@pytest.mark.slow
def test_allow_request_code_runs_request_python(tmp_path):
    with ServeProcess(write(tmp_path, EXACT), "--port", "0", "--allow-request-code") as s:
        grader = {"type": "python", "name": "p", "source": "def grade(sample, item):\n    return 0.25\n"}
        status, body = s.post("/v1/grade", {"grader": multi(a=EXACT, p=grader), "rows": [{"model_sample": "a"}]})
        assert status == 200 and body["records"][0]["sub_rewards"]["p"] == 0.25


@pytest.mark.slow
def test_allow_host_and_allow_origin(tmp_path):
    with ServeProcess(write(tmp_path, EXACT), "--port", "0", "--allow-host", "grader.tunnel.example",
                      "--allow-host", "proxy.example:8443", "--allow-origin", "http://localhost:3000") as s:
        body = json.dumps({"sample": {"output_text": "a"}, "item": {"reference_answer": "a"}}).encode()
        json_type = {"Content-Type": "application/json"}
        for host in ("grader.tunnel.example", f"grader.tunnel.example:{s.port}", "proxy.example:8443",
                     f"localhost:{s.port}"):
            assert send(s, "POST", "/score", body, {**json_type, "Host": host})[0] == 200, host
        for host in ("proxy.example", "proxy.example:80", "evil.example"):
            status, h, content = send(s, "POST", "/score", body, {**json_type, "Host": host})
            assert status == 403 and error_of(status, h, content)["code"] == "host_not_allowed"
        # A page from the named origin may call and read the answer (CORS); any other origin may not.
        page = {**json_type, "Origin": "http://localhost:3000"}
        status, h, content = send(s, "POST", "/score", body, page)
        assert status == 200 and json.loads(content) == {"score": 1.0}
        assert h["access-control-allow-origin"] == "http://localhost:3000"
        status, h, _ = send(s, "OPTIONS", "/score", headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert status == 204 and h["access-control-allow-origin"] == "http://localhost:3000"
        assert "content-type" in h["access-control-allow-headers"] and "POST" in h["access-control-allow-methods"]
        for other in ("http://localhost:3001", "https://localhost:3000", "null"):
            status, h, content = send(s, "POST", "/score", body, {**json_type, "Origin": other})
            assert status == 403 and error_of(status, h, content)["code"] == "origin_not_allowed"
            assert "access-control-allow-origin" not in h
            status, h, content = send(s, "OPTIONS", "/score", headers={"Origin": other,
                                                                       "Access-Control-Request-Method": "POST"})
            assert status == 403 and "access-control-allow-origin" not in h


@pytest.mark.slow
def test_non_loopback_checks_host_only_when_named(tmp_path):
    env = {"SERVE_ACCESS_TOKEN": TOKEN}
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    body = json.dumps({"sample": {"output_text": "a"}, "item": {"reference_answer": "a"}}).encode()
    with ServeProcess(write(tmp_path, EXACT), "--host", "0.0.0.0", "--port", "0", "--token-env",
                      "SERVE_ACCESS_TOKEN", env=env) as s:
        assert send(s, "POST", "/score", body, {**auth, "Host": f"anything.example:{s.port}"})[0] == 200
        assert send(s, "POST", "/score", body, {"Content-Type": "application/json"})[0] == 401
        assert send(s, "POST", "/score", body, {**auth, "Origin": "http://evil.example"})[0] == 403
    with ServeProcess(write(tmp_path, EXACT), "--host", "0.0.0.0", "--port", "0", "--token-env",
                      "SERVE_ACCESS_TOKEN", "--allow-host", "grader.example.com", env=env, wait_ready=False) as s:
        named = {**auth, "Host": "grader.example.com"}
        wait_until_ready(s, named)
        assert send(s, "POST", "/score", body, named)[0] == 200
        status, h, content = send(s, "POST", "/score", body, {**auth, "Host": f"127.0.0.1:{s.port}"})
        assert status == 403 and error_of(status, h, content)["code"] == "host_not_allowed"
