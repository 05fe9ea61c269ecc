"""Issue 25, item 13: one line under the target selector says what the target changes (rules, models, export),
and the Graders and Export pages name the active target in their header."""

from __future__ import annotations

import pytest
from app_util import new_app, preset_config, texts

from components.target_info import WHAT


@pytest.mark.parametrize("page", ["app_pages/graders.py", "app_pages/export.py"])
def test_graders_and_export_name_the_active_target(monkeypatch, tmp_path, page):
    at = new_app(monkeypatch, tmp_path, preset_config("rft-exact-match"), page=page)
    header = next(c.value for c in at.caption if c.value.startswith(":material/flag: Target:"))
    assert "**OpenAI** (`openai`)" in header
    at.sidebar.selectbox(key="sb.target").select("azure").run()
    header = next(c.value for c in at.caption if c.value.startswith(":material/flag: Target:"))
    assert "**Azure OpenAI / Foundry** (`azure`)" in header and not at.exception


def test_the_selector_says_what_the_target_changes(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    assert WHAT in [c.value for c in at.sidebar.caption]
    assert all(word in WHAT for word in ("rules", "models", "export"))
    assert "Target:" not in texts(at)  # 1 Method is not shaped by it: no header there
