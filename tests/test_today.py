"""One day for the whole tool: OpenAI's wind-down, model retirements (validation, the catalog, the model
picker) and pull's "stops serving" all read `catalog.today()`, i.e. FTSTUDIO_TODAY when it is set. The suite
pins it (tests/conftest.py), so results don't change with the calendar: what passes on 2026-12-07 passes on
2027-01-07, the day after OpenAI stops creating jobs."""

from __future__ import annotations

import datetime as dt

from ftstudio.config import catalog
from ftstudio.store import pull
from ftstudio.validation import check
from tests.conftest import TODAY
from tests.openai_stub import account_jobs

RFT = {"model": "o4-mini-2025-04-16", "training_file": "file-a",
       "method": {"type": "reinforcement", "reinforcement": {"grader": {
           "type": "string_check", "name": "s", "input": "{{ sample.output_text }}", "reference": "{{ item.a }}",
           "operation": "eq"}}}}
SFT = {"model": "gpt-4.1-mini-2025-04-14", "training_file": "file-a", "method": {"type": "supervised"}}


def codes(body: dict) -> set[str]:
    return {i.code for i in check(body)}


def test_the_suite_runs_on_a_pinned_day():
    assert catalog.today() == dt.date.fromisoformat(TODAY)


def test_validation_reads_the_tool_s_today(monkeypatch):
    monkeypatch.setenv("FTSTUDIO_TODAY", "2026-12-07")
    assert "openai_jobs_closing" in codes(RFT) and "openai_jobs_closed" not in codes(RFT)
    assert "model_retiring" in codes(SFT) and "model_retired" not in codes(SFT)
    monkeypatch.setenv("FTSTUDIO_TODAY", "2027-01-07")
    assert "openai_jobs_closed" in codes(RFT)
    monkeypatch.setenv("FTSTUDIO_TODAY", "2027-01-15")
    assert "model_retired" in codes(SFT)


def test_the_catalog_and_pull_read_the_tool_s_today(monkeypatch):
    gpt41 = catalog.lookup("gpt-4.1-mini-2025-04-14")
    assert gpt41 is not None and gpt41.retired == dt.date(2027, 1, 14)
    jobs = [pull.convert(j) for j in account_jobs()]
    monkeypatch.setenv("FTSTUDIO_TODAY", "2027-01-13")
    assert not gpt41.retired_on()
    assert {j.id for j, _ in pull.retiring(jobs, 60)} == {"ftjob-dpo000002", "ftjob-sft000001"}
    monkeypatch.setenv("FTSTUDIO_TODAY", "2027-01-14")
    assert gpt41.retired_on()
    monkeypatch.setenv("FTSTUDIO_TODAY", "2027-03-15")  # 60 days on, nothing left to retire soon
    assert pull.retiring(jobs, 60) == []
