"""`ftstudio sample` against the stub: K rows per input row with a group id, an estimate first, the model
runner's cache, and a clean Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ftstudio.probes import estimate_samples, prompt_messages
from tests.cli_helper import stub_cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli(openai_stub, tmp_path, monkeypatch, capsys):
    return stub_cli(openai_stub, tmp_path, monkeypatch, capsys)
MODEL = "gpt-4.1-mini-2025-04-14"


def write_rows(tmp_path, n=3):
    rows = [{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"Question {i}?"},
                          {"role": "assistant", "content": "an old answer"}], "reference": str(i)} for i in range(n)]
    rows.append({"reference": "no messages"})
    p = tmp_path / "d.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


def test_prompt_is_up_to_the_last_user_message():
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    assert prompt_messages(row) == [{"role": "user", "content": "q"}]
    assert prompt_messages({"messages": [{"role": "system", "content": "s"}]}) is None
    est = estimate_samples([row, {"x": 1}], 4, max_tokens=10, input_price=1.0, output_price=2.0)
    assert est.requests == 1 and est.skipped == 1 and est.completion_tokens == 40
    assert est.cost == (est.prompt_tokens * 1.0 + 40 * 2.0) / 1e6


def test_sample_writes_k_rows_per_input_row(openai_stub, tmp_path, cli):
    openai_stub.distinct_choices = True
    data, out = write_rows(tmp_path), tmp_path / "out.jsonl"
    res = cli("sample", str(data), "--model", MODEL, "--n", "3", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "3 requests for 3 rows" in res.stderr and "prompt tokens" in res.stderr and "cost" in res.stderr
    assert "1 rows have no user message" in res.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 9 and [r["group"] for r in rows] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert len({r["model_sample"] for r in rows[:3]}) == 3  # three distinct samples of one prompt
    assert rows[0]["reference"] == "0" and rows[0]["messages"][-1]["content"] == "an old answer"
    sent = openai_stub.requests_to("/chat/completions")
    assert len(sent) == 3 and all(r.json["n"] == 3 and r.json["messages"][-1]["role"] == "user" for r in sent)
    # The disk cache of the model graders: a rerun sends nothing.
    again = cli("sample", str(data), "--model", MODEL, "--n", "3", "--out", str(out))
    assert again.returncode == 0 and len(openai_stub.requests_to("/chat/completions")) == 3
    assert "answers from the cache" in again.stderr
    # The samples feed calibration's group analysis directly.
    grader = tmp_path / "g.json"
    grader.write_text(json.dumps({"type": "string_check", "name": "g", "input": "{{sample.output_text}}",
                                  "reference": "{{item.reference}}", "operation": "like"}))
    graded = cli("grade", str(grader), str(out), "--json", "--group-field", "group")
    groups = json.loads(graded.stdout)["summary"]["calibration"]["groups"]
    assert groups["groups"] == 3 and groups["by"] == "group"


def test_sample_api_failure_and_bad_data(openai_stub, tmp_path, cli):
    openai_stub.unknown_models.add("nope")
    res = cli("sample", str(write_rows(tmp_path)), "--model", "nope")
    assert res.returncode == 3 and "nope" in res.stderr
    assert cli("sample", str(tmp_path / "missing.jsonl"), "--model", MODEL).returncode == 2


# A process started with SIGINT ignored (what a script's background job inherits) must cancel too: Python
# installs no handler then, so `sample` installs its own.
IGNORING_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                   "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")


@pytest.mark.slow
@pytest.mark.parametrize("start", ["default", "sigint-ignored"])
def test_ctrl_c_cancels_cleanly(openai_stub, tmp_path, start):
    """The second request is held by the stub until `sample` says it is cancelling: exactly two are sent
    and both answers are written, whatever the machine's speed."""
    openai_stub.hold_next(times=40, path="/chat/completions", skip=1)
    data, out = write_rows(tmp_path, 40), tmp_path / "out.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI"))}
    env.update(OPENAI_API_KEY=openai_stub.api_key, OPENAI_BASE_URL=openai_stub.base_url,
               FTSTUDIO_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    prefix = [sys.executable] if start == "default" else [sys.executable, "-c", IGNORING_SIGINT]
    proc = subprocess.Popen([*prefix, "-m", "ftstudio", "sample", str(data), "--model", MODEL, "--out", str(out),
                             "--concurrency", "1"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    cancelling = threading.Event()

    def read() -> None:
        for line in proc.stderr or ():
            seen.append(line)
            if "cancelling" in line:
                cancelling.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while len(openai_stub.requests_to("/chat/completions")) < 2 and proc.poll() is None:
            time.sleep(0.02)  # polling a condition; the held request keeps the process busy meanwhile
        proc.send_signal(signal.SIGINT)
        cancelled = cancelling.wait(60)  # a guard against a hang, not a timing assumption
    finally:
        openai_stub.release()
    if not cancelled:
        proc.kill()
    proc.wait(60)
    reader.join(60)
    stderr = "".join(seen)
    assert cancelled, stderr
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert len(openai_stub.requests_to("/chat/completions")) == 2
    assert len(out.read_text().splitlines()) == 2  # the answer in flight is kept


def test_ctrl_c_before_sending_sends_nothing(openai_stub, tmp_path, cli, monkeypatch):
    import ftstudio.probes

    before = signal.getsignal(signal.SIGINT)
    real = ftstudio.probes.estimate_samples

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # delivered here, in the main thread, before anything is sent
        return real(*args, **kwargs)

    monkeypatch.setattr(ftstudio.probes, "estimate_samples", interrupted)
    res = cli("sample", str(write_rows(tmp_path)), "--model", MODEL, "--out", str(tmp_path / "o.jsonl"))
    assert res.returncode == 130 and "interrupted" in res.stderr
    assert not openai_stub.requests_to("/chat/completions")
    assert signal.getsignal(signal.SIGINT) is before  # the command's handler is gone again


def test_servers_that_ignore_n_get_seeded_follow_ups(openai_stub, tmp_path, monkeypatch):
    from ftstudio.api import Endpoint
    from ftstudio.probes import generate

    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    openai_stub.distinct_choices = openai_stub.ignore_n = True
    rows = [{"messages": [{"role": "user", "content": f"Q{i}"}]} for i in range(2)]
    run_ = generate(rows, MODEL, 3, endpoint=Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key))
    assert [r["group"] for r in run_.rows] == [0, 0, 0, 1, 1, 1] and not run_.failed
    assert len({r["model_sample"] for r in run_.rows[:3]}) == 3
    seeds = sorted(r.json.get("seed", -1) for r in openai_stub.requests_to("/chat/completions"))
    assert seeds == [-1, -1, 1, 1, 2, 2]
