"""`ftstudio serve` answers POST /verify in NeMo-Gym's resources-server shape (NeMo-Gym 0.7.0,
nemo_gym/base_resources_server.py; the package needs Python >= 3.13.14, so the shapes are the recorded ones):
the request is `{responses_create_params, response, ...}` with the row's fields at the top level, the answer
echoes it with `reward` (and `reward_components` for a multi). Rewards equal `ftstudio grade`'s."""

from __future__ import annotations

import json

import pytest
from openai.types.responses import Response
from serve_process import ServeProcess

from ftstudio.cli import main as ftstudio

GRADER = {"type": "multi", "name": "city", "calculate_output": "0.8 * exact + 0.2 * fuzzy", "graders": {
    "exact": {"type": "string_check", "name": "exact", "operation": "ilike",
              "input": "{{ sample.output_text }}", "reference": "{{ item.expected_answer }}"},
    "fuzzy": {"type": "text_similarity", "name": "fuzzy", "evaluation_metric": "fuzzy_match",
              "input": "{{ sample.output_text }}", "reference": "{{ item.expected_answer }}"}}}


def _response(text_parts: list[str]) -> dict:
    """A Responses-API response as NeMo-Gym's rollouts carry it (a reasoning item, then the message)."""
    return {"id": "resp_1", "object": "response", "created_at": 1767225600, "model": "policy", "status": "completed",
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "output": [{"type": "reasoning", "id": "rs_1", "summary": []},
                       {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": t, "annotations": []} for t in text_parts]}]}


def _request(answer: str, parts: list[str]) -> dict:
    # resources_servers/string_match/data/example.jsonl's row shape, plus the rollout's response
    return {"responses_create_params": {"input": [{"role": "user", "type": "message", "content": [
                {"type": "input_text", "text": "What is the capital of France?"}]}]},
            "expected_answer": answer, "extraction_mode": "boxed", "case_sensitive": False,
            "response": _response(parts)}


REQUESTS = [_request("Paris", ["paris"]), _request("Paris", ["The capital ", "is Lyon"]),
            {**_request("Rome", ["rome"]), "metadata": {"split": "val"}}]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d = tmp_path_factory.mktemp("nemo")
    (d / "grader.json").write_text(json.dumps(GRADER))
    rows = [{**{k: v for k, v in r.items() if k not in ("responses_create_params", "response")},
             "model_sample": "".join(p["text"] for p in r["response"]["output"][1]["content"])} for r in REQUESTS]
    (d / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert ftstudio(["grade", str(d / "grader.json"), str(d / "rows.jsonl"), "--out", str(d / "out.jsonl")]) == 0
    records = [json.loads(line) for line in (d / "out.jsonl").read_text().splitlines()]
    with ServeProcess(str(d / "grader.json"), "--port", "0", "--no-access-log") as server:
        yield server, records


def test_the_recorded_shapes_are_real_responses_api_objects():
    for request in REQUESTS:
        Response.model_validate(request["response"])


def test_verify_echoes_the_request_with_reward_and_components(served):
    server, records = served
    for request, record in zip(REQUESTS, records, strict=True):
        status, body = server.post("/verify", request)
        assert status == 200, body
        assert body.pop("reward") == record["reward"]
        assert body.pop("reward_components") == record["sub_rewards"]
        assert body == request  # echoed: responses_create_params, response and the row's fields
    assert records[0]["sub_rewards"]["exact"] == 1.0 and records[1]["reward"] < 0.5


def test_a_row_the_grader_cannot_score_says_so(served):
    server, _ = served
    request = {k: v for k, v in REQUESTS[0].items() if k != "expected_answer"}
    status, body = server.post("/verify", request)
    assert status == 200 and body["reward"] == 0.0
    assert body["failure_kind"] == "grader_error" and "invalid_variable_error" in body["failure_reason"]


@pytest.mark.parametrize("drop, param", [("response", "response"), ("responses_create_params",
                                                                    "responses_create_params")])
def test_a_request_without_the_envelope_is_a_400_naming_it(served, drop, param):
    server, _ = served
    status, body = server.post("/verify", {k: v for k, v in REQUESTS[0].items() if k != drop})
    assert status == 400 and body["error"]["param"] == param


def test_a_malformed_output_is_a_400_naming_its_path(served):
    server, _ = served
    request = {**REQUESTS[0], "response": {**REQUESTS[0]["response"], "output": "text"}}
    status, body = server.post("/verify", request)
    assert status == 400 and body["error"]["param"] == "response.output"


def test_the_exported_nemo_gym_smoke_run_starts_serve_and_scores_the_examples(tmp_path):
    """`python3 smoke.py` as the exported README says: it starts `ftstudio serve` and posts data/example.jsonl."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "grader.json").write_text(json.dumps(GRADER))
    out = tmp_path / "export"
    assert ftstudio(["export", str(tmp_path / "grader.json"), "--format", "nemo-gym", "-o", str(out)]) == 0
    assert ftstudio(["grade", str(out / "grader.json"), str(out / "example_rows.jsonl"), "--out",
                     str(tmp_path / "records.jsonl")]) == 0
    records = [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root, "HOME": str(tmp_path), "FTSTUDIO_HOME": str(tmp_path / ".ftstudio")}
    proc = subprocess.run([sys.executable, "smoke.py"], cwd=out, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [g["reward"] for g in got] == [r["reward"] for r in records]
    assert [{k: v for k, v in g.items() if k != "reward"} for g in got] == [r["sub_rewards"] for r in records]
