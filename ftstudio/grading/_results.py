"""GradeResults: one record per row (data, not exceptions) and a summary. Charts read only this.

Stored column-wise (rewards in a float array, errors only where there are some) so a million
rows stay small; `record(i)` builds the per-row view on demand.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from ftstudio.core import PLAIN_ROWS, RowErrors, mean, mean_std, sorts_as_numpy
from ftstudio.core.records import datarecord, field

if TYPE_CHECKING:  # the model client is imported where a model node used tokens (issue 23, start-up)
    from ftstudio.api import TokenUsage

QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


class RowRecord(TypedDict):
    """One row's result, as `grade --out` writes it (key order is the output's)."""

    row: int
    reward: float
    sub_rewards: dict[str, float]
    errors: list[str]  # ErrorCode values, sorted
    error_details: dict[str, str] | None
    line: NotRequired[int]  # the source line, when the rows came from a file


class Summary(TypedDict):
    """What `grade` prints at the end and the app's charts read."""

    count: int
    mean: float | None
    std: float | None
    quantiles: dict[str, float]  # p0, p10, p25, p50, p75, p90, p100
    rows_with_errors: int
    error_rate: float
    errors_by_code: dict[str, int]
    sub_reward_means: dict[str, float]
    token_usage: dict[str, dict[str, int]]
    elapsed_seconds: float
    rows_per_second: float | None
    cancelled: bool
    quantiles_error: NotRequired[str]  # only past grading._stream.EXACT_ROWS rows: how far the sketch may be off


@datarecord(kw_only=True)
class GradeResults:
    grader_name: str
    grader_type: str
    rewards: array[float]  # float per row, 0.0 where the row has errors
    errors: dict[int, RowErrors]  # only rows with errors
    sub_rewards: dict[str, array[float]]  # multi: child key -> score per row
    lines: list[int | None]  # source line of each row, when known
    token_usage: dict[str, TokenUsage] = field(default_factory=dict)
    elapsed: float = 0.0
    cancelled: bool = False
    row_offset: int = 0  # index of the first row (for chunked grading)
    extras: dict[str, Any] = field(default_factory=dict)
    # multi: rows where a child has no score of its own (it failed, or the row was unreadable); the
    # records keep the documented 0 there, tables, charts and the CSV show no value
    sub_missing: dict[str, set[int]] = field(default_factory=dict)
    # GradingSession.grade(node_scores=True): every node's own score per row, by JSON path ("" the root,
    # graders.a.graders.b a grandchild); empty otherwise
    node_rewards: dict[str, array[float]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rewards)

    def record(self, i: int) -> RowRecord:
        err = self.errors.get(i)
        out: RowRecord = {"row": self.row_offset + i, "reward": self.rewards[i],
                               "sub_rewards": {k: v[i] for k, v in self.sub_rewards.items()},
                               "errors": sorted(err.codes) if err else [],
                               "error_details": dict(sorted(err.codes.items())) if err else None}
        line = self.lines[i] if self.lines else None
        if line is not None:
            out["line"] = line
        return out

    def records(self) -> Iterator[RowRecord]:
        for i in range(len(self)):
            yield self.record(i)

    def sub_value(self, key: str, i: int) -> float | None:
        """Child `key`'s score on row i; None where it has none (sub_missing)."""
        return None if i in self.sub_missing.get(key, ()) else self.sub_rewards[key][i]

    def summary(self) -> Summary:
        return summarize(self.rewards, self.errors, self.sub_rewards, self.token_usage, self.elapsed,
                         self.cancelled)


