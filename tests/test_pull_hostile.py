"""`ftstudio pull` against a server that doesn't play fair (a tiny HTTP server in the test): `has_more`
forever, a body that drips or stalls, a gzip bomb, JSON nested past any config, a negative Retry-After,
and a server that echoes the key. Each ends with a message naming the cause, the jobs read before it
saved with a complete index.json, exit 3; nothing hangs, nothing crashes, the key is nowhere."""

from __future__ import annotations

import json
import os
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from ftstudio.api import Endpoint, ListingLimits, ListingStopped, list_jobs
from ftstudio.cli import main
from tests.openai_stub._account import T0, job

KEY = "hostile-test-key-0123456789-ECHOED"  # not key-shaped: only the registered value can mask it
pytestmark = pytest.mark.timeout(120)  # a pull that hangs fails here instead of blocking the suite


def sft_job(job_id: str, created_at: int = T0) -> dict:
    return job(job_id, created_at=created_at, model="gpt-4.1-mini-2025-04-14",
               method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}})


def page(jobs: list[dict], has_more: bool) -> bytes:
    return json.dumps({"object": "list", "data": jobs, "has_more": has_more}).encode()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    stop: threading.Event  # set when the test ends: handlers that wait on it return

    def handle_error(self, request, client_address):
        pass  # a client that stops reading mid-body (as pull does at a bound) is expected here


class Hostile:
    """A local server; `respond(handler, n, query)` answers the n-th GET of the job list (from 0)."""

    def __init__(self, respond):
        self.respond, self.count, self.stop = respond, 0, threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's name
                n, outer.count = outer.count, outer.count + 1
                outer.respond(self, n, {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()})

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.stop = self.stop
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def send(handler, body: bytes, status: int = 200, headers: dict | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def serve(monkeypatch, tmp_path):
    servers = []
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "AZURE_OPENAI")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))

    def start(respond) -> Hostile:
        server = Hostile(respond)
        servers.append(server)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        return server

    yield start
    for server in servers:
        server.close()


def first_page_then(rest):
    """Page 0 holds one good job and says has_more; every later request is answered by `rest`."""
    def respond(handler, n, query):
        if n == 0:
            send(handler, page([sft_job("ftjob-good0001")], True))
        else:
            rest(handler, n, query)
    return respond


