"""ftstudio.grading runs: the background grading job, row selection, downloads, run comparison."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from ftstudio.cli import main
from ftstudio.datasets import read_dataset
from ftstudio.grading import (
    GradeOptions,
    GradingJob,
    Scope,
    chunk_size,
    compare_runs,
    grade,
    select_rows,
    to_csv,
    to_jsonl,
    uses_models,
)

EXACT = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
         "reference": "{{ item.answer }}", "operation": "eq"}
LOOSE = {**EXACT, "name": "loose", "operation": "ilike"}


def dataset(n: int = 60, bad_line: bool = True):
    lines = []
    for i in range(n):
        out = str(i) if i % 3 else f"The answer is {i}"
        lines.append(json.dumps({"answer": str(i), "model_sample": out}))
    if bad_line:
        lines.insert(4, "{not json")
    return read_dataset("\n".join(lines).encode(), name="d.jsonl")


def run_job(grader, ds, scope=Scope(), run_id=1, cancel_first=False):
    job = GradingJob(run_id, grader, ds, "model_sample", scope, GradeOptions(), "fp")
    if cancel_first:
        job.cancel()
    job.start()
    assert job.wait(30)
    return job


def test_select_rows_all_first_and_seeded_random():
    assert select_rows(5, Scope()) == [0, 1, 2, 3, 4]
    assert select_rows(5, Scope("first", 2)) == [0, 1]
    a = select_rows(100, Scope("random", 10, seed=7))
    assert a == select_rows(100, Scope("random", 10, seed=7)) and a == sorted(a) and len(set(a)) == 10
    assert a != select_rows(100, Scope("random", 10, seed=8))
    assert select_rows(3, Scope("random", 10)) == [0, 1, 2]
    assert "seed 7" in Scope("random", 10, 7).describe(100) and Scope().describe(3) == "all 3 rows"


def test_job_grades_every_entry_in_file_order_like_the_engine():
    ds = dataset(2500)
    job = run_job(EXACT, ds)
    run = job.run
    assert job.error is None and not job.cancelled and chunk_size(2501) < 2501  # several chunks were used
    direct = grade(EXACT, ds, "model_sample")
    assert list(run.results.rewards) == list(direct.rewards)
    assert run.results.lines == direct.lines
    assert sorted(run.results.errors) == sorted(direct.errors) == [4]  # the unreadable line is an error row
    assert run.record(4)["errors"] == ["other_error"] and run.record(4)["line"] == 5
    assert run.entry(4).line == 5 and run.entry(0) == ds.rows[0]


def test_downloads_match_the_cli_out_files(tmp_path):
    ds = dataset()
    run = run_job(EXACT, ds).run
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps(r) if isinstance(r, dict) else "{not json" for r in ds.rows[:4])
                    + "\n{not json\n" + "\n".join(json.dumps(r) for r in ds.rows[4:]) + "\n")
    grader = tmp_path / "g.json"
    grader.write_text(json.dumps(EXACT))
    for ext, make in (("jsonl", to_jsonl), ("csv", to_csv)):
        path = tmp_path / f"out.{ext}"
        assert main(["grade", str(grader), str(data), "--out", str(path)]) == 0
        assert make(run) == path.read_bytes()
    first = json.loads(to_jsonl(run).splitlines()[0])
    assert list(first) == ["row", "reward", "sub_rewards", "errors", "error_details", "line"]
    header = next(csv.reader(io.StringIO(to_csv(run).decode())))
    assert header == ["row", "line", "reward", "errors", "error_details"]


def test_a_sample_keeps_the_file_row_index():
    ds = dataset()
    run = run_job(EXACT, ds, Scope("random", 7, seed=3)).run
    chosen = select_rows(61, Scope("random", 7, seed=3))
    assert run.row_index == chosen and len(run) == 7 and run.total_rows == 7
    assert [r["row"] for r in run.records()] == chosen
    direct = grade(EXACT, ds, "model_sample")
    assert [run.results.rewards[i] for i in range(7)] == [direct.rewards[r] for r in chosen]


def test_cancel_before_start_grades_nothing():
    job = run_job(EXACT, dataset(), cancel_first=True)
    assert job.run is None and job.cancelled and job.error is None


def test_invalid_grader_is_reported_not_raised():
    bad = {"type": "multi", "name": "m", "graders": {"x": EXACT}, "calculate_output": "x +"}
    job = run_job(bad, dataset())
    assert job.run is None and job.invalid is not None and job.invalid.issues


def test_compare_runs_finds_flips_on_common_rows():
    ds = dataset(bad_line=False)
    base = run_job(EXACT, ds, run_id=1).run
    new = run_job(LOOSE, ds, Scope("first", 30), run_id=2).run
    cmp = compare_runs(base, new, 0.5)
    assert cmp.same_data and cmp.rows == list(range(30))
    # i % 3 == 0: "The answer is i" fails eq but contains i (ilike) -> fail to pass
    assert cmp.fail_to_pass == [r for r in range(30) if r % 3 == 0] and cmp.pass_to_fail == []
    assert cmp.deltas == [1.0 if r % 3 == 0 else 0.0 for r in range(30)]
    other = run_job(EXACT, dataset(bad_line=False, n=59), run_id=3).run
    assert not compare_runs(base, other, 0.5).same_data and compare_runs(base, other, 0.5).rows == []


def test_uses_models():
    judge = {"type": "score_model", "name": "j", "model": "gpt-4.1-mini", "input": [{"role": "user", "content": "x"}]}
    from ftstudio.grading import to_grader

    assert uses_models(to_grader({"type": "multi", "name": "m", "graders": {"a": EXACT, "j": judge},
                                  "calculate_output": "a + j"}))
    assert not uses_models(to_grader(EXACT)) and not uses_models(None)


@pytest.mark.parametrize("n", [1, 25, 1000, 1001, 10**6])
def test_chunk_size_bounds(n):
    # up to 1,000 rows is one chunk (no healthy row waits for a hung one in an earlier chunk)
    assert chunk_size(n) <= 5000 and (n > 1000 or chunk_size(n) >= n) and chunk_size(n) * 20 >= min(n, 100_000)


def test_retries_are_counted_for_the_progress_line(openai_stub, tmp_path, monkeypatch):
    from ftstudio.api import Endpoint
    from ftstudio.grading import GradeOptions, GradingJob, Scope

    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    judge = {"type": "score_model", "name": "j", "model": "gpt-4.1-mini-2025-04-14",
             "input": [{"role": "user", "content": "{{ sample.output_text }} [[score:0.5]]"}]}
    from ftstudio.datasets import read_dataset

    rows = read_dataset(b"".join(b'{"model_sample": "answer %d"}\n' % i for i in range(3)), name="d.jsonl")
    openai_stub.fail_next(429, times=2, path="/chat/completions", retry_after=0.01)
    opts = GradeOptions(endpoint=Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key))
    job = GradingJob(1, judge, rows, "model_sample", Scope("all", None, 0), opts, "fp").start()
    assert job.wait(60)
    assert job.progress().retries == 2 and "429" in job.progress().last_retry
    assert list(job.run.results.rewards) == [0.5, 0.5, 0.5]


SLOW_TAIL = {"type": "python", "name": "partial", "source": (
    "import time\n\ndef grade(sample, item):\n"
    "    if item.get('slow'):\n        time.sleep(300)\n    return 0.5\n")}


def _wait_for(job, check, limit=120.0):
    """Poll the job's progress until `check(progress)` holds (the limit only stops a broken run)."""
    import time

    end = time.monotonic() + limit
    while time.monotonic() < end:
        p = job.progress()
        if check(p):
            return p
        time.sleep(0.05)
    raise AssertionError(f"progress never got there: {job.progress()}")


