"""Issue 25, item 11: the openai SDK's types disagree with the API on multi.graders. Validation says so once (info
rule multi_graders_sdk_types, at the first multi), the Export page's JSON tab too, and the one-line workaround it
gives really sends the exported body, which the SDK's own TypeAdapter(JobCreateParams) rejects."""

from __future__ import annotations

import json

import pytest
from app_util import new_app, preset_config, texts

from ftstudio.config import SDK_MULTI_WORKAROUND, to_json
from ftstudio.validation import check

MULTI = "rft-summarization"


def _body(name: str = MULTI) -> dict:
    return json.loads(to_json(preset_config(name)))


def test_validation_says_it_once_as_info_with_the_workaround():
    body = _body()
    nested = {"type": "multi", "name": "outer", "calculate_output": "a", "graders": {
        "a": {"type": "multi", "name": "inner", "calculate_output": "x", "graders": {
            "x": {"type": "string_check", "name": "x", "operation": "eq", "input": "a", "reference": "a"}}}}}
    for grader in (body["method"]["reinforcement"]["grader"], nested):
        body["method"]["reinforcement"]["grader"] = grader
        found = [i for i in check(body) if i.code == "multi_graders_sdk_types"]
        assert len(found) == 1 and found[0].severity == "info"
        assert found[0].path == "method.reinforcement.grader.graders" and SDK_MULTI_WORKAROUND in found[0].hint
    body["method"]["reinforcement"]["grader"] = nested["graders"]["a"]["graders"]["x"]
    assert not [i for i in check(body) if i.code == "multi_graders_sdk_types"]


def test_the_sdk_types_reject_the_body_and_the_one_line_sends_it(openai_stub):
    from openai import OpenAI
    from openai.types.fine_tuning.job_create_params import JobCreateParams
    from pydantic import TypeAdapter, ValidationError

    body = _body()
    with pytest.raises(ValidationError):
        TypeAdapter(JobCreateParams).validate_python(body)
    for file_id in (body.get("training_file"), body.get("validation_file")):
        if file_id:
            obj = openai_stub.store.add_file("data.jsonl", "fine-tune", b"{}\n")
            openai_stub.store.files[file_id] = dict(obj, id=file_id)
    client = OpenAI(api_key=openai_stub.api_key, base_url=openai_stub.base_url)
    exec(SDK_MULTI_WORKAROUND, {"client": client, "body": body})  # the line, exactly as the app shows it
    assert list(openai_stub.job_bodies.values())[-1] == body


@pytest.mark.parametrize("name, said", [(MULTI, True), ("rft-exact-match", False)])
def test_the_export_pages_json_tab_and_the_badge_say_it(monkeypatch, tmp_path, name, said):
    at = new_app(monkeypatch, tmp_path, preset_config(name), page="app_pages/export.py")
    shown = texts(at)
    assert (shown.count("The openai SDK's types disagree with the API here") == 2) is said  # JSON tab, Python tab
    assert (SDK_MULTI_WORKAROUND in [c.value for c in at.code]) is said
    badge = "\n".join(m.value for m in at.sidebar.markdown)  # the validation badge's list
    assert badge.count("the openai SDK types multi.graders as one grader") == (1 if said else 0)  # once
    assert (SDK_MULTI_WORKAROUND in badge) is said
    assert not at.exception


