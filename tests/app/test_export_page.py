import json

import pytest
from app_util import new_app, preset_config, texts

from ftstudio.config import to_json

PAGE = "app_pages/export.py"


@pytest.mark.slow
def test_valid_config_shows_exact_body(monkeypatch, tmp_path):
    cfg = preset_config("rft-json-extraction")
    at = new_app(monkeypatch, tmp_path, cfg, page=PAGE)
    assert not at.exception
    codes = [c.value for c in at.code]
    assert to_json(cfg) in codes
    assert any("client.fine_tuning.jobs.create(" in c for c in codes)
    assert any(c.startswith("curl ") for c in codes)


def test_errors_need_export_anyway(monkeypatch, tmp_path):
    cfg = preset_config("supervised-chat").model_copy(update={"training_file": ""})
    at = new_app(monkeypatch, tmp_path, cfg, page=PAGE)
    shown = texts(at)
    assert "training_file is empty" in shown and "error" in shown and not at.code
    at.checkbox(key="export_anyway").check().run()
    assert json.loads(at.code[0].value)["training_file"] == ""


def test_save_as_preset(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, preset_config("dpo-preferences"), page=PAGE)
    inputs = {t.label: t for t in at.text_input}
    inputs["Title"].input("My DPO")
    inputs["One-line description"].input("for tests")
    [b for b in at.button if b.label == "Save preset"][0].click().run()
    assert (tmp_path / "home" / "presets" / "my-dpo.json").exists()
    assert not at.exception
