"""Test grading's "Before you train" section through AppTest: calibration of a run, the probes (flagged and
not), model graders only on click, and sample generation against the stub."""

from __future__ import annotations

import json

from components.app_state import AppState
from tests.app.app_util import texts

# _isolated is the page tests' autouse fixture (no API keys from the environment); the root conftest gives every
# test a temporary $FTSTUDIO_HOME and cache.
from tests.app.test_test_grading_page import _isolated, load_example, open_page, rft  # noqa: F401

LIKE = {"type": "string_check", "name": "contains", "input": "{{ sample.output_json.label }}",
        "reference": "{{ item.label }}", "operation": "like"}
EQ = {**LIKE, "name": "exact", "operation": "eq"}
JUDGE = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14", "range": [0, 1],
         "input": [{"role": "system", "content": "Grade it. [[score:0.2]]"},
                   {"role": "user", "content": "{{ item.reference }} vs {{ sample.output_text }}"}]}


def test_probes_flag_a_like_grader_and_pass_an_eq_grader():
    at = open_page(rft(LIKE))
    load_example(at)
    assert ":material/policy: Can this grader be gamed?" in [e.label for e in at.expander]
    at.button(key="tg-probe-run").click().run()
    assert not at.exception
    assert "probe(s) game this grader" in texts(at) and "a hedged list passes" in texts(at)
    at = open_page(rft(EQ))
    load_example(at)
    at.multiselect(key="tg-probe-names").set_value(["hedge", "pad", "empty"]).run()
    at.button(key="tg-probe-run").click().run()
    assert not at.exception and "No probe games this grader" in texts(at)
    table = next(d.value for d in at.dataframe if "tied" in d.value.columns)
    assert {"above genuine", "tied"} <= set(table.columns) and "≥ genuine" not in table.columns
    empty = table.set_index("probe").loc["empty"]
    assert empty["above genuine"] == 0 and empty["tied"] > 0  # rows where both score 0 are ties, not wins


def test_calibration_appears_after_grading():
    at = open_page(rft(EQ))
    load_example(at)
    at.button(key="tg-run").click().run()
    deadline = 0
    while not any(m.label == "Reward std" for m in at.metric) and deadline < 40:
        at.run()
        deadline += 1
    labels = [m.label for m in at.metric]
    assert "Reward std" in labels and "At the maximum" in labels
    # Rewards are 0 or 1: the threshold aimed at 30 % fails every row at 0; the label says the real share.
    from ftstudio.probes import calibration

    run = AppState(at.session_state).run
    c = calibration(run.results, [run.entry(i) for i in range(len(run))], sample_field=run.sample_field)
    real = c["fail_thresholds"]["30%"]["share_failing"]
    assert real != 0.3 and f"Threshold failing {100 * real:.1f}%" in labels and "Threshold failing 30%" not in labels
    at.selectbox(key="tg-cal-group").set_value("label").run()
    assert not at.exception and "Groups (label)" in texts(at)


def test_model_probes_run_only_on_click(openai_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    openai_stub.judge_obeys_injection = True
    at = open_page(rft(JUDGE))
    load_example(at)
    at.number_input(key="tg-probe-rows").set_value(3).run()
    at.multiselect(key="tg-probe-names").set_value(["inject", "empty"]).run()
    assert "model-grader requests" in texts(at)
    assert openai_stub.requests_to("/chat/completions") == []  # nothing sent before the click
    at.button(key="tg-probe-run").click().run()
    assert not at.exception
    assert "inject" in texts(at) and "the judge obeys instructions inside the answer" in texts(at)
    assert len(openai_stub.requests_to("/chat/completions")) == 9


def test_generate_samples_and_use_them(openai_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    openai_stub.distinct_choices = True
    at = open_page(rft(EQ))
    load_example(at)
    at.text_input(key="tg-sample-model").set_value("gpt-4.1-mini-2025-04-14").run()
    at.number_input(key="tg-sample-n").set_value(2).run()
    at.number_input(key="tg-sample-rows").set_value(3).run()
    assert openai_stub.requests_to("/chat/completions") == []
    at.button(key="tg-sample-run").click().run()
    assert not at.exception and "6 samples generated" in texts(at)
    at.button(key="tg-sample-use").click().run()
    assert not at.exception
    ds = AppState(at.session_state).dataset
    assert len(ds.rows) == 6 and [r["group"] for r in ds.rows] == [0, 0, 1, 1, 2, 2]
    assert json.dumps(ds.rows[1]).count("(choice 1)") == 1


def test_label_column_shows_kappa_rho_with_intervals_and_a_confusion_matrix():
    from tests.app.test_test_grading_page import grade

    at = open_page(rft(EQ))
    load_example(at)
    grade(at)
    at.run()
    assert [m.label for m in at.metric if m.label == "Cohen's κ"] == []  # nothing before a column is chosen
    at.selectbox(key="tg-labels").set_value("answer").run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Cohen's κ" in labels and "Spearman ρ" in labels and "Threshold maximising κ" in labels
    assert "95% bootstrap" in texts(at) and "labels: agreement needs at least 50" in texts(at)
    matrices = [d.value for d in at.dataframe if list(d.value.columns) == ["grader pass", "grader fail"]]
    assert len(matrices) == 1 and int(matrices[0].values.sum()) > 0
    assert list(matrices[0].index) == ["label pass", "label fail"]
