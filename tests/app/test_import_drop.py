"""Issue 25, item 10: the sidebar's Import JSON box takes what it says (.json, a one-line .jsonl) and a dataset
dropped there (.jsonl, .csv, a JSON array of rows) is said to be one, with the way to Test grading."""

from __future__ import annotations

import json

import pytest
from app_util import ROOT, current_config, new_app, texts

from components.dataset_drop import ACCEPTS
from ftstudio.datasets import looks_like_rows

QUIZ = (ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl").read_bytes()
CONFIG = json.loads((ROOT / "presets" / "rft-exact-match.json").read_text())["config"]


def _drop(at, name: str, data: bytes) -> None:
    at.sidebar.file_uploader(key="sb.import_file").set_value((name, data, "application/octet-stream")).run()


@pytest.mark.parametrize("name, data", [("quiz.jsonl", QUIZ), ("rows.csv", b"messages,model_sample\nhi,there\n"),
                                        ("rows.json", json.dumps([{"a": 1}, {"a": 2}]).encode())])
def test_a_dataset_dropped_on_import_is_sent_to_test_grading(monkeypatch, tmp_path, name, data):
    at = new_app(monkeypatch, tmp_path)
    before = current_config(at)
    _drop(at, name, data)
    shown = texts(at)
    assert f"**{name}** looks like a dataset: upload it on **4 Test grading**" in shown
    assert "Found a job config" not in shown and "Can't read it" not in shown
    assert current_config(at) == before and not at.exception


def test_a_one_line_jsonl_config_imports_like_json(monkeypatch, tmp_path):
    assert {"json", "jsonl"} <= set(ACCEPTS)
    at = new_app(monkeypatch, tmp_path)
    _drop(at, "job.jsonl", json.dumps(CONFIG).encode() + b"\n")
    assert "Found a job config" in texts(at)
    at.sidebar.button(key="sb.import_apply").click().run()
    assert current_config(at).method_type == "reinforcement" and not at.exception


def test_what_is_taken_for_rows():
    assert looks_like_rows(QUIZ) and looks_like_rows(b"", "d.csv")
    assert not looks_like_rows(json.dumps(CONFIG).encode())
    assert not looks_like_rows(json.dumps(CONFIG).encode() + b"\n")  # one line: a document
    assert not looks_like_rows(b"[1, 2]") and not looks_like_rows(b"{broken\n{broken\n")
