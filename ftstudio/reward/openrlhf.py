"""OpenRLHF's Python reward function for a grader tree: `reward_func`.

A public module (no underscore), unlike the rest of the package's internals: OpenRLHF loads a file by
path, so `ftstudio.reward.openrlhf` is a user-facing name. Followed and tested: OpenRLHF 0.11.2,
`openrlhf/utils/agent.py` (SingleTurnAgentExecutor), which loads the file given to `--reward.remote_url`
when it ends in `.py` and calls, once per sample in a thread,

    reward_func(queries, prompts, labels)      # lists of str; queries = prompt + response as decoded

`ftstudio export CONFIG --format openrlhf -o DIR` writes `DIR/reward_func.py`, which is
`reward_func_for(<grader.json beside it>)`: no environment variable needed. This module's own
`reward_func` reads the grader named by $FTSTUDIO_GRADER. The completion is the query with
its prompt stripped (ftstudio.grading.strip_prompt); each label becomes the grader's item: a label that
parses as a JSON object is that object, any other label is `{"reference_answer": label}`
(`--data.label_key` names the column). Note that queries are decoded with special tokens, so an end
token such as `<|im_end|>` stays at the end of the completion the grader sees.

Returns {"rewards", "scores", "extra_logs"}: torch tensors when torch is importable (what OpenRLHF's
examples return), lists otherwise; extra_logs holds one entry per sub-reward of a multi grader and
`grader_error` (1.0 where the row had an error and scored 0.0), as `ftstudio serve`'s /openrlhf answers.
OpenRLHF clips rewards to `--reward.clip_range` (default (-10, 10)) afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ftstudio.grading import item_from_label, strip_prompt
from ftstudio.reward import Reward, reward_at, reward_from_env  # absolute: trainers load this file by path

__all__ = ["reward_func", "reward_func_for"]


def _as_tensor(values: list[float]) -> Any:
    try:
        import torch
    except ImportError:
        return values
    return torch.tensor(values, dtype=torch.float32)


def _score(reward: Reward, queries: list[str], prompts: list[str], labels: list[Any] | None) -> dict:
    if labels is None:
        labels = [""] * len(queries)
    completions = [strip_prompt(q, p) for q, p in zip(queries, prompts)]
    records = reward.score_detailed(completions, [item_from_label(label) for label in labels])
    rewards = [r["reward"] for r in records]
    keys = list(records[0]["sub_rewards"]) if records else []
    logs = {k: [r["sub_rewards"][k] for r in records] for k in keys}
    logs["grader_error"] = [1.0 if r["errors"] else 0.0 for r in records]
    return {"rewards": _as_tensor(rewards), "scores": _as_tensor(rewards),
            "extra_logs": {k: _as_tensor(v) for k, v in logs.items()}}


def reward_func(queries: list[str], prompts: list[str], labels: list[Any] | None = None, **kwargs: Any) -> dict:
    return _score(reward_from_env(), queries, prompts, labels)


def reward_func_for(grader_path: str | os.PathLike[str]) -> Callable[..., dict]:
    """OpenRLHF's reward_func for the grader file at `grader_path` (loaded once, at the first call)."""
    path = os.fspath(grader_path)

    def reward_func(queries: list[str], prompts: list[str], labels: list[Any] | None = None, **kwargs: Any) -> dict:
        return _score(reward_at(path), queries, prompts, labels)

    return reward_func
