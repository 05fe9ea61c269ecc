"""Move a job to another platform: the target's export plus the list of every change (`ftstudio migrate`).

`plan_move(document, target, **flags)` returns a `Move`: the files `export --format` writes for the
target, the changes (renamed and dropped fields, hyperparameters without an equivalent, the grader's
translation) with what to do about each, and the models the target offers for the method. The CLI
writes them with CHANGES.md; the app's Export page shows the same Move.
"""

from __future__ import annotations

from ._plan import MOVE_TARGETS, Move, MoveError, plan_move

__all__ = ["MOVE_TARGETS", "Move", "MoveError", "plan_move"]
