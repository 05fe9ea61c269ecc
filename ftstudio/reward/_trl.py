"""The TRL face: GRPOTrainer's reward-function contract (trl 1.16, trainer/grpo_trainer.py `_calculate_rewards`).

TRL calls `f(prompts=..., completions=..., completion_ids=..., <every other dataset column>=[...],
trainer_state=..., log_extra=..., log_metric=...)` with one list entry per completion (columns already
repeated per generation), logs the returned list under `rewards/<f.__name__>/mean`, and treats None
as "this function doesn't score this row" (NaN, excluded from means and sums).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ftstudio.core import mean
from ftstudio.graders import MultiGrader
from ftstudio.graders.formula import FormulaError, NotLinear, linear, parse

# What TRL adds to the dataset columns; never part of the grader's item.
TRL_ARGUMENTS = frozenset({"trainer_state", "log_extra", "log_metric", "environments"})


def items_from_columns(columns: dict[str, Any], n: int) -> list[dict]:
    """Row i's item: each dataset column's i-th value. A None is dropped: Arrow fills a field missing
    from some rows with None, and the grader should see it missing, as `ftstudio grade` does."""
    names = [k for k, v in columns.items() if k not in TRL_ARGUMENTS and isinstance(v, (list, tuple)) and len(v) == n]
    return [{k: columns[k][i] for k in names if columns[k][i] is not None} for i in range(n)]


def _scored(reward: Any, sub_keys: list[str], on_error: float | None, result: Any,
            log_metric: Any) -> list[float | None]:
    out: list[float | None] = [on_error if i in result.errors else v for i, v in enumerate(result.rewards)]
    if callable(log_metric) and len(result):
        # Means over all rows, as `ftstudio grade`'s summary computes sub_reward_means.
        for key in sub_keys:
            values = result.sub_rewards.get(key)
            if values is not None:
                log_metric(key, mean(values))
        # Its own metric, so an error never hides as a low reward (on_error=0.0 scores it 0.0).
        log_metric(f"{reward.name}/grader_error_rate", len(result.errors) / len(result))
    return out


def _named(function, reward: Any, kind: str):
    function.__name__ = reward.name
    function.__qualname__ = reward.name
    function.__doc__ = f"ftstudio reward ({kind}): {reward.grader.type} grader {reward.name!r}"
    return function


def _sub_keys(reward: Any) -> list[str]:
    return list(reward.grader.graders) if isinstance(reward.grader, MultiGrader) else []


def trl_function(reward: Any, *, on_error: float | None = 0.0):
    sub_keys = _sub_keys(reward)

    def reward_function(prompts, completions, completion_ids=None, **kwargs) -> list[float | None]:
        items = items_from_columns(kwargs, len(completions))
        result = reward.grade(completions, items)
        return _scored(reward, sub_keys, on_error, result, kwargs.get("log_metric"))

    return _named(reward_function, reward, "sync")


def trl_async_function(reward: Any, *, on_error: float | None = 0.0):
    """TRL 1.16 gathers async reward functions on its event loop: grading runs in a thread, so the loop stays
    free, several functions (trl_components) grade at once, and a model grader sends the batch's requests
    concurrently."""
    sub_keys = _sub_keys(reward)

    async def reward_function(prompts, completions, completion_ids=None, **kwargs) -> list[float | None]:
        items = items_from_columns(kwargs, len(completions))
        result = await asyncio.to_thread(reward.grade, completions, items)
        return _scored(reward, sub_keys, on_error, result, kwargs.get("log_metric"))

    return _named(reward_function, reward, "async")


# --- reward_weights from a multi grader's calculate_output -------------------------------------------


def weights_of(grader: Any) -> dict[str, float]:
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


def trl_components(reward: Any, load: Callable[..., Any], asynchronous: bool = False):
    """`reward` is a Reward; `load` is Reward.load (passed in: this module doesn't import the class)."""
    grader = reward.grader
    weights = weights_of(grader)
    funcs = []
    for key in weights:
        # TRL logs rewards/<__name__>/mean and needs unique names: the child keys are.
        child = grader.graders[key].model_copy(update={"name": key})
        part = load(child, sample_field=reward.sample_field, options=reward.session.options)
        funcs.append(part.for_trl_async() if asynchronous else part.for_trl())
    return funcs, list(weights.values())
