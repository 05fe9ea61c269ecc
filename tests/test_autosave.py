import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ftstudio.config import JobConfig, new_config
from ftstudio.store import autosave


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path))
    return tmp_path


def cfg(i: int) -> JobConfig:
    return new_config("supervised").model_copy(update={"training_file": f"file-{i}"})


def test_round_trip_and_versions(home):
    for i in range(8):
        assert autosave.save(cfg(i)) == i + 1
    loaded, meta, note = autosave.load()
    assert loaded == cfg(7) and meta["revision"] == 8 and note is None
    assert len(autosave.versions()) == 1 + autosave.KEEP_VERSIONS
    older = json.loads((home / "config.json.1").read_text())
    assert older["config"]["training_file"] == "file-6"
    assert autosave.save(cfg(7)) == 8  # unchanged content: no new revision, no churn


def test_corrupt_newest_falls_back(home):
    autosave.save(cfg(1))
    autosave.save(cfg(2))
    (home / "config.json").write_text('{"config": {"model": ')  # torn write
    loaded, _, note = autosave.load()
    assert loaded == cfg(1) and "restored config.json.1" in note


def test_compare_and_swap(home):
    rev = autosave.save(cfg(1), expected=0, writer="tab-a")
    assert autosave.save(cfg(2), expected=rev, writer="tab-b") == rev + 1
    with pytest.raises(autosave.Conflict) as exc:
        autosave.save(cfg(3), expected=rev, writer="tab-a")  # tab-a didn't see tab-b's save
    assert exc.value.theirs == cfg(2) and exc.value.writer == "tab-b" and exc.value.revision == rev + 1
    assert autosave.load()[0] == cfg(2)  # nothing was overwritten
    draft = autosave.save_draft(cfg(3), "tab-a")
    assert json.loads(draft.read_text())["config"]["training_file"] == "file-3"


WRITER = """
import os, sys
sys.path.insert(0, {root!r})
from ftstudio.store import autosave
from ftstudio.config import new_config
base = new_config("reinforcement")
meta = {{f"k{{i}}": "v" * 500 for i in range(16)}}
i = 0
print("ready", flush=True)
while True:
    i += 1
    autosave.save(base.model_copy(update={{"training_file": f"file-{{i}}", "metadata": meta}}))
"""


@pytest.mark.slow  # SIGKILLs a writer process many times
def test_survives_kill_mid_write(home):
    root = str(Path(__file__).resolve().parent.parent)
    for attempt in range(12):
        proc = subprocess.Popen([sys.executable, "-c", WRITER.format(root=root)], stdout=subprocess.PIPE,
                                env=dict(os.environ, FTSTUDIO_HOME=str(home)))
        proc.stdout.readline()
        time.sleep(0.05 + 0.037 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        loaded, _, _ = autosave.load()
        assert loaded is not None and loaded.training_file.startswith("file-")
    autosave.save(cfg(99))
    assert not list(home.glob(".config-*.tmp"))  # leftovers of killed writers are cleaned up


def test_the_imported_document_is_saved_with_the_config_without_secrets(home):
    secret = "sk-proj-" + "a1B2" * 12
    doc = {"model": "m", "method": {"type": "reinforcement", "reinforcement": {"grader": {
        "type": "endpoint", "url": "https://x.example/score", "headers": {"api-key": secret}}}}}
    written = {"document": doc, "kept": [[["trainingType"], 2, "globalStandard"]]}
    rev = autosave.save(cfg(1), as_written=written)
    assert secret not in autosave.path().read_text()
    _, meta, _ = autosave.load()
    assert meta["as_written"]["kept"] == [[["trainingType"], 2, "globalStandard"]]
    assert meta["as_written"]["document"]["model"] == "m"
    # the same config with a new document is a new revision; the same pair is not
    assert autosave.save(cfg(1), as_written=written) == rev
    assert autosave.save(cfg(1)) == rev + 1
