"""Control as data: a cancel, a timeout, a row never run are states (RowStatus, CallResult.cancelled,
PythonCallResult.cancelled), never recognised from message text. Rewording every message changes no
behaviour, and a message that happens to say "cancelled" is not a cancel."""

from __future__ import annotations

import json

import pytest

from ftstudio.api import Endpoint
from ftstudio.datasets import read_dataset
from ftstudio.grading import GradeOptions, GradingJob, RowStatus, Scope, grade
from ftstudio.probes import generate

REWORDED = "zz-stopped-zz"


@pytest.fixture
def reworded(monkeypatch):
    """Every message a cancel writes, reworded: behaviour must not notice."""
    import ftstudio.api._model_client as client
    import ftstudio.graders.types.endpoint as endpoint
    import ftstudio.graders.types.python as python
    import ftstudio.grading._context as context
    import ftstudio.sandbox._scheduler as scheduler

    for module, name in ((context, "NOT_GRADED"), (python, "CANCELLED"), (endpoint, "CANCELLED"),
                         (client, "NOT_SENT"), (scheduler, "CANCELLED")):
        monkeypatch.setattr(module, name, REWORDED)


class _Flip:
    """A cancel that is not set for the first `after` looks, then is."""

    def __init__(self, after: int):
        self.left = after

    def __call__(self) -> bool:
        self.left -= 1
        return self.left < 0


def _similarity_rows(n: int) -> bytes:
    return b"".join(json.dumps({"ref": f"a{i}", "model_sample": f"a{i}"}).encode() + b"\n" for i in range(n))


SIMILAR = {"type": "text_similarity", "name": "t", "input": "{{ sample.output_text }}", "reference": "{{ item.ref }}",
           "evaluation_metric": "fuzzy_match"}


def test_a_cancelled_job_counts_its_rows_by_status_whatever_the_words(reworded, monkeypatch):
    """3,000 rows in chunks of 1,000; the cancel comes during the first chunk: the rows after it are
    not_run rows (reworded details) and the run says 1,000 rows were graded."""
    ds = read_dataset(_similarity_rows(3000), name="d.jsonl")
    job = GradingJob(1, SIMILAR, ds, "model_sample", Scope(), GradeOptions(), "fp")
    on_progress = job._on_progress

    def progress(p):  # the first progress report of the first chunk presses Cancel
        job.cancel()
        on_progress(p)

    monkeypatch.setattr(job, "_on_progress", progress)
    job.start()
    assert job.wait(60) and job.error is None
    run = job.run
    assert run is not None and job.cancelled and run.finished_rows == 1000 and len(run) == 3000
    records = list(run.records())
    assert not any(r["errors"] for r in records[:1000])
    assert all(r["error_details"] == {"other_error": REWORDED} for r in records[1000:])
    assert {run.results.errors[i].status for i in range(1000, 3000)} == {RowStatus.NOT_RUN}


def test_python_rows_a_cancel_stopped_are_cancelled_by_status(reworded):
    source = "def grade(sample, item):\n    return 1.0\n"
    rows = [{"model_sample": "x"}] * 3
    # The engine looks once before the node; the pool's first look already sees the cancel.
    res = grade({"type": "python", "name": "p", "source": source}, rows, cancel=_Flip(1),
                options=GradeOptions(python_workers=1))
    assert res.cancelled and [e.status for e in res.errors.values()] == [RowStatus.CANCELLED] * 3
    assert all(e.codes == {"other_error": REWORDED} for e in res.errors.values())


def test_model_rows_a_cancel_kept_from_being_sent_are_not_run(reworded, openai_stub, tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    judge = {"type": "score_model", "name": "j", "model": "gpt-4.1-mini-2025-04-14",
             "input": [{"role": "user", "content": "{{ sample.output_text }} [[score:0.5]]"}]}
    opts = GradeOptions(endpoint=Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key))
    res = grade(judge, [{"model_sample": "a"}, {"model_sample": "b"}], cancel=_Flip(1), options=opts)
    assert res.cancelled and {e.status for e in res.errors.values()} == {RowStatus.NOT_RUN}
    assert all(e.codes == {"other_error": REWORDED} for e in res.errors.values())
    assert not openai_stub.requests_to("/chat/completions")


def test_a_server_message_that_says_cancelled_is_a_failure_not_a_cancel(openai_stub, tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    openai_stub.fail_next(400, path="/chat/completions",
                          body={"error": {"message": "cancelled", "type": "invalid_request_error"}})
    ep = Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key)
    run = generate([{"messages": [{"role": "user", "content": "hi"}]}], "gpt-4.1-mini-2025-04-14", endpoint=ep)
    assert run.failed and "cancelled" in run.failed[0][1]
    assert not run.cancelled and not run.not_sent


def test_a_judge_error_that_says_cancelled_does_not_cancel_the_run(openai_stub, tmp_path, monkeypatch):
    """The server's words reach the row's details; the run is not cancelled by them."""
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    openai_stub.fail_next(400, times=2, path="/chat/completions",
                          body={"error": {"message": "cancelled", "type": "invalid_request_error"}})
    judge = {"type": "score_model", "name": "j", "model": "gpt-4.1-mini-2025-04-14",
             "input": [{"role": "user", "content": "{{ sample.output_text }} [[score:0.5]]"}]}
    ds = read_dataset(b'{"model_sample": "a"}\n{"model_sample": "b"}\n', name="d.jsonl")
    opts = GradeOptions(endpoint=Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key))
    job = GradingJob(1, judge, ds, "model_sample", Scope(), opts, "fp").start()
    assert job.wait(60) and job.error is None and job.run is not None
    details = [e.codes["model_grader_server_error"] for e in job.run.results.errors.values()]
    assert len(details) == 2 and all("cancelled" in d for d in details)
    assert not job.cancelled and not job.run.results.cancelled and job.run.finished_rows is None
    assert {e.status for e in job.run.results.errors.values()} == {RowStatus.FAILED}
    openai_stub.fail_next(400, times=2, path="/chat/completions",
                          body={"error": {"message": "cancelled", "type": "invalid_request_error"}})
    res = grade(judge, [{"model_sample": "c"}, {"model_sample": "d"}], options=opts)
    assert len(res.errors) == 2 and not res.cancelled  # the engine's own answer, before any run merges it
