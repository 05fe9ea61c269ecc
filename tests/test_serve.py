"""`ftstudio serve` as a real process on 127.0.0.1: the openai SDK against run/validate, Azure- and
OpenRLHF-shaped requests and batches, all equal to `ftstudio grade` on the same rows; bad requests."""

from __future__ import annotations

import json
import re

import openai
import pytest
from openai.types.fine_tuning.alpha import GraderRunResponse

from ftstudio.cli import main
from ftstudio.core import REWARD_TOLERANCE
from tests.serve_process import ServeProcess

GRADER = {
    "type": "multi", "name": "mixed", "calculate_output": "0.5 * exact + 0.3 * fuzzy + 0.2 * length",
    "graders": {
        "exact": {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
                  "reference": "{{item.reference_answer}}", "operation": "eq"},
        "fuzzy": {"type": "text_similarity", "name": "fuzzy", "input": "{{sample.output_text}}",
                  "reference": "{{item.reference_answer}}", "evaluation_metric": "fuzzy_match"},
        "length": {"type": "python", "name": "length",
                   "source": "def grade(sample, item):\n    return min(len(sample['output_text']), 10) / 10\n"},
    },
}
ROWS = [
    {"model_sample": "Paris", "reference_answer": "Paris"},
    {"model_sample": "paris, France", "reference_answer": "Paris"},
    {"model_sample": "Lyon", "reference_answer": "Paris"},
    {"model_sample": "{\"city\": \"Paris\"}", "reference_answer": "Paris"},
    {"model_sample": "", "reference_answer": "Berlin"},
]
STRING_CHECK = {"type": "string_check", "name": "eq", "input": "{{sample.output_text}}",
                "reference": "{{item.reference_answer}}", "operation": "eq"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("serve")
    (d / "grader.json").write_text(json.dumps(GRADER))
    (d / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return d


@pytest.fixture(scope="module")
def cli_records(files):
    assert main(["grade", str(files / "grader.json"), str(files / "rows.jsonl"), "--out",
                 str(files / "out.jsonl")]) == 0
    return [json.loads(line) for line in (files / "out.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def server(files):
    # The requests below send graders holding python: that needs --allow-request-code (off by default).
    with ServeProcess(str(files / "grader.json"), "--port", "0", "--max-body-mb", "1", "--max-rows", "50",
                      "--allow-request-code") as s:
        yield s


def client(server, **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0, **kw)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= REWARD_TOLERANCE


def item_of(row):
    return {k: v for k, v in row.items() if k != "model_sample"}


def test_sdk_run_returns_typed_response_equal_to_cli(server, cli_records):
    c = client(server, _strict_response_validation=True)
    for row, rec in zip(ROWS, cli_records):
        r = c.fine_tuning.alpha.graders.run(grader=GRADER, model_sample=row["model_sample"], item=item_of(row))
        assert isinstance(r, GraderRunResponse)
        assert close(r.reward, rec["reward"])
        assert set(r.sub_rewards) == set(rec["sub_rewards"])
        assert all(close(r.sub_rewards[k], v) for k, v in rec["sub_rewards"].items())
        assert r.metadata.name == "mixed" and r.metadata.type == "multi"
        assert r.metadata.errors.python_grader_runtime_error is False
        assert r.metadata.scores == r.sub_rewards
    assert any(rec["reward"] not in (0.0, 1.0) for rec in cli_records)  # the rows exercise every sub-grader


def test_run_under_azure_prefix_and_error_flags(server):
    grader = dict(STRING_CHECK, reference="{{item.missing.deeper}}")
    status, body = server.post("/openai/v1/fine_tuning/alpha/graders/run",
                               {"grader": grader, "model_sample": "a", "item": {}})
    assert status == 200
    assert body["reward"] == 0.0
    flags = body["metadata"]["errors"]
    assert flags["invalid_variable_error"] is True
    assert len(flags) == 14 and body["model_grader_token_usage_per_model"] == {}


def test_run_python_failure_is_a_flag_with_details(server):
    grader = {"type": "python", "name": "boom", "source": "def grade(sample, item):\n    raise ValueError('nope')\n"}
    r = client(server).fine_tuning.alpha.graders.run(grader=grader, model_sample="x")
    assert r.reward == 0.0
    assert r.metadata.errors.python_grader_runtime_error is True
    assert "nope" in (r.metadata.errors.python_grader_runtime_error_details or "")


def test_sdk_validate(server):
    c = client(server)
    assert c.fine_tuning.alpha.graders.with_raw_response.validate(grader=GRADER).http_response.json() == \
        {"grader": GRADER}
    bad = json.loads(json.dumps(GRADER))
    bad["graders"]["exact"]["operation"] = "eqq"
    with pytest.raises(openai.BadRequestError) as info:
        c.fine_tuning.alpha.graders.validate(grader=bad)
    assert info.value.status_code == 400
    assert info.value.param == "grader.graders.exact.operation"
    assert info.value.body["type"] == "invalid_request_error" and info.value.code


def test_run_invalid_grader_names_the_path(server):
    bad = {"type": "multi", "name": "m", "calculate_output": "a +* b", "graders": {"a": STRING_CHECK}}
    with pytest.raises(openai.BadRequestError) as info:
        client(server).fine_tuning.alpha.graders.run(grader=bad, model_sample="x")
    assert info.value.param == "grader.calculate_output"


def test_azure_score_equals_cli(server, cli_records):
    for i, (row, rec) in enumerate(zip(ROWS, cli_records)):
        sample = {"choices": [{"index": 0, "message": {"role": "assistant", "content": row["model_sample"],
                                                       "tool_calls": []}, "finish_reason": "stop"}],
                  "output_text": row["model_sample"], "output_json": None, "output_tools": [],
                  "output_reasoning_summary": None}
        status, body = server.post("/score", {"sample": sample, "item": item_of(row), "trace_id": f"trace_{i}"})
        assert status == 200 and set(body) == {"score"}
        assert close(body["score"], rec["reward"])


def test_openrlhf_equals_cli(server, cli_records):
    prompts = [f"<|user|>question {i}<|assistant|>" for i in range(len(ROWS))]
    queries = [p + r["model_sample"] for p, r in zip(prompts, ROWS)]
    labels = [json.dumps(item_of(r)) if i % 2 else r["reference_answer"] for i, r in enumerate(ROWS)]
    status, body = server.post("/openrlhf", {"query": queries, "prompts": prompts, "labels": labels})
    assert status == 200
    assert len(body["rewards"]) == len(ROWS) and body["scores"] == body["rewards"]
    assert all(close(a, rec["reward"]) for a, rec in zip(body["rewards"], cli_records))
    assert set(body["extra_logs"]) == {"exact", "fuzzy", "length", "grader_error"}
    assert all(len(v) == len(ROWS) for v in body["extra_logs"].values())


def test_batch_records_equal_cli_out(server, cli_records):
    expected = [{k: v for k, v in rec.items() if k != "line"} for rec in cli_records]
    status, body = server.post("/v1/grade", {"rows": ROWS})
    assert status == 200
    assert body["records"] == expected
    assert body["summary"]["count"] == len(ROWS)
    # A grader in the request, another sample field, a bad row: a row with an error, not a failure.
    rows = [{"out": r["model_sample"], "reference_answer": r["reference_answer"]} for r in ROWS] + [7]
    status, body = server.post("/v1/grade", {"grader": STRING_CHECK, "sample_field": "out", "rows": rows})
    assert [r["reward"] for r in body["records"]] == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert body["records"][-1]["errors"] == ["other_error"]


def test_batch_ndjson_streams_the_same_records(server, cli_records):
    status, headers, content = server.request("POST", "/v1/grade", {"rows": ROWS * 10},
                                              headers={"accept": "application/x-ndjson"})
    assert status == 200 and headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in content.decode().splitlines()]
    assert [r["row"] for r in lines] == list(range(len(ROWS) * 10))
    assert all(close(r["reward"], cli_records[r["row"] % len(ROWS)]["reward"]) for r in lines)


@pytest.mark.parametrize(("path", "raw", "param", "code"), [
    ("/v1/grade", b'{"rows": [', None, "invalid_json"),
    ("/v1/grade", b"", None, "invalid_json"),
    ("/v1/grade", b"[1, 2]", "body", "invalid_type"),
    ("/v1/grade", b'{"rows": {"a": 1}}', "rows", "invalid_type"),
    ("/v1/grade", b'{"rows": [], "sample_field": 3}', "sample_field", "invalid_type"),
    ("/v1/grade", b'{"rows": [], "grader": {"type": "string_check", "name": "x"}}', "grader.input", None),
    ("/v1/fine_tuning/alpha/graders/run", b'{"model_sample": "x"}', "grader", "missing_required_parameter"),
    ("/v1/fine_tuning/alpha/graders/run", b'{"grader": {}, "model_sample": 3}', "model_sample", "invalid_type"),
    ("/v1/fine_tuning/alpha/graders/run", b'{"grader": "eq", "model_sample": "x"}', "grader", None),
    ("/v1/fine_tuning/alpha/graders/run", b'{"grader": {"type": "string_check"}, "model_sample": "x", "item": []}',
     "item", "invalid_type"),
    ("/v1/fine_tuning/alpha/graders/validate", b"{}", "grader", "missing_required_parameter"),
    ("/score", b'{"item": {}}', "sample", "missing_required_parameter"),
    ("/score", b'{"sample": {"output_text": "x"}, "item": "no"}', "item", "invalid_type"),
    ("/openrlhf", b'{"query": ["a", "b"], "prompts": ["a"]}', "prompts", "invalid_value"),
    ("/openrlhf", b'{"query": [1]}', "query[0]", "invalid_type"),
    ("/openrlhf", b'{"prompts": []}', "query", "missing_required_parameter"),
    ("/openrlhf", b"[" * 100_000, None, "invalid_json"),
])
def test_bad_requests_are_400_naming_the_path(server, path, raw, param, code):
    status, headers, content = server.request("POST", path, raw=raw)
    assert status == 400, content
    error = json.loads(content)["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert error["param"] == param
    if code:
        assert error["code"] == code
    assert server.get("/healthz")[0] == 200


def test_limits_are_413_with_the_limit(server):
    status, body = server.post("/v1/grade", {"rows": [{"model_sample": "x" * 1000}] * 1200})
    assert status == 413 and body["error"]["code"] == "request_too_large"
    assert "1,048,576 bytes" in body["error"]["message"]
    status, body = server.post("/v1/grade", {"rows": ROWS * 11})
    assert status == 413 and body["error"]["param"] == "rows" and "50 rows" in body["error"]["message"]
    status, body = server.post("/openrlhf", {"query": ["x"] * 51})
    assert status == 413 and body["error"]["code"] == "too_many_rows"


def test_unknown_path_and_method(server):
    status, body = server.post("/v1/nothing", {})
    assert status == 404 and body["error"]["code"] == "not_found"
    status, _, content = server.request("GET", "/score")
    assert status == 405 and json.loads(content)["error"]["code"] == "method_not_allowed"


def test_health_ready_metrics_and_access_log(server):
    assert json.loads(server.get("/healthz")[1]) == {"status": "ok"}
    ready = json.loads(server.get("/readyz")[1])
    assert ready == {"status": "ready", "grader": {"name": "mixed", "type": "multi"}}
    server.post("/v1/grade", {"rows": ROWS + [{"nothing": 1}]})
    text = server.get("/metrics")[1].decode()
    assert re.search(r'ftstudio_serve_requests_total\{method="POST",path="/v1/grade",status="200"\} \d', text)
    assert re.search(r'ftstudio_serve_rows_total\{path="/v1/grade"\} \d', text)
    assert 'ftstudio_serve_request_seconds_bucket{le="0.005",path="/v1/grade"}' in text
    assert re.search(r'ftstudio_serve_row_errors_total\{code="other_error"\} [1-9]', text)
    server.request("POST", "/v1/grade", raw=b"{")
    text = server.get("/metrics")[1].decode()
    assert re.search(r'ftstudio_serve_request_errors_total\{code="invalid_json"\} [1-9]', text)
    log = [line for line in server.lines if re.match(r"^(GET|POST) /", line)]
    assert log, server.lines
    assert all(re.match(r"^(GET|POST) \S+ \d{3} rows=\d+ \d+\.\d+ms$", line) for line in log)
    assert any(line.startswith("POST /v1/grade 200 rows=6 ") for line in log)
    assert not any("Paris" in line or "reference_answer" in line for line in server.lines + server.errors)


@pytest.mark.slow  # imports torch for the adapter's tensors
def test_openrlhf_equals_the_openrlhf_adapter(server, files, monkeypatch):
    """The HTTP remote reward and ftstudio.reward.openrlhf.reward_func give the same numbers."""
    from ftstudio.reward.openrlhf import reward_func

    monkeypatch.setenv("FTSTUDIO_GRADER", str(files / "grader.json"))
    prompts = [f"Q{i}: " for i in range(len(ROWS))]
    queries = [p + r["model_sample"] for p, r in zip(prompts, ROWS)]
    labels = [json.dumps(item_of(r)) for r in ROWS]
    local = reward_func(queries, prompts, labels)
    status, body = server.post("/openrlhf", {"query": queries, "prompts": prompts, "labels": labels})
    assert status == 200
    assert all(close(a, float(b)) for a, b in zip(body["rewards"], local["rewards"]))
    for key, values in local["extra_logs"].items():
        assert all(close(a, float(b)) for a, b in zip(body["extra_logs"][key], values))
