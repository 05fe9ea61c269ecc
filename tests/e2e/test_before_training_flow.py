"""Before you train, in a real browser: grade, read the calibration, probe the grader, generate samples."""

from __future__ import annotations

import pytest
from conftest import ROOT
from ui import button, click_until, expander, go, load_preset, no_exception, open_app, settle, shot, upload

pytestmark = pytest.mark.e2e
DATA = ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl"


def test_before_you_train(app_server, page):
    open_app(page, app_server.url)
    load_preset(page, "RFT: classification from structured output")
    go(page, "4 Test grading")
    upload(page, "Dataset", DATA)
    settle(page)
    page.wait_for_selector("text=Grade all", timeout=30_000)
    click_until(page, button(page, "Grade all"), "text=Reward std", shot_name="bt-grade")
    settle(page)
    no_exception(page)
    probes = expander(page, "Can this grader be gamed?")
    settle(page)
    click_until(page, button(probes, "Run 11 probes"), "text=No probe games this grader", shot_name="bt-probes")
    no_exception(page)
    page.get_by_text("No probe games this grader").first.scroll_into_view_if_needed()
    shot(page, "4-probes")
    samples = expander(page, "Generate samples")
    settle(page)
    click_until(page, button(samples, "Generate 4 samples"), "text=samples generated", shot_name="bt-samples")
    settle(page)
    no_exception(page)
    page.get_by_text("Before you train").first.scroll_into_view_if_needed()
    shot(page, "4-before-you-train")
    page.get_by_text("samples generated").first.scroll_into_view_if_needed()
    shot(page, "4-samples")
