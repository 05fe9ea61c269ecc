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


def test_train_anywhere_tab_offers_every_format(monkeypatch, tmp_path):
    """Each trainer's folder: the exact commands with the tested release, its files, and a zip holding them
    and the ftstudio wheel."""
    import io
    import zipfile

    from ftstudio.reward import FORMATS, export_files, export_zip, openrlhf_snippet, verl_snippet

    cfg = preset_config("rft-math-python")
    at = new_app(monkeypatch, tmp_path, cfg, page=PAGE)
    assert not at.exception
    assert "Train anywhere" in [t.label for t in at.tabs]
    radio = at.radio(key="train_anywhere_format")
    assert list(radio.options) == [f"{s.trainer} {s.version}" for s in FORMATS.values()]
    slug = (cfg.suffix or cfg.method_type).replace(" ", "-")
    for fmt, spec in FORMATS.items():
        at = radio.set_value(fmt).run()
        assert not at.exception
        radio = at.radio(key="train_anywhere_format")
        codes = [c.value.rstrip("\n") for c in at.code]  # st.code drops the final newline
        folder = f"{slug}-{fmt}"
        assert f"ftstudio export job.json --format {fmt} -o {folder}   # or unzip the download\ncd {folder} && " \
               f"{spec.smoke}" in codes
        assert any(f"Tested with {spec.trainer} {spec.version}" in c.value for c in at.caption)
        for name, text in export_files(cfg, fmt, f"/path/to/{folder}/grader.json").items():
            assert text.rstrip("\n") in codes, (fmt, name)
        labels = [b.label for b in at.get("download_button")]
        assert f":material/download: Download the {spec.trainer} folder (zip)" in labels
    with zipfile.ZipFile(io.BytesIO(export_zip(cfg, "verl", f"{slug}-verl"))) as zf:
        assert any(n.endswith(".whl") for n in zf.namelist())
    assert verl_snippet().rstrip("\n") in codes and openrlhf_snippet().rstrip("\n") in codes


def test_open_source_tab_for_supervised_has_no_reward_snippets(monkeypatch, tmp_path):
    from ftstudio.reward import export_files

    cfg = preset_config("supervised-chat")
    at = new_app(monkeypatch, tmp_path, cfg, page=PAGE)
    assert not at.exception
    assert list(at.radio(key="train_anywhere_format").options) == ["TRL 1.16.0"]  # the others need a grader
    codes = [c.value.rstrip("\n") for c in at.code]
    assert export_files(cfg, "trl")["train.py"].rstrip("\n") in codes
    assert not any("custom_reward_function" in c for c in codes)
    assert any("apply to reinforcement jobs" in c.value for c in at.caption)


def test_move_this_job_shows_the_migrate_list_and_files(monkeypatch, tmp_path):
    from ftstudio.migrate import plan_move

    cfg = preset_config("rft-safety-label")
    at = new_app(monkeypatch, tmp_path, cfg, page=PAGE)
    at.selectbox(key="move_target").select("gemini").run()
    assert not at.exception
    move = plan_move(json.loads(to_json(cfg)), "gemini")
    shown = texts(at)
    assert "# Moving this job to gemini" in shown and "1 lose something" in shown
    assert all(c.message.split(":")[0] in shown for c in move.changes)
    assert move.files["gemini_reward_config.json"].strip() in [c.value.strip() for c in at.code]
    at.selectbox(key="move_target").select("bedrock-rft").run()
    assert "needs --role-arn" in texts(at)