def summarize(rewards, errors: dict[int, RowErrors], sub_rewards: dict[str, Any],
              token_usage: dict[str, TokenUsage], elapsed: float, cancelled: bool = False) -> Summary:
    n = len(rewards)
    by_code: dict[str, int] = {}
    for e in errors.values():
        for code in e.codes:
            by_code[code] = by_code.get(code, 0) + 1
    out: Summary = {
        "count": n, "mean": None, "std": None, "quantiles": {}, "rows_with_errors": len(errors),
        "error_rate": (len(errors) / n) if n else 0.0, "errors_by_code": dict(sorted(by_code.items())),
        "sub_reward_means": {}, "token_usage": {m: u.to_dict() for m, u in sorted(token_usage.items())},
        "elapsed_seconds": round(elapsed, 4), "rows_per_second": round(n / elapsed, 1) if elapsed > 0 else None,
        "cancelled": cancelled,
    }
    if n:
        values = _sorted(rewards)
        # Python floats for the sums up to a batch's size: fsum and the squares cost ten times more per numpy
        # scalar (a 1,000-row /v1/grade spent more on its summary than on grading); the same IEEE results.
        # Past that, the numpy array itself (no list of 32-byte floats on top of it).
        tolist = getattr(values, "tolist", None)  # a numpy array's; a list is summed as it is
        summed = tolist() if n <= _LIST_ROWS and tolist is not None else values
        with _numpy_quiet(values):  # numpy floats warn where Python floats silently give inf (handled)
            out["mean"], out["std"] = mean_std(summed)  # any finite rewards, 1e308 too (no overflow)
        out["quantiles"] = {f"p{int(q * 100)}": quantile(lambda i: float(values[i]), n, q)
                            for q in QUANTILES}
        out["sub_reward_means"] = {k: mean(v) for k, v in sub_rewards.items()}
    return out


_LIST_ROWS = 100_000


def _sorted(rewards: Any) -> Sequence[float]:
    """The rewards sorted: a float array through numpy (8 bytes a row; a list of floats costs 32). Up to
    PLAIN_ROWS rows a list sorted by Python where that is numpy's order, so a grade of a few rows doesn't import
    numpy (issue 23, start-up)."""
    if isinstance(rewards, array) and rewards.typecode == "d":
        if len(rewards) <= PLAIN_ROWS:
            values = rewards.tolist()
            if sorts_as_numpy(values):
                return sorted(values)
        import numpy as np

        return np.sort(np.frombuffer(rewards, dtype=float))  # type: ignore[return-value]
    return sorted(rewards)


def _numpy_quiet(values: Any) -> AbstractContextManager[Any]:
    if isinstance(values, list):
        return nullcontext()
    import numpy as np

    return np.errstate(over="ignore", invalid="ignore")


def quantile(at: Callable[[int], float], n: int, q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); `at(rank)` is the value at a 0-based rank
    of the n sorted values (a list's item, or a sketch's bucket)."""
    if n == 1:
        return at(0)
    pos = q * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    a, b, t = at(lo), at(hi), pos - lo
    step = b - a
    # b - a overflows when a and b are huge with opposite signs; the weighted form can't.
    return a + step * t if math.isfinite(step) else a * (1 - t) + b * t


def merge(parts: list[GradeResults]) -> GradeResults:
    """Join chunk results (from grade_chunks) into one."""
    if not parts:
        raise ValueError("nothing to merge")
    first = parts[0]
    rewards, errors, subs, lines, usage = array("d"), {}, {}, [], {}
    missing: dict[str, set[int]] = {}
    for part in parts:
        base = len(rewards)
        rewards.extend(part.rewards)
        errors.update({base + i: e for i, e in part.errors.items()})
        for k, rows in part.sub_missing.items():
            missing.setdefault(k, set()).update(base + i for i in rows)
        for k, v in part.sub_rewards.items():
            subs.setdefault(k, array("d", [0.0] * base)).extend(v)
        lines.extend(part.lines or [None] * len(part))
        for m, u in part.token_usage.items():
            from ftstudio.api import TokenUsage

            usage.setdefault(m, TokenUsage()).add(u)
    return GradeResults(grader_name=first.grader_name, grader_type=first.grader_type, rewards=rewards, errors=errors,
                        sub_rewards=subs, lines=lines, token_usage=usage, elapsed=sum(p.elapsed for p in parts),
                        cancelled=any(p.cancelled for p in parts), row_offset=first.row_offset, sub_missing=missing)
