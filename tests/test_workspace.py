"""ftstudio.store.workspace: the test-grading work kept across a refresh or a restart, within bounds."""

from __future__ import annotations

import json

import pytest

from ftstudio.config import new_config
from ftstudio.datasets import read_dataset
from ftstudio.grading import GradeOptions, GradingJob, Scope
from ftstudio.store import workspace

EXACT = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
         "reference": "{{ item.answer }}", "operation": "eq"}


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path / "home"))


def data(n=5) -> bytes:
    return b"".join(json.dumps({"answer": str(i), "model_sample": str(i % 2)}).encode() + b"\n" for i in range(n))


def a_run(ds, run_id=1):
    job = GradingJob(run_id, EXACT, ds, "model_sample", Scope(), GradeOptions(), "fp").start()
    assert job.wait(30) and job.run is not None
    return job.run


def test_dataset_round_trip_and_the_size_bound(monkeypatch):
    digest, note = workspace.save_dataset(data(), "d.jsonl")
    assert note is None and workspace.load_dataset(digest) == (data(), "d.jsonl")
    monkeypatch.setattr(workspace, "MAX_DATASET_BYTES", 10)
    digest2, note = workspace.save_dataset(data(6), "big.jsonl")
    assert note and "big.jsonl" in note and workspace.load_dataset(digest2) is None


def test_a_run_comes_back_with_every_record():
    raw = data()
    ds = read_dataset(raw, name="d.jsonl")
    run = a_run(ds)
    assert workspace.save_run(run)
    back = workspace.run_from_data(workspace.load_run(run.id), ds)
    assert list(back.records()) == list(run.records()) and back.fingerprint == run.fingerprint
    assert back.results.summary() == run.results.summary() and back.grader == run.grader


def test_session_keeps_the_newest_runs_the_baseline_history_and_prunes_the_rest():
    raw = data()
    ds = read_dataset(raw, name="d.jsonl")
    digest, _ = workspace.save_dataset(raw, "d.jsonl")
    runs = [a_run(ds, i) for i in range(1, 9)]
    for r in runs:
        workspace.save_run(r)
    history = [(f"edit {i}", new_config("supervised")) for i in range(60)]
    s = workspace.Session(dataset=digest, dataset_name="d.jsonl", sample_field="model_sample",
                          runs=[r.id for r in runs], run_data={r.id: digest for r in runs}, current=8, baseline=1,
                          counter=8, undo=history, redo=[])
    workspace.save_session(s)
    back = workspace.load_session()
    assert back.runs == [1, 4, 5, 6, 7, 8] and back.baseline == 1 and back.current == 8 and back.counter == 8
    assert len(back.undo) == workspace.MAX_HISTORY and back.undo[-1][0] == "edit 59"
    assert sorted(p.stem for p in (workspace.folder() / "runs").glob("*.json")) == ["1", "4", "5", "6", "7", "8"]
    # a dataset no one refers to any more is deleted
    workspace.save_session(workspace.Session())
    assert workspace.load_dataset(digest) is None


def test_damaged_files_are_skipped_not_fatal():
    workspace.folder().mkdir(parents=True)
    (workspace.folder() / "session.json").write_text("{torn")
    assert workspace.load_session() == workspace.Session()
    (workspace.folder() / "runs").mkdir()
    (workspace.folder() / "runs" / "3.json").write_text("[]")
    assert workspace.load_run(3) is None
    assert not list(workspace.folder().glob(".*.tmp"))  # atomic writes leave no temporary files
