"""Issue 25, item 14 in the app: the Download tab offers "Download report"; the report holds the run on screen at
the page's threshold, the calibration with the page's grouping, and the probe verdicts only when the probes
were run for that run's grader and data. (tests/e2e/test_report_flow.py opens the downloaded file offline.)"""

from __future__ import annotations

from components.app_state import AppState
from components.report_download import CAL_GROUP, PROBE_REPORT, build, probes_for
from ftstudio.report import to_html
from tests.app.test_test_grading_page import _isolated, grade, load_example, open_page, rft  # noqa: F401

LIKE = {"type": "string_check", "name": "contains", "input": "{{ sample.output_json.label }}",
        "reference": "{{ item.label }}", "operation": "like"}
EQ = {**LIKE, "name": "exact", "operation": "eq"}


def _button(at):
    return next(b for b in at.get("download_button") if b.key == "tg.dl-report")


def test_download_report_with_the_probes_run_for_this_run_only():
    at = open_page(rft(LIKE))
    load_example(at)
    grade(at)
    state = AppState(at.session_state)
    run = state.run
    assert "calibration and the worst rows" in _button(at).help  # no probes yet: none promised
    at.button(key="tg.probe-run").click().run()
    assert not at.exception
    saved = state.widget(PROBE_REPORT)
    assert probes_for(run, saved) is saved[1]
    assert "calibration and the probe verdicts" in _button(at).help
    page = to_html(build(run, 0.5, state.widget(CAL_GROUP), probes_for(run, saved)))
    assert "Can this grader be gamed?" in page and "probe(s) game this grader" in page
    assert f"Grading report · Run {run.id} · " in page and "all 32 rows" in page
    assert "The 10 lowest-scoring rows" in page and "Rows ≥ 0.5" in page
    # another grader: its new run is not the run the probes were run for
    at = open_page(rft(EQ))
    load_example(at)
    grade(at)
    other = AppState(at.session_state).run
    assert probes_for(other, saved) is None
    assert "Can this grader be gamed?" not in to_html(build(other, 0.5, None, None))
    assert not at.exception
