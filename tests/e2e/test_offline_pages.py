"""No page of the app asks any host but the app's own: Chromium records every request while each page
loads (the favicon included, which used to come from a font CDN), then the hosts are checked."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from ui import no_exception, settle

pytestmark = pytest.mark.e2e

PAGES = ["method", "hyperparameters", "graders", "test-grading", "export"]


def test_every_page_loads_only_from_the_app(app_server, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    try:
        for name in PAGES:
            page.goto(f"{app_server.url}/{name}")
            settle(page)
            no_exception(page)
            # The favicon is set by the page's script once it has run: wait until the tab has one.
            page.wait_for_function("() => !!document.querySelector('link[rel~=\"icon\"]')")
            icon = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]').href")
            assert urlparse(icon).netloc == urlparse(app_server.url).netloc, icon
            page.wait_for_load_state("networkidle")
    finally:
        context.close()
    own = urlparse(app_server.url).netloc
    foreign = sorted({u for u in requested if urlparse(u).scheme in ("http", "https", "ws", "wss")
                      and urlparse(u).netloc != own})
    assert not foreign, f"requests to other hosts: {foreign[:10]}"
    assert any(urlparse(u).path.endswith("/_stcore/health") or "/static/" in u for u in requested)
