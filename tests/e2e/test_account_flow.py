"""Import ▸ From my account in a real browser, against the stub: list the jobs, import one, Undo."""

from __future__ import annotations

import pytest
from ui import button, choose, expander, no_exception, open_app, settle, shot

from tests.openai_stub import account_jobs

pytestmark = pytest.mark.e2e


def test_import_a_job_from_the_account(app_server, page, openai_stub):
    openai_stub.add_jobs(account_jobs(extra=3))
    sidebar = open_app(page, app_server.url)
    panel = expander(sidebar, "Import JSON")
    panel.get_by_role("tab", name="From my account").click()
    settle(page)  # opening the tab lists the jobs
    page.wait_for_selector("text=Save all to a folder", timeout=30_000)
    settle(page)
    no_exception(page)
    choose(page, panel, "Job", "ftjob-rft000003 · succeeded · reinforcement")
    page.wait_for_selector("text=grader multi 'extraction'", timeout=30_000)
    shot(page, "account-import-listed")
    button(panel, "Replace the current config").click()
    settle(page)
    no_exception(page)
    assert "Method reinforcement" in sidebar.inner_text() and "multi 'extraction'" in sidebar.inner_text()
    button(sidebar, "Undo").click()
    settle(page)
    assert "Method supervised" in sidebar.inner_text()
    assert openai_stub.api_key not in page.content()
    shot(page, "account-import-undone")
