"""Connected mode in a real browser, against the OpenAI stub: validate, compare, submit."""

from __future__ import annotations

import pytest
from conftest import ROOT
from ui import button, click_until, expander, go, load_preset, no_exception, open_app, settle, shot, upload, wait_for

pytestmark = pytest.mark.e2e
DATA = ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl"


def test_validate_compare_submit(app_server, page, openai_stub, tmp_path):
    open_app(page, app_server.url)
    load_preset(page, "RFT: exact-match answer")

    go(page, "3 Graders")
    click_until(page, button(page, "Validate with the API"), "text=The API accepts this grader.", shot_name="validate")
    assert openai_stub.requests_to("/fine_tuning/alpha/graders/validate")
    no_exception(page)

    go(page, "4 Test grading")
    upload(page, "Dataset", DATA)
    settle(page)
    panel = expander(page, "Local scores against the official grader service")
    click_until(page, button(panel, "Compare with the API"), "text=Rows compared", shot_name="compare")
    settle(page)
    no_exception(page)
    assert len(openai_stub.requests_to("/fine_tuning/alpha/graders/run")) == 20
    shot(page, "connected-compare")

    go(page, "5 Export")
    submit = expander(page, "Upload the files and create the job")
    upload(submit, "Training data", DATA)
    settle(page)
    submit.get_by_text("None", exact=True).click()
    settle(page)
    button(submit, "Submit job").click()
    wait_for(page, "text=Created job", shot_name="submit")
    page.wait_for_selector("text=status succeeded", timeout=90_000)
    no_exception(page)
    body = list(openai_stub.job_bodies.values())[-1]
    assert body["training_file"].startswith("file-") and body["method"]["type"] == "reinforcement"
    assert openai_stub.api_key not in page.content()
    shot(page, "connected-submit")
