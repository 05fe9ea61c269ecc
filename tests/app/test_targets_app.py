"""The sidebar's target picker, the "kept as written" panel and "add names from keys" (issue 10)."""

import json

from app_util import current_config, new_app, texts

from components.app_state import AppState
from ftstudio.config import JobConfig


def _errors(at) -> set[str]:
    issues = AppState(at.session_state).issues_cache[2]
    return {i.code for i in issues if i.severity == "error"}


def endpoint_job() -> JobConfig:
    return JobConfig.model_validate({
        "model": "o4-mini-2025-04-16", "training_file": "file-a", "validation_file": "file-b",
        "method": {"type": "reinforcement", "reinforcement": {"grader": {
            "type": "endpoint", "name": "svc", "url": "https://grader.example/score"}}}})


def test_target_picker_changes_validation(monkeypatch, tmp_path):
    for key in ("OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    at = new_app(monkeypatch, tmp_path, endpoint_job())
    assert not at.exception
    assert at.sidebar.selectbox(key="sb_target").value == "openai"
    assert "endpoint_grader" in _errors(at)
    at.sidebar.selectbox(key="sb_target").select("azure").run()
    assert not at.exception and "endpoint_grader" not in _errors(at)
    at.switch_page("app_pages/method.py").run()
    assert "on azure" in texts(at)  # the model picker lists Azure's table
    assert not at.exception


def test_import_keeps_unknown_fields_and_exports_them(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    body = {"training_file": "file-a", "validation_file": "file-b", "trainingType": "globalStandard",
            "model": "gpt-4.1-mini-2025-04-14",
            "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2, "warmup": 3}}}}
    at.sidebar.text_area(key="sb_import_text").input(json.dumps(body)).run()
    assert "kept as written" in texts(at)
    at.sidebar.button(key="sb_import_apply").click().run()
    assert current_config(at).model == "gpt-4.1-mini-2025-04-14"
    shown = texts(at)
    assert "Kept as written" in shown and "trainingType" in shown and "method.supervised.hyperparameters.warmup" in shown
    assert {"azure_training_type", "schema_unknown_field"} <= _errors(at)  # validated as exported, for openai
    at.sidebar.selectbox(key="sb_target").select("azure").run()
    at.switch_page("app_pages/export.py").run()
    assert not at.exception
    anyway = [c for c in at.checkbox if c.key == "export_anyway"]
    if anyway:
        anyway[0].check().run()
    code = next(c.value for c in at.code if c.language == "json")
    exported = json.loads(code)
    assert list(exported).index("trainingType") == 2  # where the user wrote it
    assert exported["method"]["supervised"]["hyperparameters"]["warmup"] == 3


def test_add_names_from_keys(monkeypatch, tmp_path):
    cfg = JobConfig.model_validate({
        "model": "o4-mini-2025-04-16", "training_file": "file-a", "validation_file": "file-b",
        "method": {"type": "reinforcement", "reinforcement": {"grader": {
            "type": "multi", "calculate_output": "exact", "graders": {"exact": {
                "type": "string_check", "input": "{{ sample.output_text }}", "reference": "{{ item.a }}",
                "operation": "eq"}}}}}})
    at = new_app(monkeypatch, tmp_path, cfg, page="app_pages/graders.py")
    assert not at.exception
    assert "2 grader(s) without a name" in texts(at)
    at.button(key="graders_add_names").click().run()
    grader = current_config(at).grader
    assert grader.name == "multi" and grader.graders["exact"].name == "exact"
    assert "without a name" not in texts(at) and not at.exception


def test_provider_graders_show_in_the_graders_page(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, endpoint_job(), page="app_pages/graders.py")
    assert not at.exception
    assert "https://grader.example/score" in texts(at)
