"""A dataset over the app's background threshold in a real browser: the Test grading page shows its status,
preview and Grade button at once, then the format report and token counts once the background checks are
done (the page polls and reruns). A full-height screenshot of the page is saved."""

from __future__ import annotations

import json

import pytest
from ui import go, load_preset, no_exception, open_app, settle, shot, upload, wait_for

from components.dataset_report import BACKGROUND_ROWS

pytestmark = pytest.mark.e2e


def test_a_big_dataset_shows_at_once_and_is_checked_in_the_background(app_server, page, tmp_path):
    n = BACKGROUND_ROWS + 5_000
    data = tmp_path / "big-quiz.jsonl"
    with open(data, "w", encoding="utf-8") as fh:
        for i in range(n):
            answer = str(i % 97)
            fh.write(json.dumps({"messages": [{"role": "user", "content": f"What is {i} mod 97?"}], "answer": answer,
                                 "model_sample": answer if i % 3 else "?"}) + "\n")
    open_app(page, app_server.url)
    load_preset(page, "RFT: exact-match answer")
    go(page, "4 Test grading")
    upload(page, "Dataset", data)
    settle(page)
    no_exception(page)
    page.get_by_text(f"Preview: the first 20 of {n:,} rows").first.wait_for(timeout=60_000)
    page.get_by_text(f"Grade all {n:,} rows").first.wait_for(timeout=60_000)
    shot(page, "4-test-grading-big-dataset-loaded")  # the checks may or may not be done yet
    # The checks finish in the background; the page's poll reruns it and the report replaces the note.
    wait_for(page, "text=for reinforcement training data", timeout=180_000, shot_name="big-dataset-report")
    settle(page)
    assert page.get_by_text("Checking the format of").count() == 0
    no_exception(page)
    shot(page, "4-test-grading-big-dataset")
