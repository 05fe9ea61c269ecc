import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import job_config

from ftstudio import config as export
from ftstudio.config import ImportProblem, JobConfig, to_curl, to_json, to_python
from ftstudio.validation import from_json

ROOT = Path(__file__).resolve().parent.parent
PRESETS = sorted((ROOT / "presets").glob("*.json"))


def load(name):
    return JobConfig.model_validate(json.loads((ROOT / "presets" / f"{name}.json").read_text())["config"])


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(job_config(nested=True))
def test_round_trip_is_lossless(data):
    cfg = JobConfig.model_validate(data)
    text = to_json(cfg)
    assert from_json(text) == cfg
    assert to_json(from_json(text)) == text
    assert json.loads(text) == cfg.model_dump(mode="json", exclude_none=True)


def test_to_json_is_exactly_the_body_in_field_order():
    cfg = load("rft-json-extraction")
    body = json.loads(to_json(cfg))
    assert list(body) == ["model", "training_file", "validation_file", "suffix", "method"]
    assert list(body["method"]["reinforcement"]) == ["grader", "hyperparameters", "response_format"]
    assert list(body["method"]["reinforcement"]["grader"]["graders"]) == ["name", "email", "address"]
    assert to_json(cfg) == to_json(load("rft-json-extraction"))


def test_no_secret_in_any_export(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRETSECRETSECRET1234")
    cfg = load("supervised-chat")
    cfg.metadata["oops"] = "sk-test-SECRETSECRETSECRET1234"
    for text in (to_json(cfg), to_python(cfg), to_curl(cfg)):
        assert "SECRETSECRET" not in text and export.REDACTED in text
    assert "$OPENAI_API_KEY" in to_curl(cfg)


def test_from_json_errors_are_clear():
    with pytest.raises(ImportProblem) as exc:
        from_json('{"model": "x",\n "training_file": }')
    assert "line 2" in exc.value.message
    with pytest.raises(ImportProblem) as exc:
        from_json({"model": "x", "training_file": "f", "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 9}}}})
    assert exc.value.issues[0].path == "method.dpo.hyperparameters.beta"
    assert from_json(b'\xef\xbb\xbf{"model": "m", "training_file": "f"}').model == "m"


@pytest.mark.slow
@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_python_snippet_runs_as_printed(path, openai_stub, tmp_path):
    cfg = JobConfig.model_validate(json.loads(path.read_text())["config"])
    script = tmp_path / "job.py"
    script.write_text(to_python(cfg))
    env = dict(os.environ, OPENAI_API_KEY=openai_stub.api_key, OPENAI_BASE_URL=openai_stub.base_url)
    # The stub checks that training_file exists; upload one with that id first.
    for file_id in (cfg.training_file, cfg.validation_file):
        if file_id:
            obj = openai_stub.store.add_file("data.jsonl", "fine-tune", b"{}\n")
            openai_stub.store.files[file_id] = dict(obj, id=file_id)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    bodies = list(openai_stub.job_bodies.values())
    assert bodies and bodies[-1] == json.loads(to_json(cfg))


def test_curl_snippet_sends_the_exact_body(openai_stub, tmp_path):
    cfg = load("rft-summarization")
    script = tmp_path / "job.sh"
    script.write_text(to_curl(cfg))
    body = script.read_text().split("<<'FTSTUDIO_JSON'\n", 1)[1].rsplit("\nFTSTUDIO_JSON", 1)[0]
    assert json.loads(body) == json.loads(to_json(cfg))
    assert to_curl(cfg, base_url="http://x/v1/").startswith('curl "http://x/v1/fine_tuning/jobs"')


def _create_kwargs(script: str) -> dict:
    """The keyword arguments of the snippet's jobs.create call, as Python values."""
    import ast

    call = next(n for n in ast.walk(ast.parse(script)) if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute) and n.func.attr == "create")
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords}


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_python_snippet_passes_the_installed_sdks_types(path):
    from openai.types.fine_tuning.job_create_params import JobCreateParams
    from pydantic import TypeAdapter

    from ftstudio.config import SDK_MULTI_NOTE

    cfg = JobConfig.model_validate(json.loads(path.read_text())["config"])
    script = to_python(cfg)
    kwargs = _create_kwargs(script)
    extra = kwargs.pop("extra_body", None)
    TypeAdapter(JobCreateParams).validate_python(kwargs)  # what the SDK types; the rest is extra_body
    body = json.loads(to_json(cfg))
    assert {**kwargs, **(extra or {})} == body
    has_multi = '"type": "multi"' in to_json(cfg)
    assert (extra is not None) == has_multi and (SDK_MULTI_NOTE.split(";")[0][:40] in " ".join(
        line.strip("# ") for line in script.splitlines())) == has_multi
