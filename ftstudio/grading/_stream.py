"""The summary of a run too big to keep: `ftstudio grade` adds each chunk's results and lets them go.

Up to EXACT_ROWS rows every reward is kept (8 bytes a row), so the summary is exactly
`GradeResults.summary()` of the whole run. Past that, the rewards go into a RewardSketch and the
moments are combined chunk by chunk (Chan et al.): memory stays flat however many rows come, the
mean and std are exact up to float rounding, and the quantiles are within SKETCH_RELATIVE_ERROR of
the value at their rank; the summary says so (`quantiles_error`).
"""

from __future__ import annotations

import math
from array import array
from typing import TYPE_CHECKING, Any

from ftstudio.core import mean_std

from ._results import QUANTILES, GradeResults, Summary, quantile, summarize

if TYPE_CHECKING:
    import numpy as np

    from ftstudio.api import TokenUsage

EXACT_ROWS = 1_000_000
SKETCH_RELATIVE_ERROR = 0.005
EXACT_VALUES = 65_536  # distinct rewards counted exactly before the sketch turns to log buckets


class RewardSketch:
    """Reward counts: exact per value while there are at most EXACT_VALUES distinct rewards (graders mostly
    give a few), then log-spaced buckets (DDSketch) whose representative is within `alpha` of every value in it."""

    def __init__(self, alpha: float = SKETCH_RELATIVE_ERROR):
        self.alpha = alpha
        self._gamma_log = math.log((1 + alpha) / (1 - alpha))
        self.counts: dict[float, int] = {}  # value (or bucket representative) -> rows
        self.bucketed = False
        self.n = 0

    def add(self, values: np.ndarray) -> None:
        import numpy as np

        if not len(values):
            return
        self.n += len(values)
        if self.bucketed:
            values = self._buckets(values)
        uniq, counts = np.unique(values, return_counts=True)
        get = self.counts.get
        for v, c in zip(uniq.tolist(), counts.tolist()):
            self.counts[v] = get(v, 0) + c
        if not self.bucketed and len(self.counts) > EXACT_VALUES:
            exact = self.counts
            self.counts, self.bucketed = {}, True
            reps = self._buckets(np.fromiter(exact, dtype=float, count=len(exact)))
            for rep, c in zip(reps.tolist(), exact.values()):
                self.counts[rep] = self.counts.get(rep, 0) + c

    def _buckets(self, values: np.ndarray) -> np.ndarray:
        """Each value's bucket representative: sign * 2 gamma^i / (gamma + 1), i = ceil(log_gamma |v|)."""
        import numpy as np

        mag = np.abs(values)
        tiny = mag < 1e-300  # zero (and what would underflow the log): its own exact bucket
        with np.errstate(divide="ignore"):
            idx = np.ceil(np.log(np.where(tiny, 1.0, mag)) / self._gamma_log)
        g = self._gamma_log
        rep = np.exp(idx * g) * (2.0 / (math.exp(g) + 1.0))
        rep = np.where(np.isfinite(rep), rep, mag)  # past float range: the value itself
        return np.where(tiny, 0.0, np.sign(values) * rep)

    def weighted(self) -> tuple[np.ndarray, np.ndarray]:
        """(sorted values, their counts)."""
        import numpy as np

        values = np.fromiter(self.counts, dtype=float, count=len(self.counts))
        counts = np.fromiter(self.counts.values(), dtype=np.int64, count=len(self.counts))
        order = np.argsort(values, kind="stable")
        return values[order], counts[order]

    def quantiles(self) -> dict[str, float]:
        import numpy as np

        values, counts = self.weighted()
        ends = np.cumsum(counts)  # rank r (0-based) holds values[searchsorted(ends, r, 'right')]

        def at(rank: int) -> float:
            return float(values[int(np.searchsorted(ends, rank, side="right"))])

        return {f"p{int(q * 100)}": quantile(at, self.n, q) for q in QUANTILES}


