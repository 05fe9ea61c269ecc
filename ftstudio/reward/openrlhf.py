"""OpenRLHF's Python reward function for a grader tree: `reward_func`.

A public module (no underscore), unlike the rest of the package's internals: OpenRLHF loads a file by
path, so `ftstudio.reward.openrlhf` is a user-facing name. Followed: OpenRLHF 0.11.0 (OpenRLHF/OpenRLHF
3c3be62), `examples/python/reward_func.py` and `openrlhf/utils/agent.py`, which loads the file given to
`--reward.remote_url` (`--remote_rm_url` before 0.10.2) when it ends in `.py` and calls

    reward_func(queries, prompts, labels)      # lists of str; queries = prompt + response as decoded

Set `FTSTUDIO_GRADER=/path/to/grader.json` in the workers' environment. The completion is the query with
its prompt stripped (ftstudio.grading.strip_prompt); each label becomes the grader's item: a label that
parses as a JSON object is that object, any other label is `{"reference_answer": label}`
(`--data.label_key` names the column). Note that queries are decoded with special tokens, so an end
token such as `<|im_end|>` stays at the end of the completion the grader sees.

Returns {"rewards", "scores", "extra_logs"}: torch tensors when torch is importable (what OpenRLHF's
examples return), lists otherwise; extra_logs holds one entry per sub-reward of a multi grader.
"""

from __future__ import annotations

from typing import Any

from ftstudio.grading import item_from_label, strip_prompt
from ftstudio.reward import reward_from_env  # absolute: trainers load this file by path

__all__ = ["reward_func"]


def _as_tensor(values: list[float]) -> Any:
    # torch comes with the trainer (the [trainers] extra), not with ftstudio: loaded by name so that type
    # checking does not need it installed, and plain lists go back when it is missing.
    try:
        torch: Any = __import__("torch")
    except ImportError:
        return values
    return torch.tensor(values, dtype=torch.float32)


def reward_func(queries: list[str], prompts: list[str], labels: list[Any] | None = None,
                **kwargs: Any) -> dict[str, Any]:
    if labels is None:
        labels = [""] * len(queries)
    completions = [strip_prompt(q, p) for q, p in zip(queries, prompts)]
    records = reward_from_env().score_detailed(completions, [item_from_label(label) for label in labels])
    rewards = [r["reward"] for r in records]
    keys = list(records[0]["sub_rewards"]) if records else []
    return {"rewards": _as_tensor(rewards), "scores": _as_tensor(rewards),
            "extra_logs": {k: _as_tensor([r["sub_rewards"][k] for r in records]) for k in keys}}
