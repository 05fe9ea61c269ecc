"""OpenAI's wind-down around 2027-01-06 (FTSTUDIO_TODAY pinned), `ftstudio models refresh` against the
OpenAI stub, and the o4-mini conflict at --target azure resolved by the provider's list or, offline, said."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ftstudio.cli import main
from ftstudio.config import catalog
from ftstudio.validation import check

ROOT = Path(__file__).resolve().parents[1]
PRESET = ROOT / "presets" / "rft-exact-match.json"
CLOSED = ("OpenAI no longer accepts new fine-tuning jobs (since 2027-01-06); Azure OpenAI, Bedrock RFT and Gemini "
          "do: see `ftstudio migrate`")


@pytest.fixture
def home(monkeypatch, tmp_path):
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY",
                "OPENAI_API_VERSION", "FTSTUDIO_TODAY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path / "home"))
    return tmp_path


def _validate(capsys, day: str, monkeypatch) -> str:
    monkeypatch.setenv("FTSTUDIO_TODAY", day)
    capsys.readouterr()
    main(["validate", "--target", "openai", str(PRESET)])
    return capsys.readouterr().out


def test_validate_before_and_after_the_date(home, capsys, monkeypatch):
    on_the_day = _validate(capsys, "2027-01-06", monkeypatch)
    assert "INFO $: OpenAI accepts new fine-tuning jobs only until 2027-01-06" in on_the_day and CLOSED not in on_the_day
    for day in ("2027-01-07", "2027-01-10"):
        out = _validate(capsys, day, monkeypatch)
        assert f"WARNING $: {CLOSED}" in out.splitlines() and "only until" not in out


def test_submit_to_openai_stops_before_uploading(home, capsys, monkeypatch, openai_stub):
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    monkeypatch.setenv("FTSTUDIO_TODAY", "2027-01-07")
    train = home / "train.jsonl"
    train.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}], "answer": "a"}) + "\n")
    capsys.readouterr()
    assert main(["submit", str(PRESET), "--train", str(train), "--target", "openai"]) == 1
    assert CLOSED in capsys.readouterr().err
    assert not openai_stub.files and not openai_stub.jobs


def test_models_refresh_records_shutdown_dates(home, capsys, monkeypatch, openai_stub):
    monkeypatch.setenv("FTSTUDIO_TODAY", "2026-12-01")
    body = {"model": "gpt-4.1-mini-2025-04-14", "training_file": "file-a",
            "method": {"type": "supervised", "supervised": {}}}
    assert "model_retired" not in {i.code for i in check(body)}
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    openai_stub.model_fields = {"gpt-4.1-mini-2025-04-14": {"shutdown_date": "2026-11-20"},
                                "o4-mini-2025-04-16": {}}
    capsys.readouterr()
    assert main(["models", "refresh", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["shutdown_dates"] == {"gpt-4.1-mini-2025-04-14": "2026-11-20"}
    assert Path(report["file"]).is_relative_to(home / "home")
    retired = [i for i in check(body) if i.code == "model_retired"]
    assert retired and "2026-11-20" in retired[0].message and "models list" in retired[0].message
    # listed without a shutdown date: the provider still serves it, whatever the shipped table said
    assert catalog.lookup("o4-mini-2025-04-16").retired is None


def test_models_refresh_offline_keeps_the_table(home, capsys, monkeypatch):
    capsys.readouterr()
    assert main(["models", "refresh"]) == 3
    assert "offline" in capsys.readouterr().err and not (home / "home" / catalog.REFRESHED_FILE).exists()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0000")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["models", "refresh"]) == 3
    err = capsys.readouterr().err
    assert "kept the shipped model table" in err and not (home / "home" / catalog.REFRESHED_FILE).exists()
    assert catalog.lookup("o4-mini-2025-04-16", "azure").retired == dt.date(2026, 10, 16)


def test_o4_mini_conflict_is_resolved(home, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_TODAY", "2026-12-01")
    body = {"model": "o4-mini-2025-04-16", "training_file": "file-a", "validation_file": "file-b",
            "method": {"type": "reinforcement", "reinforcement": {"grader": {
                "type": "string_check", "name": "s", "input": "{{sample.output_text}}", "reference": "x",
                "operation": "eq"}}}}
    offline = [i for i in check(body, target="azure") if i.code == "model_retired"][0]
    assert "offline, this follows Azure's retirement page" in offline.message and "2026-03-19" in offline.message
    # connected: Azure's own list decides (the refresh records it under the target it came from)
    catalog.write_refreshed("azure", "https://res.openai.azure.com", {"o4-mini-2025-04-16": None},
                            dt.date(2026, 12, 1))
    assert "model_retired" not in {i.code for i in check(body, target="azure")}
    openai_instead = catalog.provider("openai")
    assert openai_instead is not None and "generally available" not in openai_instead.instead
