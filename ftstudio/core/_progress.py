"""Progress as data: what a grading pass reports while it runs (`Progress`, `Stage`).

Scorers report `Progress` values; nothing parses a label back into numbers. The text a person reads
(`label`, `waiting_text`) is derived from the fields, never the other way round. In core because the
grader type modules (graders layer) report it and grading shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from .records import datarecord


class Stage(StrEnum):
    """The kind of work under way (the node's label says which grader does it)."""

    PREPARING = "preparing"  # choosing and splitting rows
    SCORING = "scoring"      # scoring in this process (string checks, similarity metrics)
    SANDBOX = "sandbox"      # code running in the sandbox's worker processes (python, lambda)
    REQUESTS = "requests"    # requests to a model, an embeddings endpoint or a grading service


@datarecord(frozen=True)
class Progress:
    """`done` of `total` rows of the current stage; `waiting` rows wait on a slow call for at most `limit` s;
    `timed_out` of the done rows ran past it."""

    done: int
    total: int
    stage: Stage
    node: str = ""  # what does the work, as a person reads it: "python grader p", "score_model judge"
    waiting: int = 0
    limit: float | None = None  # the time limit of one call, when rows wait on one or ran past it
    timed_out: int = 0  # of the `done` rows, how many ran past `limit` (RowStatus.TIMED_OUT once recorded)

    @property
    def label(self) -> str:
        return self.node or self.stage.value

    @property
    def waiting_text(self) -> str:
        """"waiting on 2 rows (limit 120 s)" while rows wait on a slow call, else ""."""
        if not self.waiting:
            return ""
        limit = f" (limit {self.limit:g} s)" if self.limit is not None else ""
        return f"waiting on {self.waiting} row{'' if self.waiting == 1 else 's'}{limit}"


ProgressFn = Callable[[Progress], object]
