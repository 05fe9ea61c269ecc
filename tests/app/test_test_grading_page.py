"""The Test grading page (app_pages/test_grading.py) through Streamlit's AppTest: the real app, real grading."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from app_util import preset_config, texts
from streamlit.testing.v1 import AppTest

from components.state import AppState
from ftstudio.config import JobConfig
from ftstudio.datasets import example_path
from ftstudio.grading import compare_runs, to_csv, to_jsonl
from ftstudio.store import autosave

ROOT = Path(__file__).resolve().parents[2]
PAGE = "app_pages/test_grading.py"
QUIZ = Path(example_path("reinforcement")).read_bytes()
MULTI = {"type": "multi", "name": "quiz", "calculate_output": "0.5 * label + 0.5 * fuzzy", "graders": {
    "label": {"type": "string_check", "name": "label", "input": "{{ sample.output_json.label }}",
              "reference": "{{ item.label }}", "operation": "eq"},
    "fuzzy": {"type": "text_similarity", "name": "fuzzy", "input": "{{ sample.output_text }}",
              "reference": "{{ item.reference }}", "evaluation_metric": "fuzzy_match"}}}


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


def rft(grader: dict) -> JobConfig:
    return JobConfig.model_validate({"model": "o4-mini-2025-04-16", "training_file": "",
                                     "method": {"type": "reinforcement", "reinforcement": {"grader": grader}}})


def preset(name: str) -> JobConfig:
    return preset_config(name.removesuffix(".json"))


def open_page(config: JobConfig | None = None) -> AppTest:
    if config is not None:
        autosave.save(config)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def load_example(at: AppTest) -> None:
    at.button(key="tg.load-example").click().run()
    assert not at.exception


def grade(at: AppTest, timeout: float = 20) -> None:
    at.button(key="tg.run").click().run()
    deadline = time.monotonic() + timeout
    while AppState(at.session_state).job is not None:
        assert time.monotonic() < deadline, "grading did not finish"
        time.sleep(0.05)
        at.run()
    assert not at.exception


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)




@pytest.mark.slow
def test_renders_without_a_dataset_and_for_a_non_reinforcement_method():
    at = open_page()  # a fresh config is supervised
    assert "No dataset yet" in texts(at)
    assert "needs a **reinforcement** grader" in texts(at)
    load_example(at)
    assert AppState(at.session_state).dataset.name == "supervised-chat.jsonl"
    assert any("format" in e.label.lower() and "supervised" in e.label for e in at.expander)
    assert "needs a **reinforcement** grader" in texts(at)
    assert "tg.run" not in [b.key for b in at.button]
    assert {"1 Method", "3 Graders"} <= {link.proto.label for link in at.get("page_link")}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "presets").glob("*.json")))
def test_every_preset_renders_with_its_example(name):
    cfg = preset(name)
    at = open_page(cfg)
    load_example(at)
    if cfg.method_type == "reinforcement":
        grade(at)
        run = AppState(at.session_state).run
        assert len(run) == 32 and metric(at, "Rows graded") == "32"
    else:
        assert "needs a **reinforcement** grader" in texts(at)


def test_upload_reads_once_and_shows_problems():
    at = open_page(preset("rft-exact-match.json"))
    bad = QUIZ.replace(b"\n", b"\n{broken\n", 1)
    at.file_uploader(key="tg.upload").set_value(("quiz.jsonl", bad, "application/octet-stream")).run()
    ds = AppState(at.session_state).dataset
    assert ds.name == "quiz.jsonl" and len(ds.rows) == 32 and [e.line for e in ds.errors] == [2]
    assert "1 line could not be read" in texts(at)
    skipped = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert skipped["line"].tolist() == [2]
    derived = dict(AppState(at.session_state).dataset_derived)
    at.run()
    assert AppState(at.session_state).dataset is ds  # a rerun reads nothing again
    assert all(AppState(at.session_state).dataset_derived[k] is v for k, v in derived.items())  # nor reports/tokens
    load_example(at)  # an example replaces the upload, and stays after reruns
    at.run()
    assert AppState(at.session_state).dataset.name == "reinforcement-quiz.jsonl"
    at.file_uploader(key="tg.upload").set_value(("empty.jsonl", b"", "application/octet-stream")).run()
    assert "Could not read the file" in texts(at) and "is empty" in texts(at)
    assert AppState(at.session_state).dataset.name == "reinforcement-quiz.jsonl"  # the previous one stays
    assert not at.exception


def test_choose_the_output_field():
    rows = [json.loads(line) for line in QUIZ.decode().splitlines()]
    renamed = "\n".join(json.dumps({**{k: v for k, v in r.items() if k != "model_sample"},
                                    "completion": r["model_sample"]}) for r in rows).encode()
    at = open_page(preset("rft-classification-structured.json"))
    at.file_uploader(key="tg.upload").set_value(("renamed.jsonl", renamed, "application/octet-stream")).run()
    assert "no 'model_sample' field" in texts(at)
    ds = AppState(at.session_state).dataset
    at.selectbox(key=f"tg.sample-field.{ds.content_hash[:16]}").set_value("completion").run()
    assert AppState(at.session_state).sample_field == "completion"
    assert "no 'model_sample' field" not in texts(at)
    grade(at)
    assert AppState(at.session_state).run.sample_field == "completion"
    assert metric(at, "Mean reward") == "0.625"


@pytest.mark.slow
def test_grade_a_multi_grader_threshold_charts_detail_and_downloads():
    at = open_page(rft(MULTI))
    load_example(at)
    grade(at)
    run = AppState(at.session_state).run
    rewards = np.asarray(run.results.rewards)
    assert metric(at, "Mean reward") == f"{rewards.mean():.3f}"
    assert metric(at, "Rows ≥ 0.5") == f"{100 * (rewards >= 0.5).mean():.1f}%"
    at.slider(key="tg.threshold.0.1").set_value(0.9).run()
    assert metric(at, "Rows ≥ 0.9") == f"{100 * (rewards >= 0.9).mean():.1f}%"
    n_errors = len(run.results.errors)
    assert metric(at, "Error rate") == f"{100 * n_errors / 32:.1f}%"
    charts = {c.key for c in at.get("plotly_chart")}
    assert charts == {"tg.chart-hist", "tg.chart-errors", "tg.chart-subs", "tg.chart-corr"}
    # the table filters: errors only
    at.toggle(key="tg.f-errors").set_value(True).run()
    table = next(d.value for d in at.dataframe if "reward" in d.value.columns and "output" in d.value.columns)
    assert len(table) == n_errors and (table["errors"] != "").all()
    at.text_input(key="tg.f-search").set_value("not valid json").run()
    table = next(d.value for d in at.dataframe if "reward" in d.value.columns and "output" in d.value.columns)
    assert 0 < len(table) < n_errors and table["errors"].str.contains("sample_parse_error").all()
    assert table["label"].isna().all() and table["fuzzy"].notna().all()  # issue 25: the failed child has no value
    # the detail view of that row: its error and the rendered templates
    assert "sample_parse_error" in texts(at) and "How the grader saw this row" in texts(at)
    row = table["row"].iloc[0]
    assert AppState(at.session_state).dataset.rows[row - 1]["reference"] in texts(at)  # rows are 1-based on screen
    # downloads: the CLI's record shape, one per row
    assert {"Results as JSONL", "Results as CSV"} <= {b.label for b in at.download_button}
    records = [json.loads(line) for line in to_jsonl(run).decode().splitlines()]
    assert len(records) == 32 and set(records[0]) == {"row", "reward", "sub_rewards", "errors", "error_details", "line"}
    assert set(records[0]["sub_rewards"]) == {"label", "fuzzy"}
    assert to_csv(run).decode().splitlines()[0] == "row,line,reward,sub_reward.label,sub_reward.fuzzy,errors,error_details"


@pytest.mark.slow
def test_stale_results_and_baseline_comparison():
    at = open_page(preset("rft-classification-structured.json"))
    load_example(at)
    grade(at)
    base = AppState(at.session_state).run
    at.button(key="tg.keep-baseline").click().run()
    assert AppState(at.session_state).baseline is base
    AppState(at.session_state).config = preset("rft-exact-match.json")  # the user changes the grader
    at.run()
    assert "earlier grader/data" in texts(at)
    assert AppState(at.session_state).run is base  # still viewable, never re-run silently
    grade(at)
    new = AppState(at.session_state).run
    assert new is not base and "earlier grader/data" not in texts(at)
    cmp = compare_runs(base, new, 0.5)
    assert metric(at, "Rows compared") == "32"
    assert metric(at, "Pass → fail") == str(len(cmp.pass_to_fail))
    assert metric(at, "Fail → pass") == str(len(cmp.fail_to_pass))
    assert cmp.pass_to_fail and cmp.fail_to_pass  # JSON answers stop passing; bare answers start to
    assert {"tg.chart-overlay", "tg.chart-delta"} <= {c.key for c in at.get("plotly_chart")}
    at.segmented_control(key="tg.cmp-show").set_value("flipped").run()
    flips = next(d.value for d in at.dataframe if "flip" in d.value.columns)
    assert sorted(flips["row"]) == sorted(r + 1 for r in cmp.pass_to_fail + cmp.fail_to_pass)  # 1-based on screen
    at.selectbox(key=f"tg.sample-field.{base.data_hash[:16]}").set_value("answer").run()
    assert "earlier grader/data" in texts(at)  # a different output field also makes results stale


def test_cancel_a_slow_run():
    slow = {"type": "python", "name": "slow", "source": "import time\n\ndef grade(sample, item):\n"
                                                         "    time.sleep(0.2)\n    return 1.0\n"}
    at = open_page(rft(slow))
    load_example(at)
    at.button(key="tg.run").click().run()
    job = AppState(at.session_state).job
    assert job is not None and not job.done
    assert at.button(key="tg.cancel").label == "Cancel" and at.get("progress")
    at.button(key="tg.cancel").click().run()
    assert job.wait(20) and job.cancelled
    at.run()
    assert "Cancelled" in texts(at) and not at.exception
    assert AppState(at.session_state).job is None


@pytest.mark.slow
def test_connection_panel_test_button_and_token_readout(openai_stub):
    at = open_page(preset("rft-summarization.json"))
    load_example(at)
    assert "Model endpoint" in texts(at)
    at.text_input(key="tg.conn.url").set_value(openai_stub.base_url).run()
    at.text_input(key="tg.conn.key").set_value("sk-wrong-key-0123456789abcdef").run()
    at.button(key="tg.conn.test-btn").click().run()
    assert "401" in texts(at) and "check the API key" in texts(at)
    at.text_input(key="tg.conn.key").set_value(openai_stub.api_key).run()
    at.button(key="tg.conn.test-btn").click().run()
    assert "Connected to" in texts(at)
    assert at.text_input(key="tg.conn.key").value == ""  # the box never holds the key once applied
    assert openai_stub.api_key not in texts(at)
    grade(at, timeout=60)
    run = AppState(at.session_state).run
    usage = run.results.summary()["token_usage"]
    assert usage and sum(u["requests"] for u in usage.values()) == 32
    readout = next(d.value for d in at.dataframe if "prompt tokens" in d.value.columns)
    assert readout["requests"].sum() == 32
    saved = (Path(autosave.path())).read_text()
    assert openai_stub.api_key not in saved and "sk-wrong-key" not in saved


def test_a_big_dataset_is_checked_once_the_page_is_drawn(monkeypatch):
    """Over BACKGROUND_ROWS rows the format report and token counts are computed after the page's run (the
    run that loads shows the preview and the Grade button without them), then show like a small dataset's."""
    from components import dataset_report

    monkeypatch.setattr(dataset_report, "BACKGROUND_ROWS", 10)
    at = open_page(preset("rft-exact-match.json"))
    load_example(at)  # 32 rows
    labels = [e.label for e in at.expander]
    assert any("Checking the format of 32 rows" in label for label in labels)
    assert not any("Format OK" in label for label in labels)
    assert any(label.startswith("Preview: the first 20 of 32 rows") for label in labels)
    assert "tg.run" in [b.key for b in at.button]
    for check in AppState(at.session_state).dataset_derived.values():
        check.future.result(timeout=60)  # the checks' thread, started at the page's end
    at.run()
    assert any("Format OK for reinforcement" in e.label for e in at.expander)
    background = metric(at, "Tokens")
    monkeypatch.setattr(dataset_report, "BACKGROUND_ROWS", 20_000)
    small = open_page(preset("rft-exact-match.json"))
    load_example(small)
    assert metric(small, "Tokens") == background and not at.exception
