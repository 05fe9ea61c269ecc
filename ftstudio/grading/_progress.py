"""Progress as data: what a background run shows (`JobProgress`); a pass reports core.Progress.

Scorers report `Progress` values; nothing parses a label back into numbers. The text a person reads
(`label`, `waiting_text`) is derived from the fields, never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass

from ftstudio.core import Progress, ProgressFn, Stage


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


__all__ = ["JobProgress", "Progress", "ProgressFn", "Stage"]
