import os

import pytest
from pydantic import ValidationError

from ftstudio.config import (
    DpoHyperparameters,
    ReinforcementHyperparameters,
    SupervisedHyperparameters,
    methods_taking,
    spec_by_name,
    specs,
)

BOUNDS = [
    # (model, field, accepted, rejected)
    (SupervisedHyperparameters, "n_epochs", [1, 50, 3.0], [0, 51, 2.5, "3", True, "null"]),
    (SupervisedHyperparameters, "batch_size", [1, 256], [0, 257, -1, "auto ", False]),
    (SupervisedHyperparameters, "learning_rate_multiplier", [0.0001, 1, 1e6], [0, -1, "1", float("nan"), float("inf")]),
    (DpoHyperparameters, "beta", [0.01, 2, 2.0], [0, 2.0001, -0.1]),
    (ReinforcementHyperparameters, "compute_multiplier", [0.0001, 10], [0, 0.000005, 10.5]),
    (ReinforcementHyperparameters, "eval_interval", [1, 1000], [0, -3]),
    (ReinforcementHyperparameters, "eval_samples", [1, 99], [0]),
]


@pytest.mark.parametrize("model,field,good,bad", BOUNDS)
def test_bounds(model, field, good, bad):
    assert getattr(model(**{field: "auto"}), field) == "auto"
    for value in good:
        assert getattr(model(**{field: value}), field) == value
    for value in bad:
        with pytest.raises(ValidationError) as exc:
            model(**{field: value})
        message = exc.value.errors()[0]["msg"]
        assert field in message and "auto" in message, message


def test_reasoning_effort_has_no_auto():
    assert ReinforcementHyperparameters().reasoning_effort == "default"
    for ok in ("default", "low", "medium", "high"):
        assert ReinforcementHyperparameters(reasoning_effort=ok).reasoning_effort == ok
    for bad in ("auto", "max", "xhigh", 1):
        with pytest.raises(ValidationError):
            ReinforcementHyperparameters(reasoning_effort=bad)


def test_int_fields_stay_int():
    hp = SupervisedHyperparameters(n_epochs=4.0, learning_rate_multiplier=2)
    assert hp.n_epochs == 4 and isinstance(hp.n_epochs, int)
    assert isinstance(hp.learning_rate_multiplier, float)


def test_specs_declared_once_with_metadata():
    names = [s.name for s in specs(ReinforcementHyperparameters)]
    assert names == ["batch_size", "compute_multiplier", "eval_interval", "eval_samples",
                     "learning_rate_multiplier", "n_epochs", "reasoning_effort"]
    n = spec_by_name("n_epochs")
    assert (n.ge, n.le, n.kind, n.default) == (1, 50, "int", "auto") and n.help
    assert spec_by_name("beta").gt == 0 and spec_by_name("beta").le == 2
    assert spec_by_name("reasoning_effort").choices == ("default", "low", "medium", "high")
    schema = DpoHyperparameters.model_json_schema()["properties"]["beta"]
    assert {"const": "auto", "type": "string"} in schema["anyOf"]
    assert any(b.get("maximum") == 2 and b.get("exclusiveMinimum") == 0 for b in schema["anyOf"])


def test_explicit_null_means_not_set():
    """null is "not set": the platform picks, as with auto (Azure's notebooks created jobs with None)."""
    for model in (SupervisedHyperparameters, DpoHyperparameters, ReinforcementHyperparameters):
        for spec in specs(model):
            assert getattr(model(**{spec.name: None}), spec.name) == spec.default == getattr(model(), spec.name)
    assert ReinforcementHyperparameters(reasoning_effort=None).reasoning_effort == "default"
    schema = SupervisedHyperparameters.model_json_schema()["properties"]["n_epochs"]
    assert {"type": "null"} in schema["anyOf"]


def test_null_hyperparameters_validate_export_as_written_and_submit(openai_stub, tmp_path, capsys, monkeypatch):
    import json

    from ftstudio.cli import main

    body = {"model": "gpt-4.1-mini-2025-04-14", "training_file": "file-abc123",
            "method": {"type": "supervised", "supervised": {"hyperparameters": {
                "n_epochs": None, "batch_size": None, "learning_rate_multiplier": None}}}}
    path = tmp_path / "job.json"
    path.write_text(json.dumps(body, indent=2) + "\n")
    for target in ("openai", "azure"):
        assert main(["validate", "--target", target, str(path)]) == 0, capsys.readouterr()
    capsys.readouterr()
    assert main(["export", str(path)]) == 0
    assert capsys.readouterr().out == path.read_text()  # the nulls, as written
    for name in [v for v in os.environ if v.startswith(("OPENAI_", "AZURE_OPENAI"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    train = tmp_path / "train.jsonl"
    train.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n')
    assert main(["submit", str(path), "--train", str(train)]) == 0, capsys.readouterr().err
    sent = list(openai_stub.job_bodies.values())[-1]
    assert sent["method"]["supervised"]["hyperparameters"] == {
        "n_epochs": None, "batch_size": None, "learning_rate_multiplier": None}


def test_methods_taking():
    assert methods_taking("beta") == ["dpo"]
    assert methods_taking("n_epochs") == ["supervised", "dpo", "reinforcement"]
    assert methods_taking("eval_samples") == ["reinforcement"]


def test_unknown_hyperparameter_rejected():
    with pytest.raises(ValidationError):
        SupervisedHyperparameters(beta=0.1)
