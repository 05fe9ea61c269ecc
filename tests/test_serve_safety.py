"""`ftstudio serve` under hostile or unlucky conditions, as a real process: tokens, non-loopback binds,
python graders that loop, hog memory or kill themselves, wall and concurrency limits, SIGTERM with requests
in flight, and worker processes that die."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import openai
import pytest

from tests.serve_process import ROOT, ServeProcess

TOKEN = "tok-" + "k3Y9" * 8
EXACT = {"type": "string_check", "name": "eq", "input": "{{sample.output_text}}",
         "reference": "{{item.reference_answer}}", "operation": "eq"}
PY_STEER = {"type": "python", "name": "steer", "source": (
    "import os, time\n"
    "def grade(sample, item):\n"
    "    what = item.get('do')\n"
    "    if what == 'loop':\n"
    "        while True:\n"
    "            pass\n"
    "    if what == 'hog':\n"
    "        blocks = [bytearray(64 * 1024 * 1024) for _ in range(10_000)]\n"
    "    if what == 'die':\n"
    "        os._exit(1)\n"
    "    if what == 'sleep':\n"
    "        time.sleep(float(item.get('seconds', 1)))\n"
    "    return 1.0 if sample['output_text'] == item.get('reference_answer') else 0.5\n")}


def write(tmp_path: Path, grader: dict) -> str:
    path = tmp_path / "grader.json"
    path.write_text(json.dumps(grader))
    return str(path)


@pytest.mark.slow
def test_token_required_and_compared(tmp_path):
    with ServeProcess(write(tmp_path, EXACT), "--port", "0", "--token-env", "SERVE_TEST_TOKEN",
                      env={"SERVE_TEST_TOKEN": TOKEN}) as s:
        body = {"sample": {"output_text": "a"}, "item": {"reference_answer": "a"}}
        for token in (None, "wrong", TOKEN[:-1], TOKEN + "x"):
            status, answer = s.post("/score", body, token=token)
            assert status == 401 and answer["error"]["code"] == "invalid_api_key"
            assert TOKEN not in json.dumps(answer)
        assert s.post("/score", body, token=TOKEN) == (200, {"score": 1.0})
        assert s.post("/score", body, headers={"api-key": TOKEN})[0] == 200
        assert s.get("/metrics")[0] == 401 and s.get("/metrics", token=TOKEN)[0] == 200
        assert s.get("/healthz")[0] == 401 and s.get("/healthz", token=TOKEN)[0] == 200  # every request
        c = openai.OpenAI(base_url=s.url + "/v1", api_key=TOKEN, max_retries=0)
        assert c.fine_tuning.alpha.graders.run(grader=EXACT, model_sample="a", item={"reference_answer": "a"}).reward == 1
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=s.url + "/v1", api_key="nope", max_retries=0).fine_tuning.alpha.graders.run(
                grader=EXACT, model_sample="a")
    assert not any(TOKEN in line for line in s.lines + s.errors)


@pytest.mark.slow
def test_non_loopback_needs_a_token(tmp_path):
    grader = write(tmp_path, EXACT)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("SERVE_UNSET_TOKEN", None)
    for extra in ([], ["--token-env", "SERVE_UNSET_TOKEN"]):
        done = subprocess.run([sys.executable, "-m", "ftstudio", "serve", grader, "--host", "0.0.0.0", "--port", "0",
                               *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 1
        assert "--token-env" in done.stderr or "SERVE_UNSET_TOKEN" in done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_non_loopback_refuses_request_python_code(tmp_path):
    with ServeProcess(write(tmp_path, EXACT), "--host", "0.0.0.0", "--port", "0", "--token-env", "SERVE_TEST_TOKEN",
                      env={"SERVE_TEST_TOKEN": TOKEN}) as s:
        multi = {"type": "multi", "name": "m", "calculate_output": "a", "graders": {"a": PY_STEER}}
        status, body = s.post("/v1/fine_tuning/alpha/graders/run", {"grader": multi, "model_sample": "x"}, token=TOKEN)
        assert status == 403 and body["error"]["param"] == "grader.graders.a"
        assert "--allow-request-code" in body["error"]["message"]
        status, body = s.post("/v1/grade", {"grader": EXACT, "rows": [{"model_sample": "a", "reference_answer": "a"}]},
                              token=TOKEN)
        assert status == 200 and body["records"][0]["reward"] == 1.0


@pytest.mark.slow
def test_python_grader_that_loops_hogs_or_dies_harms_only_its_rows(tmp_path):
    with ServeProcess(write(tmp_path, PY_STEER), "--port", "0", "--python-timeout", "3",
                      "--python-memory-mb", "400") as s:
        rows = [{"model_sample": "a", "reference_answer": "a"}, {"model_sample": "a", "do": "loop"},
                {"model_sample": "a", "do": "hog"}, {"model_sample": "a", "do": "die"},
                {"model_sample": "b", "reference_answer": "b"}]
        status, body = s.post("/v1/grade", {"rows": rows})
        assert status == 200
        records = body["records"]
        assert [r["reward"] for r in records] == [1.0, 0.0, 0.0, 0.0, 1.0]
        assert records[0]["errors"] == [] and records[4]["errors"] == []
        for r in records[1:4]:
            assert r["errors"] and r["errors"][0].startswith("python_grader_")
        assert "3" in json.dumps(records[1]["error_details"])  # the per-call wall limit is named
        # The worker that died was replaced: the next request is graded normally.
        assert s.post("/score", {"sample": {"output_text": "z"}, "item": {"reference_answer": "z"}}) == \
            (200, {"score": 1.0})
        assert s.get("/healthz")[0] == 200


@pytest.mark.slow
def test_wall_limit_and_concurrency_limit(tmp_path):
    with ServeProcess(write(tmp_path, PY_STEER), "--port", "0", "--request-timeout", "1",
                      "--max-concurrency", "1") as s:
        slow = {"sample": {"output_text": "a"}, "item": {"do": "sleep", "seconds": 3}}
        results: list = []
        t = threading.Thread(target=lambda: results.append(s.post("/score", slow)))
        t.start()
        time.sleep(0.4)
        status, headers, content = s.request("POST", "/score", {"sample": {"output_text": "a"}, "item": {}})
        assert status == 429 and headers["retry-after"] == "1"
        assert json.loads(content)["error"]["code"] == "rate_limit_exceeded"
        t.join(30)
        status, body = results[0]
        assert status == 504 and body["error"]["code"] == "request_timeout" and "--request-timeout" in \
            body["error"]["message"]
        time.sleep(3)  # the cancelled call ends; the server answers normally again
        assert s.post("/score", {"sample": {"output_text": "a"}, "item": {"reference_answer": "a"}}) == \
            (200, {"score": 1.0})


@pytest.mark.slow
def test_sigterm_drains_requests_in_flight_then_exits_zero(tmp_path):
    s = ServeProcess(write(tmp_path, PY_STEER), "--port", "0")
    try:
        results: list = []
        body = {"sample": {"output_text": "a"}, "item": {"do": "sleep", "seconds": 1.5, "reference_answer": "a"}}
        threads = [threading.Thread(target=lambda: results.append(s.post("/score", body))) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        s.proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(60)
        assert results == [(200, {"score": 1.0})] * 3
        assert s.proc.wait(60) == 0
        with pytest.raises(OSError):
            s.request("GET", "/healthz", timeout=2)
    finally:
        s.kill()


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.update(int(p) for p in text)
    # uvicorn's workers, not multiprocessing's resource tracker
    return {p for p in out if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()}


@pytest.mark.slow
def test_workers_share_the_port_and_a_killed_worker_is_replaced(tmp_path):
    with ServeProcess(write(tmp_path, EXACT), "--port", "0", "--workers", "2") as s:
        body = {"sample": {"output_text": "a"}, "item": {"reference_answer": "a"}}
        assert all(s.post("/score", body) == (200, {"score": 1.0}) for _ in range(20))
        deadline = time.monotonic() + 30
        while len(workers := _children(s.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) >= 2
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        while time.monotonic() < deadline:
            now = _children(s.proc.pid)
            if victim not in now and len(now) >= len(workers):
                break
            time.sleep(0.2)
        assert victim not in now and len(now) >= len(workers)
        assert all(s.post("/score", body) == (200, {"score": 1.0}) for _ in range(20))
        text = s.get("/metrics")[1].decode()
        assert "ftstudio_serve_requests_total" in text
    assert s.proc.returncode == 0


@pytest.mark.slow
def test_server_without_a_grader(tmp_path):
    with ServeProcess("--port", "0") as s:
        assert json.loads(s.get("/readyz")[1]) == {"status": "ready", "grader": None}
        status, body = s.post("/score", {"sample": {"output_text": "a"}, "item": {}})
        assert status == 400 and body["error"]["code"] == "no_server_grader"
        status, body = s.post("/v1/grade", {"grader": EXACT, "rows": [{"model_sample": "a", "reference_answer": "a"}]})
        assert status == 200 and body["records"][0]["reward"] == 1.0


@pytest.mark.slow
def test_invalid_server_grader_refuses_to_start(tmp_path):
    bad = dict(EXACT, operation="eqq")
    done = subprocess.run([sys.executable, "-m", "ftstudio", "serve", write(tmp_path, bad), "--port", "0"], cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "operation" in done.stderr and "Traceback" not in done.stderr
