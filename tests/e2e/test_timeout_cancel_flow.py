"""Issue 25, items 8 and 7 in Chromium, with a python grader that never returns: once the first rows have all
timed out the progress view says so (the limit, where to change it, Cancel); after Cancel the page is whole at
once: nothing left faded (data-stale), the sidebar drawn again, no row of the cancelled run graded again.
Screenshots: 25-<tag>-all-timed-out, 25-<tag>-cancelled-whole."""

from __future__ import annotations

import time

import pytest
from test_round3_flow import TAG, fresh_session
from ui import button, click_in_fragment, no_exception, settle, shot, wait_for

pytestmark = pytest.mark.e2e
LOOP = {"type": "python", "name": "loop", "source": "def grade(sample, item):\n    while True:\n        pass\n"}


def _limit(page, seconds: int) -> None:
    box = page.locator('[data-testid="stNumberInput"]', has_text="Time limit per row").first.locator("input")
    box.fill(str(seconds))
    box.press("Enter")
    settle(page)


def _start(page) -> None:
    button(page, "Grade all").click()
    wait_for(page, "text=rows done", shot_name="loop-progress")


def _cancel(page) -> float:
    """Cancel; the seconds from "Cancelled after" showing to a whole page: no script running, nothing faded,
    no progress view, three polls in a row. A rerun that follows the one that collected the run (a progress
    tick queued before it) counts too: the page is whole when the app is idle, not between two reruns."""
    click_in_fragment(page, button(page, "Cancel"), "text=/cancelling|Cancelled after/",
                      ticker=page.get_by_text("rows done").first, shot_name="loop-cancel")
    wait_for(page, "text=Cancelled after", shot_name="loop-cancelled")
    start = time.monotonic()
    app = page.locator('[data-testid="stApp"]').first
    stale = page.locator('[data-stale="true"]')
    calm = 0
    while time.monotonic() - start < 60 and calm < 3:
        whole = (app.get_attribute("data-test-script-state") == "notRunning" and not stale.count()
                 and not page.get_by_text("rows done").count())
        calm = calm + 1 if whole else 0
        page.wait_for_timeout(100)  # the polling interval of the condition above, not a wait for the app
    return time.monotonic() - start


def test_every_row_timing_out_is_said_and_cancel_leaves_the_page_whole(app_server, page):
    fresh_session(app_server, page, LOOP)
    if button(page, "I trust this code").count():  # a config written to disk is code the user did not type
        button(page, "I trust this code").click()
        settle(page)
    _limit(page, 1)
    _start(page)
    wait_for(page, "text=Every row finished so far timed out", shot_name="loop-all-timed-out")
    notice = page.locator("[data-testid=\"stAlert\"]", has_text="Every row finished so far timed out").first.inner_text()
    assert "the 1 s limit per row" in notice and "Time limit per row (s)" in notice and "Cancel" in notice
    shot(page, f"25-{TAG}-all-timed-out")
    _cancel(page)
    # the default limit again (120 s): a row graded again on this page would hold it for two minutes
    _limit(page, 120)
    _start(page)
    took = _cancel(page)
    faded = page.locator('[data-stale="true"]').count()
    assert faded == 0 and took < 20, f"the page stayed faded ({faded} elements) {took:.0f} s after Cancel"
    assert button(page.locator('[data-testid="stSidebar"]'), "Undo").count() == 1  # the sidebar was drawn again
    no_exception(page)
    shot(page, f"25-{TAG}-cancelled-whole")
