"""Issue 11, "the app as a newcomer finds it": each defect, through AppTest on the real app."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.state import AppState
from ftstudio.config import JobConfig
from ftstudio.datasets import example_path
from ftstudio.store import autosave, workspace

pytestmark = pytest.mark.slow  # whole-app AppTest runs (issue 9: kept out of the fast run)
ROOT = Path(__file__).resolve().parents[2]
PAGE = "app_pages/test_grading.py"
QUIZ = Path(example_path("reinforcement")).read_bytes()
EXACT = {"type": "string_check", "name": "exact", "input": "{{ sample.output_json.answer }}",
         "reference": "{{ item.answer }}", "operation": "eq"}


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(ROOT)
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):  # FTSTUDIO_TODAY stays pinned (tests/conftest.py)
        monkeypatch.delenv(var, raising=False)


def rft(grader: dict, model: str = "o4-mini-2025-04-16", training_file: str = "") -> JobConfig:
    return JobConfig.model_validate({"model": model, "training_file": training_file,
                                     "method": {"type": "reinforcement", "reinforcement": {"grader": grader}}})


def open_app(config: JobConfig | None = None, page: str | None = PAGE) -> AppTest:
    if config is not None:
        autosave.save(config)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success", "code", "text")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def upload(at: AppTest, name: str, data: bytes) -> None:
    uploader = next(u for u in at.get("file_uploader") if u.key.startswith("tg-upload"))
    uploader.set_value((name, data, "application/octet-stream")).run()
    assert not at.exception


def grade(at: AppTest) -> None:
    at.button(key="tg-run").click().run()
    deadline = time.monotonic() + 60
    while AppState(at.session_state).job is not None:
        assert time.monotonic() < deadline, "grading did not finish"
        time.sleep(0.05)
        at.run()
    assert not at.exception


def test_1_dataset_runs_baseline_and_undo_survive_a_restart():
    at = open_app(rft(EXACT))
    upload(at, "quiz.jsonl", QUIZ)
    grade(at)
    at.button(key="tg-keep-baseline").click().run()
    first = AppState(at.session_state).run
    # an edit, so Undo has something; then a second run against the baseline
    at.switch_page("app_pages/graders.py").run()
    at.text_input(key=next(t.key for t in at.text_input if "|name@" in t.key)).set_value("renamed").run()
    at.switch_page(PAGE).run()
    grade(at)
    s = AppState(at.session_state)
    assert s.baseline is first and s.run.id == first.id + 1 and s.undo

    again = open_app(page=PAGE)  # a new session on the same $FTSTUDIO_HOME: a refresh or a restart
    s2 = AppState(again.session_state)
    assert s2.dataset is not None and s2.dataset.name == "quiz.jsonl" and s2.dataset.content_hash == s.dataset.content_hash
    assert s2.run.id == s.run.id and list(s2.run.records()) == list(s.run.records())
    assert s2.baseline is not None and s2.baseline.id == first.id
    assert [label for label, _ in s2.undo] == [label for label, _ in s.undo]
    assert "No dataset yet" not in texts(again) and "quiz.jsonl" in texts(again)
    assert f"Run {s.run.id}" in texts(again)
    assert not again.button(key="sb_undo").disabled
    grade(again)  # run ids go on from the restored ones
    assert AppState(again.session_state).run.id == s.run.id + 1


def test_1_an_upload_over_the_bound_is_used_but_said_not_to_be_kept(monkeypatch):
    monkeypatch.setattr(workspace, "MAX_DATASET_BYTES", 1000)
    at = open_app(rft(EXACT))
    upload(at, "quiz.jsonl", QUIZ)
    assert AppState(at.session_state).dataset is not None
    assert "is not kept across a refresh" in texts(at) and "1000" not in texts(at)  # said in MB
    again = open_app(page=PAGE)
    assert AppState(again.session_state).dataset is None and "The last dataset is not kept" in texts(again)


def test_1_no_secret_reaches_the_workspace(tmp_path):
    at = open_app(rft(EXACT))
    at.text_input(key="sb-conn-key").set_value("sk-test-NOTONDISK0123456789").run()  # a typed API key
    upload(at, "quiz.jsonl", QUIZ)
    grade(at)
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file():
            assert b"NOTONDISK" not in path.read_bytes(), path


def test_2_cancel_notice_goes_when_a_new_run_starts():
    slow = {"type": "python", "name": "slow", "source": "import time\n\ndef grade(sample, item):\n"
                                                         "    time.sleep(0.3)\n    return 1.0\n"}
    at = open_app(rft(slow))
    at.button(key="tg-load-example").click().run()
    at.button(key="tg-run").click().run()
    job = AppState(at.session_state).job
    at.button(key="tg-cancel").click().run()
    assert job.wait(60) and job.cancelled
    at.run()
    assert f"Cancelled after {job.finished_rows} of 32 rows" in texts(at)
    run = AppState(at.session_state).run
    assert len(run) == 32 and run.finished_rows == job.finished_rows  # a partial run over every row
    at.button(key="tg-run").click().run()
    assert "Cancelled after" not in texts(at)  # the old notice went with the new run
    AppState(at.session_state).job.cancel()


def test_4_playground_inputs_survive_another_page():
    at = open_app(rft(EXACT), page="app_pages/graders.py")
    at.text_area(key="graders_pg_output").set_value('{"answer": "7"}').run()
    at.text_area(key="graders_pg_item").set_value('{"answer": "7"}').run()
    assert "score **1**" in texts(at) or "1.0" in texts(at)
    at.switch_page("app_pages/method.py").run()
    at.switch_page("app_pages/graders.py").run()
    assert at.text_area(key="graders_pg_output").value == '{"answer": "7"}'
    assert at.text_area(key="graders_pg_item").value == '{"answer": "7"}'


def test_5_clear_gives_a_fresh_uploader():
    at = open_app(rft(EXACT))
    upload(at, "quiz.jsonl", QUIZ)
    before = {u.key for u in at.get("file_uploader")}
    at.button(key="tg-clear-dataset").click().run()
    after = {u.key for u in at.get("file_uploader")}
    assert "No dataset yet" in texts(at) and before != after  # a new widget: no file chip left behind
    assert next(u for u in at.get("file_uploader")).value in (None, [])


def test_6_preflight_above_the_grade_button():
    at = open_app(rft(EXACT))
    text_rows = b"".join(json.dumps({"answer": "4", "model_sample": "four"}).encode() + b"\n" for _ in range(50))
    upload(at, "plain.jsonl", text_rows)
    assert "the grader reads `sample.output_json`; 0 of 50 outputs are JSON objects" in texts(at)
    lacking = b"".join(json.dumps({**({"answer": "4"} if i >= 3 else {}), "model_sample": '{"answer": "4"}'})
                       .encode() + b"\n" for i in range(50))
    upload(at, "lacking.jsonl", lacking)
    assert "the grader reads `item.answer`; 3 of 50 rows lack it" in texts(at)
    assert "outputs are JSON objects" not in texts(at)


def test_7_no_headline_delta_against_a_baseline_of_other_data():
    at = open_app(rft(EXACT))
    at.button(key="tg-load-example").click().run()
    grade(at)
    at.button(key="tg-keep-baseline").click().run()
    upload(at, "other.jsonl", b'{"answer": "1", "model_sample": "{\\"answer\\": \\"1\\"}"}\n')
    grade(at)
    mean = next(m for m in at.metric if m.label == "Mean reward")
    assert not mean.delta and "graded a different dataset" in texts(at)


def test_8_export_page_says_why_the_python_snippet_uses_extra_body():
    multi = {"type": "multi", "name": "m", "calculate_output": "a", "graders": {"a": EXACT}}
    at = open_app(rft(multi), page="app_pages/export.py")
    if any(c.key == "export_anyway" for c in at.checkbox):  # the retired model and empty file are errors
        at.checkbox(key="export_anyway").check().run()
    assert "extra_body" in texts(at) and any("extra_body=" in c.value for c in at.code)


def test_9_model_picker_says_which_models_are_current_and_after_the_cut_off(monkeypatch):
    monkeypatch.setenv("FTSTUDIO_TODAY", "2026-12-07")  # before OpenAI's cut-off, after o4-mini's retirement
    at = open_app(rft(EXACT), page="app_pages/method.py")
    shown = texts(at)
    assert "No current OpenAI model for reinforcement" in shown and "o4-mini-2025-04-16` retired 2026-10-23" in shown
    assert "Azure" in shown and "trainer" in shown
    at.button(key=next(b.key for b in at.button if b.key and b.key.startswith("pick-supervised"))).click().run()
    assert "Current for supervised on OpenAI: `gpt-4.1-2025-04-14`" in texts(at)
    monkeypatch.setenv("FTSTUDIO_TODAY", "2027-01-07")  # OpenAI took new jobs through 2027-01-06
    at.run()
    assert "OpenAI stopped creating fine-tuning jobs after 2027-01-06" in texts(at) and "Azure" in texts(at)


def test_10_and_11_one_row_count_and_one_based_rows():
    at = open_app(rft(EXACT))
    bad = QUIZ.replace(b"\n", b"\n{broken\n", 1)
    upload(at, "quiz.jsonl", bad)
    shown = texts(at)
    assert "33 rows (1 unreadable)" in shown and "skipped" not in shown.lower()
    assert at.button(key="tg-run").label == "Grade all 33 rows"
    grade(at)
    table = next(d.value for d in at.dataframe if "reward" in d.value.columns and "output" in d.value.columns)
    assert table["row"].min() == 1 and table["row"].max() == 33  # 1-based, like the lines
    records = AppState(at.session_state).run.records()
    assert next(records)["row"] == 0  # records keep the documented 0-based row


def test_12_each_auto_toggle_is_named_after_its_hyperparameter():
    at = open_app(rft(EXACT), page="app_pages/hyperparameters.py")
    labels = [t.label for t in at.toggle]
    assert labels and all(label.endswith(": auto") and label != "auto" for label in labels)
    assert "n_epochs: auto" in labels and len(set(labels)) == len(labels)


def test_13_key_and_name_shown_together_and_brought_in_step():
    multi = {"type": "multi", "name": "m", "calculate_output": "0.7 * a", "graders": {
        "a": {**EXACT, "name": "exact answer"}}}
    at = open_app(rft(multi), page="app_pages/graders.py")
    assert "key `a` · name `exact answer`" in at.button(key="graders_tree|a").label
    at.button(key="graders_tree|a").click().run()
    assert "key `a` (in the formula) · name `exact answer` (in the API's results)" in texts(at)
    at.button(key=next(b.key for b in at.button if b.key and "|in-step@" in b.key)).click().run()
    cfg = AppState(at.session_state).config
    assert list(cfg.grader.graders) == ["exact_answer"] and cfg.grader.calculate_output == "0.7 * exact_answer"


EMOJI = __import__("re").compile("[\U0001F300-\U0001FAFF\u2600-\u26FF\u2700-\u27BF\u2B50\u2B06\u2B07\u2139\u27A1\u23E9-\u23FA]\ufe0f?")


def test_14_no_emoji_icons_in_navigation_headings_or_widgets():
    """Debian's chromium has no emoji font: navigation and section icons are Material icons."""
    sources = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "components").glob("*.py"))]
    found = [f"{p.name}:{n}: {line.strip()[:80]}" for p in sources
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if EMOJI.search(line.replace("\u26a0 ", "").replace("\u2605", ""))]  # ⚠ and ★ are in DejaVu Sans
    assert not found, found
    app_source = (ROOT / "app.py").read_text(encoding="utf-8")
    pages = [line for line in app_source.splitlines() if "st.Page(" in line]
    assert len(pages) == 5 and all('icon=":material/' in line for line in pages)
    # The page icon is a local file: a :material: page_icon makes the favicon a font-CDN request (issue 18).
    assert 'page_icon=str(ICON)' in app_source and (ROOT / "assets" / "favicon.png").is_file()
