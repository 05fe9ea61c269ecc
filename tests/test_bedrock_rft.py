"""Target bedrock-rft: the CreateModelCustomizationJob request validates with botocore's own service model and
parameter validator; the hyperparameter table is botocore's; the written Lambda, run here on the user's rows,
gives `ftstudio grade`'s rewards."""

from __future__ import annotations

import importlib.util
import json
import math
import sys

import pytest

from ftstudio.cli import main
from ftstudio.graders import parse_grader
from ftstudio.grading import GradeOptions, grade
from ftstudio.targets import REQUEST_FILE, RFT_HYPERPARAMETERS, rft_models
from ftstudio.validation import check
from tests.providers import PRESETS, QUIZ, grader_of, need, rows

ROLE = "arn:aws:iam::123456789012:role/BedrockRft"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:ftstudio-reward"
FLAGS = ["--role-arn", ROLE, "--lambda-arn", LAMBDA, "--training-s3", "s3://bucket/train.jsonl",
         "--output-s3", "s3://bucket/out/"]


def _shape(name: str):
    botocore_session = need("botocore.session")
    model = botocore_session.get_session().get_service_model("bedrock", api_version="2023-04-20")
    return model.operation_model("CreateModelCustomizationJob").input_shape if name == "input" else model.shape_for(name)


def _validate(body: dict) -> None:
    validate = need("botocore.validate")
    validate.validate_parameters(body, _shape("input"))  # raises ParamValidationError naming the field


def test_hyperparameter_table_is_botocores():
    shape = _shape("RFTHyperParameters")
    assert [h.name for h in RFT_HYPERPARAMETERS] == list(shape.members)
    for h in RFT_HYPERPARAMETERS:
        member = shape.members[h.name]
        if h.kind == "choice":
            assert list(h.choices) == member.enum
        else:
            assert (h.ge, h.le) == (member.metadata.get("min"), member.metadata.get("max")), h.name


@pytest.mark.parametrize("preset", PRESETS, ids=[p.name for p in PRESETS])
def test_export_validates_with_botocore(preset, tmp_path, capsys):
    out = tmp_path / "job"
    assert main(["export", str(preset), "--format", "bedrock-rft", "-o", str(out), *FLAGS,
                 "--validation-s3", "s3://bucket/valid.jsonl", "--base-model", rft_models()[0]]) == 0
    body = json.loads((out / REQUEST_FILE).read_text())
    _validate(body)
    assert body["customizationType"] == "REINFORCEMENT_FINE_TUNING"
    assert body["customizationConfig"]["rftConfig"]["graderConfig"] == {"lambdaGrader": {"lambdaArn": LAMBDA}}
    assert (out / "lambda" / "lambda_function.py").is_file() and (out / "lambda" / "grader.json").is_file()
    assert json.loads((out / "lambda" / "grader.json").read_text()) == grader_of(json.loads(preset.read_text()))


def test_defaults_and_refusals(tmp_path, capsys):
    cfg = json.loads((PRESETS[0].parent / "rft-exact-match.json").read_text())["config"]
    cfg["model"], cfg["suffix"] = "amazon.nova-2-lite-v1:0:256k", "quiz v2"
    cfg["method"]["reinforcement"]["hyperparameters"] = {"n_epochs": 3, "batch_size": 8, "eval_interval": 5,
                                                        "compute_multiplier": 2}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cfg))
    assert main(["export", str(path), "--format", "bedrock-rft", "-o", str(tmp_path / "a"), *FLAGS]) == 0
    err = capsys.readouterr().err
    body = json.loads((tmp_path / "a" / REQUEST_FILE).read_text())
    _validate(body)
    assert body["baseModelIdentifier"] == "amazon.nova-2-lite-v1:0:256k"
    assert body["jobName"].startswith("quiz-v2-") and len(body["jobName"]) == len("quiz-v2-") + 8
    assert body["customizationConfig"]["rftConfig"]["hyperParameters"] == {"epochCount": 3, "evalInterval": 5}
    assert "batchSize" in err and "compute_multiplier has no equivalent" in err
    # a model Bedrock doesn't offer: --base-model is required, and the error lists what is offered
    cfg["model"] = "gpt-4.1-mini-2025-04-14"
    path.write_text(json.dumps(cfg))
    assert main(["export", str(path), "--format", "bedrock-rft", "-o", str(tmp_path / "b"), *FLAGS]) == 1
    assert "amazon.nova-2-lite-v1:0:256k" in capsys.readouterr().err
    assert main(["export", str(path), "--format", "bedrock-rft", "-o", str(tmp_path / "b"), *FLAGS,
                 "--base-model", "meta.llama-9"]) == 0
    assert "not in the table of models Bedrock offers" in capsys.readouterr().err
    assert main(["export", str(path), "--format", "bedrock-rft", "-o", str(tmp_path / "c")]) == 1
    assert "--role-arn" in capsys.readouterr().err
    issues = check(cfg, target="bedrock-rft")
    assert "bedrock_rft_model_unlisted" in {i.code for i in issues if i.severity == "warning"}


def _load_lambda(folder):
    spec = importlib.util.spec_from_file_location("lambda_function_under_test", folder / "lambda_function.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("preset", [p for p in PRESETS if p.name in ("rft-exact-match.json", "rft-math-python.json",
                                                                     "rft-json-extraction.json")],
                         ids=lambda p: p.name)
def test_lambda_gives_grade_rewards(preset, tmp_path, monkeypatch):
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "FTSTUDIO_GRADER"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path / "home"))
    out = tmp_path / "job"
    assert main(["export", str(preset), "--format", "bedrock-rft", "-o", str(out), *FLAGS,
                 "--base-model", rft_models()[0]]) == 0
    data = rows(QUIZ)
    event = []
    for i, row in enumerate(data):
        item = {k: v for k, v in row.items() if k not in ("messages", "model_sample")}
        event.append({"id": f"s{i}", "messages": row["messages"] + [{"role": "assistant", "content": row["model_sample"]}],
                      "reference_answer": item})
    module = _load_lambda(out / "lambda")
    try:
        answer = module.lambda_handler(event, None)
    finally:
        sys.modules.pop("lambda_function_under_test", None)
    expected = grade(parse_grader(grader_of(json.loads(preset.read_text()))), data, options=GradeOptions(use_cache=False))
    assert [a["id"] for a in answer] == [e["id"] for e in event]
    for i, a in enumerate(answer):
        assert math.isclose(a["aggregate_reward_score"], expected.rewards[i], abs_tol=1e-12)
        assert all(set(m) == {"name", "value", "type"} for m in a["metrics_list"])
    # a reference_answer that is not an object is the item {"reference_answer": value}
    from ftstudio.reward.bedrock import lambda_handler
    monkeypatch.setenv("FTSTUDIO_GRADER", str(out / "lambda" / "grader.json"))
    if preset.name == "rft-exact-match.json":
        g = {"type": "string_check", "name": "s", "input": "{{sample.output_text}}",
             "reference": "{{item.reference_answer}}", "operation": "eq"}
        (tmp_path / "g.json").write_text(json.dumps(g))
        monkeypatch.setenv("FTSTUDIO_GRADER", str(tmp_path / "g.json"))
        got = lambda_handler([{"id": "1", "messages": [{"role": "user", "content": "?"},
                                                       {"role": "assistant", "content": "4"}], "reference_answer": "4"}],
                             None)
        assert got == [{"id": "1", "aggregate_reward_score": 1.0, "metrics_list": []}]
