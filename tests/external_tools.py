"""Tools a test runs from outside the project's venv (tinker-cookbook's venv, promptfoo from npm)."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(message: str, require_env: str) -> NoReturn:
    """Skip saying how to install the tool; fail instead when $require_env is 1 (CI sets it)."""
    if os.environ.get(require_env) == "1":
        pytest.fail(message)
    pytest.skip(message)
