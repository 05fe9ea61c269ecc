"""Issue 25, item 9: a multi child that failed on a row has no score there. The JSONL record keeps the
documented 0; the table, the charts and the CSV download show no value (NaN, an empty cell)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from ftstudio.datasets import read_dataset
from ftstudio.grading import GradeOptions, GradingJob, Scope, grade, merge, to_csv, to_jsonl
from ftstudio.report import charts as C
from ftstudio.store import workspace

MULTI = {"type": "multi", "name": "quiz", "calculate_output": "0.5 * label + 0.5 * fuzzy", "graders": {
    "label": {"type": "string_check", "name": "label", "input": "{{ sample.output_json.label }}",
              "reference": "{{ item.label }}", "operation": "eq"},
    "fuzzy": {"type": "text_similarity", "name": "fuzzy", "input": "{{ sample.output_text }}",
              "reference": "{{ item.reference }}", "evaluation_metric": "fuzzy_match"}}}
# row 0 scores both children; row 1 is not JSON (label fails, fuzzy scores); line 3 is unreadable
DATA = (json.dumps({"label": "a", "reference": json.dumps({"label": "a"}), "model_sample": json.dumps({"label": "a"})}) + "\n"
        + json.dumps({"label": "a", "reference": "plain", "model_sample": "plain"}) + "\n{broken\n").encode()


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path / "home"))


@pytest.fixture
def run():
    ds = read_dataset(DATA, name="d.jsonl")
    job = GradingJob(1, MULTI, ds, "model_sample", Scope(), GradeOptions(), "fp").start()
    assert job.wait(30) and job.run is not None
    return job.run


def test_failed_children_have_no_value_but_records_keep_zero(run):
    res = run.results
    assert len(res) == 3 and set(res.errors) == {1, 2}
    assert res.sub_missing == {"label": {1, 2}, "fuzzy": {2}}
    assert res.sub_value("label", 1) is None and res.sub_value("fuzzy", 1) == 1.0 and res.sub_value("label", 0) == 1.0
    records = [json.loads(line) for line in to_jsonl(run).decode().splitlines()]
    assert records[1]["sub_rewards"] == {"label": 0.0, "fuzzy": 1.0}  # the documented record
    assert records[2]["sub_rewards"] == {"label": 0.0, "fuzzy": 0.0}
    table = list(csv.DictReader(io.StringIO(to_csv(run).decode())))
    assert [r["sub_reward.label"] for r in table] == ["1.0", "", ""]
    assert [r["sub_reward.fuzzy"] for r in table] == ["1.0", "1.0", ""]


def test_charts_leave_them_out(run):
    label = C.sub_array(run.results, "label")
    assert label[0] == 1.0 and np.isnan(label[1:]).all()
    fig = C.sub_reward_histograms(run.results)
    assert fig is not None
    titles = [a.text for a in fig.layout.annotations]  # pyright: ignore[reportAttributeAccessIssue]
    assert titles == ["label<br>mean 1.00 · 2 no value", "fuzzy<br>mean 1.00 · 1 no value"]
    assert sum(fig.data[0].y) == 1 and sum(fig.data[1].y) == 2  # a failed child counts in no bin


def test_kept_across_chunks_and_a_restart(run):
    rows = [json.loads(line) for line in DATA.decode().splitlines()[:2]]
    parts = [grade(MULTI, rows[:1]), grade(MULTI, rows[1:])]
    assert merge(parts).sub_missing == {"label": {1}}
    workspace.save_run(run)
    doc = workspace.load_run(1)
    assert doc is not None
    back = workspace.run_from_data(doc, run.dataset)
    assert back.results.sub_missing == run.results.sub_missing
