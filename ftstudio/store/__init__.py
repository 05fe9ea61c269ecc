"""What is kept on disk under $FTSTUDIO_HOME: autosave, presets, trust decisions, the test-grading workspace; jobs pulled from an account."""

from __future__ import annotations

from . import _autosave as autosave
from . import _pull as pull
from . import _trust as trust
from . import _workspace as workspace
from ._presets import list_presets, save_preset

__all__ = ['autosave', 'list_presets', 'pull', 'save_preset', 'trust', 'workspace']
