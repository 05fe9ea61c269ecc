"""Calibration of a small run in plain Python, equal to the numpy computation bit for bit.

Importing numpy alone costs about 4x `python -c pass`, so a `grade` of a few rows would spend most of
its time there (issue 23, start-up). Up to core.PLAIN_ROWS rows, calibration and the identical-item groups
are computed here instead, with numpy's own arithmetic: its sum is pairwise with eight accumulators
(`np_sum`), its std is sqrt(sum((v - mean)^2) / n) over those sums, its round(v, 9) is rint(v * 1e9) / 1e9.
Sorting is the one place the two could part: equal floats of different bits (0.0 and -0.0) or NaN may
come out of numpy's sort in another order, so rewards holding either take the numpy path
(core.sorts_as_numpy; `plain_rewards` says None). tests/test_calibration.py checks both paths give the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ftstudio.core import PLAIN_ROWS, mean_std, sorts_as_numpy

_BLOCK = 128  # numpy's PW_BLOCKSIZE: below it, eight running sums; above it, halves


def plain_rewards(rewards: Sequence[float]) -> list[float] | None:
    """The rewards as floats when the plain path gives numpy's figures: few enough, no NaN and no -0.0."""
    if len(rewards) > PLAIN_ROWS:
        return None
    values = [float(v) for v in rewards]
    return values if sorts_as_numpy(values) else None


def _pairwise(a: Sequence[float], lo: int, n: int) -> float:
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    if n <= _BLOCK:
        r = list(a[lo:lo + 8])
        i, whole = 8, n - n % 8
        while i < whole:
            for j in range(8):
                r[j] += a[lo + i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for k in range(i, n):
            res += a[lo + k]
        return res
    half = n // 2
    half -= half % 8
    return _pairwise(a, lo, half) + _pairwise(a, lo + half, n - half)


def np_sum(values: Sequence[float]) -> float:
    """numpy's sum of a float64 array (`add.reduce`: 0.0 plus the pairwise sum)."""
    return 0.0 + _pairwise(values, 0, len(values))


def np_std(values: Sequence[float]) -> float:
    """numpy's `ndarray.std()` of the values (population std; inf or nan where numpy's says so)."""
    n = len(values)
    m = np_sum(values) / n
    return math.sqrt(np_sum([(v - m) * (v - m) for v in values]) / n)


def np_round9(v: float) -> float:
    """numpy's round(v, 9): rint(v * 1e9) / 1e9, rint rounding half to even and keeping the sign of zero."""
    return math.copysign(float(round(v * 1e9)), v) / 1e9


def distribution(values: list[float]) -> tuple[list[float], list[int], float]:
    """(sorted distinct rewards, rows per value, std) as calibration's numpy `_distribution` gives them."""
    ordered = sorted(values)
    std = np_std(ordered)
    if not math.isfinite(std):  # numpy's sum overflowed: calibration takes the exact, scaled computation
        std = mean_std(ordered)[1]
    distinct: list[float] = []
    counts: list[int] = []
    for v in ordered:
        if distinct and distinct[-1] == v:
            counts[-1] += 1
        else:
            distinct.append(v)
            counts.append(1)
    return distinct, counts, std


def most_common(values: list[float], counts: list[int]) -> tuple[float, int] | None:
    """(value, rows) of the most common reward rounded to 9 decimals (the first of equals), as calibration's numpy
    unique / bincount / argmax give it; None when a rounding gives -0.0 (numpy's unique may keep either zero)."""
    per_value: dict[float, int] = {}
    for v, c in zip(values, counts):
        r = np_round9(v) if abs(v) < 1e15 else v
        if r == 0 and math.copysign(1.0, r) < 0:
            return None
        per_value[r] = per_value.get(r, 0) + c
    top = max(per_value.values())
    return next((v, c) for v, c in per_value.items() if c == top)


def shared(keys: Sequence[int], rewards: Sequence[float], no_group: int) -> tuple[list[int], list[float], list[int]]:
    """(first row, std, key) of each group of 2+ rows, in key order, as the numpy `_shared` gives them for keys in
    row order: a group of one value v has std 0 when v * n / n gives v back, the others core.mean_std."""
    rows_of: dict[int, list[int]] = {}
    for i, k in enumerate(keys):
        if k != no_group:
            rows_of.setdefault(k, []).append(i)
    first: list[int] = []
    std: list[float] = []
    key: list[int] = []
    for k in sorted(rows_of):
        rows = rows_of[k]
        if len(rows) < 2:
            continue
        r = [rewards[i] for i in rows]
        lo, hi, size = min(r), max(r), len(r)
        first.append(rows[0])
        std.append(0.0 if lo == hi and (lo * size) / size == lo else mean_std(r)[1])
        key.append(k)
    return first, std, key
