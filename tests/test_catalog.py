import json

from ftstudio.config import catalog


def test_lookup_and_fine_tuned_ids():
    assert catalog.lookup("gpt-4.1-mini-2025-04-14").methods == ("supervised", "dpo")
    ft = catalog.lookup("ft:gpt-4.1-mini-2025-04-14:acme:bot:abc123")
    assert ft.id == "gpt-4.1-mini-2025-04-14"
    assert catalog.lookup("totally-unknown-model") is None
    assert catalog.lookup("o4-mini").retired.isoformat() == "2026-10-23"


def test_reasoning_effort_rules():
    s = catalog.effort_support
    assert s("gpt-5.1", "none") == "yes" and s("gpt-5", "none") == "no" and s("gpt-5-mini", "none") == "no"
    assert s("gpt-5-pro", "high") == "yes" and s("gpt-5-pro", "low") == "no"
    assert s("gpt-5.1", "xhigh") == "no" and s("gpt-5.2", "xhigh") == "yes" and s("gpt-5.1-codex-max", "xhigh") == "yes"
    assert s("o3-mini", "minimal") == "no" and s("gpt-5-nano", "minimal") == "yes"
    assert s("gpt-4.1-2025-04-14", "low") == "no" and s("my-model", "low") == "unknown"
    assert s("gpt-5.10", "xhigh") == "yes" and s("gpt-5.5", "max") == "maybe"


def test_override_file(tmp_path, monkeypatch):
    f = tmp_path / "models.json"
    f.write_text(json.dumps({"models": [{"id": "acme-7b", "family": "acme", "reasoning": False,
                                         "methods": ["supervised"], "grader": True}]}))
    monkeypatch.setenv("FTSTUDIO_MODELS_FILE", str(f))
    assert catalog.lookup("acme-7b").methods == ("supervised",)
    assert catalog.lookup("gpt-4.1-2025-04-14") is not None
    assert "acme-7b" in [m.id for m in catalog.fine_tunable("supervised")]


def test_lists_for_the_ui():
    assert [m.id for m in catalog.fine_tunable("reinforcement")] == ["o4-mini-2025-04-16"]
    assert "gpt-4.1-mini-2025-04-14" in [m.id for m in catalog.grader_models()]


def test_current_models_and_the_provider_cut_off():
    import datetime as dt

    from ftstudio.config import catalog

    openai = catalog.provider("openai")
    assert openai is not None and openai.new_jobs_until == dt.date(2027, 1, 6) and "Azure" in openai.instead
    day = dt.date(2026, 12, 3)
    assert catalog.current("reinforcement", "openai", day) == []  # o4-mini retired 2026-10-23
    supervised = [m.id for m in catalog.current("supervised", "openai", day)]
    assert "gpt-4.1-2025-04-14" in supervised and "gpt-3.5-turbo-0125" not in supervised
    assert catalog.current("supervised", "openai", dt.date(2027, 1, 6))  # the last day it takes new jobs
    assert catalog.current("supervised", "openai", dt.date(2027, 1, 7)) == []  # none after it
    assert catalog.current("supervised", "some-target", day)  # a target without a cut-off in the data
