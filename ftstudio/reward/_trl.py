"""The TRL face: GRPOTrainer's reward-function contract (trl 1.16, trainer/grpo_trainer.py `_calculate_rewards`).

TRL calls `f(prompts=..., completions=..., completion_ids=..., <every other dataset column>=[...],
trainer_state=..., log_extra=..., log_metric=...)` with one list entry per completion (columns already
repeated per generation), logs the returned list under `rewards/<f.__name__>/mean`, and treats None
as "this function doesn't score this row" (NaN, excluded from means and sums).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from itertools import repeat
from operator import setitem
from typing import Any, Protocol, TypeVar, cast

from ftstudio.core import mean
from ftstudio.graders import Grader, MultiGrader
from ftstudio.graders.formula import FormulaError, NotLinear, linear, parse
from ftstudio.grading import GradeOptions, GradeResults, Planned

# A reward function as TRL calls it: keyword lists in, one reward (or None) per completion out.
RewardFunction = Callable[..., list[float | None]]
AsyncRewardFunction = Callable[..., Awaitable[list[float | None]]]
F = TypeVar("F", RewardFunction, AsyncRewardFunction)


class _Session(Protocol):
    @property
    def options(self) -> GradeOptions: ...


class _Reward(Protocol):
    """What the TRL face uses of a Reward (this module doesn't import the class)."""

    @property
    def grader(self) -> Grader: ...

    @property
    def sample_field(self) -> str: ...

    @property
    def session(self) -> _Session: ...

    @property
    def name(self) -> str: ...

    def grade(self, completions: Sequence[Any], items: Sequence[dict[str, Any]]) -> GradeResults: ...

    def score_columns(self, completions: Sequence[Any], columns: dict[str, Any]) -> Planned | GradeResults | None: ...

# What TRL adds to the dataset columns; never part of the grader's item.
TRL_ARGUMENTS = frozenset({"trainer_state", "log_extra", "log_metric", "environments"})


def items_from_columns(columns: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Row i's item: each dataset column's i-th value. A None is dropped: Arrow fills a field missing
    from some rows with None, and the grader should see it missing, as `ftstudio grade` does."""
    names = [k for k, v in columns.items()
             if k not in TRL_ARGUMENTS and isinstance(v, (list, tuple)) and len(cast(Sequence[Any], v)) == n]
    values = [columns[k] for k in names]
    if any(None in v for v in values):  # `in` may match more than None: those calls take the exact way
        return [{k: columns[k][i] for k in names if columns[k][i] is not None} for i in range(n)]
    # A trainer's usual call, in C loops: copies of one dict with the keys in order, then each column's values.
    keyed: dict[str, Any] = dict.fromkeys(names)
    items = [keyed.copy() for _ in range(n)]
    for name, column in zip(names, values):
        list(map(setitem, items, repeat(name), cast(Sequence[Any], column)))
    return items


def item_rows(columns: dict[str, Any], n: int, sample_field: str) -> list[dict[str, Any]]:
    """The items the engine's rows would have (what a python node gets): items_from_columns without the sample
    field, which the engine's row holds the output in and its item leaves out."""
    items = items_from_columns(columns, n)
    if sample_field in columns:
        return [{k: v for k, v in item.items() if k != sample_field} for item in items]
    return items


def item_column(columns: dict[str, Any], n: int, sample_field: str) -> Callable[[str], Sequence[Any] | None]:
    """The dataset column behind `{{ item.<key> }}`, as items_from_columns would build the items from it (the
    engine's small-call plan reads it without building them). The sample field is the output's, never the item's."""
    def column(key: str) -> Sequence[Any] | None:
        values = columns.get(key)
        if key in TRL_ARGUMENTS or key == sample_field or not isinstance(values, (list, tuple)) \
                or len(cast(Sequence[Any], values)) != n:
            return None
        return cast(Sequence[Any], values)
    return column


def _rewards(reward: _Reward, sub_keys: list[str], on_error: float | None, completions: Sequence[Any],
             columns: dict[str, Any]) -> list[float | None]:
    """The engine's small-call plan when the call fits it (no row can have an error there), else the rows graded
    as items (by the engine, or by score_columns when a python node already ran them); the same rewards and the
    same metrics either way."""
    planned = reward.score_columns(completions, columns)
    log_metric = columns.get("log_metric")
    if planned is None:
        planned = reward.grade(completions, items_from_columns(columns, len(completions)))
    if isinstance(planned, GradeResults):
        return _scored(reward, sub_keys, on_error, planned, log_metric)
    rewards, subs = planned
    if callable(log_metric):
        _log(reward, sub_keys, subs, 0, len(rewards), log_metric)
    return cast(list[float | None], rewards)  # a fresh list per call


def _scored(reward: _Reward, sub_keys: list[str], on_error: float | None, result: GradeResults,
            log_metric: Any) -> list[float | None]:
    out: list[float | None] = [on_error if i in result.errors else v for i, v in enumerate(result.rewards)]
    if callable(log_metric):
        _log(reward, sub_keys, result.sub_rewards, len(result.errors), len(result), log_metric)
    return out


def _log(reward: _Reward, sub_keys: list[str], subs: Mapping[str, Sequence[float]], errors: int, n: int,
         log_metric: Callable[[str, float], Any]) -> None:
    if not n:
        return
    # Means over all rows, as `ftstudio grade`'s summary computes sub_reward_means.
    for key in sub_keys:
        values = subs.get(key)
        if values is not None:
            log_metric(key, mean(values))
    # Its own metric, so an error never hides as a low reward (on_error=0.0 scores it 0.0).
    log_metric(f"{reward.name}/grader_error_rate", errors / n)


def _named(function: F, reward: _Reward, kind: str) -> F:
    function.__name__ = reward.name
    function.__qualname__ = reward.name
    function.__doc__ = f"ftstudio reward ({kind}): {reward.grader.type} grader {reward.name!r}"
    return function


def _sub_keys(reward: _Reward) -> list[str]:
    return list(reward.grader.graders) if isinstance(reward.grader, MultiGrader) else []


def trl_function(reward: _Reward, *, on_error: float | None = 0.0) -> RewardFunction:
    sub_keys = _sub_keys(reward)

    def reward_function(prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Sequence[Any] | None = None,
                        **kwargs: Any) -> list[float | None]:
        return _rewards(reward, sub_keys, on_error, completions, kwargs)

    return _named(reward_function, reward, "sync")


def trl_async_function(reward: _Reward, *, on_error: float | None = 0.0) -> AsyncRewardFunction:
    """TRL 1.16 gathers async reward functions on its event loop: grading runs in a thread, so the loop stays
    free, several functions (trl_components) grade at once, and a model grader sends the batch's requests
    concurrently."""
    sub_keys = _sub_keys(reward)

    async def reward_function(prompts: Sequence[Any], completions: Sequence[Any],
                              completion_ids: Sequence[Any] | None = None, **kwargs: Any) -> list[float | None]:
        return await asyncio.to_thread(_rewards, reward, sub_keys, on_error, completions, kwargs)

    return _named(reward_function, reward, "async")


# --- reward_weights from a multi grader's calculate_output -------------------------------------------


def weights_of(grader: Grader) -> dict[str, float]:
    """{child key: weight} when the multi grader's calculate_output is a weighted sum of its children."""
    if not isinstance(grader, MultiGrader):
        raise ValueError(f"trl_components needs a multi grader; {grader.name!r} is a {grader.type} grader: "
                         "use for_trl() as the single reward function")
    try:
        terms, const = linear(parse(grader.calculate_output))
    except FormulaError as exc:
        raise ValueError(f"calculate_output does not parse: {exc.message}") from None
    except NotLinear as exc:
        raise ValueError(f"calculate_output {grader.calculate_output!r} is not a weighted sum of the child graders "
                         f"({exc}); TRL sums weighted functions, so use for_trl() as one reward function") from None
    if const:
        raise ValueError(f"calculate_output {grader.calculate_output!r} adds a constant ({const:g}); TRL's "
                         "reward_weights can't express it, so use for_trl() as one reward function")
    unknown = sorted(set(terms) - set(grader.graders))
    if unknown:
        raise ValueError(f"calculate_output uses {unknown[0]!r}, which is not a child grader")
    return {k: w for k, w in terms.items() if w != 0.0}


def trl_components(reward: _Reward, load: Callable[..., Any],
                   asynchronous: bool = False) -> tuple[list[RewardFunction | AsyncRewardFunction], list[float]]:
    """`reward` is a Reward; `load` is Reward.load (passed in: this module doesn't import the class)."""
    grader = reward.grader
    weights = weights_of(grader)
    if not isinstance(grader, MultiGrader):  # weights_of said so already
        raise ValueError("trl_components needs a multi grader")
    funcs: list[RewardFunction | AsyncRewardFunction] = []
    for key in weights:
        # TRL logs rewards/<__name__>/mean and needs unique names: the child keys are.
        child = grader.graders[key].model_copy(update={"name": key})
        part = load(child, sample_field=reward.sample_field, options=reward.session.options)
        funcs.append(part.for_trl_async() if asynchronous else part.for_trl())
    return funcs, list(weights.values())
