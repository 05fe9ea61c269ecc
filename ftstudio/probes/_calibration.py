"""Calibration: is there a learning signal in these rewards?

The spread (std, share at the minimum and at the maximum), a warning when more than 90 % of rows
score the same, the pass thresholds that fail 30 % and 50 % of rows, and, when several samples share
an item (a grouping field, or identical items), the share of groups whose rewards don't vary:
GRPO-style training learns nothing from a zero-variance group.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import orjson

from ftstudio.core import DEFAULT_SAMPLE_FIELD, REWARD_TOLERANCE, compact_json, mean_std, reward_text

from ._groups import Groups
from ._plain import distribution, most_common, plain_rewards

if TYPE_CHECKING:
    import numpy as np

SAME_SCORE_WARN = 0.9
FAIL_SHARES = (0.3, 0.5)


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False, default=repr).encode


def group_keys(rows: Iterable[Any], group_field: str | None = None,
               sample_field: str = DEFAULT_SAMPLE_FIELD, stable: bool = False) -> list[Hashable | None]:
    """One key per row: the grouping field's value, or (identical items) the hash of the row without its
    sample. Keys compared within one process use Python's hash (cheap; salted per process); `stable`
    gives a 64-bit digest instead, equal across processes (rows graded on several Ray actors)."""
    keys: list[Hashable | None] = []
    add = keys.append
    digest = _stable_hasher() if stable else hash
    for entry in rows:
        if not isinstance(entry, dict):
            add(None)
            continue
        row = cast(dict[str, Any], entry)
        if group_field:
            value = row.get(group_field)
            add(None if value is None else value if isinstance(value, str) else compact_json(value))
        else:
            if sample_field in row:  # a C-level copy minus the sample: much cheaper than a comprehension
                row = dict(row)
                del row[sample_field]
            add(digest(_encode(row)))
    return keys


def _stable_hasher() -> Callable[[bytes | str], int]:
    # hashlib loads OpenSSL (2 ms): only the Ray engine's stable keys need it, not a one-row grade (issue 23)
    from hashlib import blake2b

    def stable_hash(encoded: bytes | str) -> int:
        data = encoded.encode("utf-8", "surrogatepass") if isinstance(encoded, str) else encoded
        return int.from_bytes(blake2b(data, digest_size=8).digest(), "little", signed=True)
    return stable_hash


def _encode(row: dict[str, Any]) -> bytes | str:
    """The row's compact JSON, as a key: orjson (several times faster), json for what orjson refuses
    (integers past 64 bits, non-str keys). Both keep insertion order, so equal rows get equal keys."""
    try:
        return orjson.dumps(row)
    except TypeError:
        return _ENCODE(row)


def _fail_threshold(values: Sequence[float], ends: Sequence[int], share: float) -> dict[str, float | None]:
    """The smallest observed reward t for which `reward < t` fails at least `share` of rows, with the share it
    actually fails (ties can make it larger); None when every reward is the same. `values` the sorted distinct
    rewards, `ends[i]` the rows at or below values[i]."""
    n = int(ends[-1])
    k = min(n - 1, max(0, math.ceil(share * n)))
    at = bisect.bisect_right(ends, k)  # the value at rank k
    t = float(values[at])
    failing = int(ends[at - 1]) if at else 0  # rows below t
    if failing < share * n:  # ties at t: the next distinct value fails more
        above = int(ends[at])
        if above < n:
            t, failing = float(values[at + 1]), above
    if not failing:  # every reward is the same: no pass threshold separates the rows
        return {"threshold": None, "share_failing": 0.0}
    return {"threshold": t, "share_failing": failing / n}


def _distribution(rewards: Any) -> tuple[np.ndarray, np.ndarray, float]:
    """(sorted distinct rewards, rows per value, std) of every reward, or of a sketch's weighted buckets."""
    import numpy as np

    if hasattr(rewards, "weighted"):  # grading's SketchedRewards: past a million rows
        values, counts = rewards.weighted()
        return values, counts, rewards.std
    values = np.sort(np.asarray(rewards, dtype=float))
    with np.errstate(over="ignore", invalid="ignore"):  # rewards near 1e308: handled just below
        std = float(values.std())
    if not math.isfinite(std):  # numpy's sum overflowed: the exact, scaled computation
        std = mean_std(values.tolist())[1]
    uniq, counts = np.unique(values, return_counts=True)
    return uniq, counts, std


# (sorted distinct rewards, rows at or below each, std, rows at the minimum, at the maximum, the most common reward
# rounded to 9 decimals and its rows)
_Figures = tuple[list[float], list[int], float, int, int, float, int]


