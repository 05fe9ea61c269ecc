"""Row-level problems found in a dataset, and a log that stays small on 50,000 bad rows.

Shared by `datasets` (missing sample field) and `dataset_report` (per-method format checks).
"""

from __future__ import annotations

from collections import Counter

from ftstudio.core.records import asdict, datarecord

DEFAULT_CAP = 20


@datarecord(frozen=True)
class Problem:
    """One finding. `row` is the 0-based row index, `line` the 1-based file line of that row;
    both are None for findings about the whole file. `path` locates the value within the row,
    e.g. ``messages[2].weight``."""

    severity: str  # "error" | "warning" | "info"
    code: str
    message: str  # says what is wrong and what to do
    row: int | None = None
    line: int | None = None
    path: str = ""

    def where(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}" + (f" (line {self.line})" if self.line is not None else ""))
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.path:
            parts.append(self.path)
        return " ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict:
        return asdict(self)


class ProblemLog:
    """Keeps the first `cap` problems of each code in full and counts the rest, so a report on a
    huge file stays readable and small."""

    def __init__(self, cap: int = DEFAULT_CAP):
        self.cap = cap
        self.shown: list[Problem] = []
        self.counts: Counter[tuple[str, str]] = Counter()  # (severity, code) -> total

    def add(self, problem: Problem) -> None:
        key = (problem.severity, problem.code)
        self.counts[key] += 1
        if self.counts[key] <= self.cap:
            self.shown.append(problem)

    def extend(self, problems) -> None:
        for p in problems:
            self.add(p)

    def count(self, severity: str) -> int:
        return sum(n for (sev, _), n in self.counts.items() if sev == severity)