def pull(capsys, out: Path, *args):
    code = main(["pull", "--out", str(out), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def stopped_on_page_2(serve, tmp_path, capsys, rest, *args) -> str:
    """Page 1 is good and `rest` answers the others: the pull must end with exit 3 and no traceback, the job of
    page 1 saved and listed in index.json. Returns what it said on stderr."""
    serve(first_page_then(rest))
    out = tmp_path / "p"
    code, _, stderr = pull(capsys, out, *args)
    assert code == 3 and "Traceback" not in stderr, stderr
    index = json.loads((out / "index.json").read_text())
    assert [e["id"] for e in index] == ["ftjob-good0001"]
    assert json.loads((out / index[0]["file"]).read_text())["model"] == "gpt-4.1-mini-2025-04-14"
    return stderr


def test_has_more_forever_stops_at_max_pages_and_keeps_every_page(serve, tmp_path, capsys):
    def forever(handler, n, query):
        send(handler, page([sft_job(f"ftjob-loop{n:06d}", T0 - n)], True))

    server = serve(forever)
    out = tmp_path / "p"
    code, stdout, stderr = pull(capsys, out, "--max-pages", "5")
    assert code == 3 and server.count == 5
    assert "has_more after 5 pages" in stderr and "--max-pages" in stderr and "Traceback" not in stderr
    index = json.loads((out / "index.json").read_text())
    assert [e["id"] for e in index] == [f"ftjob-loop{n:06d}" for n in range(5)]
    assert all((out / e["file"]).is_file() for e in index) and "Saved 5 jobs" in stdout


def test_the_defaults_are_1000_pages_and_600_seconds(capsys):
    assert (ListingLimits().max_pages, ListingLimits().deadline) == (1000, 600.0)
    with pytest.raises(SystemExit):
        main(["pull", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--max-pages N" in text and "default 1,000" in text and "--deadline SECONDS" in text and "default 600" in text
    for bad in (["--max-pages", "0"], ["--deadline", "-1"], ["--deadline", "nan"]):
        with pytest.raises(SystemExit) as exc:
            main(["pull", *bad])
        assert exc.value.code == 2 and bad[0] in capsys.readouterr().err


@pytest.mark.parametrize("how", ["drip", "stall"])
def test_a_slow_body_ends_at_the_deadline_of_the_whole_call(serve, tmp_path, capsys, how):
    def slow(handler, n, query):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "1000000")
        handler.end_headers()
        handler.wfile.write(b'{"object": "list", "data": [')
        handler.wfile.flush()
        # One byte at a time, each well inside any per-read timeout; or nothing at all.
        while not handler.server.stop.wait(0.2 if how == "drip" else None):
            handler.wfile.write(b" ")
            handler.wfile.flush()

    stderr = stopped_on_page_2(serve, tmp_path, capsys, slow, "--deadline", "2")
    assert "deadline of 2 s" in stderr and "reading page 2" in stderr and "--deadline" in stderr


def test_retries_never_wait_past_the_deadline(serve, tmp_path, capsys):
    def busy(handler, n, query):
        send(handler, b'{"error": {"message": "busy"}}', 503, {"Retry-After": "30"})

    assert "deadline of 5 s" in stopped_on_page_2(serve, tmp_path, capsys, busy, "--deadline", "5")


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """300 MiB of JSON whitespace, gzipped to a few hundred kB."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS, 9, zlib.Z_RLE)  # RLE: the fastest way there
    chunk = b" " * (1 << 20)
    body = [z.compress(b'{"object": "list", "data": [')]
    body += [z.compress(chunk) for _ in range(300)]
    return b"".join(body) + z.flush()


def test_a_gzip_bomb_stops_at_the_size_cap(serve, tmp_path, capsys, gzip_bomb):
    def bomb(handler, n, query):
        send(handler, gzip_bomb, headers={"Content-Encoding": "gzip"})

    stderr = stopped_on_page_2(serve, tmp_path, capsys, bomb)
    assert "256 MiB decompressed" in stderr and "on page 2" in stderr and "MemoryError" not in stderr


def test_gzip_within_the_cap_is_read(serve, tmp_path, capsys):
    def gzipped(handler, n, query):
        body = zlib.compress(page([sft_job("ftjob-zipped01", T0 - 1)], False), 9, wbits=16 + zlib.MAX_WBITS)
        send(handler, body, headers={"Content-Encoding": "gzip"})

    serve(first_page_then(gzipped))
    code, _, stderr = pull(capsys, tmp_path / "p")
    assert code == 0, stderr
    assert [e["id"] for e in json.loads((tmp_path / "p" / "index.json").read_text())] == [
        "ftjob-good0001", "ftjob-zipped01"]


@pytest.mark.parametrize("depth", [150, 200_000])
def test_deep_nesting_is_a_clear_stop_not_a_recursion_error(serve, tmp_path, capsys, depth):
    def deep(handler, n, query):
        nested = "[" * depth + "]" * depth
        send(handler, f'{{"object": "list", "data": [{nested}], "has_more": false}}'.encode())

    stderr = stopped_on_page_2(serve, tmp_path, capsys, deep)
    assert "nests JSON more than 100 levels" in stderr and "page 2" in stderr and "RecursionError" not in stderr


def test_a_negative_retry_after_means_retry_now(serve):
    def negative_then_page(handler, n, query):
        if n == 0:
            send(handler, b'{"error": {"message": "slow down"}}', 429, {"Retry-After": "-5"})
        else:
            send(handler, page([sft_job("ftjob-after0001")], False))

    server = serve(negative_then_page)
    waits = []
    jobs = list_jobs(Endpoint(base_url=server.url, api_key=KEY), sleep=waits.append)
    assert [j["id"] for j in jobs] == ["ftjob-after0001"] and waits == [0.0]


def test_limits_apply_to_the_api_call_too(serve):
    def forever(handler, n, query):
        send(handler, page([sft_job(f"ftjob-loop{n:06d}", T0 - n)], True))

    server = serve(forever)
    with pytest.raises(ListingStopped) as exc:
        list_jobs(Endpoint(base_url=server.url, api_key=KEY), limits=ListingLimits(max_pages=3, max_bytes=10**6))
    assert (exc.value.cause, exc.value.pages, len(exc.value.jobs)) == ("max_pages", 3, 3)
    with pytest.raises(ListingStopped) as exc:
        list_jobs(Endpoint(base_url=server.url, api_key=KEY), limits=ListingLimits(max_bytes=2000))
    assert exc.value.cause == "too_large" and exc.value.jobs  # the pages before the cap are kept


def test_a_server_that_echoes_the_key_gets_it_written_nowhere(serve, tmp_path, capsys):
    echoed = sft_job(KEY, T0 + 5)  # the id is the key
    echoed.update(status="failed", fine_tuned_model=None,
                  error={"message": f"invalid key {KEY}", "code": KEY, "param": None},
                  metadata={KEY: f"note {KEY}"}, user_provided_suffix=KEY, organization_id=KEY)
    also = sft_job("ftjob-" + KEY, T0 + 4)
    also["result_files"] = [KEY]

    def echo(handler, n, query):
        send(handler, page([echoed, also], False))

    serve(echo)
    out = tmp_path / "p"
    for extra in ([], ["--json"]):
        code, stdout, stderr = pull(capsys, out, *extra)
        assert code == 1  # the masked values are reported as problems; the jobs are saved
        names = [p.name for p in out.iterdir()]
        written = "".join(p.read_text() for p in out.iterdir())
        assert KEY not in written + stdout + stderr + "".join(names)
        assert "[REDACTED]" in written and "[REDACTED]" in stdout
        index = json.loads((out / "index.json").read_text())
        assert len(index) == 2 and len({e["file"] for e in index}) == 2
