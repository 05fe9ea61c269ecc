import pytest
from app_util import current_config, new_app, preset_config, texts

PAGE = "app_pages/method.py"


@pytest.mark.slow
def test_renders_on_empty_and_each_preset(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, page=PAGE)
    assert not at.exception
    for name in ("supervised-chat", "rft-summarization", "dpo-preferences"):
        at = new_app(monkeypatch, tmp_path / name, preset_config(name), page=PAGE)
        assert not at.exception, name


def test_switch_method_keeps_what_it_can(monkeypatch, tmp_path):
    cfg = preset_config("rft-summarization")
    hp = cfg.method.reinforcement.hyperparameters.model_copy(update={"n_epochs": 4, "compute_multiplier": 2.0})
    cfg = cfg.model_copy(update={"method": cfg.method.model_copy(update={
        "reinforcement": cfg.method.reinforcement.model_copy(update={"hyperparameters": hp})})})
    at = new_app(monkeypatch, tmp_path, cfg, page=PAGE)
    dpo = [b for b in at.button if b.key and b.key.startswith("method.pick.dpo")][0]
    dpo.click().run()
    new = current_config(at)
    assert new.method_type == "dpo" and new.method.dpo.hyperparameters.n_epochs == 4
    shown = texts(at)
    assert "compute_multiplier = 2.0" in shown and "grader tree" in shown
    rft = [b for b in at.button if b.key and b.key.startswith("method.pick.reinforcement")][0]
    rft.click().run()
    assert current_config(at).grader.name == "summary_quality"  # the stashed grader comes back


@pytest.mark.slow
def test_fields_apply_and_bad_values_are_kept_out(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, preset_config("supervised-chat"), page=PAGE)
    by_label = {t.label: t for t in at.text_input}
    by_label["Training file id"].input("file-new123").run()
    assert current_config(at).training_file == "file-new123"
    by_label = {t.label: t for t in at.text_input}
    by_label["Suffix (optional)"].input("x" * 70).run()
    assert current_config(at).suffix == "support-bot" and "70/64" in texts(at)
    by_label = {t.label: t for t in at.text_input}
    by_label["Seed (optional)"].input("-5").run()
    assert current_config(at).seed == 42 and "Seed must be an integer" in texts(at)
    by_label = {t.label: t for t in at.text_input}
    by_label["Seed (optional)"].input("7").run()
    assert current_config(at).seed == 7
    assert not at.exception


@pytest.mark.slow
def test_model_picker(monkeypatch, tmp_path):
    # AppTest can't type a new option into an accept_new_options select; the browser test does.
    cfg = preset_config("supervised-chat").model_copy(update={"model": "ft:gpt-4.1-mini-2025-04-14:acme:bot:1"})
    at = new_app(monkeypatch, tmp_path, cfg, page=PAGE)
    box = [s for s in at.selectbox if s.label == "Base model"][0]
    assert box.value == "ft:gpt-4.1-mini-2025-04-14:acme:bot:1"  # an id outside the table is kept and shown
    box.select("gpt-4.1-2025-04-14").run()
    assert current_config(at).model == "gpt-4.1-2025-04-14"
    assert not at.exception


def test_wandb_and_undo(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, preset_config("supervised-chat"), page=PAGE)
    at.toggle[0].set_value(True).run()
    by_label = {t.label: t for t in at.text_input}
    by_label["Project (required)"].input("ft-runs").run()
    cfg = current_config(at)
    assert cfg.integrations[0].wandb.project == "ft-runs"
    at.sidebar.button(key="sb.undo").click().run()
    assert current_config(at).integrations is None
    assert not at.exception
