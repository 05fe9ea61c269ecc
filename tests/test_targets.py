"""Provider targets: Azure's endpoint grader and Bedrock's lambda grader validate per target and grade
locally (a real HTTP endpoint on 127.0.0.1; a real handler file in the sandbox); export keeps what was written."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ftstudio.cli._main import main
from ftstudio.grading import GradeOptions, grade
from ftstudio.validation import check, check_grader

SECRET = "endpoint-key-0123456789"


class _Grader(BaseHTTPRequestHandler):
    """Scores 1 when the output equals item.answer; answers 503 once per row marked flaky; 'bad' -> no score.
    With `b_first` set, the request for answer "a" is recorded only once the one for "b" arrived (rows go out
    concurrently, so no order may be assumed; this makes the unexpected one happen)."""

    seen: list[dict] = []
    flaked: set[str] = set()
    b_first: threading.Event | None = None

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        order = type(self).b_first
        if order is not None and body["item"].get("answer") == "a":
            order.wait(30)  # a guard against a hang: "b" is sent concurrently
        type(self).seen.append({"body": body, "key": self.headers.get("api-key")})
        if order is not None and body["item"].get("answer") == "b":
            order.set()
        item, text = body["item"], body["sample"]["output_text"]
        if self.headers.get("api-key") != SECRET:
            return self._send(401, {"error": "bad key"})
        if item.get("flaky") and item["answer"] not in type(self).flaked:
            type(self).flaked.add(item["answer"])
            return self._send(503, {"error": "busy"})
        if text == "bad":
            return self._send(200, {"result": 1})
        self._send(200, {"score": 1.0 if text == item["answer"] else 0.0})

    def _send(self, status, data):
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def score_server():
    _Grader.seen, _Grader.flaked, _Grader.b_first = [], set(), None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Grader)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/score"
    server.shutdown()
    server.server_close()


def endpoint_grader(url, key=SECRET):
    return {"type": "endpoint", "name": "svc", "url": url, "headers": {"api-key": key}, "rate_limit": 50}


def test_endpoint_grader_validates_for_azure_not_openai():
    g = endpoint_grader("https://grader.example/score")
    azure = {i.code: i.severity for i in check_grader(g, target="azure")}
    assert azure.get("endpoint_grader") == "info" and "error" not in azure.values()
    openai = [i for i in check_grader(g, target="openai") if i.severity == "error"]
    assert [i.code for i in openai] == ["endpoint_grader"] and "openai" in openai[0].message
    job = {"model": "o4-mini-2025-04-16", "training_file": "file-a", "validation_file": "file-b",
           "method": {"type": "reinforcement", "reinforcement": {
               "grader": g, "max_episode_steps": 10,
               "tools": [{"name": "search", "server_url": "https://tools.example/search"}]}}}
    assert not [i for i in check(job, target="azure") if i.severity == "error"]
    errs = {i.code for i in check(job, target="openai") if i.severity == "error"}
    assert {"endpoint_grader", "rft_tools", "rft_max_episode_steps"} <= errs


def test_endpoint_grader_grades_against_a_local_endpoint(score_server):
    _Grader.b_first = threading.Event()
    rows = [{"answer": "a", "model_sample": "a"}, {"answer": "b", "model_sample": "x"},
            {"answer": "c", "model_sample": "c", "flaky": True}, {"answer": "d", "model_sample": "bad"}]
    res = grade(endpoint_grader(score_server), rows, options=GradeOptions(use_cache=False))
    assert list(res.rewards) == [1.0, 0.0, 1.0, 0.0]
    assert set(res.errors) == {3} and "not {\"score\": <number>}" in res.errors[3].codes["other_error"]
    # rows go out on a thread pool (here row 1 arrives first): row 0's request is found by its content
    first = next(s["body"] for s in _Grader.seen if s["body"]["item"].get("answer") == "a")
    assert set(first) == {"sample", "item", "trace_id"} and first["trace_id"].startswith("trace_")
    assert first["item"] == {"answer": "a"} and first["sample"]["output_text"] == "a"
    assert first["sample"]["output_tools"] == [] and first["sample"]["choices"] == []


def test_endpoint_failures_are_rows_and_keys_stay_hidden(score_server):
    res = grade(endpoint_grader(score_server, key="wrong-key-999999"), [{"answer": "a", "model_sample": "a"}],
                options=GradeOptions(use_cache=False))
    details = res.errors[0].codes["other_error"]
    assert "HTTP 401" in details and "wrong-key-999999" not in json.dumps(list(res.records()))
    dead = grade(endpoint_grader("http://127.0.0.1:9/score"), [{"answer": "a", "model_sample": "a"}],
                 options=GradeOptions(use_cache=False, max_retries=1, endpoint_timeout=2))
    assert "unresponsive_reward_error" in dead.errors[0].codes


HANDLER = '''
def lambda_handler(event, context):
    out = []
    for record in event:
        answer = record["messages"][-1]["content"]
        out.append({"id": record["id"], "aggregate_reward_score": 1.0 if answer == record["reference_answer"] else 0.0,
                    "metrics_list": [{"name": "exact", "value": 1.0, "type": "Metric"}]})
    return out
'''
ARN = "arn:aws:lambda:us-west-2:123456789012:function:my-reward-function"


def test_lambda_grader_validates_for_bedrock_not_openai():
    g = {"type": "lambda", "lambda": {"function": ARN}}
    assert not [i for i in check_grader(g, target="bedrock") if i.severity == "error"]
    assert "lambda_grader" in {i.code for i in check_grader(g, target="openai") if i.severity == "error"}
    bad = {"type": "lambda", "lambda": {"function": "my-function"}}
    assert ("lambda.function", "lambda_arn") in {(i.path, i.code) for i in check_grader(bad, target="bedrock")}


@pytest.mark.slow
def test_lambda_grader_grades_with_a_local_handler(tmp_path):
    handler = tmp_path / "reward.py"
    handler.write_text(HANDLER)
    rows = [{"messages": [{"role": "user", "content": "2+2?"}], "reference_answer": "4", "model_sample": "4"},
            {"messages": [{"role": "user", "content": "3+3?"}], "reference_answer": "6", "model_sample": "5"}]
    g = {"type": "lambda", "lambda": {"function": ARN}}
    res = grade(g, rows, options=GradeOptions(lambda_handlers={ARN: str(handler)}))
    assert list(res.rewards) == [1.0, 0.0] and not res.errors
    remote = grade(g, rows)
    assert all("lambda graders run on Bedrock" in remote.errors[i].codes["other_error"] for i in (0, 1))


@pytest.mark.slow
def test_grade_cli_lambda_handler(tmp_path, capsys):
    handler = tmp_path / "reward.py"
    handler.write_text(HANDLER)
    cfg = tmp_path / "g.json"
    cfg.write_text(json.dumps({"type": "lambda", "lambda": {"function": ARN}}))
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}], "reference_answer": "4",
                                "model_sample": "4"}) + "\n")
    assert main(["grade", str(cfg), str(data), "--json", "--target", "bedrock",
                 "--lambda-handler", f"{ARN}={handler}"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["mean"] == 1.0


def test_default_target_follows_the_connection(tmp_path, monkeypatch, capsys):
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    cfg = tmp_path / "g.json"
    cfg.write_text(json.dumps(endpoint_grader("https://grader.example/score")))
    assert main(["validate", str(cfg)]) == 1  # openai by default: endpoint graders are an error
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com")
    assert main(["validate", str(cfg)]) == 0
    assert main(["validate", "--target", "openai", str(cfg)]) == 1
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://bedrock-mantle.us-west-2.api.aws/v1")
    lam = tmp_path / "l.json"
    lam.write_text(json.dumps({"type": "lambda", "lambda": {"function": ARN}}))
    assert main(["validate", str(lam)]) == 0
    capsys.readouterr()


def test_export_keeps_what_was_written(tmp_path, capsys):
    text = ('{\n  "training_file": "file-a",\n  "validation_file": "file-b",\n  "model": "gpt-4.1-mini-2025-04-14",\n  "seed": null,\n'
            '  "trainingType": "globalStandard",\n  "method": {\n    "type": "reinforcement",\n'
            '    "reinforcement": {\n      "grader": {\n        "type": "score_model",\n        "model": "o3-mini",\n'
            '        "input": [\n          {\n            "role": "user",\n            "content": '
            '"{{ sample.output_text }}"\n          }\n        ],\n        "range": [\n          0,\n          5\n'
            '        ],\n        "pass_threshold": 5\n      }\n    }\n  }\n}\n')
    src = tmp_path / "job.json"
    src.write_text(text)
    out = tmp_path / "out.json"
    assert main(["export", str(src), "-o", str(out)]) == 1  # trainingType is unknown to openai
    assert main(["export", str(src), "--force", "-o", str(out)]) == 0
    assert out.read_text() == text
    assert "exported anyway" in capsys.readouterr().err
    assert main(["export", str(src), "--target", "azure", "-o", str(out)]) == 0
    assert out.read_text() == text
    for fmt in ("python", "curl"):
        assert main(["export", str(src), "--force", "--format", fmt]) == 0
        assert "trainingType" in capsys.readouterr().out
    arr = tmp_path / "arr.json"
    arr.write_text("[1, 2]")
    assert main(["export", str(arr), "--force"]) == 1


def _score_model(model):
    return {"type": "score_model", "name": "judge", "model": model,
            "input": [{"role": "user", "content": "Rate {{ sample.output_text }}"}]}


def _notes(model, target):
    return {i.code: i for i in check_grader(_score_model(model), target=target) if i.path == "model"}


@pytest.mark.parametrize("model", ["gpt-4o-2024-08-06", "o3-mini", "o3-mini-2025-01-31"])
def test_azure_documented_grader_models_pass_quietly(model):
    notes = _notes(model, "azure")
    assert "grader_model_unlisted" not in notes and "model_unknown" not in notes
    # Azure's table dates are training retirements; a grader deployment isn't retired by them.
    assert "model_retired" not in notes


def test_azure_warns_on_a_known_model_outside_its_grader_list():
    notes = _notes("gpt-4.1-2025-04-14", "azure")
    rule = notes["grader_model_unlisted"]
    assert rule.severity == "warning"
    assert "gpt-4o-2024-08-06" in rule.hint and "o3-mini-2025-01-31" in rule.hint
    # OpenAI has graded with models beyond its guide's list: there it is at most a note.
    assert "grader_model_unlisted" not in _notes("gpt-4.1-2025-04-14", "openai")
    assert _notes("o4-mini", "azure")["grader_model_unlisted"].severity == "warning"


def test_azure_grader_deployment_names_are_a_note_not_a_warning():
    notes = _notes("ft-model-grader-gpt-4o-2024-08-06", "azure")
    assert notes["model_unknown"].severity == "info"
    assert "deployment" in notes["model_unknown"].hint
    assert "grader_model_unlisted" not in notes


def test_grader_model_list_is_not_a_rule_on_bedrock_or_compatible():
    for target in ("bedrock", "compatible"):
        assert "grader_model_unlisted" not in _notes("gpt-4.1-2025-04-14", target)
