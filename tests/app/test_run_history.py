"""The run history on Test grading (issue 25, item 2): every kept run can be opened, kept as the baseline,
downloaded or deleted, and the history survives a new session (refresh or restart)."""

from __future__ import annotations

import json

from test_test_grading_page import _isolated, grade, load_example, open_page, preset, rft  # noqa: F401 (autouse home)

from components.state import AppState
from ftstudio.grading import to_jsonl
from ftstudio.store import workspace

EXACT = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
         "reference": "{{ item.reference }}", "operation": "eq"}


def _state(at):
    return AppState(at.session_state)


def test_any_kept_run_can_be_opened_set_as_baseline_downloaded_and_deleted():
    at = open_page(preset("rft-classification-structured.json"))
    load_example(at)
    for _ in range(3):
        grade(at)
    runs = _state(at).runs
    assert sorted(runs) == [1, 2, 3] and _state(at).run.id == 3
    labels = [e.label for e in at.expander]
    assert any("Run history (3 kept)" in label for label in labels)
    # every run is listed with its grader, dataset, rows and mean
    shown = "\n".join(m.value for m in at.markdown)
    for i in (1, 2, 3):
        assert f"**Run {i}** · " in shown
    res = runs[1].results
    assert "reinforcement-quiz.jsonl · all 32 rows" in shown and f"{res.grader_type} *{res.grader_name}*" in shown
    # open an older run: its results are on screen (the header says which)
    at.button(key="tg-hist-open-1").click().run()
    assert _state(at).run.id == 1 and at.button(key="tg-hist-open-1").disabled
    assert any(m.value.startswith("#### Run 1 ") for m in at.markdown)
    # keep run 2 as the baseline from the history: the Compare tab names it
    at.button(key="tg-hist-base-2").click().run()
    assert _state(at).baseline.id == 2 and at.button(key="tg-hist-base-2").disabled
    assert "Rows compared" in [m.label for m in at.metric]
    # each run has its own download of its records
    dl = {b.key for b in at.get("download_button")}
    assert {"tg-hist-dl-1", "tg-hist-dl-2", "tg-hist-dl-3"} <= dl
    assert len(to_jsonl(runs[2]).decode().splitlines()) == 32
    # delete the baseline: gone from the history, the baseline is cleared, the file too
    at.button(key="tg-hist-del-2").click().run()
    assert sorted(_state(at).runs) == [1, 3] and _state(at).baseline is None
    assert not (workspace.folder() / "runs" / "2.json").exists()
    # delete the run on screen: the newest remaining run takes its place
    at.button(key="tg-hist-del-1").click().run()
    assert _state(at).run.id == 3 and sorted(_state(at).runs) == [3]
    assert not at.exception


def test_the_history_survives_a_new_session():
    at = open_page(rft(EXACT))
    load_example(at)
    grade(at)
    grade(at)
    at.button(key="tg-hist-open-1").click().run()
    at.button(key="tg-hist-base-2").click().run()
    fresh = open_page()  # a refresh: a new session restores from the workspace
    st = _state(fresh)
    assert sorted(st.runs) == [1, 2] and st.run.id == 1 and st.baseline.id == 2
    fresh.button(key="tg-hist-open-2").click().run()
    assert _state(fresh).run.id == 2
    session = json.loads((workspace.folder() / "session.json").read_text())
    assert session["current"] == 2 and session["baseline"] == 2
