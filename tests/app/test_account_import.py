"""Import ▸ From my account, against the stub: list the jobs, import one (Undo keeps the old config),
save all to a folder; a bad key or no connection says so."""

import json
import os

from app_util import current_config, new_app, texts

from tests.openai_stub import account_jobs
from tests.openai_stub._account import MULTI_GRADER

LEAKY_KEY = "sk-live-ABCDEFGHIJKLMNOPQRSTUVWX"


def connect(monkeypatch, stub, key=None):
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "AZURE_OPENAI")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPENAI_API_KEY", key or stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)


def button(at, key):
    return at.sidebar.button(key=key)


def open_tab(at):
    at.session_state["sb.import_tabs"] = "From my account"
    return at.run()


def test_list_import_undo_and_save_all(openai_stub, monkeypatch, tmp_path):
    openai_stub.add_jobs(account_jobs(extra=120))  # more than one page
    connect(monkeypatch, openai_stub)
    at = new_app(monkeypatch, tmp_path)
    assert not openai_stub.requests_to("/fine_tuning/jobs")  # nothing is listed before the tab is opened
    assert current_config(at).method_type == "supervised"
    open_tab(at)  # a configured connection: opening the tab lists the jobs
    assert not at.exception
    assert len(openai_stub.requests_to("/fine_tuning/jobs", "GET")) == 2  # two pages of 100
    shown = texts(at)
    assert "125 jobs at" in shown and shown.count("- **ftjob-") == 125
    # status, model, created, grader type
    assert "- **ftjob-rft000003** · succeeded  \n  `o4-mini-2025-04-16` · 2025-10-11 · grader multi" in shown
    assert "- **ftjob-dpo000002** · succeeded  \n  `gpt-4.1-mini-2025-04-14` · 2025-10-10 · dpo" in shown
    assert "- **ftjob-rft000004** · failed" in shown
    at.sidebar.selectbox(key="sb.acct.pick").select("ftjob-rft000003").run()
    assert "ftjob-rft000003: **reinforcement** on `o4-mini-2025-04-16`, grader multi 'extraction'" in texts(at)
    assert current_config(at).method_type == "supervised"  # nothing replaced before the confirmation
    button(at, "sb.acct.apply").click().run()
    cfg = current_config(at)
    assert cfg.method_type == "reinforcement" and cfg.suffix == "extractor"
    assert json.loads(cfg.model_dump_json(exclude_none=True))["method"]["reinforcement"]["grader"] == MULTI_GRADER
    button(at, "sb.undo").click().run()
    assert current_config(at).method_type == "supervised"
    button(at, "sb.redo").click().run()
    assert current_config(at).grader.name == "extraction"

    folder = tmp_path / "saved"
    at.sidebar.text_input(key="sb.acct.folder").input(str(folder)).run()
    button(at, "sb.acct.save").click().run()
    assert not at.exception
    assert "Saved 125 jobs" in texts(at)
    index = json.loads((folder / "index.json").read_text())
    assert len(index) == 125 and all((folder / e["file"]).is_file() for e in index)
    assert openai_stub.api_key not in "".join(p.read_text() for p in folder.iterdir()) + texts(at)


def test_bad_key_is_explained_without_the_key(openai_stub, monkeypatch, tmp_path):
    openai_stub.add_jobs(account_jobs())
    connect(monkeypatch, openai_stub, key=LEAKY_KEY)
    at = open_tab(new_app(monkeypatch, tmp_path))
    assert not at.exception
    shown = texts(at)
    assert "Couldn't list the jobs" in shown and "check the API key" in shown
    assert "ABCDEFGHIJKLMNOP" not in shown
    assert "- **ftjob-" not in shown
    at.run()  # no retry on every rerun; the button retries
    assert len(openai_stub.requests_to("/fine_tuning/jobs")) == 1
    connect(monkeypatch, openai_stub)
    button(at, "sb.acct.list").click().run()
    assert "5 jobs at" in texts(at) and "Couldn't list" not in texts(at)


def test_without_a_connection_it_says_what_to_do(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "AZURE_OPENAI")):
            monkeypatch.delenv(name)
    at = open_tab(new_app(monkeypatch, tmp_path))
    assert "Set up a connection first" in texts(at)
    assert not [b for b in at.sidebar.button if b.key == "sb.acct.list"]
