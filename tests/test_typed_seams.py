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


# --- one resolver, one decoder, one location walk --------------------------------------------------

GRADER = {"type": "string_check", "name": "eq", "input": "{{ sample.output_text }}", "reference": "{{ item.ref }}",
          "operation": "eq"}
JOB = {"model": "o4-mini-2025-04-16", "training_file": "file-abc",
       "method": {"type": "reinforcement", "reinforcement": {"grader": GRADER}}}


def test_one_resolver_finds_the_grader_however_the_document_holds_it():
    from ftstudio.config import grader_of

    for doc in (GRADER, JOB, {"title": "t", "description": "d", "config": JOB}, JOB["method"], {"grader": GRADER},
                {"title": "t", "config": GRADER}):
        assert grader_of(doc) == GRADER, doc


def test_no_grader_is_one_error_type_that_every_face_words_its_own_way(tmp_path, capsys):
    import pytest

    from ftstudio.cli._main import main
    from ftstudio.config import NoGrader, grader_of
    from ftstudio.grading import InvalidGrader
    from ftstudio.reward import Reward
    from ftstudio.serve import ServeError, load_grader

    sft = {"model": "gpt-4.1-mini-2025-04-14", "training_file": "file-abc", "method": {"type": "supervised"}}
    with pytest.raises(NoGrader) as got:
        grader_of(sft, "job.json")
    assert got.value.issues[0].code == "missing_grader" and "job.json holds no grader" in got.value.message
    with pytest.raises(NoGrader, match="method.reinforcement.grader is not a grader object"):
        grader_of({**JOB, "method": {"type": "reinforcement", "reinforcement": {"grader": "eq"}}})
    path = tmp_path / "job.json"
    path.write_text(json.dumps(sft))
    with pytest.raises(InvalidGrader) as bad:
        Reward.load(str(path))
    assert bad.value.issues[0].code == "missing_grader"
    with pytest.raises(ServeError, match="holds no grader"):
        load_grader(str(path))
    data = tmp_path / "d.jsonl"
    data.write_text('{"model_sample": "a"}\n')
    assert main(["grade", str(path), str(data)]) == 1
    assert "holds no grader" in capsys.readouterr().err


def test_one_json_decoder_words_its_problems_for_each_place():
    import pytest

    from ftstudio.config import ImportProblem, parse_json
    from ftstudio.core import JsonTextKind, decode_json

    assert decode_json('{"a": NaN}')[1].kind is JsonTextKind.CONSTANT
    assert decode_json('{"a": NaN}', constants=True)[1] is None
    assert decode_json("1" * 5000)[1].kind is JsonTextKind.DIGITS
    assert decode_json("[" * 100_000)[1].kind is JsonTextKind.DEPTH
    assert decode_json('{"a" 1}')[1][:3] == (JsonTextKind.SYNTAX, "Expecting ':' delimiter", 1)
    with pytest.raises(ImportProblem) as deep:
        parse_json("[" * 100_000)
    assert deep.value.readable  # readable JSON past the limits: exit 1, not 2, and not from its wording
    with pytest.raises(ImportProblem) as broken:
        parse_json('{"a" 1}')
    assert not broken.value.readable and broken.value.message == "not valid JSON: Expecting ':' delimiter at line 1, column 6"
    ds = read_dataset(b'{"a": 1}\n{"a" 1}\n{"a": NaN}\n', name="d.jsonl")
    assert [e.message for e in ds.errors] == ["Expecting ':' delimiter at column 6",
                                              "NaN is not valid JSON; write null or a number instead"]


def test_a_reworded_too_deep_message_still_exits_1(tmp_path, monkeypatch):
    import ftstudio.core._json_limits as limits
    from ftstudio.cli._main import main

    monkeypatch.setattr(limits, "_TOO_DEEP", "is a tower of brackets")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 150 + "]" * 150)
    assert main(["validate", str(deep)]) == 1


def test_one_location_walk_for_schema_issues_and_kept_fields():
    from ftstudio.validation import from_json_keeping

    cfg, kept = from_json_keeping({**JOB, "extra_top": 1, "method": {**JOB["method"], "x": 2}})
    assert cfg.grader is not None and sorted(p for p, _i, _v in kept) == [("extra_top",), ("method", "x")]
