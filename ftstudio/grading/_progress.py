"""Progress as data: what a background run shows (`JobProgress`); a pass reports core.Progress.

Scorers report `Progress` values; nothing parses a label back into numbers. The text a person reads
(`label`, `waiting_text`) is derived from the fields, never the other way round.
"""

from __future__ import annotations

from ftstudio.core import Progress, ProgressFn, Stage
from ftstudio.core.records import datarecord

# After this many rows of a stage have all run past the time limit, the page says so (a grader that loops or
# hangs on every row would otherwise look like slow progress: 31 rows x 120 s / 4 workers is ~16 minutes).
ALL_TIMED_OUT_AFTER = 3


@datarecord(frozen=True)
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
    stage_done: int = 0  # rows the current stage (one node over one chunk) has finished
    timed_out: int = 0  # of those, rows whose call ran past `limit`

    @property
    def all_timed_out(self) -> bool:
        """Every row the current stage finished ran past the time limit, and at least ALL_TIMED_OUT_AFTER did
        (or every row of a smaller run): the grader most likely never returns."""
        return self.timed_out > 0 and self.timed_out == self.stage_done \
            and self.timed_out >= min(ALL_TIMED_OUT_AFTER, self.total)

    @property
    def fraction(self) -> float:
        return min(1.0, self.rows_done / self.total) if self.total else 0.0

    @property
    def label(self) -> str:
        return self.node or self.stage.value

    @property
    def waiting_text(self) -> str:
        return Progress(0, 0, self.stage, self.node, self.waiting, self.limit).waiting_text


__all__ = ["ALL_TIMED_OUT_AFTER", "JobProgress", "Progress", "ProgressFn", "Stage"]
