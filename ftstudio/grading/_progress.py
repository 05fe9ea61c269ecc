"""Progress as data: what a grading pass reports while it runs, and what a background run shows.

Scorers report `Progress` values; nothing parses a label back into numbers. The text a person reads
(`label`, `waiting_text`) is derived from the fields, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    """The kind of work under way (the node's label says which grader does it)."""

    PREPARING = "preparing"  # choosing and splitting rows
    SCORING = "scoring"      # scoring in this process (string checks, similarity metrics)
    SANDBOX = "sandbox"      # code running in the sandbox's worker processes (python, lambda)
    REQUESTS = "requests"    # requests to a model, an embeddings endpoint or a grading service


@dataclass(frozen=True)
class Progress:
    """`done` of `total` rows of the current stage; `waiting` rows wait on a slow call for at most `limit` s."""

    done: int
    total: int
    stage: Stage
    node: str = ""  # what does the work, as a person reads it: "python grader p", "score_model judge"
    waiting: int = 0
    limit: float | None = None

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


@dataclass(frozen=True)
class JobProgress:
    """What the Test grading page shows of a background run (GradingJob.progress())."""

    rows_done: int  # finished chunks plus the rows the current stage has done
    total: int  # rows the run grades
    stage: Stage
    node: str  # the current stage's label
    waiting: int  # rows waiting on a slow call; no ETA is guessed meanwhile
    limit: float | None  # the most those rows wait, in seconds
    elapsed: float  # seconds since the run started
    eta: float | None  # seconds left, when they can be estimated
    cancelling: bool
    retries: int  # model requests retried (429, 5xx, timeouts)
    last_retry: str  # why the last one was

    @property
    def fraction(self) -> float:
        return min(1.0, self.rows_done / self.total) if self.total else 0.0

    @property
    def label(self) -> str:
        return self.node or self.stage.value

    @property
    def waiting_text(self) -> str:
        return Progress(0, 0, self.stage, self.node, self.waiting, self.limit).waiting_text