class _Moments:
    """Count, mean and sum of squared deviations, combined chunk by chunk (each chunk's exactly)."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: Any) -> None:
        n_b = len(values)
        if not n_b:
            return
        mean_b, std_b = mean_std(values)
        m2_b = std_b * std_b * n_b
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n
        self.m2 += m2_b + delta * delta * self.n * n_b / n
        self.n = n

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / self.n) if self.n else 0.0


class RunningResults:
    """Chunk results added one at a time (`add`), the summary at the end (`summary`); see the module docstring."""

    def __init__(self, exact_rows: int = EXACT_ROWS):
        self.exact_rows = exact_rows
        self.grader_name = self.grader_type = ""
        self.count = self.rows_with_errors = 0
        self.errors_by_code: dict[str, int] = {}
        self.token_usage: dict[str, TokenUsage] = {}
        self.elapsed, self.cancelled = 0.0, False
        self.rewards: array[float] | None = array("d")  # every reward while exact; None after
        self.subs: dict[str, array[float]] = {}
        self.sketch: RewardSketch | None = None
        self._moments = _Moments()
        self._sub_sums: dict[str, list[float]] = {}
        self._min = self._max = 0.0

    def __len__(self) -> int:
        return self.count

    @property
    def exact(self) -> bool:
        return self.rewards is not None

    def add(self, part: GradeResults) -> None:
        if not self.count:
            self.grader_name, self.grader_type = part.grader_name, part.grader_type
        n = len(part)
        self.rows_with_errors += len(part.errors)
        for e in part.errors.values():
            for code in e.codes:
                self.errors_by_code[code] = self.errors_by_code.get(code, 0) + 1
        for m, u in part.token_usage.items():
            from ftstudio.api import TokenUsage  # here: only a model node's tokens need the model client (start-up)

            self.token_usage.setdefault(m, TokenUsage()).add(u)
        self.elapsed += part.elapsed
        self.cancelled = self.cancelled or part.cancelled
        if self.rewards is not None and self.count + n > self.exact_rows:
            self._to_sketch()
        if self.rewards is not None:
            self.rewards.extend(part.rewards)
            for k, v in part.sub_rewards.items():
                self.subs.setdefault(k, array("d", bytes(8 * self.count))).extend(v)
        else:
            self._stream(part.rewards, part.sub_rewards)
        self.count += n

    def _to_sketch(self) -> None:
        """Past exact_rows: the rewards kept so far go into the sketch and the running sums, then are freed."""
        rewards, subs = self.rewards, self.subs
        self.rewards, self.subs = None, {}
        self.sketch = RewardSketch()
        rewards = rewards or array("d")
        step = 65_536  # in slices: numpy's temporaries stay small
        for start in range(0, len(rewards), step):
            self._stream(rewards[start:start + step], {k: v[start:start + step] for k, v in subs.items()})

    def _stream(self, rewards: array[float], subs: dict[str, array[float]]) -> None:
        import numpy as np

        if not len(rewards):
            return
        values = np.frombuffer(rewards, dtype=float)
        lo, hi = float(values.min()), float(values.max())
        first = self._moments.n == 0
        self._min = lo if first else min(self._min, lo)
        self._max = hi if first else max(self._max, hi)
        self._moments.add(rewards)
        assert self.sketch is not None
        self.sketch.add(values)
        for k, v in subs.items():
            self._sub_sums.setdefault(k, []).append(math.fsum(v))

    def distribution(self) -> Any:
        """What calibration reads: every reward (exact), or the sketch with the exact min, max and std."""
        if self.rewards is not None:
            return self.rewards
        assert self.sketch is not None
        return SketchedRewards(self.sketch, self._min, self._max, self._moments.std)

    def summary(self) -> Summary:
        if self.rewards is not None:
            out = summarize(self.rewards, {}, self.subs, self.token_usage, self.elapsed, self.cancelled)
        else:
            assert self.sketch is not None
            n = self.count
            out = summarize([], {}, {}, self.token_usage, self.elapsed, self.cancelled)
            quantiles = self.sketch.quantiles()
            quantiles["p0"], quantiles["p100"] = self._min, self._max
            out.update(count=n, mean=self._moments.mean, std=self._moments.std, quantiles=quantiles,
                       rows_per_second=round(n / self.elapsed, 1) if self.elapsed > 0 else None,
                       sub_reward_means={k: math.fsum(v) / n for k, v in self._sub_sums.items()},
                       quantiles_error=(f"quantiles from a streaming sketch past {self.exact_rows:,} rows: each within "
                                        f"{100 * SKETCH_RELATIVE_ERROR:g}% of the value at its rank; min and max exact"))
        n = self.count
        out.update(rows_with_errors=self.rows_with_errors, error_rate=(self.rows_with_errors / n) if n else 0.0,
                   errors_by_code=dict(sorted(self.errors_by_code.items())))
        return out


class SketchedRewards:
    """Rewards past EXACT_ROWS as calibration sees them: weighted values, exact min, max and std."""

    def __init__(self, sketch: RewardSketch, lo: float, hi: float, std: float):
        self.sketch, self.min, self.max, self.std = sketch, lo, hi, std

    def __len__(self) -> int:
        return self.sketch.n

    def weighted(self) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        values, counts = self.sketch.weighted()
        values = np.clip(values, self.min, self.max)
        values[0], values[-1] = self.min, self.max  # the end buckets hold the exact extremes
        return values, counts


__all__ = ["EXACT_ROWS", "SKETCH_RELATIVE_ERROR", "RewardSketch", "RunningResults", "SketchedRewards"]
