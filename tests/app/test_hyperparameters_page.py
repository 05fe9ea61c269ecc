import pytest
from app_util import current_config, new_app, preset_config, texts

PAGE = "app_pages/hyperparameters.py"


@pytest.mark.slow
def test_generated_widgets_per_method(monkeypatch, tmp_path):
    for name, expected in (("supervised-chat", 3), ("dpo-preferences", 4), ("rft-exact-match", 6)):
        at = new_app(monkeypatch, tmp_path / name, preset_config(name), page=PAGE)
        assert not at.exception
        assert len(at.toggle) == expected, name  # one auto toggle per numeric hyperparameter
    assert [s.label for s in at.selectbox if s.label == "Reasoning effort"]


@pytest.mark.slow
def test_toggle_auto_and_set_number(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, preset_config("dpo-preferences"), page=PAGE)
    epochs = [t for t in at.toggle if t.key and t.key.startswith("hp-n_epochs")][0]
    epochs.set_value(False).run()
    assert current_config(at).method.dpo.hyperparameters.n_epochs == 3  # the suggested start
    number = [n for n in at.number_input if n.key and n.key.startswith("hp-n_epochs")][0]
    number.set_value(7).run()
    assert current_config(at).method.dpo.hyperparameters.n_epochs == 7
    beta = [n for n in at.number_input if n.key and n.key.startswith("hp-beta")][0]
    assert beta.value == 0.1
    beta.set_value(0.0).run()
    assert current_config(at).method.dpo.hyperparameters.beta == 0.1  # not applied
    assert "beta must be" in texts(at)
    epochs = [t for t in at.toggle if t.key and t.key.startswith("hp-n_epochs")][0]
    epochs.set_value(True).run()
    assert not at.exception


def test_reasoning_effort_select(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, preset_config("rft-exact-match"), page=PAGE)
    [s for s in at.selectbox if s.label == "Reasoning effort"][0].select("high").run()
    assert current_config(at).method.reinforcement.hyperparameters.reasoning_effort == "high"
    assert not at.exception


def test_bedrock_rft_hyperparameters_shown_for_that_target(monkeypatch, tmp_path):
    from ftstudio.targets import RFT_HYPERPARAMETERS

    at = new_app(monkeypatch, tmp_path, preset_config("rft-exact-match"), page=PAGE)
    assert "Bedrock RFT hyperparameters" not in texts(at)
    at.sidebar.selectbox(key="sb_target").select("bedrock-rft").run()
    assert not at.exception and "Bedrock RFT hyperparameters" in texts(at)
    table = at.table[0].value
    assert list(table["Bedrock name"]) == [h.name for h in RFT_HYPERPARAMETERS]
    assert "an integer from 16 to 512" in list(table["allowed"])


def test_imported_null_hyperparameters_show_as_auto_and_export_as_null(monkeypatch, tmp_path):
    import json

    body = {"model": "gpt-4.1-mini-2025-04-14", "training_file": "file-a", "method": {"type": "supervised",
            "supervised": {"hyperparameters": {"n_epochs": None, "batch_size": None, "learning_rate_multiplier": None}}}}
    at = new_app(monkeypatch, tmp_path)
    at.sidebar.text_area(key="sb_import_text").input(json.dumps(body)).run()
    at.sidebar.button(key="sb_import_apply").click().run()
    assert not at.exception
    at.switch_page(PAGE).run()
    # Keys are hp-<name>@<revision>:auto; the toggle of each is on (auto).
    toggles = {t.key.removeprefix("hp-").split("@")[0]: t.value for t in at.toggle if t.key and t.key.startswith("hp-")}
    assert toggles == {"batch_size": True, "learning_rate_multiplier": True, "n_epochs": True}
    assert "auto — the platform picks" in texts(at) and not at.exception
    at.switch_page("app_pages/export.py").run()
    exported = json.loads(next(c.value for c in at.code if c.language == "json"))
    assert exported["method"]["supervised"]["hyperparameters"] == {
        "n_epochs": None, "batch_size": None, "learning_rate_multiplier": None}
