"""Issue 25, item 8: a run whose grader times out on every row says so once a few rows have all timed out.
The count comes from the sandbox's timed-out results (RowStatus.TIMED_OUT), never from their messages."""

from __future__ import annotations

import time

from test_grading_job import dataset

from ftstudio.core import Progress, Stage
from ftstudio.grading import ALL_TIMED_OUT_AFTER, GradeOptions, GradingJob, JobProgress, Scope

LOOP = {"type": "python", "name": "loop", "source": "def grade(sample, item):\n    while True:\n        pass\n"}
HALF = {"type": "python", "name": "half", "source": "def grade(sample, item):\n"
                                                    "    while int(item['answer']) % 2:\n        pass\n    return 1.0\n"}


def _watch(grader, until, limit: float = 60.0) -> tuple[GradingJob, JobProgress]:
    """Start a job with a 1 s limit per row; poll its progress (no fixed sleep) until `until(progress)`."""
    job = GradingJob(1, grader, dataset(12, bad_line=False), "model_sample", Scope(),
                     GradeOptions(python_timeout=1, python_workers=2), "fp").start()
    deadline = time.monotonic() + limit
    p = job.progress()
    while time.monotonic() < deadline and not until(p) and not job.done:
        job.wait(0.05)
        p = job.progress()
    return job, p


def test_every_finished_row_timed_out_is_said_with_the_limit():
    job, p = _watch(LOOP, lambda p: p.all_timed_out)
    try:
        assert p.all_timed_out, p
        assert p.timed_out == p.stage_done >= ALL_TIMED_OUT_AFTER and p.limit == 1 and p.node == "python grader loop"
    finally:
        job.cancel()
        assert job.wait(30)


def test_a_grader_that_finishes_some_rows_is_not_said_to_time_out_on_all():
    job, p = _watch(HALF, lambda p: p.timed_out >= ALL_TIMED_OUT_AFTER and p.stage_done > p.timed_out)
    try:
        assert not p.all_timed_out and p.timed_out < p.stage_done, p
    finally:
        job.cancel()
        assert job.wait(30)


def test_the_rule_reads_counts_only():
    def progress(done, timed_out, total=31):
        return JobProgress(done, total, Stage.SANDBOX, "python grader p", 0, 120, 10.0, None, False, 0, "",
                           done, timed_out)

    assert progress(ALL_TIMED_OUT_AFTER, ALL_TIMED_OUT_AFTER).all_timed_out
    assert not progress(ALL_TIMED_OUT_AFTER - 1, ALL_TIMED_OUT_AFTER - 1).all_timed_out  # K rows first
    assert not progress(ALL_TIMED_OUT_AFTER + 1, ALL_TIMED_OUT_AFTER).all_timed_out  # one row returned
    assert progress(2, 2, total=2).all_timed_out  # a run smaller than K: all of it
    assert Progress(3, 10, Stage.SANDBOX, "p", 0, 120, 3).timed_out == 3
