"""verl's `custom_reward_function` for a grader tree: `compute_score`.

A public module (no underscore), unlike the rest of the package's internals: verl loads it by this
path, so `ftstudio.reward.verl` is a user-facing name. Followed: verl 0.8.0.dev (volcengine/verl
b178a3cd), `verl/workers/reward_manager/naive.py` and `verl/experimental/reward_loop/reward_manager/naive.py`,
which call, once per sample, with keyword arguments:

    compute_score(data_source=..., solution_str=<response text>, ground_truth=..., extra_info=<dict>)

Configure it with

    custom_reward_function.path=pkg://ftstudio.reward.verl custom_reward_function.name=compute_score

(or the file path `python -c "import ftstudio.reward.verl as m; print(m.__file__)"` prints)

and `FTSTUDIO_GRADER=/path/to/grader.json` in the workers' environment. The grader's `item` is the row's
`extra_info` when it is a dict (put the item fields there when preparing the parquet; verl adds
`num_turns` and similar keys to it, which graders ignore), else `{"reference_answer": ground_truth}`.
The result is `{"score": reward, **sub_rewards}`: the same keys for every sample, as verl collects
them per key. A row with errors scores 0.0, as in `ftstudio grade`.

`compute_score_batch` is the same for verl's batch reward manager (`reward_model.reward_manager=batch
custom_reward_function.name=compute_score_batch`), which calls once per batch with plural argument
names (verl/workers/reward_manager/batch.py): model graders then send the batch's requests concurrently
instead of one sample per call. Values read from parquet arrive as numpy arrays and scalars; they are
turned into plain lists and numbers before grading, as `ftstudio grade` would read them from JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from ftstudio.reward import reward_from_env  # absolute: trainers load this file by path

__all__ = ["compute_score", "compute_score_batch"]


def _plain(value: Any) -> Any:
    """numpy arrays / scalars (from parquet) as lists / numbers, recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in cast(dict[Any, Any], value).items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in cast(Sequence[Any], value)]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _plain(value.tolist())
    return value


def _item(ground_truth: Any, extra_info: Any) -> dict[str, Any]:
    if isinstance(extra_info, dict):
        return _plain(extra_info)
    return {"reference_answer": _plain(ground_truth)}


def _result(record: Mapping[str, Any]) -> dict[str, float]:
    return {"score": record["reward"], **record["sub_rewards"]}


def compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None,
                  **kwargs: Any) -> dict[str, float]:
    record = reward_from_env().score_detailed([solution_str], [_item(ground_truth, extra_info)])[0]
    return _result(record)


def compute_score_batch(data_sources: Any, solution_strs: Any, ground_truths: Any, extra_infos: Any = None,
                        **kwargs: Any) -> list[dict[str, float]]:
    n = len(solution_strs)
    extras = list(extra_infos) if extra_infos is not None else [None] * n
    items = [_item(g, e) for g, e in zip(list(ground_truths), extras)]
    return [_result(r) for r in reward_from_env().score_detailed(list(solution_strs), items)]
