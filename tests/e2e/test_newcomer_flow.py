"""Issue 11 in a real browser: work survives a refresh and a server restart, Cancel keeps the
finished rows, Clear empties the uploader. Full-height screenshots of each state are kept."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT
from playwright.sync_api import expect
from ui import button, click_in_fragment, click_until, go, no_exception, open_app, settle, shot, upload, wait_for

pytestmark = pytest.mark.e2e
DATA = ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl"
EXACT = {"type": "string_check", "name": "exact", "input": "{{ sample.output_json.label }}",
         "reference": "{{ item.label }}", "operation": "eq"}
SLOW = {"type": "python", "name": "slow", "source": "import time\n\ndef grade(sample, item):\n"
                                                    "    time.sleep(2)\n    return 1.0\n"}


def save_config(home, grader: dict) -> None:
    """What a new browser session loads: the autosave on disk (as if set in another tab)."""
    from ftstudio.config import JobConfig
    from ftstudio.store import autosave

    cfg = JobConfig.model_validate({"model": "o4-mini-2025-04-16", "training_file": "file-x",
                                    "method": {"type": "reinforcement", "reinforcement": {"grader": grader}}})
    autosave.save(cfg, home / "config.json")


def results_heading(page) -> str:
    return page.locator('[data-testid="stMarkdownContainer"] h4', has_text="Run ").first.inner_text()


def grade_all(page) -> None:
    wait_for(page, "text=Grade all", shot_name="grade-button")
    click_until(page, button(page, "Grade all"), '[data-testid="stPlotlyChart"]', shot_name="graded")
    settle(page)
    no_exception(page)


def test_refresh_keeps_dataset_runs_and_baseline(app_server, page):
    from ftstudio.store import workspace

    os.environ["FTSTUDIO_HOME"] = str(app_server.home)  # so clear() below finds the server's folder
    workspace.clear()
    save_config(app_server.home, EXACT)
    open_app(page, app_server.url)
    go(page, "3 Graders")  # one edit, so Undo has a step to keep
    name = page.get_by_label("Name", exact=True).first
    name.fill("exact_label")
    name.press("Enter")
    settle(page)
    go(page, "4 Test grading")
    upload(page, "Dataset", DATA)
    settle(page)
    grade_all(page)
    button(page, "Keep as baseline").click()
    settle(page)
    grade_all(page)  # Run 2, compared with the baseline Run 1
    before = results_heading(page)
    shot(page, "11-before-refresh")

    page.reload()
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=30_000)
    settle(page)
    go(page, "4 Test grading")
    wait_for(page, '[data-testid="stPlotlyChart"]', shot_name="after-refresh")
    no_exception(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "No dataset yet" not in text and "reinforcement-quiz.jsonl" in text
    assert results_heading(page) == before
    assert page.get_by_role("tab", name="Compare with Run 1").count() == 1  # the baseline came back
    assert not button(page, "Clear baseline").is_disabled()
    assert not page.locator('[data-testid="stSidebar"] [data-testid^="stBaseButton"]', has_text="Undo") \
        .first.is_disabled()
    shot(page, "11-after-refresh")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_restart_keeps_them_too(app_server, page):
    """A second server on the same $FTSTUDIO_HOME (the first test's work is on disk there)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI"))}
    env.update(FTSTUDIO_HOME=str(app_server.home), FTSTUDIO_CACHE_DIR=str(app_server.home / "cache2"))
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless",
                             "true", "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        open_app(page, url)
        go(page, "4 Test grading")
        wait_for(page, '[data-testid="stPlotlyChart"]', shot_name="after-restart")
        assert "reinforcement-quiz.jsonl" in page.locator('[data-testid="stMain"]').inner_text()
        assert page.get_by_role("tab", name="Compare with Run 1").count() == 1
        shot(page, "11-after-restart")
    finally:
        proc.terminate()
        proc.wait(10)


def test_cancel_keeps_the_finished_rows(app_server, page):
    save_config(app_server.home, SLOW)
    open_app(page, app_server.url)
    go(page, "4 Test grading")
    upload(page, "Dataset", DATA)
    settle(page)
    wait_for(page, "text=Grade all", shot_name="cancel-grade")
    button(page, "Grade all").click()
    wait_for(page, "text=rows done", shot_name="cancel-progress")
    deadline = time.time() + 60
    while time.time() < deadline:  # some rows done, not all
        done = page.get_by_text("rows done").first.inner_text()
        if not done.startswith("0 of"):
            break
        page.wait_for_timeout(200)
    shot(page, "11-grading-progress")
    click_in_fragment(page, button(page, "Cancel"), "text=/cancelling|Cancelled after/",
                      ticker=page.get_by_text("rows done").first, shot_name="cancel")
    wait_for(page, "text=Cancelled after", shot_name="cancelled")
    settle(page)
    no_exception(page)
    notice = page.get_by_text("Cancelled after").first.inner_text()
    assert " of 32 rows" in notice and "other_error (cancelled)" in notice
    assert page.get_by_text("Partial run: cancelled after").count() == 1
    shot(page, "11-cancelled")
    button(page, "Grade all").click()
    wait_for(page, "text=rows done", shot_name="second-run")
    # the old notice went with the new run (the partial run's own note stays with its results): it goes
    # while the new run is still in progress, not when that run ends
    expect(page.get_by_text(re.compile(r"^Cancelled after"))).to_have_count(0, timeout=30_000)
    assert page.get_by_text("rows done").count() == 1
    button(page, "Cancel").click()
    settle(page)


def test_clear_empties_the_uploader(app_server, page):
    save_config(app_server.home, EXACT)
    open_app(page, app_server.url)
    go(page, "4 Test grading")
    upload(page, "Dataset", DATA)
    settle(page)
    wait_for(page, '[data-testid="stFileChip"]', shot_name="chip")
    button(page, "Clear").click()
    settle(page)
    no_exception(page)
    assert page.get_by_text("No dataset yet").count() == 1
    uploader = page.locator('[data-testid="stFileUploader"]', has_text="Dataset")
    assert uploader.locator('[data-testid="stFileChip"]').count() == 0  # no stale file chip
    assert uploader.locator('[data-testid="stFileUploaderDropzone"]').count() == 1  # the upload button is back
    shot(page, "11-cleared")
