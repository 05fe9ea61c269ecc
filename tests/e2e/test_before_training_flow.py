"""Before you train, in a real browser: grade, read the calibration, probe the grader, generate samples."""

from __future__ import annotations

import pytest
from conftest import ROOT
from ui import button, expander, go, load_preset, no_exception, open_app, settle, shot, upload

pytestmark = pytest.mark.e2e
DATA = ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl"


def test_before_you_train(app_server, page):
    open_app(page, app_server.url)
    load_preset(page, "RFT: classification from structured output")
    go(page, "4 Test grading")
    upload(page, "Dataset", DATA)
    settle(page)
    page.wait_for_selector("text=Grade all", timeout=30_000)
    button(page, "Grade all").click()
    page.wait_for_selector("text=Reward std", timeout=60_000)
    settle(page)
    no_exception(page)
    probes = expander(page, "Can this grader be gamed?")
    settle(page)
    button(probes, "Run 11 probes").click()
    settle(page)
    page.wait_for_selector("text=No probe games this grader", timeout=60_000)
    no_exception(page)
    page.get_by_text("No probe games this grader").first.scroll_into_view_if_needed()
    shot(page, "4-probes")
    samples = expander(page, "Generate samples")
    settle(page)
    button(samples, "Generate 4 samples").click()
    page.wait_for_selector("text=samples generated", timeout=60_000)
    settle(page)
    no_exception(page)
    page.get_by_text("Before you train").first.scroll_into_view_if_needed()
    shot(page, "4-before-you-train")
    page.get_by_text("samples generated").first.scroll_into_view_if_needed()
    shot(page, "4-samples")
