"""Agreement statistics: Cohen's κ, Spearman ρ, and their 95 % percentile bootstrap intervals.

Every interval in probes is `bootstrap(...)`: 1,000 resamples of the rows with a fixed seed, so a rerun on
the same data prints the same `[lo, hi]`. κ is computed as sklearn.metrics.cohen_kappa_score does and ρ as
scipy.stats.spearmanr (average ranks for ties); tests/test_agreement.py checks both against them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

RESAMPLES = 1000
SEED = 0
CONFIDENCE = 0.95
AGREE_MIN = 0.8      # Spearman ρ below this between graders meant to agree is flagged
MIN_LABELS = 50      # fewer human labels than this: the figures are too uncertain to trust
MAX_DISAGREEMENTS = 10


def kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's κ of two pass/fail sequences; None when it is undefined (both raters constant and equal)."""
    n = len(a)
    if not n:
        return None
    agree = sum(1 for x, y in zip(a, b) if x == y) / n
    pa, pb = sum(map(bool, a)) / n, sum(map(bool, b)) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    if chance >= 1.0:
        return None
    return (agree - chance) / (1 - chance)


def ranks(values: Sequence[float]):
    """Average ranks (ties share the mean of their positions), 1-based, as a numpy array."""
    import numpy as np

    x = np.asarray(values, dtype=float)
    _uniq, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)  # 1-based position of each distinct value's last copy
    return (last - (counts - 1) / 2)[inverse]


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman's ρ (Pearson's r of average ranks); None when either side is constant or has < 2 values."""
    import numpy as np

    if len(a) < 2:
        return None
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = math.sqrt(float((ra * ra).sum()) * float((rb * rb).sum()))
    if den == 0:
        return None
    return float(np.clip((ra * rb).sum() / den, -1.0, 1.0))


def bootstrap(stat: Callable[[list[int]], float | None], n: int, resamples: int = RESAMPLES,
              seed: int = SEED) -> list[float] | None:
    """The 95 % percentile interval `[lo, hi]` of `stat(indices)` over resamples of range(n) with replacement.

    Resamples where the statistic is undefined (None) are skipped; None when fewer than half are defined."""
    import numpy as np

    if n < 2:
        return None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        v = stat(rng.integers(0, n, n).tolist())
        if v is not None and math.isfinite(v):
            values.append(v)
    if len(values) < resamples / 2:
        return None
    tail = (1 - CONFIDENCE) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return [float(lo), float(hi)]


def kappa_interval(a: Sequence[bool], b: Sequence[bool]) -> list[float] | None:
    return bootstrap(lambda idx: kappa([a[i] for i in idx], [b[i] for i in idx]), len(a))


def spearman_interval(a: Sequence[float], b: Sequence[float]) -> list[float] | None:
    return bootstrap(lambda idx: spearman([a[i] for i in idx], [b[i] for i in idx]), len(a))


def mean_interval(values: Sequence[float]) -> list[float] | None:
    return bootstrap(lambda idx: math.fsum(values[i] for i in idx) / len(idx), len(values))


def label_passes(label: Any, threshold: float) -> bool | None:
    """A human label as pass/fail: true, "pass", or a number at or above the threshold; None if unreadable."""
    if isinstance(label, bool):
        return label
    if isinstance(label, (int, float)):
        return float(label) >= threshold if math.isfinite(label) else None
    if isinstance(label, str):
        s = label.strip().lower()
        if s in ("pass", "true", "yes"):
            return True
        if s in ("fail", "false", "no"):
            return False
        try:
            x = float(s)
        except ValueError:
            return None
        return x >= threshold if math.isfinite(x) else None
    return None


def label_score(label: Any) -> float | None:
    """A label as a number for ρ: the number itself, or pass = 1 / fail = 0."""
    if isinstance(label, bool):
        return float(label)
    if isinstance(label, (int, float)):
        return float(label) if math.isfinite(label) else None
    if isinstance(label, str):
        s = label.strip().lower()
        if s in ("pass", "true", "yes"):
            return 1.0
        if s in ("fail", "false", "no"):
            return 0.0
        try:
            x = float(s)
        except ValueError:
            return None
        return x if math.isfinite(x) else None
    return None


def threshold_max_kappa(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The observed reward that, used as the pass threshold (pass at or above), maximises κ with the labels;
    the lowest such reward on ties; None when no threshold gives a defined κ."""
    best: tuple[float, float] | None = None
    for t in sorted(set(scores)):
        k = kappa([s >= t for s in scores], labels)
        if k is not None and (best is None or k > best[0] + 1e-12):
            best = (k, t)
    return None if best is None else best[1]


def disagreements(a: Sequence[float], b: Sequence[float], rows: Sequence[int] | None = None,
                  limit: int = MAX_DISAGREEMENTS) -> list[dict[str, Any]]:
    """The rows where two graders disagree most: by the gap between their ranks (scales may differ), then
    by the raw gap. `rows` maps positions back to data row numbers."""
    if not a:
        return []
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    gaps = sorted(range(n), key=lambda i: (-abs(float(ra[i] - rb[i])), -abs(a[i] - b[i]), i))
    out = []
    for i in gaps[:limit]:
        if ra[i] == rb[i] and a[i] == b[i]:
            break
        out.append({"row": rows[i] if rows is not None else i, "a": a[i], "b": b[i]})
    return out
