"""Mean and standard deviation of rewards, for any finite floats.

A grader may return any finite float (1e308 is one). `math.fsum` raises OverflowError when the
sum passes the largest float, and a squared deviation past ~1.3e154 is inf, so the plain formulas
crash or say inf on such rewards. Both are exact (fsum) on ordinary values and, only when those
overflow, computed on the values scaled by the largest magnitude: the mean lies between the
smallest and the largest value and the std is at most their half-range, so both are finite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def reward_text(value: float | None) -> str:
    """A reward for people: 4 decimals, or 4 significant digits where decimals would print 300 digits (1e308)."""
    if value is None:
        return "—"
    return f"{value:.4f}" if abs(value) < 1e9 else f"{value:.4g}"


def mean(values: Sequence[float]) -> float:
    """The mean of finite floats (ValueError when there are none)."""
    n = len(values)
    if not n:
        raise ValueError("mean of no values")
    try:
        return math.fsum(values) / n
    except OverflowError:
        scale = max(map(abs, values))
        return math.fsum(v / scale for v in values) / n * scale


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """(mean, population standard deviation) of finite floats (ValueError when there are none)."""
    m = mean(values)
    n = len(values)
    try:
        var = math.fsum((v - m) * (v - m) for v in values) / n
    except OverflowError:
        var = math.inf
    if math.isfinite(var):
        return m, math.sqrt(var)
    scale = max(map(abs, values))
    ms = m / scale
    return m, math.sqrt(math.fsum((v / scale - ms) * (v / scale - ms) for v in values) / n) * scale


# Up to this many rewards, summaries and calibration are computed in plain Python, with numpy's arithmetic where
# they used numpy's: a grade of a few rows must not import numpy, about 4x `python -c pass` alone (issue 23).
PLAIN_ROWS = 10_000


def sorts_as_numpy(values: Sequence[float]) -> bool:
    """True when Python's sort orders these floats as numpy's does: no NaN, and no -0.0 (equal to 0.0, so its
    place beside a 0.0 depends on the sort, and it prints apart)."""
    # v == v: not NaN; `v or sign`: a zero must be +0.0
    return all(v == v and (v or math.copysign(1.0, v) > 0) for v in values)
