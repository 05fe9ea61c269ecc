"""`ftstudio grade --batch` / `--batch-id` against the stub's Batch API: same records as live calls."""

import json
from pathlib import Path

import openai
import pytest

from ftstudio.api import Endpoint, batch_lines, batch_url, result_lines, wait_batch
from ftstudio.grading import pending_requests, plan_batch, run_batch, submit_all
from tests.cli_helper import stub_cli

MODEL = "gpt-4.1-mini-2025-04-14"
JUDGE = {"type": "score_model", "name": "judge", "model": MODEL, "range": [0, 10],
         "input": [{"role": "system", "content": "Score the answer against {{item.reference}}."},
                   {"role": "user", "content": "{{sample.output_text}}"}]}
MULTI = {"type": "multi", "name": "both", "calculate_output": "0.5 * exact + 0.05 * judge",
         "graders": {"exact": {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
                               "reference": "{{item.reference}}", "operation": "eq"},
                     "judge": JUDGE,
                     "label": {"type": "label_model", "name": "label", "model": MODEL, "labels": ["good", "bad"],
                               "passing_labels": ["good"],
                               "input": [{"role": "user", "content": "Label {{sample.output_text}}"}]}}}


def rows(n=12):
    out = [{"reference": str(i), "model_sample": str(i if i % 3 else i + 1)} for i in range(n)]
    if n > 4:
        out[4]["model_sample"] = "[[refuse]]"  # a refusal is an answer too: same record either way
    return out


@pytest.fixture
def cli(openai_stub, tmp_path, monkeypatch, capsys):
    return stub_cli(openai_stub, tmp_path, monkeypatch, capsys)


def files(tmp_path, grader=MULTI):
    data, g = tmp_path / "d.jsonl", tmp_path / "g.json"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows()))
    g.write_text(json.dumps(grader))
    return str(g), str(data)


def records(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_batch_grade_equals_live_grade(openai_stub, tmp_path, cli):
    g, data = files(tmp_path)
    live = cli("grade", g, data, "--out", str(tmp_path / "live.jsonl"), cache="live")
    assert live.returncode == 0, live.stderr
    live_chats = len(openai_stub.requests_to("/chat/completions"))
    assert live_chats == 21  # 12 rows x 2 model graders, identical label requests sent once
    res = cli("grade", g, data, "--batch", "--poll-interval", "0", "--out", str(tmp_path / "batch.jsonl"),
              cache="batch")
    assert res.returncode == 0, res.stderr
    assert "21 model-grader requests" in res.stderr and "created batch batch_" in res.stderr
    assert "completed: 21 answers stored" in res.stderr
    assert len(openai_stub.requests_to("/chat/completions")) == live_chats  # nothing went live
    assert records(tmp_path / "batch.jsonl") == records(tmp_path / "live.jsonl")
    (batch,) = openai_stub.batches.values()
    assert batch["endpoint"] == "/v1/chat/completions" and batch["status"] == "completed"
    upload = openai_stub.files[batch["input_file_id"]]
    assert upload["purpose"] == "batch"
    lines = [json.loads(x) for x in upload["_content"].decode().splitlines()]
    assert {x["url"] for x in lines} == {"/v1/chat/completions"} and len({x["custom_id"] for x in lines}) == 21
    assert all(x["body"]["model"] == MODEL and x["body"]["response_format"]["type"] == "json_schema" for x in lines)
    # Everything is cached now: a second --batch needs no batch at all.
    again = cli("grade", g, data, "--batch", "--poll-interval", "0", cache="batch")
    assert again.returncode == 0 and "no batch needed" in again.stderr and len(openai_stub.batches) == 1


def test_batch_id_resumes_an_existing_batch(openai_stub, tmp_path, cli):
    g, data = files(tmp_path, JUDGE)
    endpoint = Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key)
    from ftstudio.datasets import iter_rows

    pending, cached = pending_requests(JUDGE, iter_rows(data), "model_sample", endpoint)
    assert len(pending) == 12 and cached == 0
    client = openai.OpenAI(base_url=openai_stub.base_url, api_key=openai_stub.api_key)
    f = client.files.create(file=("in.jsonl", batch_lines(pending, batch_url(endpoint))), purpose="batch")
    batch = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    res = cli("grade", g, data, "--batch-id", batch.id, "--poll-interval", "0", "--json")
    assert res.returncode == 0, res.stderr
    assert len(openai_stub.requests_to("/chat/completions")) == 0
    assert json.loads(res.stdout)["summary"]["count"] == 12
    assert cli("grade", g, data, "--batch-id", "batch_nope", "--poll-interval", "0").returncode == 3


def test_azure_style_batch_and_failed_lines(openai_stub, tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    openai_stub.azure_batches = True
    endpoint = Endpoint(base_url=openai_stub.url, api_key=openai_stub.api_key, kind="azure",
                        api_version="2025-04-01-preview")
    assert batch_url(endpoint) == "/chat/completions"
    data = rows(4)
    data[1]["model_sample"] = "[[status:400]]"
    outcome = run_batch(JUDGE, [data], "model_sample", endpoint, poll=0)
    (batch,) = outcome.batches
    assert batch["status"] == "completed" and outcome.stored == 3 and not outcome.unfinished
    assert len(outcome.failed) == 1 and "HTTP 400" in outcome.failed[0][1]
    # Azure sends "" for a missing file and the error file exists even when empty.
    done = wait_batch(endpoint, batch["id"], poll=0)
    assert len(result_lines(endpoint, done)) == 4


def test_failed_batch_is_reported(openai_stub, tmp_path, cli):
    g, data = files(tmp_path, JUDGE)
    openai_stub.fail_next(400, times=1, path="/v1/batches")
    res = cli("grade", g, data, "--batch", "--poll-interval", "0")
    assert res.returncode == 3 and "create the batch" in res.stderr
    assert openai_stub.requests_to("/chat/completions") == []  # nothing went live instead



@pytest.mark.slow
def test_big_gradings_split_into_several_batches(openai_stub, tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    endpoint = Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key)
    data = rows(12)
    est = plan_batch(JUDGE, [data[:6], data[6:]], "model_sample", endpoint)
    assert est.requests == 12 and est.cached == 0 and est.prompt_tokens > 12 and est.models == [MODEL]
    created = submit_all(JUDGE, [data[:6], data[6:]], "model_sample", endpoint, max_requests=5)
    assert len(created) == 3 and [json.loads(openai_stub.files[b["input_file_id"]]["_content"].decode()
                                             .splitlines()[0])["method"] for b in created] == ["POST"] * 3
    sizes = [len(openai_stub.files[b["input_file_id"]]["_content"].decode().splitlines()) for b in created]
    assert sizes == [5, 5, 2]
    outcome = run_batch(JUDGE, [], "model_sample", endpoint, batch_ids=[b["id"] for b in created], poll=0)
    assert outcome.stored == 12 and len(outcome.batches) == 3
    assert plan_batch(JUDGE, [data], "model_sample", endpoint).cached == 12
