"""Compare local rewards with the official grader service, row by row and per sub-grader."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ftstudio.api import Endpoint, ModelCache, official_errors, run_grader
from ftstudio.core import DEFAULT_SAMPLE_FIELD, REWARD_TOLERANCE, mean
from ftstudio.core.records import datarecord, field
from ftstudio.datasets import Dataset
from ftstudio.validation import as_data

from ._engine import GradeOptions, grade, prepare, to_grader


@datarecord
class CompareRow:
    row: int
    line: int | None
    local_reward: float
    official_reward: float | None
    local_sub: dict[str, float]
    official_sub: dict[str, float]
    local_errors: list[str]
    official_errors: dict[str, str]
    token_usage: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None  # the request itself failed
    cached: bool = False

    @property
    def delta(self) -> float | None:
        return None if self.official_reward is None else self.local_reward - self.official_reward

    @property
    def sub_deltas(self) -> dict[str, float]:
        return {k: self.local_sub[k] - v for k, v in self.official_sub.items()
                if k in self.local_sub and isinstance(v, (int, float))}

    @property
    def differs(self) -> bool:
        delta = self.delta
        if delta is None:
            return False
        if abs(delta) > REWARD_TOLERANCE:
            return True
        return any(abs(d) > REWARD_TOLERANCE for d in self.sub_deltas.values()) or \
            set(self.local_errors) != set(self.official_errors)

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "line": self.line, "local_reward": self.local_reward,
                "official_reward": self.official_reward, "delta": self.delta, "differs": self.differs,
                "local_sub_rewards": self.local_sub, "official_sub_rewards": self.official_sub,
                "sub_reward_deltas": self.sub_deltas, "local_errors": self.local_errors,
                "official_errors": self.official_errors, "token_usage": self.token_usage,
                "failure": self.failure, "cached": self.cached}


@datarecord
class CompareReport:
    rows: list[CompareRow]

    def summary(self) -> dict[str, Any]:
        answered = [r for r in self.rows if r.official_reward is not None]
        deltas = [abs(r.delta or 0.0) for r in answered]
        tokens: dict[str, int] = {}
        for r in self.rows:
            for model, usage in (r.token_usage or {}).items():
                if isinstance(usage, dict):
                    tokens[model] = tokens.get(model, 0) + int(usage.get("total_tokens") or 0)
        return {"rows": len(self.rows), "answered": len(answered), "failed": len(self.rows) - len(answered),
                "differ": sum(r.differs for r in self.rows), "max_abs_delta": max(deltas) if deltas else None,
                "mean_abs_delta": mean(deltas) if deltas else None,
                "official_tokens": tokens, "cached": sum(r.cached for r in self.rows)}


def compare(grader: Any, rows: Any, endpoint: Endpoint, *, sample_field: str = DEFAULT_SAMPLE_FIELD, n: int = 20,
            indices: list[int] | None = None, options: GradeOptions | None = None, use_cache: bool = True,
            progress: Callable[[int, int], None] | None = None, workers: int = 4, **call_kw) -> CompareReport:
    """Grade the chosen rows locally and with the official run endpoint, row by row."""
    model = to_grader(grader)
    if isinstance(rows, Dataset) and indices is not None:  # decode only the rows asked for, not 200 MB of them
        wanted = sorted({i for i in indices if 0 <= i < len(rows.entries)})
        batch, at = prepare(rows.chunk(wanted), sample_field), {i: k for k, i in enumerate(wanted)}
    else:
        batch = prepare(rows, sample_field)
        at = {i: i for i in range(len(batch))}  # row number -> its place in batch
    chosen = indices if indices is not None else [i for i in range(len(batch)) if i not in batch.base_errors][:n]
    chosen = [i for i in chosen if i in at and at[i] not in batch.base_errors]
    local_rows = [dict(batch.items[at[i]], **{sample_field: batch.outputs[at[i]]}) for i in chosen]
    local = grade(model, local_rows, sample_field=sample_field,
                  options=options or GradeOptions(endpoint=endpoint))
    grader_data = as_data(model)
    cache = ModelCache() if use_cache else None

    def official(j: int) -> tuple[dict | None, str | None, bool]:
        i = chosen[j]
        request = {"grader": grader_data, "model_sample": batch.outputs[at[i]], "item": batch.items[at[i]]}
        return run_grader(endpoint, request, cache, what=f"official grading of row {i}", **call_kw)

    answers: list[Any] = [None] * len(chosen)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for done, (j, answer) in enumerate(zip(range(len(chosen)), pool.map(official, range(len(chosen)))), 1):
            answers[j] = answer
            if progress:
                progress(done, len(chosen))
    out = []
    for j, i in enumerate(chosen):
        rec = local.record(j)
        body, failure, cached = answers[j]
        reward = body.get("reward") if isinstance(body, dict) else None
        out.append(CompareRow(
            row=i, line=batch.lines[at[i]], local_reward=rec["reward"],
            official_reward=float(reward) if isinstance(reward, (int, float)) else None,
            local_sub=rec["sub_rewards"], official_sub=dict((body or {}).get("sub_rewards") or {}),
            local_errors=rec["errors"], official_errors=official_errors(body or {}),
            token_usage=dict((body or {}).get("model_grader_token_usage_per_model") or {}),
            failure=failure or (None if reward is not None else "the response has no reward"), cached=cached))
    return CompareReport(out)
