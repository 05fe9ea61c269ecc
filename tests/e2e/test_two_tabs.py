"""Two browser tabs on one app must not silently overwrite each other's config."""

from __future__ import annotations

import json

import pytest
from ui import button, go, no_exception, settle

pytestmark = pytest.mark.e2e


def _suffix(page, value: str) -> None:
    field = page.get_by_label("Suffix (optional)", exact=True).first
    field.fill(value)
    field.press("Enter")
    settle(page)


def test_second_tab_sees_the_conflict_and_chooses(app_server, browser):
    a = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    b = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    for tab in (a, b):
        tab.goto(app_server.url)
        tab.wait_for_selector('[data-testid="stSidebarNav"]', timeout=30_000)
        settle(tab)
    _suffix(a, "from-tab-a")
    saved = json.loads((app_server.home / "config.json").read_text())
    assert saved["config"]["suffix"] == "from-tab-a"

    _suffix(b, "from-tab-b")  # b last saw the file before a's save
    b.wait_for_selector("text=Another tab saved a different config", timeout=30_000)
    saved = json.loads((app_server.home / "config.json").read_text())
    assert saved["config"]["suffix"] == "from-tab-a"  # not silently overwritten
    drafts = list((app_server.home / "drafts").glob("*.json"))
    assert drafts and json.loads(drafts[0].read_text())["config"]["suffix"] == "from-tab-b"  # b's edit kept

    button(b.locator('[data-testid="stSidebar"]'), "Load theirs").click()
    settle(b)
    go(b, "1 Method")
    assert b.get_by_label("Suffix (optional)", exact=True).first.input_value() == "from-tab-a"

    _suffix(a, "a-again")  # a is still in sync and saves normally
    assert json.loads((app_server.home / "config.json").read_text())["config"]["suffix"] == "a-again"
    b.reload()
    b.wait_for_selector('[data-testid="stSidebarNav"]', timeout=30_000)
    settle(b)
    no_exception(a)
    no_exception(b)
