import json

import pytest
from app_util import ROOT, current_config, new_app, preset_config, texts


def test_badge_counts_and_preset_load(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    assert not at.exception
    at.sidebar.selectbox(key="sb.preset").select("rft-summarization").run()
    at.sidebar.button(key="sb.load_preset").click().run()
    cfg = current_config(at)
    assert cfg.grader.name == "summary_quality"
    at.sidebar.button(key="sb.undo").click().run()
    assert current_config(at).method_type == "supervised"
    at.sidebar.button(key="sb.redo").click().run()
    assert current_config(at).grader.name == "summary_quality"


@pytest.mark.slow
def test_import_needs_confirmation(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    body = json.loads((ROOT / "presets" / "rft-exact-match.json").read_text())["config"]
    at.sidebar.text_area(key="sb.import_text").input(json.dumps(body)).run()
    assert current_config(at).method_type == "supervised"  # nothing replaced yet
    assert "Found a job config" in texts(at)
    at.sidebar.button(key="sb.import_apply").click().run()
    assert current_config(at).method_type == "reinforcement"
    assert not at.exception


@pytest.mark.slow
def test_import_errors_are_explained(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    at.sidebar.text_area(key="sb.import_text").input('{"model": "x", "training_file": ').run()
    assert "Can't read it" in texts(at)
    at.sidebar.text_area(key="sb.import_text").input('{"model": "x", "training_file": "f", "seed": -4}').run()
    assert "seed" in texts(at) and current_config(at).model != "x"
    grader = {"type": "string_check", "name": "g", "input": "{{ sample.output_text }}", "reference": "{{ item.a }}",
              "operation": "eq"}
    at.sidebar.text_area(key="sb.import_text").input(json.dumps(grader)).run()
    at.sidebar.button(key="sb.import_grader").click().run()
    cfg = current_config(at)
    assert cfg.method_type == "reinforcement" and cfg.grader.name == "g"
    assert not at.exception


@pytest.mark.slow
def test_a_grader_wrapped_as_the_graders_api_takes_it_imports_as_a_grader(monkeypatch, tmp_path):
    """config.grader_of: {"grader": ...} (a graders validate/run body) is a grader, not a broken job config."""
    at = new_app(monkeypatch, tmp_path)
    grader = {"type": "string_check", "name": "wrapped", "input": "{{ sample.output_text }}",
              "reference": "{{ item.a }}", "operation": "eq"}
    at.sidebar.text_area(key="sb.import_text").input(json.dumps({"grader": grader})).run()
    at.sidebar.button(key="sb.import_grader").click().run()
    cfg = current_config(at)
    assert cfg.method_type == "reinforcement" and cfg.grader.name == "wrapped"
    assert not at.exception


@pytest.mark.slow
def test_restart_restores_autosave(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, preset_config("dpo-preferences"))
    assert current_config(at).method_type == "dpo"
    again = new_app(monkeypatch, tmp_path)  # same FTSTUDIO_HOME: a restarted server
    assert current_config(again).method_type == "dpo"


@pytest.mark.slow
def test_imported_python_code_needs_confirmation(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    at.sidebar.selectbox(key="sb.preset").select("rft-math-python").run()
    at.sidebar.button(key="sb.load_preset").click().run()
    assert "contains Python grader code" in texts(at)
    at.switch_page("app_pages/graders.py").run()
    assert "I trust this code" in texts(at) or any("I trust" in b.label for b in at.button)
    assert not [b for b in at.button if b.key == "graders.pg_run"]  # nothing can run it yet
    [b for b in at.button if b.key == "graders.pg_trust"][0].click().run()
    assert [b for b in at.button if b.key == "graders.pg_run"]
    assert not at.exception
