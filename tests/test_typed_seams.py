"""Typed seams: rows flow through one chunk type in file order, progress is a value, and each shared
operation (parse JSON, find the grader of a document, walk a pydantic error location) exists once."""

from __future__ import annotations

import json

from ftstudio.datasets import RowChunk, iter_rows, read_dataset
from ftstudio.grading import GradeOptions, GradingJob, JobProgress, Progress, Scope, Stage, grade, prepare

# A JSON array whose first element is not an object: it comes first in the file, so it is row 0.
ARRAY = b'[5, {"model_sample": "a", "ref": "a"},\n {"model_sample": "b", "ref": "x"}, "x"]'
EQ = {"type": "string_check", "name": "eq", "input": "{{ sample.output_text }}", "reference": "{{ item.ref }}",
      "operation": "eq"}


def test_entries_are_in_file_order_as_read_without_sorting():
    ds = read_dataset(ARRAY, name="d.json")
    kinds = [type(e).__name__ for _line, e in ds.entries]
    assert kinds == ["LineError", "dict", "dict", "LineError"] and [line for line, _ in ds.entries] == [1, 1, 2, 2]
    (chunk,) = iter_rows(ARRAY, name="d.json")
    assert chunk.entries() == ds.entries


def test_one_chunk_type_from_the_reader_to_the_engine():
    ds = read_dataset(ARRAY, name="d.json")
    picked = ds.chunk([1, 3])  # a run's chosen rows are a RowChunk too, not a stand-in
    assert isinstance(picked, RowChunk) and picked.entries() == [ds.entries[1], ds.entries[3]]
    whole = prepare(ds)
    assert [whole.base_errors[i].unreadable for i in (0, 3)] == [True, True] and not whole.base_errors.get(1)
    res = grade(EQ, ds)
    assert [r["reward"] for r in res.records()] == [0.0, 1.0, 0.0, 0.0]
    assert [r["errors"] for r in res.records()] == [["other_error"], [], [], ["other_error"]]
    assert [r["line"] for r in res.records()] == [1, 1, 2, 2]


def test_a_background_run_numbers_rows_like_the_engine():
    ds = read_dataset(ARRAY, name="d.json")
    job = GradingJob(1, EQ, ds, "model_sample", Scope(), GradeOptions(), "fp").start()
    assert job.wait(60) and job.run is not None
    engine = grade(EQ, ds)
    assert list(job.run.records()) == list(engine.records())
    assert [job.run.entry(i) for i in range(4)] == [e for _line, e in ds.entries]


def test_progress_is_a_value_and_its_words_come_from_it():
    seen: list[Progress] = []
    rows = [{"model_sample": "a", "ref": "a"}] * 3
    sim = {**EQ, "type": "text_similarity", "evaluation_metric": "fuzzy_match"}
    sim.pop("operation")
    grade(sim, rows, progress=seen.append)
    assert seen and all(isinstance(p, Progress) and p.stage is Stage.SCORING for p in seen)
    assert seen[-1].done == seen[-1].total == 3 and seen[-1].label == "fuzzy_match" and seen[-1].waiting_text == ""
    waiting = Progress(5, 9, Stage.SANDBOX, "python grader p", waiting=2, limit=120.0)
    assert waiting.waiting_text == "waiting on 2 rows (limit 120 s)"
    job = JobProgress(5, 10, Stage.SANDBOX, "python grader p", 1, 30.0, 2.0, None, False, 0, "")
    assert job.fraction == 0.5 and job.waiting_text == "waiting on 1 row (limit 30 s)"


def test_iter_rows_chunks_keep_file_order_across_chunk_boundaries():
    lines = [json.dumps({"model_sample": str(i)}) if i % 3 else "{bad" for i in range(10)]
    chunks = list(iter_rows("\n".join(lines).encode(), name="d.jsonl", chunk_size=2))
    lines_seen = [line for c in chunks for line, _e in c.entries()]
    assert lines_seen == list(range(1, 11))
