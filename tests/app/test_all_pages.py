"""Every page renders without an exception on a new config, on each preset and on an imported config."""

import json

import pytest
from app_util import ROOT, new_app, preset_config

from components.state import AppState

pytestmark = pytest.mark.slow  # whole-app runs: every page, every preset

PAGES = ["app_pages/method.py", "app_pages/hyperparameters.py", "app_pages/graders.py",
         "app_pages/test_grading.py", "app_pages/export.py"]
PRESETS = sorted(p.stem for p in (ROOT / "presets").glob("*.json"))


def visit_all(at):
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, f"{page}: {at.exception}"
        assert len(at.sidebar.button) >= 4, f"{page}: the sidebar is missing"


@pytest.mark.parametrize("name", [None, *PRESETS])
def test_every_page(monkeypatch, tmp_path, name):
    at = new_app(monkeypatch, tmp_path, preset_config(name) if name else None)
    visit_all(at)


def test_every_page_after_import(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    body = json.loads((ROOT / "presets" / "rft-safety-label.json").read_text())
    body["config"]["method"]["reinforcement"]["grader"]["graders"]["nested"] = {
        "type": "multi", "name": "inner", "calculate_output": "x",
        "graders": {"x": {"type": "text_similarity", "name": "cos", "input": "{{ sample.output_text }}",
                          "reference": "{{ item.policy }}", "evaluation_metric": "cosine", "pass_threshold": 0.5}}}
    at.sidebar.text_area(key="sb.import_text").input(json.dumps(body)).run()
    at.sidebar.button(key="sb.import_apply").click().run()
    assert AppState(at.session_state).config.grader.graders["nested"].type == "multi"
    visit_all(at)


def test_big_tree_renders_as_one_table(monkeypatch, tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_ui import wide_config

    cfg, _ = wide_config(200)
    at = new_app(monkeypatch, tmp_path, cfg, page="app_pages/graders.py")
    assert not at.exception
    assert len(at.dataframe) >= 1 and len(at.dataframe[0].value) == 201  # the root and its 200 children, one element
    assert not [b for b in at.button if (b.key or "").startswith("graders.tree.")]
