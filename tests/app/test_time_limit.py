"""Issue 25, item 8 on Test grading: the python grader's time limit is an input, and once the first rows have all
timed out the progress view says so, names the limit and where to change it, beside Cancel."""

from __future__ import annotations

import time

from components.app_state import AppState
from ftstudio.grading import GradeOptions
from tests.app.app_util import texts
from tests.app.test_test_grading_page import _isolated, load_example, open_page, rft  # noqa: F401

LOOP = {"type": "python", "name": "loop", "source": "def grade(sample, item):\n    while True:\n        pass\n"}
EXACT = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
         "reference": "{{ item.reference }}", "operation": "eq"}


def test_a_grader_timing_out_on_every_row_is_said_with_the_limit_and_cancel():
    at = open_page(rft(LOOP))
    load_example(at)
    limit = at.number_input(key="tg.python-timeout")
    assert limit.value == GradeOptions().python_timeout and limit.label == "Time limit per row (s)"
    limit.set_value(1).run()
    at.button(key="tg.run").click().run()
    job = AppState(at.session_state).job
    assert job is not None and job.options.python_timeout == 1
    deadline = time.monotonic() + 60
    while not job.progress().all_timed_out and time.monotonic() < deadline:
        job.wait(0.05)
    at.run()
    shown = texts(at)
    assert "Every row finished so far timed out" in shown and "python grader loop" in shown
    assert "the 1 s limit per row" in shown and "Time limit per row (s)" in shown and "**Cancel**" in shown
    assert at.button(key="tg.cancel").label == "Cancel" and not at.button(key="tg.cancel").disabled
    at.button(key="tg.cancel").click().run()
    assert job.wait(30) and job.cancelled
    at.run()
    assert "Every row finished so far timed out" not in texts(at) and not at.exception
    assert at.number_input(key="tg.python-timeout").value == 1  # the limit outlived the progress view


def test_no_time_limit_input_for_a_grader_without_code():
    at = open_page(rft(EXACT))
    load_example(at)
    assert "tg.python-timeout" not in [w.key for w in at.number_input]


def test_after_cancel_the_results_draw_at_once_without_grading_a_row_again():
    """Item 7: the row detail renders templates without scoring, so a looping grader (120 s limit) can't hold
    the page after Cancel (it used to explain the first row by grading it again: two minutes faded)."""
    at = open_page(rft(LOOP))
    load_example(at)
    at.button(key="tg.run").click().run()
    job = AppState(at.session_state).job
    at.button(key="tg.cancel").click().run()
    assert job.wait(30) and job.cancelled
    at.run()  # within AppTest's 30 s (the old detail view took the full 120 s limit here)
    assert not at.exception and "How the grader saw this row" in texts(at)
    assert AppState(at.session_state).run is not None
