"""Calibration: is there a learning signal in these rewards?

The spread (std, share at the minimum and at the maximum), a warning when more than 90 % of rows
score the same, the pass thresholds that fail 30 % and 50 % of rows, and, when several samples share
an item (a grouping field, or identical items), the share of groups whose rewards don't vary:
GRPO-style training learns nothing from a zero-variance group.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import orjson

from ftstudio.core import DEFAULT_SAMPLE_FIELD, REWARD_TOLERANCE, compact_json, mean, mean_std, reward_text

SAME_SCORE_WARN = 0.9
FAIL_SHARES = (0.3, 0.5)
MAX_GROUPS_LISTED = 1000


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False, default=repr).encode


def group_keys(rows: Iterable[Any], group_field: str | None = None,
               sample_field: str = DEFAULT_SAMPLE_FIELD, stable: bool = False) -> list[Hashable | None]:
    """One key per row: the grouping field's value, or (identical items) the hash of the row without its
    sample. Keys compared within one process use Python's hash (cheap; salted per process); `stable`
    gives a 64-bit digest instead, equal across processes (rows graded on several Ray actors)."""
    keys: list[Hashable | None] = []
    add = keys.append
    digest = _stable_hash if stable else hash
    for row in rows:
        if not isinstance(row, dict):
            add(None)
        elif group_field:
            value = row.get(group_field)
            add(None if value is None else value if isinstance(value, str) else compact_json(value))
        else:
            if sample_field in row:  # a C-level copy minus the sample: much cheaper than a comprehension
                row = dict(row)
                del row[sample_field]
            add(digest(_encode(row)))
    return keys


def _stable_hash(encoded: bytes | str) -> int:
    data = encoded.encode("utf-8", "surrogatepass") if isinstance(encoded, str) else encoded
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little", signed=True)


def _encode(row: dict) -> bytes | str:
    """The row's compact JSON, as a key: orjson (several times faster), json for what orjson refuses
    (integers past 64 bits, non-str keys). Both keep insertion order, so equal rows get equal keys."""
    try:
        return orjson.dumps(row)
    except TypeError:
        return _ENCODE(row)


def _std(values: Sequence[float]) -> float:
    return mean_std(values)[1]


def _fail_threshold(values, share: float) -> dict[str, float | None]:
    """The smallest observed reward t for which `reward < t` fails at least `share` of rows, with the share it
    actually fails (ties can make it larger); None when every reward is the same. `values` sorted (numpy)."""
    import numpy as np

    n = len(values)
    k = min(n - 1, max(0, math.ceil(share * n)))
    t = float(values[k])
    failing = int(np.searchsorted(values, t, side="left"))
    if failing < share * n:  # ties at t: the next distinct value fails more
        above = int(np.searchsorted(values, t, side="right"))
        if above < n:
            t, failing = float(values[above]), above
    if not failing:  # every reward is the same: no pass threshold separates the rows
        return {"threshold": None, "share_failing": 0.0}
    return {"threshold": t, "share_failing": failing / n}


def calibration(results: Any, items: Iterable[Any] | None = None, group_field: str | None = None,
                sample_field: str = DEFAULT_SAMPLE_FIELD, keys: Sequence[Hashable | None] | None = None) -> dict[str, Any]:
    """Calibration figures for a grading result (GradeResults or a sequence of rewards).

    Groups come from `keys` (one per row), or from `items` (rows) grouped by `group_field` or by identical
    items. Without either there is no group analysis.
    """
    import numpy as np  # lazily, like the engine: `import ftstudio.probes` stays light

    rewards = getattr(results, "rewards", results)
    n = len(rewards)
    out: dict[str, Any] = {"count": n, "std": None, "min": None, "max": None, "share_at_min": None,
                           "share_at_max": None, "most_common_share": None, "no_learning_signal": False,
                           "warning": None, "fail_thresholds": {}, "groups": None}
    if not n:
        return out
    values = np.sort(np.asarray(rewards, dtype=float))
    lo, hi = float(values[0]), float(values[-1])
    with np.errstate(over="ignore", invalid="ignore"):  # rewards near 1e308: handled just below
        # Rounding to 9 decimals multiplies by 1e9; past 1e15 a float has no such decimals to round anyway.
        uniq, counts = np.unique(np.where(np.abs(values) < 1e15, np.round(values, 9), values), return_counts=True)
        std = float(values.std())
    if not math.isfinite(std):  # numpy's sum overflowed: the exact, scaled computation
        std = mean_std(values.tolist())[1]
    top = int(np.argmax(counts))
    common_value, common = float(uniq[top]), int(counts[top])
    out.update(std=std, min=lo, max=hi,
               share_at_min=int(np.count_nonzero(values <= lo + REWARD_TOLERANCE)) / n,
               share_at_max=int(np.count_nonzero(values >= hi - REWARD_TOLERANCE)) / n,
               most_common_share=common / n)
    if common / n > SAME_SCORE_WARN:
        out["no_learning_signal"] = True
        out["warning"] = (f"no learning signal: {100 * common / n:.0f}% of rows score {common_value:g}; training "
                          "can only learn from rewards that differ")
    out["fail_thresholds"] = {f"{int(s * 100)}%": _fail_threshold(values, s) for s in FAIL_SHARES}
    if keys is None and items is not None:
        keys = group_keys(items, group_field, sample_field)
    if keys is not None:
        out["groups"] = _groups(list(rewards), keys, group_field)
    return out


def _groups(rewards: list[float], keys: Sequence[Hashable | None], group_field: str | None) -> dict[str, Any] | None:
    members: dict[Hashable, list[float]] = {}
    first: dict[Hashable, int] = {}
    without = 0
    for i, (r, k) in enumerate(zip(rewards, keys)):
        if k is None:
            without += 1
        else:
            members.setdefault(k, []).append(r)
            first.setdefault(k, i)
    shared = {k: v for k, v in members.items() if len(v) >= 2}
    by = group_field or "identical items"
    if not shared:
        return {"by": by, "groups": 0, "rows_without_group": without, "zero_variance_share": None,
                "std_mean": None, "std_median": None, "per_group_std": {}, "per_group_std_truncated": False,
                "note": "no two rows share an item: generate several samples per prompt (ftstudio sample --n K)"}
    # Named by the field's value, or (identical items) by the group's first row number.
    stds = {(str(k) if group_field else f"row {first[k]}"): _std(v) for k, v in shared.items()}
    ordered = sorted(stds.values())
    zero = sum(1 for s in ordered if s <= REWARD_TOLERANCE)
    listed = dict(list(stds.items())[:MAX_GROUPS_LISTED])
    return {"by": by, "groups": len(shared), "rows_without_group": without,
            "zero_variance_share": zero / len(shared), "std_mean": mean(ordered),
            "std_median": ordered[len(ordered) // 2], "per_group_std": listed,
            "per_group_std_truncated": len(stds) > MAX_GROUPS_LISTED, "note": None}


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
