"""Before you train with a model grader, in a real browser against the stub's judges: grade, pick the label
column, measure self-consistency, run the judge probes, each only after its cost is shown and confirmed."""

from __future__ import annotations

import json

import pytest
from ui import button, choose, click_until, expander, go, no_exception, open_app, settle, shot, upload

from tests.openai_stub import JUDGE_GRADER as JUDGE
from tests.openai_stub import LABELLED_ROWS as ROWS

pytestmark = pytest.mark.e2e


def confirm(scope, page, expander_title: str | None = None) -> None:
    """Tick "Send these requests". Under load a rerun still replacing the page can fold the expander the box is
    in: it is opened again (at most three times, once the app is idle) before each try."""
    for attempt in range(3):
        if expander_title:
            scope = expander(page, expander_title)
            settle(page)
        box = scope.locator('[data-testid="stCheckbox"]', has_text="Send these requests").first
        try:
            box.click(timeout=15_000)
            break
        except Exception:
            if attempt == 2:
                shot(page, "debug-judge-confirm")
                raise
            settle(page)
    settle(page)


def test_judge_figures_in_the_browser(app_server, page, openai_stub, monkeypatch, tmp_path):
    from ftstudio.config import JobConfig
    from ftstudio.store import autosave

    monkeypatch.setenv("FTSTUDIO_HOME", str(app_server.home))  # the app restores the config saved here
    autosave.save(JobConfig.model_validate({"model": "o4-mini-2025-04-16", "training_file": "", "method": {
        "type": "reinforcement", "reinforcement": {"grader": JUDGE}}}))
    data = tmp_path / "judge-rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    openai_stub.judge_mode = "gullible"
    open_app(page, app_server.url)
    go(page, "4 Test grading")
    upload(page, "Dataset", data)
    settle(page)
    click_until(page, button(page, "Grade all"), "text=Reward std", shot_name="judge-grade")
    settle(page)
    no_exception(page)
    choose(page, page, "Label column", "human")
    page.wait_for_selector("text=Threshold maximising κ", timeout=30_000)
    # Self-consistency: the cost is on screen before the button exists; a fickle judge changes its mind.
    page.wait_for_selector("text=Estimated cost in all", timeout=30_000)
    assert button(page, "rows 4 times").count() == 0
    openai_stub.judge_mode = "fickle"
    confirm(page, page)
    click_until(page, button(page, "Grade 12 rows 4 times"), "text=Rows that flip pass/fail", shot_name="judge-sc")
    settle(page)  # the run ends with a rerun: let it finish before opening the expander below
    no_exception(page)
    openai_stub.judge_mode = "gullible"
    probes = expander(page, "Can this grader be gamed?")
    settle(page)
    assert button(probes, "judge probes on").count() == 0
    confirm(probes, page, expander_title="Can this grader be gamed?")
    click_until(page, button(probes, "Run 8 judge probes on 12 samples"), "text=get credit they don't deserve",
                shot_name="judge-probes")
    settle(page)
    no_exception(page)
    page.get_by_text("Before you train").first.scroll_into_view_if_needed()
    shot(page, "4-judge-before-you-train")
