"""How far to trust a grader: self-consistency across repeats, agreement with human labels, agreement
between graders meant to agree. Pure functions over rewards; the CLI and the app grade, these judge.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

from ftstudio.core import REWARD_TOLERANCE, mean, mean_std

from ._agreement import (
    AGREE_MIN,
    MIN_LABELS,
    disagreements,
    kappa,
    kappa_interval,
    label_passes,
    label_score,
    spearman,
    spearman_interval,
    threshold_max_kappa,
)

DEFAULT_PASS = 0.5
MAX_ROWS_LISTED = 1000


def pass_threshold_of(grader: Any, given: float | None) -> float:
    """--threshold, else the grader's own `pass_threshold`, else 0.5."""
    if given is not None:
        return given
    value = getattr(grader, "pass_threshold", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return DEFAULT_PASS


def label_agreement(rewards: Sequence[float], labels: Sequence[Any], threshold: float) -> dict[str, Any]:
    """κ (pass/fail at `threshold`) and ρ (scores) between the grader and the labels, each with its interval;
    the confusion matrix (label pass/fail by grader pass/fail) and the rows where the two disagree.

    Rows whose label is missing or unreadable are left out (`skipped`)."""
    used = [(i, float(r), label_passes(lab, threshold), label_score(lab))
            for i, (r, lab) in enumerate(zip(rewards, labels))]
    kept = [(i, r, p, s) for i, r, p, s in used if p is not None and s is not None]
    scores = [r for _i, r, _p, _s in kept]
    passes = [bool(p) for _i, _r, p, _s in kept]
    numbers = [float(s) for _i, _r, _p, s in kept]
    graded = [r >= threshold - REWARD_TOLERANCE for r in scores]
    n = len(kept)
    confusion = {f"label_{h}": {f"grader_{g}": sum(1 for gp, hp in zip(graded, passes)
                                                   if gp == (g == "pass") and hp == (h == "pass"))
                                for g in ("pass", "fail")} for h in ("pass", "fail")}
    wrong = [{"row": i, "reward": r, "label": labels[i]} for (i, r, _p, _s), g, h in zip(kept, graded, passes)
             if g != h]
    out: dict[str, Any] = {
        "n_labels": n, "skipped": len(used) - n, "threshold": threshold,
        "base_rate": (sum(passes) / n) if n else None,
        "kappa": kappa(graded, passes), "kappa_interval": kappa_interval(graded, passes),
        "spearman": spearman(scores, numbers), "spearman_interval": spearman_interval(scores, numbers),
        "threshold_max_kappa": threshold_max_kappa(scores, passes),
        "confusion": confusion, "label_disagreements": wrong[:MAX_ROWS_LISTED],
        "label_disagreement_count": len(wrong), "warning": None,
    }
    if n < MIN_LABELS:
        out["warning"] = (f"only {n} labels: agreement needs at least {MIN_LABELS} to be trusted; the intervals show "
                          "how uncertain these figures are")
    return out


def self_consistency(runs: Sequence[Sequence[float]], threshold: float,
                     keys: Sequence[Hashable | None] | None = None) -> dict[str, Any]:
    """Rewards of the same rows graded K times (runs[k][i]): per-row std, the share of rows whose pass/fail
    flips, and the groups (rows sharing a key) where some row's GRPO advantage changes sign across repeats."""
    if not runs or not runs[0]:
        return {"repeats": len(runs), "std_mean": None, "flip_rate": None, "group_sign_flips": 0, "groups": 0,
                "per_row_std": []}
    n = len(runs[0])
    per_row = [[float(run[i]) for run in runs] for i in range(n)]
    stds = [mean_std(v)[1] for v in per_row]
    flips = sum(1 for v in per_row if len({x >= threshold - REWARD_TOLERANCE for x in v}) > 1)
    groups: dict[Hashable, list[int]] = {}
    for i, k in enumerate(keys or []):
        if k is not None:
            groups.setdefault(k, []).append(i)
    shared = [rows for rows in groups.values() if len(rows) >= 2]
    sign_flips = sum(1 for rows in shared if _advantage_flips(runs, rows))
    return {"repeats": len(runs), "std_mean": mean(stds), "flip_rate": flips / n, "group_sign_flips": sign_flips,
            "groups": len(shared), "per_row_std": stds[:MAX_ROWS_LISTED]}


def _sign(x: float) -> int:
    return 0 if abs(x) <= REWARD_TOLERANCE else (1 if x > 0 else -1)


def _advantage_flips(runs: Sequence[Sequence[float]], rows: list[int]) -> bool:
    """True when a row's advantage (its reward minus its group's mean) is positive in one repeat and
    negative in another."""
    signs: list[set[int]] = [set() for _ in rows]
    for run in runs:
        values = [float(run[i]) for i in rows]
        m = math.fsum(values) / len(values)
        for j, v in enumerate(values):
            signs[j].add(_sign(v - m))
    return any({1, -1} <= s for s in signs)


def grader_agreement(a: Sequence[float], b: Sequence[float], rows: Sequence[int] | None = None) -> dict[str, Any]:
    """Spearman ρ between two graders meant to agree, its interval, and the rows where they disagree most."""
    rho = spearman(a, b)
    return {"spearman": rho, "interval": spearman_interval(a, b), "n": len(a),
            "flagged": rho is None or rho < AGREE_MIN, "disagreements": disagreements(list(a), list(b), rows)}