def _figures(rewards: Any) -> _Figures:
    """Calibration's figures: in plain Python for a small run (no numpy to import, the same numbers), else numpy."""
    plain = None if hasattr(rewards, "weighted") else plain_rewards(rewards)
    if plain is not None:
        values, counts, std = distribution(plain)
        common = most_common(values, counts)
        if common is not None:
            lo, hi = values[0], values[-1]
            return (values, list(itertools.accumulate(counts)), std,
                    sum(c for v, c in zip(values, counts) if v <= lo + REWARD_TOLERANCE),
                    sum(c for v, c in zip(values, counts) if v >= hi - REWARD_TOLERANCE), common[0], common[1])
    return _numpy_figures(rewards)


def _numpy_figures(rewards: Any) -> _Figures:
    import numpy as np

    values, counts, std = _distribution(rewards)
    ends = np.cumsum(counts)
    lo, hi = float(values[0]), float(values[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        # Rounding to 9 decimals multiplies by 1e9; past 1e15 a float has no such decimals to round anyway.
        rounded, where = np.unique(np.where(np.abs(values) < 1e15, np.round(values, 9), values), return_inverse=True)
    per_value = np.bincount(where.ravel(), weights=counts)
    top = int(np.argmax(per_value))
    return (values.tolist(), ends.tolist(), std, int(counts[values <= lo + REWARD_TOLERANCE].sum()),
            int(counts[values >= hi - REWARD_TOLERANCE].sum()), float(rounded[top]), int(per_value[top]))


def calibration(results: Any, items: Iterable[Any] | None = None, group_field: str | None = None,
                sample_field: str = DEFAULT_SAMPLE_FIELD, keys: Sequence[Hashable | None] | Groups | None = None
                ) -> dict[str, Any]:
    """Calibration figures for a grading result (GradeResults, a sequence of rewards, or grading's
    RunningResults.distribution() past a million rows).

    Groups come from `keys` (one per row, or a filled Groups), or from `items` (rows) grouped by `group_field`
    or by identical items. Without either there is no group analysis.
    """
    rewards = getattr(results, "rewards", results)
    n = len(rewards)
    out: dict[str, Any] = {"count": n, "std": None, "min": None, "max": None, "share_at_min": None,
                           "share_at_max": None, "most_common_share": None, "no_learning_signal": False,
                           "warning": None, "fail_thresholds": {}, "groups": None}
    if not n:
        return out
    values, ends, std, at_min, at_max, common_value, common = _figures(rewards)
    out.update(std=std, min=float(values[0]), max=float(values[-1]), share_at_min=at_min / n,
               share_at_max=at_max / n, most_common_share=common / n)
    if common / n > SAME_SCORE_WARN:
        out["no_learning_signal"] = True
        out["warning"] = (f"no learning signal: {100 * common / n:.0f}% of rows score {common_value:g}; training "
                          "can only learn from rewards that differ")
    out["fail_thresholds"] = {f"{int(s * 100)}%": _fail_threshold(values, ends, s) for s in FAIL_SHARES}
    if keys is None and items is not None:
        keys = group_keys(items, group_field, sample_field)
    if isinstance(keys, Groups):
        out["groups"] = keys.section(rewards)
    elif keys is not None:
        groups = Groups(group_field)
        groups.add_hashables(keys, rewards)
        out["groups"] = groups.section(rewards)
    return out


def calibration_text(c: dict[str, Any]) -> str:
    """The lines `ftstudio grade` prints (and the app shows) under the summary."""
    if not c["count"]:
        return ""
    lines = [f"reward spread: std {reward_text(c['std'])}   {100 * c['share_at_min']:.1f}% at the minimum ({c['min']:.4g})   "
             f"{100 * c['share_at_max']:.1f}% at the maximum ({c['max']:.4g})"]
    if c["warning"]:
        lines.append("WARNING: " + c["warning"])
    for label, t in c["fail_thresholds"].items():
        if t["threshold"] is None:
            lines.append(f"no pass threshold fails {label} of rows: every row scores the same")
        else:
            lines.append(f"a pass threshold of {t['threshold']:.4g} fails {100 * t['share_failing']:.1f}% of rows "
                         f"(target {label})")
    g = c.get("groups")
    if g and (g["groups"] or g["by"] != "identical items"):
        if not g["groups"]:
            lines.append(f"groups ({g['by']}): {g['note']}")
        else:
            lines.append(f"groups ({g['by']}): {g['groups']:,} with 2+ samples; {100 * g['zero_variance_share']:.1f}% "
                         f"have zero reward variance (nothing to learn from them); per-group std mean "
                         f"{reward_text(g['std_mean'])}, median {reward_text(g['std_median'])}")
    return "\n".join(lines)
