
import pytest

from ftstudio.api import Endpoint, official_errors, validate_grader
from ftstudio.grading import compare

SC = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}", "reference": "{{ item.answer }}",
      "operation": "eq"}
MULTI = {"type": "multi", "name": "m", "calculate_output": "0.5 * a + 0.5 * b", "graders": {
    "a": SC, "b": {"type": "text_similarity", "name": "sim", "input": "{{ sample.output_text }}",
                   "reference": "{{ item.answer }}", "evaluation_metric": "fuzzy_match"}}}
ROWS = [{"answer": "Paris", "model_sample": "Paris"}, {"answer": "Rome", "model_sample": "Roma"},
        {"answer": "x", "model_sample": "not json"}]


@pytest.fixture
def ep(openai_stub, tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key)


def test_validate(ep, openai_stub):
    ok = validate_grader(ep, MULTI)
    assert ok.ok and ok.grader["graders"]["a"]["name"] == "exact"
    bad = validate_grader(ep, {"type": "multi", "name": "m", "calculate_output": "a", "graders": {"a": MULTI}})
    assert not bad.ok and "multi" in bad.message.lower()
    sent = openai_stub.requests_to("/fine_tuning/alpha/graders/validate")[1].json
    assert sent["grader"]["graders"]["a"]["graders"]["a"]["type"] == "string_check"  # the map went out as a map


def test_compare_matches_and_highlights_differences(ep, openai_stub):
    report = compare(MULTI, ROWS, ep)
    assert [r.differs for r in report.rows] == [False, False, False]
    assert report.rows[1].official_sub == pytest.approx(report.rows[1].local_sub)
    openai_stub.grader_reward_overrides = {"sim": 0.123}
    report = compare(MULTI, ROWS, ep, use_cache=False)
    assert report.rows[0].differs and report.rows[0].sub_deltas["b"] == pytest.approx(1 - 0.123)
    assert report.summary()["differ"] == 3


def test_compare_caches_official_answers(ep, openai_stub):
    compare(SC, ROWS, ep, n=2)
    calls = len(openai_stub.requests_to("/fine_tuning/alpha/graders/run"))
    again = compare(SC, ROWS, ep, n=2)
    assert len(openai_stub.requests_to("/fine_tuning/alpha/graders/run")) == calls == 2
    assert again.summary()["cached"] == 2


def test_compare_reports_official_flags_and_tokens(ep):
    judge = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14",
             "input": [{"role": "user", "content": "{{ sample.output_text }} {{ item.d }}"}]}
    rows = [{"d": "[[score:0.5]]", "model_sample": "a"}, {"d": "[[refuse]]", "model_sample": "b"}]
    report = compare(judge, rows, ep)
    assert report.rows[0].official_reward == 0.5 and report.rows[0].local_reward == 0.5
    assert "model_grader_refusal_error" in report.rows[1].official_errors
    assert report.rows[1].local_errors == ["model_grader_refusal_error"] and not report.rows[1].differs
    assert report.summary()["official_tokens"]


def test_compare_failures_are_rows_not_crashes(ep, openai_stub):
    openai_stub.fail_next(500, times=50, path="/fine_tuning/alpha/graders/run")
    report = compare(SC, ROWS[:1], ep, use_cache=False, max_retries=1, sleep=lambda s: None)
    assert report.rows[0].official_reward is None and "HTTP 500" in report.rows[0].failure


def test_official_errors_shape():
    body = {"metadata": {"errors": {"python_grader_runtime_error": True,
                                    "python_grader_runtime_error_details": "ZeroDivisionError", "other_error": False}}}
    assert official_errors(body) == {"python_grader_runtime_error": "ZeroDivisionError"}


def test_compare_on_a_dataset_reads_only_the_chosen_rows_and_numbers_them_alike(ep):
    """The app passes its dataset and row numbers (unreadable lines counted): the dataset path decodes only
    those rows and gives the same report as the decoded rows."""
    import json

    from ftstudio.datasets import read_dataset

    data = "\n".join([json.dumps(ROWS[0]), "{broken", *(json.dumps(r) for r in ROWS[1:])]).encode()
    ds = read_dataset(data, name="d.jsonl")
    of_ds = compare(SC, ds, ep, indices=[3, 1, 2, 0])
    of_rows = compare(SC, [ROWS[0], "unreadable", *ROWS[1:]], ep, indices=[3, 1, 2, 0])
    assert [(r.row, r.local_reward, r.official_reward) for r in of_ds.rows] == [(3, 0.0, 0.0), (2, 0.0, 0.0), (0, 1.0, 1.0)]
    assert [(r.row, r.local_reward) for r in of_ds.rows] == [(r.row, r.local_reward) for r in of_rows.rows]
    assert [r.line for r in of_ds.rows] == [4, 3, 1]
