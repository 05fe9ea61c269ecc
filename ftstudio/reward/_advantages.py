"""GRPO's group-normalised advantages from a grader tree, for loops that pass advantages in themselves.

Azure "Fine-Tuning Sessions" (azure-ai-finetuningsessions 1.0.0b1) is a primitive training API: the client
samples, computes the advantages and passes them in (`LossFnInputs(..., advantages=TensorData)`); it has no
reward or grader interface. `score_group` is that client-side step for one prompt's group of rollouts:

    rewards     = the grader's reward on each rollout (exactly `ftstudio grade`'s; a row it can't score is 0.0)
    advantages  = (reward - mean) / (std + eps)     scale="group": GRPO as in DeepSeekMath and TRL's
                                                    GRPOTrainer (std is the sample std, n - 1)
                = reward - mean                     scale="none": centred only, as tinker-cookbook's
                                                    compute_advantages and Dr. GRPO

A zero-variance group (every reward equal, a group of one included) carries no learning signal: its
advantages are all 0.0 whatever the scale, and `zero_variance` says so, so a loop can skip it as
tinker-cookbook's `remove_constant_reward_groups` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from ftstudio.core.records import datarecord

from ._reward import Reward

Scale = Literal["group", "none"]
EPS = 1e-4  # TRL's GRPOTrainer adds the same to the std


@datarecord(frozen=True)
class GroupAdvantages:
    """One prompt's group: per rollout its reward, advantage, sub-rewards and whether the grader failed."""

    rewards: list[float]
    advantages: list[float]
    zero_variance: bool  # every reward equal: all advantages are 0.0, the group teaches nothing
    sub_rewards: list[dict[str, float]]
    grader_errors: list[bool]  # the grader could not score this rollout (its reward is 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"rewards": self.rewards, "advantages": self.advantages, "zero_variance": self.zero_variance,
                "sub_rewards": self.sub_rewards, "grader_errors": self.grader_errors}


def advantages_of(rewards: Sequence[float], *, scale: Scale = "group", eps: float = EPS) -> tuple[list[float], bool]:
    """(advantages, zero_variance) of one group's rewards; see the module docstring for the formula."""
    if scale not in ("group", "none"):
        raise ValueError(f"scale={scale!r}: use 'group' (divide by the group's std, GRPO) or 'none' (centre only)")
    values = [float(r) for r in rewards]
    if not values:
        return [], True
    if any(math.isnan(r) for r in values):
        raise ValueError("a reward is NaN: a group's advantages need numbers")
    if min(values) == max(values):
        return [0.0] * len(values), True
    mean = math.fsum(values) / len(values)
    centred = [r - mean for r in values]
    if scale == "none":
        return centred, False
    std = math.sqrt(math.fsum(c * c for c in centred) / (len(values) - 1))
    return [c / (std + eps) for c in centred], False


def score_group(grader: Any, completions: Sequence[Any], item: dict[str, Any], *, scale: Scale = "group",
                eps: float = EPS) -> GroupAdvantages:
    """Grade one prompt's rollouts (`completions`: texts or conversations) against the row's `item` with
    `grader` (a Reward, or anything Reward.load takes: a path, a dict, a grader model) and return rewards
    and GRPO advantages. A Reward given is kept open for the next group; one loaded here is closed."""
    reward = grader if isinstance(grader, Reward) else Reward.load(grader)
    try:
        records = reward.score_detailed(list(completions), [item] * len(completions))
    finally:
        if reward is not grader:
            reward.close()
    rewards = [float(r["reward"]) for r in records]
    advantages, zero = advantages_of(rewards, scale=scale, eps=eps)
    return GroupAdvantages(rewards=rewards, advantages=advantages, zero_variance=zero,
                           sub_rewards=[dict(r["sub_rewards"]) for r in records],
                           grader_errors=[bool(r["errors"]) for r in records])
