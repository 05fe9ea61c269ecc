"""The sidebar's target picker, the "kept as written" panel and "add names from keys" (issue 10)."""

import json

from app_util import ROOT, current_config, new_app, texts
from streamlit.testing.v1 import AppTest

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


AS_WRITTEN = {"suffix": None, "model": "gpt-4.1-mini-2025-04-14", "training_file": "file-a",
              "validation_file": None, "trainingType": "globalStandard",
              "method": {"type": "supervised", "supervised": {"hyperparameters": {
                  "n_epochs": 5, "learning_rate_multiplier": 2}}}}


def _exported(at) -> str:
    at.switch_page("app_pages/export.py").run()
    assert not at.exception
    anyway = [c for c in at.checkbox if c.key == "export_anyway"]
    if anyway and not anyway[0].value:
        anyway[0].check().run()
    return next(c.value for c in at.code if c.language == "json")


def test_import_then_export_is_the_document_as_written_and_survives_a_refresh(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    at.sidebar.text_area(key="sb_import_text").input(json.dumps(AS_WRITTEN)).run()
    at.sidebar.button(key="sb_import_apply").click().run()
    assert not at.exception
    assert _exported(at) == json.dumps(AS_WRITTEN, indent=2)  # 5 stays 5, 2 stays 2, nulls and order stay

    # A refresh is a new session on the same home folder: the spelling and the kept field come back.
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    again.run()
    assert "trainingType" in texts(again)
    assert _exported(again) == json.dumps(AS_WRITTEN, indent=2)


def test_an_edit_after_import_changes_only_what_was_edited(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    at.sidebar.text_area(key="sb_import_text").input(json.dumps(AS_WRITTEN)).run()
    at.sidebar.button(key="sb_import_apply").click().run()
    at.switch_page("app_pages/method.py").run()
    next(t for t in at.text_input if t.label.startswith("Suffix")).input("v2").run()
    assert not at.exception and current_config(at).suffix == "v2"
    exported = json.loads(_exported(at))
    assert list(exported) == list(AS_WRITTEN) and exported["suffix"] == "v2"
    assert exported["method"]["supervised"]["hyperparameters"] == {"n_epochs": 5, "learning_rate_multiplier": 2}
    assert exported["validation_file"] is None


def test_a_new_config_forgets_the_imported_spelling(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    at.sidebar.text_area(key="sb_import_text").input(json.dumps(AS_WRITTEN)).run()
    at.sidebar.button(key="sb_import_apply").click().run()
    at.sidebar.button(key="sb_new").click().run()
    assert not at.exception
    exported = json.loads(_exported(at))
    assert "trainingType" not in exported and "suffix" not in exported


def test_a_preset_saved_after_import_keeps_the_document_and_loads_back(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    at.sidebar.text_area(key="sb_import_text").input(json.dumps(AS_WRITTEN)).run()
    at.sidebar.button(key="sb_import_apply").click().run()
    _exported(at)
    inputs = {t.label: t for t in at.text_input}
    inputs["Title"].input("Imported SFT")
    [b for b in at.button if b.label == "Save preset"][0].click().run()
    saved = json.loads((tmp_path / "home" / "presets" / "imported-sft.json").read_text())
    assert json.dumps(saved["config"]) == json.dumps(AS_WRITTEN)
    at.sidebar.button(key="sb_new").click().run()
    at.sidebar.selectbox(key="sb_preset").select("imported-sft").run()
    at.sidebar.button(key="sb_load_preset").click().run()
    assert not at.exception and "trainingType" in texts(at)
    assert _exported(at) == json.dumps(AS_WRITTEN, indent=2)


def test_a_key_in_an_imported_document_is_flagged_and_never_exported_or_saved(monkeypatch, tmp_path):
    secret = "sk-proj-" + "Zx9Q" * 12
    body = dict(AS_WRITTEN, integrationsToken=secret)
    at = new_app(monkeypatch, tmp_path)
    at.sidebar.text_area(key="sb_import_text").input(json.dumps(body)).run()
    at.sidebar.button(key="sb_import_apply").click().run()
    issues = AppState(at.session_state).issues_cache[2]
    assert any(i.code == "secret_in_config" and i.path == "integrationsToken" for i in issues)
    exported = _exported(at)
    assert secret not in exported and "integrationsToken" in exported
    assert secret not in (tmp_path / "home" / "config.json").read_text()


def test_after_openai_closes_a_new_config_asks_which_target(monkeypatch, tmp_path):
    for key in ("OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FTSTUDIO_TODAY", "2027-01-06")
    at = new_app(monkeypatch, tmp_path / "before")
    assert at.sidebar.selectbox(key="sb_target").value == "openai"
    monkeypatch.setenv("FTSTUDIO_TODAY", "2027-01-07")
    at = new_app(monkeypatch, tmp_path / "after")
    assert not at.exception
    picker = at.sidebar.selectbox(key="sb_target")
    assert picker.value is None
    assert "OpenAI no longer accepts new fine-tuning jobs (since 2027-01-06)" in "\n".join(
        w.value for w in at.sidebar.warning)
    picker.select("gemini").run()
    assert not at.exception and at.sidebar.selectbox(key="sb_target").value == "gemini"