@pytest.mark.slow
def test_cancel_keeps_finished_rows_as_a_partial_run_and_says_what_it_waits_on():
    rows = [{"answer": "1", "model_sample": "1", **({"slow": True} if i >= 24 else {})} for i in range(30)]
    ds = read_dataset("\n".join(json.dumps(r) for r in rows).encode(), name="d.jsonl")
    options = GradeOptions(python_workers=2, python_timeout=120)
    job = GradingJob(1, SLOW_TAIL, ds, "model_sample", Scope(), options, "fp").start()
    p = _wait_for(job, lambda p: p.rows_done == 24 and p.waiting)
    assert re.fullmatch(r"waiting on [1-4] rows? \(limit 120 s\)", p.waiting_text) and p.eta is None  # no guess
    assert p.total == 30 and 1 <= p.waiting <= 4 and p.limit == 120  # as data, not only as words
    job.cancel()
    assert job.wait(60) and job.cancelled and job.error is None
    run = job.run
    assert run is not None and len(run) == 30 and run.total_rows == 30 and run.finished_rows == 24
    records = list(run.records())
    assert [r["reward"] for r in records[:24]] == [0.5] * 24 and not any(r["errors"] for r in records[:24])
    assert all(r["errors"] == ["other_error"] and "cancelled" in r["error_details"]["other_error"]
               for r in records[24:])


@pytest.mark.slow
def test_a_hung_python_row_does_not_hold_back_the_rows_batched_behind_it():
    from ftstudio.sandbox import PythonGraderPool

    calls = [({"output_text": "x"}, {"slow": i == 0}) for i in range(12)]
    seen: list[int] = []
    import threading

    stop = threading.Event()
    with PythonGraderPool(SLOW_TAIL["source"], workers=1, timeout=120) as pool:
        worker = threading.Thread(target=lambda: seen.append(len(pool.run(
            calls, progress=lambda d, t: seen.append(d) if d == 11 and pool.waiting() == 1 else None, cancel=stop))))
        worker.start()
        import time

        end = time.monotonic() + 120
        while 11 not in seen and time.monotonic() < end and worker.is_alive():
            time.sleep(0.05)
        stop.set()
        worker.join(60)
    assert 11 in seen  # eleven healthy rows graded while the first one still hung, with one worker
