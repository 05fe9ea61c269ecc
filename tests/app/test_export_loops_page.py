"""The Export page's "Tinker-style environment" and "promptfoo" tabs: the command to run each folder and a zip."""

from __future__ import annotations

import io
import zipfile

import pytest
from app_util import new_app, preset_config, texts

from ftstudio.reward import PROMPTFOO_COMMAND, TINKER_COMMAND, promptfoo_zip, tinker_zip

PAGE = "app_pages/export.py"
pytestmark = pytest.mark.slow


def test_both_tabs_give_the_command_and_a_zip(monkeypatch, tmp_path):
    cfg = preset_config("rft-exact-match")
    at = new_app(monkeypatch, tmp_path, cfg, page=PAGE)
    assert not at.exception
    labels = [t.label for t in at.tabs]
    assert "Tinker-style environment" in labels and "promptfoo" in labels
    codes = [c.value for c in at.code]
    assert f"cd exact-answer-tinker\n{TINKER_COMMAND}" in codes
    assert f"cd exact-answer-promptfoo\n{PROMPTFOO_COMMAND}" in codes
    assert any(c.startswith("ftstudio export job.json --format promptfoo --data DATA") for c in codes)
    buttons = [b.label for b in at.get("download_button")]
    assert ":material/download: Download the environment (zip)" in buttons
    assert ":material/download: Download the promptfoo config (zip)" in buttons
    assert "bundled example rows" in texts(at)  # no dataset loaded on Test grading
    assert any("providers: [echo]" in c for c in codes)  # the YAML shown


def test_an_approximate_mapping_is_said_and_sft_has_no_grader_to_export(monkeypatch, tmp_path):
    cfg = preset_config("rft-summarization")
    grader = {"type": "multi", "name": "m", "calculate_output": "0.5 * words + 0.5 * label", "graders": {
        "words": {"type": "text_similarity", "name": "words", "evaluation_metric": "bleu",
                  "input": "{{ sample.output_text }}", "reference": "{{ item.reference }}"},
        "label": {"type": "string_check", "name": "label", "operation": "eq",
                  "input": "{{ sample.output_text }}", "reference": "{{ item.label }}"}}}
    from ftstudio.validation import grader_from_json

    method = cfg.method.model_copy(update={"reinforcement": cfg.method.reinforcement.model_copy(
        update={"grader": grader_from_json(grader)})})
    at = new_app(monkeypatch, tmp_path, cfg.model_copy(update={"method": method}), page=PAGE)
    assert not at.exception
    assert any("Approximate: words: text_similarity bleu" in w.value for w in at.warning)
    at = new_app(monkeypatch, tmp_path, preset_config("supervised-chat"), page=PAGE)
    assert [c.value for c in at.caption].count("These exports take a grader: they apply to reinforcement jobs.") == 2


def test_the_zips_hold_the_folders_with_the_wheel():
    cfg = preset_config("rft-exact-match")
    rows = [{"answer": "4", "model_sample": "4"}]
    for data, folder, files in ((tinker_zip(cfg, rows, "model_sample", "t"), "t", ("train.py", "rows.jsonl")),
                                (promptfoo_zip(cfg, rows, "model_sample", "p"), "p",
                                 ("promptfooconfig.yaml", "tests.jsonl", "grader.py"))):
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        for name in (*files, "grader.json", "requirements.txt", "README.md"):
            assert f"{folder}/{name}" in names
        assert any(n.startswith(f"{folder}/wheels/ftstudio-") and n.endswith(".whl") for n in names)
