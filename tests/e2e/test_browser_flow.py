"""The whole flow in a real browser: load a preset, edit a grader, upload a dataset, grade, see the
chart, download the job JSON. Any exception box fails the test. A screenshot of each page is saved."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from ui import button, click_until, go, load_preset, no_exception, open_app, settle, shot, upload

pytestmark = pytest.mark.e2e
DATA = ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl"


def test_full_flow(app_server, page):
    sidebar = open_app(page, app_server.url)
    load_preset(page, "RFT: classification from structured output")
    assert "reinforcement" in sidebar.inner_text()
    shot(page, "1-method")

    go(page, "2 Hyperparameters")
    assert page.get_by_text("takes 7 hyperparameters").count() == 1
    shot(page, "2-hyperparameters")

    # Edit the grader: rename it in its editor.
    go(page, "3 Graders")
    name = page.get_by_label("Name", exact=True).first
    name.fill("label_check_e2e")
    name.press("Enter")
    settle(page)
    no_exception(page)
    assert "label_check_e2e" in sidebar.inner_text()
    shot(page, "3-graders")

    # Upload the dataset and grade every row.
    go(page, "4 Test grading")
    upload(page, "Dataset", DATA)
    settle(page)
    page.wait_for_selector("text=Grade all", timeout=30_000)
    no_exception(page)
    click_until(page, button(page, "Grade all"), '[data-testid="stPlotlyChart"]', shot_name="browser-grade")
    settle(page)
    no_exception(page)
    assert page.locator('[data-testid="stMetric"]').count() >= 3
    page.locator('[data-testid="stPlotlyChart"]').first.scroll_into_view_if_needed()
    shot(page, "4-test-grading")

    # Download the exact job JSON.
    go(page, "5 Export")
    with page.expect_download() as info:
        button(page, "Download job.json").click()
    body = json.loads(open(info.value.path(), encoding="utf-8").read())
    assert body["method"]["type"] == "reinforcement"
    assert body["method"]["reinforcement"]["grader"]["name"] == "label_check_e2e"
    assert "response_format" in body["method"]["reinforcement"]
    no_exception(page)
    shot(page, "5-export")
