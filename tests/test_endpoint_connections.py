"""The endpoint grader's connections (graders/types/_endpoint_http.py): rows reuse kept-alive connections,
a connection the server closed is replaced without losing or repeating a row, an answer that is not HTTP
is a row error, the environment's proxy is used, and the grader's headers are sent once each."""

from __future__ import annotations

import io
import json
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ftstudio.grading import GradeOptions, grade


class _Score(BaseHTTPRequestHandler):
    """Scores 1 when the output equals item.answer, over HTTP/1.1 (connections kept alive); notes each
    request's connection (the client's port) and headers. With `close_every` set, it closes a connection
    after that many answers without saying so (as an idle timeout or a restart would)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    seen: list[dict] = []
    close_every = 0
    lock = threading.Lock()

    def setup(self):
        super().setup()
        self.answered = 0

    def do_POST(self):  # http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with type(self).lock:
            type(self).seen.append({"answer": body["item"]["answer"], "port": self.client_address[1],
                                    "path": self.path, "content_types": self.headers.get_all("Content-Type"),
                                    "key": self.headers.get("api-key")})
        raw = json.dumps({"score": 1.0 if body["sample"]["output_text"] == body["item"]["answer"] else 0.0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
        self.answered += 1
        if type(self).close_every and self.answered % type(self).close_every == 0:
            self.close_connection = True

    def log_message(self, *args):
        pass


def _serve(handler) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/score"


@pytest.fixture
def service():
    _Score.seen, _Score.close_every = [], 0
    server, url = _serve(_Score)
    yield url
    server.shutdown()
    server.server_close()


def _grader(url: str, headers: dict | None = None) -> dict:
    return {"type": "endpoint", "name": "svc", "url": url, "headers": headers or {"api-key": "k-123"}}


def _rows(n: int) -> list[dict]:
    return [{"answer": f"a{i}", "model_sample": f"a{i}" if i % 3 else "other"} for i in range(n)]


def _expected(n: int) -> list[float]:
    return [1.0 if i % 3 else 0.0 for i in range(n)]


def test_rows_reuse_connections_within_and_across_runs(service):
    options = GradeOptions(use_cache=False, concurrency=4)
    first = grade(_grader(service, {"api-key": "key-of-the-first"}), _rows(40), options=options)
    second = grade(_grader(service, {"api-key": "key-of-the-second"}), _rows(40), options=options)
    assert list(first.rewards) == list(second.rewards) == _expected(40) and not first.errors and not second.errors
    # four threads, a connection each, kept from row to row and, idle, for the next run
    assert len(_Score.seen) == 80 and len({s["port"] for s in _Score.seen}) <= 4
    # a connection carries no keys: each request has its own grader's
    assert [s["key"] for s in _Score.seen] == ["key-of-the-first"] * 40 + ["key-of-the-second"] * 40


def test_a_connection_the_server_closed_is_replaced_and_no_row_is_lost_or_sent_twice(service):
    _Score.close_every = 3
    res = grade(_grader(service), _rows(30), options=GradeOptions(use_cache=False, concurrency=2, max_retries=0))
    assert list(res.rewards) == _expected(30) and not res.errors  # no retry was needed: max_retries=0
    assert sorted(s["answer"] for s in _Score.seen) == sorted(f"a{i}" for i in range(30))
    assert len({s["port"] for s in _Score.seen}) >= 10  # closed after every third answer: new connections


class _Stalls(_Score):
    """Stops halfway through the answer to the row whose answer is "a0" until `released` is set."""

    released = threading.Event()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["item"]["answer"] != "a0":
            self.rfile = io.BytesIO(json.dumps(body).encode())  # read again by _Score
            self.headers.replace_header("Content-Length", str(len(self.rfile.getvalue())))
            return super().do_POST()
        self.send_response(200)
        self.send_header("Content-Length", "50")
        self.end_headers()
        self.wfile.write(b'{"sc')
        type(self).released.wait(60)


def test_an_answer_cut_short_costs_only_its_row():
    _Score.seen, _Score.close_every, _Stalls.released = [], 0, threading.Event()
    server, url = _serve(_Stalls)
    try:
        res = grade(_grader(url), _rows(4),
                    options=GradeOptions(use_cache=False, concurrency=1, max_retries=0, endpoint_timeout=1))
    finally:
        _Stalls.released.set()
        server.shutdown()
        server.server_close()
    # row 0 timed out mid-answer; the next rows, on the same thread, are not failed by its connection
    assert set(res.errors) == {0} and "did not answer within 1s" in res.errors[0].codes["unresponsive_reward_error"]
    assert list(res.rewards)[1:] == _expected(4)[1:]


def test_the_graders_headers_go_once_each_whatever_their_case(service):
    headers = {"content-type": "application/json; charset=utf-8", "api-key": "k-123"}
    res = grade(_grader(service, headers), _rows(2), options=GradeOptions(use_cache=False))
    assert not res.errors
    assert all(s["content_types"] == ["application/json; charset=utf-8"] and s["key"] == "k-123" for s in _Score.seen)


class _NotHTTP(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(65536)
        self.request.sendall(b"hello, this is not HTTP\r\n\r\n")


def _graded_by(server: socketserver.TCPServer, scheme: str, rows: int, retries: int):
    """`rows` rows graded by `server`, started here and stopped after."""
    server.daemon_threads = True  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"{scheme}://127.0.0.1:{server.server_address[1]}/score"
        return grade(_grader(url), _rows(rows), options=GradeOptions(use_cache=False, max_retries=retries))
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_that_is_not_http_is_a_row_error():
    res = _graded_by(socketserver.ThreadingTCPServer(("127.0.0.1", 0), _NotHTTP), "http", 2, 1)
    assert set(res.errors) == {0, 1}
    details = res.errors[0].codes["unresponsive_reward_error"]
    assert "not HTTP (BadStatusLine)" in details and "after 2 attempts" in details


def test_rows_go_through_the_environments_proxy(service, monkeypatch):
    for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", service.rsplit("/", 1)[0])  # the service answers as the proxy would
    res = grade(_grader("http://grader.invalid/score"), _rows(3), options=GradeOptions(use_cache=False))
    assert list(res.rewards) == _expected(3) and not res.errors
    # a proxy is asked for the whole URL
    assert [s["path"] for s in _Score.seen] == ["http://grader.invalid/score"] * 3


def test_a_refused_connection_is_still_a_row_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = grade(_grader(f"http://127.0.0.1:{port}/score"), _rows(1),
                options=GradeOptions(use_cache=False, max_retries=0))
    assert "could not reach the endpoint (ConnectionRefusedError)" in res.errors[0].codes["unresponsive_reward_error"]


def test_an_https_endpoint_with_an_untrusted_certificate_is_a_row_error(tmp_path):
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl (the command) makes the test's certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    _Score.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Score)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    res = _graded_by(server, "https", 1, 0)
    # the error's kind, not its `reason` word (an SSLError carries one)
    assert "could not reach the endpoint (SSLCertVerificationError)" in res.errors[0].codes["unresponsive_reward_error"]
    assert _Score.seen == []


@pytest.mark.parametrize("url, why", [("http:///score", "it names no host"), ("http://127.0.0.1:99999/score", "Port"),
                                      ("https://[::1/score", "IPv6")])  # another scheme: an invalid grader
def test_a_url_that_cannot_be_used_is_a_row_error_said_at_once(url, why):
    res = grade(_grader(url), _rows(1), options=GradeOptions(use_cache=False, max_retries=4))
    details = res.errors[0].codes["other_error"]
    assert details.startswith("the grader's url can't be used:") and why in details
    assert "attempts" not in details  # not retried
