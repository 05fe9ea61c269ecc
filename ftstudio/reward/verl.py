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
"""

from __future__ import annotations

from typing import Any

from ftstudio.reward._env import reward_from_env  # absolute: trainers load this file by path

__all__ = ["compute_score"]


def compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None,
                  **kwargs: Any) -> dict[str, float]:
    item = extra_info if isinstance(extra_info, dict) else {"reference_answer": ground_truth}
    record = reward_from_env().score_detailed([solution_str], [item])[0]
    return {"score": record["reward"], **record["sub_rewards"]}
