"""Step 3 Graders (app_pages/graders.py) through Streamlit's AppTest: the real app, the real config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from app_util import texts as text
from streamlit.testing.v1 import AppTest

from components.grader_tree import ICONS
from components.state import AppState
from ftstudio.config import JobConfig, new_config, read_document
from ftstudio.datasets import example_path, read_dataset
from ftstudio.store import autosave
from ftstudio.validation import from_json

ROOT = Path(__file__).resolve().parents[2]
PAGE = "app_pages/graders.py"
SC = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
      "reference": "{{ item.answer }}", "operation": "eq"}
TREE = {"type": "multi", "name": "quiz", "calculate_output": "a + b", "graders": {
    "a": dict(SC, name="a"),
    "b": {"type": "text_similarity", "name": "b", "input": "{{ sample.output_text }}",
          "reference": "{{ item.reference }}", "evaluation_metric": "fuzzy_match"},
    "group": {"type": "multi", "name": "group", "calculate_output": "x", "graders": {"x": dict(SC, name="x")}}}}
EVERYTHING = {"type": "multi", "name": "all", "calculate_output": "s + t + m + l + p", "graders": {
    "s": SC,
    "t": {"type": "text_similarity", "name": "t", "input": "{{ sample.output_text }}", "reference": "{{ item.r }}",
          "evaluation_metric": "cosine", "pass_threshold": 0.5},
    "m": {"type": "score_model", "name": "m", "model": "my-own-model", "range": [1, 7],
          "sampling_params": {"seed": 3, "temperature": 0.2, "reasoning_effort": "high"},
          "input": [{"role": "system", "content": "Grade it."},
                    {"role": "user", "content": [
                        {"type": "input_text", "text": "{{ sample.output_text }}"}, "plain part",
                        {"type": "input_image", "image_url": "{{ item.image }}", "detail": "low"},
                        {"type": "input_audio", "input_audio": {"data": "{{ item.audio }}", "format": "mp3"}}]},
                    {"role": "assistant", "content": {"type": "output_text", "text": "ok"}}]},
    "l": {"type": "label_model", "name": "l", "model": "o3-mini-2025-01-31", "labels": ["yes", "no"],
          "passing_labels": ["yes", "maybe"], "input": [{"role": "user", "content": "{{ sample.output_text }}"}]},
    "p": {"type": "python", "name": "p", "source": "def grade(sample, item):\n    return 1.0\n", "image_tag": "odd"}}}


@pytest.fixture
def graders_app(tmp_path, monkeypatch):
    """Open the Graders page on a config (a grader dict, a JobConfig, or None for a new config)."""
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(ROOT)

    def open_page(config=None, dataset: bool = False) -> AppTest:
        if isinstance(config, dict):
            config = rft(config)
        if config is not None:
            autosave.save(config)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        if dataset:
            AppState(at.session_state).dataset = read_dataset(example_path("reinforcement"))
        at.run()
        at.switch_page(PAGE).run()
        assert not at.exception
        return at

    return open_page


def rft(grader: dict) -> JobConfig:
    return JobConfig.model_validate({"model": "o4-mini-2025-04-16", "training_file": "file-x",
                                     "method": {"type": "reinforcement", "reinforcement": {"grader": grader}}})


def grader(at: AppTest):
    return AppState(at.session_state).config.grader


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def select(at: AppTest, path: str) -> None:
    ok(at.button(key=f"graders.tree.{path}").click().run())


def by_label(elements, label: str):
    found = [e for e in elements if e.label == label]
    assert found, f"no widget labelled {label!r}: {[e.label for e in elements]}"
    return found[0]




# --- rendering ----------------------------------------------------------------------------

def test_other_methods_offer_the_switch(graders_app):
    at = graders_app(new_config("supervised").model_copy(update={"training_file": "file-abc"}))
    assert "reinforcement" in text(at)
    ok(at.button(key="graders.switch").click().run())
    cfg = AppState(at.session_state).config
    assert cfg.method_type == "reinforcement" and cfg.training_file == "file-abc"
    assert cfg.model == new_config("supervised").model
    assert at.button(key="graders.tree.")  # the tree is drawn now


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "presets").glob("*.json")))
def test_every_preset_renders(graders_app, name):
    doc = read_document(json.loads((ROOT / "presets" / name).read_text()))
    at = graders_app(from_json(doc.data))
    cfg = AppState(at.session_state).config
    assert not at.exception
    if cfg.grader is not None:
        assert at.button(key="graders.tree.").label.startswith(tuple(ICONS.values()))
    else:  # supervised and DPO presets: no tree, the switch to reinforcement instead
        assert cfg.method_type in ("supervised", "dpo")
        assert at.button(key="graders.switch") and "reinforcement" in text(at)


@pytest.mark.slow
def test_new_config_and_every_editor_render(graders_app):
    ok(graders_app(new_config("reinforcement")))
    at = graders_app(EVERYTHING)
    for key in ("s", "t", "m", "l", "p", ""):
        select(at, key)
    # every node's validation state is in the tree: cosine + pass_threshold errors on t, passing label on l
    assert ":material/error:" in at.button(key="graders.tree.t").label
    assert ":material/error:" in at.button(key="graders.tree.l").label
    assert ":material/check_circle:" in at.button(key="graders.tree.s").label


# --- tree actions -------------------------------------------------------------------------

def test_add_a_child_of_each_type(graders_app):
    at = graders_app(TREE)
    for kind in ("string_check", "text_similarity", "score_model", "label_model", "python", "multi"):
        select(at, "")
        ok(by_label(at.get("menu_button"), "Add grader").click(kind).run())
        node = grader(at)
        added = [k for k in node.graders if k not in TREE["graders"] and node.graders[k].type == kind]
        assert added, kind
    assert len(grader(at).graders) == 9
    assert AppState(at.session_state).graders_selected == ("group_2",)  # the new child is selected


def test_nested_multi_and_flatten(graders_app):
    flat = {k: v for k, v in TREE["graders"].items() if k != "group"}
    at = graders_app(dict(TREE, graders=flat))
    assert not [b for b in at.button if b.key == "graders.flatten"]
    ok(by_label(at.get("menu_button"), "Add grader").click("multi").run())
    assert grader(at).graders["group"].type == "multi"
    select(at, "")
    ok(by_label(at.text_input, "calculate_output").input("a + b + 2 * group").run())
    assert "nested" in text(at)
    ok(at.button(key="graders.flatten").click().run())
    g = grader(at)
    assert list(g.graders) == ["a", "b", "group__a"] and g.calculate_output == "a + b + 2 * group__a"
    assert not [b for b in at.button if b.key == "graders.flatten"]


def test_selection_falls_back_to_the_root_when_the_node_is_gone(graders_app):
    at = graders_app(TREE)
    ok(by_label(at.get("menu_button"), "Add grader").click("python").run())
    assert AppState(at.session_state).graders_selected == ("python",)
    ok(at.segmented_control(key="graders.json_scope").set_value("Whole tree").run())
    ok(by_label(at.text_area, "Grader JSON").input(json.dumps(TREE)).run())  # replaces the tree: no "python"
    assert "python" not in grader(at).graders
    assert any("#### :material/account_tree: multi" in m.value for m in at.markdown)  # the root's editor, no exception


def test_rename_key_updates_the_formula(graders_app):
    at = graders_app(TREE)
    select(at, "a")
    ok(by_label(at.text_input, "Key").input("exact").run())
    g = grader(at)
    assert list(g.graders) == ["exact", "b", "group"] and g.calculate_output == "exact + b"
    assert AppState(at.session_state).graders_selected == ("exact",)
    ok(by_label(at.text_input, "Key").input("b").run())  # taken: a message, nothing renamed
    assert "taken" in text(at) and "exact" in grader(at).graders


def test_delete_then_undo(graders_app):
    at = graders_app(TREE)
    select(at, "b")
    ok(by_label(at.button, "Delete").click().run())
    assert "b" not in grader(at).graders
    ok(at.button(key="graders.undo_delete").click().run())
    assert "b" in grader(at).graders


@pytest.mark.slow
def test_duplicate_move_and_change_type(graders_app):
    at = graders_app(TREE)
    select(at, "a")
    ok(by_label(at.button, "Duplicate").click().run())
    assert "a_copy" in grader(at).graders
    select(at, "a")
    ok(by_label(at.get("menu_button"), "Move to").click("group").run())
    g = grader(at)
    assert "a" not in g.graders and "a" in g.graders["group"].graders
    assert AppState(at.session_state).graders_selected == ("group", "a")
    ok(by_label(at.get("menu_button"), "Change type").click("text_similarity").run())
    moved = grader(at).graders["group"].graders["a"]
    assert moved.type == "text_similarity" and moved.name == "a" and moved.input == SC["input"]


def test_tree_errors_are_messages(graders_app):
    at = graders_app(TREE)
    select(at, "a")
    ok(by_label(at.text_input, "Key").input("max").run())  # a formula function name
    assert "can't be a key" in text(at) and "a" in grader(at).graders


# --- editors ------------------------------------------------------------------------------

def test_string_check_edits_reach_the_config(graders_app):
    at = graders_app(SC)
    ok(by_label(at.text_input, "Reference").input("{{ item.label }}").run())
    ok(by_label(at.radio, "Operation").set_value("ilike").run())
    g = grader(at)
    assert g.reference == "{{ item.label }}" and g.operation == "ilike"
    ok(by_label(at.text_input, "Reference").input("{{ item.label").run())  # malformed: shown inline
    assert any("never closed" in str(e.value) for e in at.error)


def test_template_variables_and_preview(graders_app):
    at = graders_app(SC, dataset=True)
    assert "Row 1 →" in text(at) and "155" in text(at)
    menu = at.get("menu_button")[[m.label for m in at.get("menu_button")].index("")]
    assert "item.label" in menu.options or any("item.label" in o for o in menu.options)
    ok(menu.click("item.label").run())
    assert grader(at).input.endswith("{{ item.label }}")
    # the playground starts on row 1 and picks any row by number
    assert '"label": "math"' in at.text_area(key="graders.pg_item").value
    at.number_input(key="graders.pg_row").set_value(2)
    ok(at.button(key="graders.pg_use").click().run())
    assert at.text_area(key="graders.pg_output").value == "391"


def test_multi_formula_chips(graders_app):
    at = graders_app(TREE)
    ok(by_label(at.button, "+").click().run())
    ok(by_label(at.button, "group").click().run())
    assert grader(at).calculate_output == "a + b + group"


def test_model_grader_messages(graders_app):
    at = graders_app({"type": "multi", "name": "m", "calculate_output": "j", "graders": {
        "j": {"type": "score_model", "name": "j", "model": "gpt-4.1-mini-2025-04-14", "range": [0, 1],
              "input": [{"role": "user", "content": "{{ sample.output_text }}"}]}}})
    select(at, "j")
    ok(by_label(at.button, "Add message").click().run())
    assert len(grader(at).graders["j"].input) == 2
    modes = [s for s in at.segmented_control if s.label == "Content"]
    ok(modes[0].set_value("Blocks").run())
    content = grader(at).graders["j"].input[0].content
    assert isinstance(content, list) and content[0].text == "{{ sample.output_text }}"
    ok(by_label(at.get("menu_button"), "Add block").click("input_image").run())
    assert grader(at).graders["j"].input[0].content[1].type == "input_image"
    ok(by_label(at.number_input, "High").set_value(10.0).run())
    assert grader(at).graders["j"].range == [0.0, 10.0]
    efforts = by_label(at.selectbox, "reasoning_effort")
    assert efforts.options == ["(not set)"]  # gpt-4.1-mini is not a reasoning model
    ok(by_label(at.selectbox, "Model").select("o4-mini-2025-04-16").run())
    assert grader(at).graders["j"].model == "o4-mini-2025-04-16"
    assert by_label(at.selectbox, "reasoning_effort").options == ["(not set)", "low", "medium", "high"]
    ok(by_label(at.selectbox, "reasoning_effort").select("high").run())
    assert grader(at).graders["j"].sampling_params.reasoning_effort == "high"


# --- raw JSON -----------------------------------------------------------------------------

@pytest.mark.slow
def test_json_edit_applies_when_valid_and_keeps_text_when_not(graders_app):
    at = graders_app(SC)
    box = by_label(at.text_area, "Grader JSON")
    assert json.loads(box.value) == SC
    ok(box.input(json.dumps(dict(SC, operation="like"))).run())
    assert grader(at).operation == "like"
    assert json.loads(by_label(at.text_area, "Grader JSON").value)["operation"] == "like"
    bad = '{"type": "string_check", "name": 1'
    ok(by_label(at.text_area, "Grader JSON").input(bad).run())
    assert grader(at).operation == "like" and "Not applied" in text(at)
    assert by_label(at.text_area, "Grader JSON").value == bad
    wrong = json.dumps(dict(SC, operation="sameish"))
    ok(by_label(at.text_area, "Grader JSON").input(wrong).run())
    assert grader(at).operation == "like" and by_label(at.text_area, "Grader JSON").value == wrong
    assert "operation" in text(at)
    # an edit in the editor shows up in the JSON
    ok(by_label(at.text_input, "Name").input("renamed").run())
    assert json.loads(by_label(at.text_area, "Grader JSON").value)["name"] == "renamed"


# --- playground ---------------------------------------------------------------------------

def reward(at: AppTest) -> str:
    return by_label(at.metric, "Reward").value


@pytest.mark.slow
def test_playground_grades_a_typed_output(graders_app):
    at = graders_app(SC)
    at.text_area(key="graders.pg_item").input('{"answer": "Paris"}')
    ok(at.text_area(key="graders.pg_output").input("Paris").run())
    assert reward(at) == "1"
    ok(at.text_area(key="graders.pg_output").input("Lyon").run())
    assert reward(at) == "0"
    ok(at.text_area(key="graders.pg_item").input("{oops").run())
    assert "not valid JSON" in text(at)


@pytest.mark.slow
def test_playground_explains_missing_endpoint(graders_app):
    at = graders_app({"type": "multi", "name": "m", "calculate_output": "s + j", "graders": {
        "s": SC, "j": {"type": "score_model", "name": "j", "model": "gpt-4.1-mini-2025-04-14", "range": [0, 1],
                       "input": [{"role": "user", "content": "{{ sample.output_text }}"}]}}})
    assert "model_grader_server_error" in text(at) and "OPENAI_API_KEY" in text(at)


@pytest.mark.slow
def test_playground_runs_python_on_click(graders_app):
    pytest.importorskip("ftstudio.sandbox")
    source = "def grade(sample, item):\n    return 0.25 if sample['output_text'] == item['answer'] else 0.0\n"
    at = graders_app({"type": "python", "name": "p", "source": source})
    at.text_area(key="graders.pg_item").input('{"answer": "x"}')
    ok(at.text_area(key="graders.pg_output").input("x").run())
    assert not [m for m in at.metric if m.label == "Reward"]  # waits for the click
    ok(at.button(key="graders.pg_run").click().run())
    assert reward(at) == "0.25"
