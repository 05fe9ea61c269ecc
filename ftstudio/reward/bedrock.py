"""Bedrock's reward Lambda for a grader tree: `lambda_handler(event, context)`.

A public module (no underscore): `ftstudio export --format bedrock-rft` writes a lambda_function.py that
imports it, with the grader from $FTSTUDIO_GRADER (the grader.json beside it). Followed: Amazon Bedrock's
"Setting up reward functions for open-weight models" (docs.aws.amazon.com/bedrock/latest/userguide/
reward-functions-open-weight.html) and Amazon Nova's "Implementing reward functions"
(docs.aws.amazon.com/sagemaker/latest/dg/nova-implementing-reward-functions.html):

    event:   [{"id", "messages": [..., {"role": "assistant", "content": <the sample>}], "reference_answer", ...}]
    returns: [{"id", "aggregate_reward_score": float, "metrics_list": [{"name", "value", "type"}]}]

The completion is the last assistant message; the row's item is its `reference_answer` when that is an
object, else `{"reference_answer": value}` (as the OpenRLHF adapter reads labels; Nova's variant nests
it under `metadata`, read too). `aggregate_reward_score` is exactly `ftstudio grade`'s reward (0.0 for a
row with errors); a multi grader's sub-rewards are in `metrics_list` with type "Reward".
"""

from __future__ import annotations

from typing import Any

from ftstudio.grading import completion_text, item_from_label
from ftstudio.reward import reward_from_env  # absolute: the Lambda loads this module by name

__all__ = ["lambda_handler"]


def _samples(event: Any) -> list[dict]:
    if isinstance(event, dict):  # a single sample, or a wrapper some test harnesses send
        inner = event.get("samples", event.get("body"))
        return _samples(inner) if isinstance(inner, list) else [event]
    if not isinstance(event, list):
        raise TypeError(f"the event is a {type(event).__name__}; Bedrock sends a list of samples")
    return [s if isinstance(s, dict) else {} for s in event]


def _reference(sample: dict) -> Any:
    if "reference_answer" in sample:
        return sample["reference_answer"]
    meta = sample.get("metadata")
    return meta.get("reference_answer") if isinstance(meta, dict) else None


def lambda_handler(event: Any, context: Any = None) -> list[dict]:
    samples = _samples(event)
    completions = [completion_text(s.get("messages") or []) for s in samples]
    items = [item_from_label(_reference(s)) for s in samples]
    records = reward_from_env().score_detailed(completions, items)
    return [{"id": str(s.get("id", i)), "aggregate_reward_score": r["reward"],
             "metrics_list": [{"name": k, "value": v, "type": "Reward"} for k, v in r["sub_rewards"].items()]}
            for i, (s, r) in enumerate(zip(samples, records))]
