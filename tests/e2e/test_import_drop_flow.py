"""Issue 25, item 10 in Chromium: a .jsonl dataset dropped on the sidebar's Import JSON box is accepted by the
browser (no "files are not allowed") and answered with where it goes, a link to Test grading; the link opens it.
Screenshot: 25-<tag>-import-dataset."""

from __future__ import annotations

import pytest
from test_newcomer_flow import DATA
from test_round3_flow import TAG
from ui import expander, no_exception, open_app, settle, shot, upload, wait_for

pytestmark = pytest.mark.e2e


def test_a_dataset_dropped_on_import_json_points_to_test_grading(app_server, page):
    sidebar = open_app(page, app_server.url)
    box = expander(sidebar, "Import JSON")
    upload(box, "A JSON file", DATA)
    settle(page)
    no_exception(page)
    assert page.get_by_text("not allowed").count() == 0
    wait_for(page, "text=looks like a dataset", shot_name="import-dataset")
    shot(page, f"25-{TAG}-import-dataset")
    box.get_by_role("link", name="Open 4 Test grading").click()
    settle(page)
    assert page.locator("h1", has_text="Test grading").count() == 1
