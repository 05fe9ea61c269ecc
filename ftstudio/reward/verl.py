"""verl's custom reward function for a grader tree: `compute_score` (and `compute_score_async`).

A public module (no underscore), unlike the rest of the package's internals: verl loads it by this
path, so `ftstudio.reward.verl` is a user-facing name. Followed and tested: verl 0.9.1, where
`verl.trainer.main_ppo` reads `reward.custom_reward_function.{path,name,reward_kwargs}`
(`verl/trainer/ppo/reward.py`, `get_custom_reward_fn`) and the registered `naive` reward manager
(`verl/experimental/reward_loop/reward_manager/naive.py`) calls, once per sample, with keyword arguments:

    compute_score(data_source=..., solution_str=<response text>, ground_truth=..., extra_info=<dict>)

awaiting it when it is a coroutine function. Configure it with (`+` because verl's schema has no
reward_kwargs key):

    reward.custom_reward_function.path=pkg://ftstudio.reward.verl
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.grader=/abs/path/grader.json
    reward.reward_manager.name=naive

verl merges reward_kwargs into every call, so Ray workers need no environment variable; without
`grader`, $FTSTUDIO_GRADER names the file. The grader's `item` is the row's `extra_info` without the
keys verl adds to it (`num_turns`, `rollout_reward_scores`), with `reference_answer` set to
`ground_truth` when the item has none. The result is `{"score": reward, **sub_rewards}`: the same keys
for every sample, as verl collects them per key. A row with errors scores 0.0, as in `ftstudio grade`.

`compute_score_async` is the same as a coroutine function (name it instead when the tree has model
graders): verl then awaits every sample of a batch at once, and the calls waiting at the same moment
are graded as one batch, so a model grader sends their requests concurrently. The synchronous
`compute_score` runs in verl's thread pool, one sample at a time per Reward.

Values read from parquet arrive as numpy arrays and scalars; they are turned into plain lists and
numbers before grading, as `ftstudio grade` would read them from JSON.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ftstudio.reward import Reward, reward_at, reward_from_env  # absolute: trainers load this file by path

__all__ = ["VERL_KEYS", "compute_score", "compute_score_async"]

# What verl 0.9's naive manager adds to a row's extra_info before calling; never part of the grader's item.
VERL_KEYS = frozenset({"num_turns", "rollout_reward_scores"})


def _plain(value: Any) -> Any:
    """numpy arrays / scalars (from parquet) as lists / numbers, recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _plain(value.tolist())
    return value


def _item(ground_truth: Any, extra_info: Any) -> dict:
    # None is dropped: parquet fills a field missing from some rows with null, and the grader should see
    # it missing, as `ftstudio grade` does.
    item = ({k: v for k, v in _plain(extra_info).items() if k not in VERL_KEYS and v is not None}
            if isinstance(extra_info, dict) else {})
    if "reference_answer" not in item and ground_truth is not None:
        item["reference_answer"] = _plain(ground_truth)
    return item


def _result(record: Mapping[str, Any]) -> dict[str, float]:
    return {"score": record["reward"], **record["sub_rewards"]}


def _reward(grader: Any) -> Reward:
    return reward_at(grader, "reward_kwargs.grader") if grader else reward_from_env()


def compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, *,
                  grader: str | None = None, **kwargs: Any) -> dict[str, float]:
    record = _reward(grader).score_detailed([solution_str], [_item(ground_truth, extra_info)])[0]
    return _result(record)


class _Batcher:
    """Calls waiting on one event loop at the same moment, graded together in a thread."""

    def __init__(self, reward: Reward):
        self.reward = reward
        self.pending: list[tuple[str, dict, asyncio.Future]] = []

    async def score(self, completion: str, item: dict) -> dict[str, float]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending.append((completion, item, future))
        if len(self.pending) == 1:
            # call_soon runs after every task already scheduled in this turn has queued its sample.
            loop.call_soon(lambda: loop.create_task(self._flush()))
        return await future

    async def _flush(self) -> None:
        batch, self.pending = self.pending, []
        try:
            records = await asyncio.to_thread(self.reward.score_detailed, [b[0] for b in batch], [b[1] for b in batch])
        except Exception as exc:  # the whole batch failed (an invalid grader file): each caller sees why
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, _, future), record in zip(batch, records):
            if not future.done():
                future.set_result(_result(record))


_batchers: dict[tuple[int, int], _Batcher] = {}


async def compute_score_async(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, *,
                              grader: str | None = None, **kwargs: Any) -> dict[str, float]:
    reward = _reward(grader)
    key = (id(asyncio.get_running_loop()), id(reward))
    batcher = _batchers.get(key)
    if batcher is None or batcher.reward is not reward:
        batcher = _batchers[key] = _Batcher(reward)
    return await batcher.score(solution_str, _item(ground_truth, extra_info))
