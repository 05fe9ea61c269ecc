"""Issue 25, item 14 in Chromium: "Download report" on Test grading gives one HTML file that opens with the
network blocked (every request but the file itself is refused and counted), draws its charts, and is
screenshotted at full height (25-<tag>-report-app.png, 25-<tag>-report-cli.png) to be looked at. The file
`ftstudio grade --report` writes opens the same way."""

from __future__ import annotations

import json
import os

import pytest
from conftest import SHOTS
from test_newcomer_flow import DATA
from test_round3_flow import MULTI, TAG, _graded_twice
from ui import button, no_exception, settle

pytestmark = pytest.mark.e2e


def _open_offline(browser, path, name: str) -> dict:
    """Open `path` (file://) with no network at all; a full-height screenshot; what the page did."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    refused: list[str] = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2", timeout=60_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        return {"refused": refused, "errors": errors,
                "plots": page.evaluate("document.querySelectorAll('.js-plotly-plot').length"),
                "headings": page.evaluate("[...document.querySelectorAll('h2')].map(h => h.textContent)"),
                "worst": page.locator("article.row").count()}
    finally:
        context.close()


def test_the_downloaded_report_opens_offline_with_its_charts(app_server, page, browser, tmp_path):
    _graded_twice(app_server, page)
    page.get_by_role("tab", name="Download").first.click()
    settle(page)
    with page.expect_download(timeout=120_000) as info:
        button(page, "Download report").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    no_exception(page)
    assert saved.name == "grading-run-2-report.html"
    seen = _open_offline(browser, saved, f"25-{TAG}-report-app")
    assert seen["refused"] == [] and seen["errors"] == []
    assert seen["plots"] >= 4  # reward histogram, errors or not, sub-grader scores, correlation
    assert seen["headings"][:4] == ["Configuration", "Results", "Charts", "Calibration"]
    assert seen["worst"] == 10
    assert "<title>Grading report · Run 2 · " in saved.read_text()


def test_the_cli_report_opens_offline(browser, tmp_path):
    import subprocess
    import sys

    grader = tmp_path / "quiz.json"
    grader.write_text(json.dumps(MULTI))
    out = tmp_path / "report.html"
    env = {**os.environ, "PYTHONPATH": str(DATA.parents[3])}
    proc = subprocess.run([sys.executable, "-m", "ftstudio", "grade", str(grader), str(DATA), "--report", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    seen = _open_offline(browser, out, f"25-{TAG}-report-cli")
    assert seen["refused"] == [] and seen["errors"] == [] and seen["plots"] >= 3

