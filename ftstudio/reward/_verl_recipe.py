"""verl 0.9's Hydra overrides for a grader file (the README and `ftstudio export --format verl` use these)."""

from __future__ import annotations

from pathlib import Path

VERL_VERSION = "0.9.1"
VERL_MODULE = "pkg://ftstudio.reward.verl"


def verl_overrides(grader_path: str | Path, *, asynchronous: bool = False) -> list[str]:
    """One Hydra override per entry for `python3 -m verl.trainer.main_ppo`: our compute_score (the async one
    for trees with model graders), the grader's absolute path as a reward keyword, the naive manager."""
    name = "compute_score_async" if asynchronous else "compute_score"
    return [
        f"reward.custom_reward_function.path={VERL_MODULE}",
        f"reward.custom_reward_function.name={name}",
        f"+reward.custom_reward_function.reward_kwargs.grader={Path(grader_path).resolve()}",
        "reward.reward_manager.name=naive",
    ]
