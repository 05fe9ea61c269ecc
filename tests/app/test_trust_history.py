"""Issue 25, item 6: code the user typed or already trusted stays trusted through Undo/Redo and through Import
JSON then Undo (by content hash); code that came from the import still asks, until confirmed."""

from __future__ import annotations

import json

from app_util import current_config, new_app

from components.app_state import AppState
from ftstudio.config import JobConfig
from ftstudio.store import trust

MINE = {"type": "python", "name": "mine", "source": "def grade(sample, item):\n    return 1.0\n"}
THEIRS = {"type": "python", "name": "theirs", "source": "def grade(sample, item):\n    return 0.5\n"}


def _rft(grader) -> JobConfig:
    return JobConfig.model_validate({"model": "o4-mini-2025-04-16", "training_file": "file-x",
                                     "method": {"type": "reinforcement", "reinforcement": {"grader": grader}}})


def _import(at, grader) -> None:
    at.sidebar.text_area(key="sb.import_text").input(json.dumps(_rft(grader).model_dump(mode="json",
                                                                                        exclude_none=True))).run()
    at.sidebar.button(key="sb.import_apply").click().run()


def _asks(at) -> list[str]:
    """The python sources the current grader waits to have confirmed."""
    return trust.pending(current_config(at).grader)


def test_the_users_own_code_stays_trusted_through_import_undo_and_redo(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, _rft(MINE))  # code the user has (typed, never imported)
    assert _asks(at) == []
    both = {"type": "multi", "name": "both", "calculate_output": "mine + theirs",
            "graders": {"mine": MINE, "theirs": THEIRS}}
    _import(at, both)  # an import carrying the user's own code beside someone else's
    assert current_config(at).grader.name == "both"
    assert _asks(at) == [THEIRS["source"]]  # only the code that came from elsewhere asks
    at.sidebar.button(key="sb.undo").click().run()
    assert current_config(at).grader.name == "mine" and _asks(at) == []  # Undo: the user's own grader, trusted
    at.sidebar.button(key="sb.redo").click().run()
    assert _asks(at) == [THEIRS["source"]]  # Redo: the import's own code still waits
    trust.confirm(current_config(at).grader)
    at.sidebar.button(key="sb.undo").click().run()
    at.sidebar.button(key="sb.redo").click().run()
    assert _asks(at) == []  # once confirmed, trusted both ways
    _import(at, MINE)  # importing the user's own grader again asks nothing
    assert _asks(at) == [] and AppState(at.session_state).untrusted_python is None
    assert not at.exception


def test_an_unconfirmed_import_in_the_history_is_not_taken_for_the_users(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path)
    _import(at, THEIRS)
    assert _asks(at) == [THEIRS["source"]]
    wrapped = {"type": "multi", "name": "wrapped", "calculate_output": "theirs", "graders": {"theirs": THEIRS}}
    _import(at, wrapped)  # the same code again, never confirmed: it still asks
    assert current_config(at).grader.name == "wrapped" and _asks(at) == [THEIRS["source"]]
    at.sidebar.button(key="sb.undo").click().run()
    assert current_config(at).grader.name == "theirs" and _asks(at) == [THEIRS["source"]]
