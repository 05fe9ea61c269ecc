"""The test suite leaves the user's work alone: every test (and every session fixture, and every process a test
starts) sees $FTSTUDIO_HOME and $FTSTUDIO_CACHE_DIR in a temporary folder (tests/conftest.py). `.ci/run` also
runs the suite with HOME set to an empty folder and fails if anything appears under its .ftstudio or
.cache/ftstudio."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ftstudio.api import ModelCache
from ftstudio.config import JobConfig
from ftstudio.core import cache_dir, home
from ftstudio.store import autosave

USER_HOME = Path.home() / ".ftstudio"
USER_CACHE = Path.home() / ".cache" / "ftstudio"


def _outside_the_user_folders(path: Path) -> bool:
    return not path.resolve().is_relative_to(USER_HOME.resolve()) and \
        not path.resolve().is_relative_to(USER_CACHE.resolve())


@pytest.fixture(scope="session")
def session_view() -> tuple[Path, Path]:
    """What a session-wide fixture (a server started once, a converted corpus) sees."""
    return home(), cache_dir()


def test_every_test_has_a_temporary_home_and_cache(tmp_path_factory, _isolated_home):
    base = tmp_path_factory.getbasetemp()
    for path in (home(), cache_dir()):
        assert path.is_relative_to(base) and path.is_relative_to(_isolated_home), path
        assert _outside_the_user_folders(path)


def test_session_fixtures_already_see_temporary_folders(session_view):
    for path in (*session_view, Path(os.environ["TIKTOKEN_CACHE_DIR"])):
        assert path.is_relative_to(tempfile.gettempdir()) and _outside_the_user_folders(path), path


def test_saved_work_and_cached_answers_land_in_the_test_folder(_isolated_home):
    """What tests/app/test_before_training.py did through open_page(): save a config, cache a model answer."""
    config = JobConfig.model_validate({"model": "gpt-4.1-mini-2025-04-14", "training_file": "file-x"})
    autosave.save(config)
    cache = ModelCache()
    cache.put_many({"k": {"value": {"content": "hi"}}})
    saved = sorted(p.relative_to(_isolated_home).as_posix() for p in _isolated_home.rglob("*") if p.is_file())
    assert "home/config.json" in saved and "cache/model_calls.sqlite" in saved, saved
    assert cache.path.is_relative_to(_isolated_home)


def test_a_process_started_by_a_test_inherits_the_temporary_home(_isolated_home):
    code = "from ftstudio.core import cache_dir, home; print(home()); print(cache_dir())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}).stdout
    assert [Path(line) for line in out.split()] == [_isolated_home / "home", _isolated_home / "cache"]
