"""--batch at scale (issue 23): the input file is uploaded from one buffer (retried from its start), result files are
read as they download (never held whole; a download that breaks off is read again from its first line, without
counting anything twice), and requests are told apart in memory that does not grow with the rows."""

import json
import threading
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ftstudio.api import Endpoint, ModelCache, cache_key, read_result_file, result_lines
from ftstudio.grading import plan_batch, submit_all
from ftstudio.grading._batched import collect

MODEL = "gpt-4.1-mini-2025-04-14"
JUDGE = {"type": "score_model", "name": "judge", "model": MODEL, "range": [0, 10],
         "input": [{"role": "user", "content": "Score {{sample.output_text}}"}]}


def no_sleep(_seconds):
    return None


def answer_line(cid: str, content: str) -> bytes:
    body = {"id": "chatcmpl-1", "object": "chat.completion", "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}
    return json.dumps({"id": f"req_{cid}", "custom_id": cid, "response": {"status_code": 200, "body": body},
                       "error": None}, ensure_ascii=False).encode() + b"\n"


class FileServer:
    """Serves GET /v1/files/<id>/content from `files`; the first `break_first` answers send half the body and close."""

    def __init__(self, files: dict[str, bytes], break_first: int = 0):
        self.files, self.break_first, self.gets = files, break_first, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                outer.gets += 1
                data = outer.files[self.path.split("/")[3]]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if outer.gets <= outer.break_first:
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = Endpoint(base_url=f"http://127.0.0.1:{self.server.server_address[1]}/v1", api_key="sk-test")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve_files():
    made = []

    def start(files, break_first=0):
        made.append(FileServer(files, break_first))
        return made[-1]

    yield start
    for server in made:
        server.close()


def test_a_download_that_breaks_off_is_read_again_from_its_first_line(serve_files, tmp_path):
    lines = b"".join(answer_line(f"c{i}", str(i % 10)) for i in range(3000))
    server = serve_files({"file-out": lines}, break_first=1)
    cache = ModelCache(tmp_path / "cache.sqlite")
    stored, failed = collect(server.endpoint, {"id": "batch_1", "output_file_id": "file-out", "error_file_id": None},
                             cache, sleep=no_sleep)
    assert server.gets == 2  # broke off once, then read whole
    assert (stored, failed) == (3000, [])  # not 4,500: the half read first is not counted again
    got = cache.get_many([f"c{i}" for i in range(3000)])
    assert len(got) == 3000 and got["c1234"]["value"]["content"] == "4"


def test_lines_split_at_newlines_only(serve_files):
    # A JSON string may hold a raw U+2028 or U+0085; str.splitlines (the old reading) cut the line there.
    server = serve_files({"file-out": answer_line("a", "one\u2028two\x85three") + answer_line("b", "x")})
    got = result_lines(server.endpoint, {"id": "batch_1", "output_file_id": "file-out", "error_file_id": ""})
    assert [g["custom_id"] for g in got] == ["a", "b"]
    assert got[0]["response"]["body"]["choices"][0]["message"]["content"] == "one\u2028two\x85three"


def test_a_line_that_is_not_json_is_named(serve_files):
    server = serve_files({"file-out": answer_line("a", "x") + b"{not json\n"})
    from ftstudio.api import ApiError

    with pytest.raises(ApiError, match="batch batch_9: line 2 of file-out is not JSON"):
        result_lines(server.endpoint, {"id": "batch_9", "output_file_id": "file-out"})


def test_a_big_result_file_is_never_held_whole(serve_files, tmp_path):
    # 20,000 answers, about 7 MB of JSONL (hundreds of MB in a real batch): the old reading held the text, its lines and
    # every parsed line at once, several times the file.
    lines = b"".join(answer_line(f"c{i}", "7 " + "words " * 20) for i in range(20_000))
    server = serve_files({"file-out": lines})
    cache = ModelCache(tmp_path / "cache.sqlite")
    tracemalloc.start()
    try:
        stored, _failed = collect(server.endpoint, {"id": "b", "output_file_id": "file-out"}, cache)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored == 20_000
    assert peak < len(lines) / 3, f"peak {peak:,} bytes for a file of {len(lines):,}"


def test_read_result_file_hands_over_lines_as_they_come(serve_files):
    server = serve_files({"file-out": b"".join(answer_line(f"c{i}", "1") for i in range(5))})
    seen = read_result_file(server.endpoint, "b", "file-out", lambda lines: [line["custom_id"] for line in lines])
    assert seen == ["c0", "c1", "c2", "c3", "c4"]


def test_a_retried_upload_sends_the_whole_file(openai_stub, tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    endpoint = Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key)
    rows = [{"model_sample": f"answer {i}"} for i in range(40)]
    openai_stub.fail_next(500, path="/files")
    [batch] = submit_all(JUDGE, [rows], "model_sample", endpoint, sleep=no_sleep)
    sent = openai_stub.files[batch["input_file_id"]]["_content"].decode().splitlines()
    assert len(sent) == 40 and json.loads(sent[39])["body"]["messages"][0]["content"] == "Score answer 39"


def test_requests_are_counted_once_across_and_within_chunks(tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    endpoint = Endpoint(base_url="http://127.0.0.1:9/v1", api_key="sk-test")  # nothing is sent: planning only
    chunks = [[{"model_sample": s} for s in ("a", "b", "a")], [{"model_sample": s} for s in ("b", "c")], []]
    est = plan_batch(JUDGE, chunks, "model_sample", endpoint)
    assert (est.requests, est.cached) == (3, 0)
    # One already answered in the cache: counted as cached, not sent.
    cache = ModelCache()
    from ftstudio.grading import model_requests

    [req] = model_requests(JUDGE, [{"model_sample": "c"}], "model_sample")
    cache.put_many({cache_key(endpoint, "chat", req): {"value": {"content": "1"}, "usage": {}, "model": MODEL}})
    est = plan_batch(JUDGE, chunks, "model_sample", endpoint)
    assert (est.requests, est.cached) == (2, 1)
