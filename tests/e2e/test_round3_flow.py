"""Issue 25 in Chromium: every page at 1280 and 1920 px wide (full-height screenshots, with a multi
grader graded twice), the run history, and a click on any cell of the rows table opening that row.

FTSTUDIO_SHOT_TAG names the screenshots (default "after"; the same walk on the previous main gave the
"before" ones)."""

from __future__ import annotations

import os

import pytest
from test_newcomer_flow import DATA, grade_all, results_heading, save_config
from ui import button, expander, go, no_exception, open_app, settle, shot, upload, wait_for

pytestmark = pytest.mark.e2e
TAG = os.environ.get("FTSTUDIO_SHOT_TAG", "after")
MULTI = {"type": "multi", "name": "quiz", "calculate_output": "0.5 * label + 0.5 * fuzzy", "graders": {
    "label": {"type": "string_check", "name": "label", "input": "{{ sample.output_json.label }}",
              "reference": "{{ item.label }}", "operation": "eq"},
    "fuzzy": {"type": "text_similarity", "name": "fuzzy", "input": "{{ sample.output_text }}",
              "reference": "{{ item.reference }}", "evaluation_metric": "fuzzy_match"}}}
PAGES = ["1 Method", "2 Hyperparameters", "3 Graders", "4 Test grading", "5 Export"]


def fresh_session(app_server, page, grader: dict) -> None:
    """A new browser session on Test grading with `grader` saved and the quiz dataset loaded (no runs kept)."""
    from ftstudio.store import workspace

    os.environ["FTSTUDIO_HOME"] = str(app_server.home)
    workspace.clear()
    save_config(app_server.home, grader)
    open_app(page, app_server.url)
    go(page, "4 Test grading")
    upload(page, "Dataset", DATA)
    settle(page)


def _graded_twice(app_server, page) -> None:
    fresh_session(app_server, page, MULTI)
    grade_all(page)
    button(page, "Keep as baseline").click()
    settle(page)
    grade_all(page)


def test_every_page_at_1280_and_1920(app_server, page):
    _graded_twice(app_server, page)
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 1000})
        for name in PAGES:
            go(page, name)
            if name == "4 Test grading":
                wait_for(page, '[data-testid="stPlotlyChart"]', shot_name=f"25-{width}")
            settle(page)
            no_exception(page)
            shot(page, f"25-{TAG}-{width}-{name.split()[0]}-{name.split()[1].lower()}")


def test_run_history_opens_any_run_and_a_cell_click_opens_its_row(app_server, page):
    _graded_twice(app_server, page)
    assert results_heading(page).startswith("Run 2 ")
    history = expander(page, "Run history (2 kept)")
    history.locator('[data-testid="stHorizontalBlock"]', has_text="Run 1 ·").last \
        .locator('[data-testid^="stBaseButton"]', has_text="Open").first.click()
    settle(page)
    no_exception(page)
    assert results_heading(page).startswith("Run 1 ")
    shot(page, f"25-{TAG}-history-open-run-1")
    page.get_by_role("tab", name="Rows").first.click()
    settle(page)
    grid = page.locator('[role="tabpanel"]:visible [data-testid="stDataFrame"]').first  # the rows table
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 180, box["y"] + 35 + 35 * 4 + 17)  # a cell of the table's 5th row
    settle(page)
    no_exception(page)
    detail = page.locator('[data-testid="stSelectbox"]', has_text="Row details").first
    shot(page, f"25-{TAG}-row-clicked")
    chosen = detail.locator("input").first.input_value() or detail.inner_text()
    assert chosen.startswith("row 5 "), chosen
