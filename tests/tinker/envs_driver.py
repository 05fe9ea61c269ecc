"""Runs in the tinker-cookbook venv: builds our environments and drives them through tinker-cookbook 0.6.1's
own rollout loop (`do_group_rollout`) with a policy that answers the given completions, then prints what the
package recorded. Input (stdin, JSON): {"group_size": G, "cases": [{"name", "grader", "rows": [...],
"completions": [[G texts] per row]}], "dataset": {"grader", "train", "test", "batch_size"} | null}."""

from __future__ import annotations

import asyncio
import json
import pickle
import sys

import chz
from tinker_cookbook.rl.rollouts import do_group_rollout

from ftstudio.reward.envs import ByteRenderer, GivenCompletions, GraderDatasetBuilder, group_builders


@chz.chz
class StandInDatasetBuilder(GraderDatasetBuilder):
    def renderer(self):
        return ByteRenderer()


async def run_case(case: dict, group_size: int) -> list[dict]:
    renderer = ByteRenderer()
    builders = group_builders(case["grader"], case["rows"], renderer, group_size)
    assert len(builders) == len(case["rows"])
    out = []
    for builder, completions in zip(builders, case["completions"], strict=True):
        builder = pickle.loads(pickle.dumps(builder))  # the cookbook ships builders to rollout workers
        envs = await builder.make_envs()
        prompt, _stop = await envs[0].initial_observation()
        group = await do_group_rollout(builder, GivenCompletions(completions))
        samples = []
        for trajectory, total in zip(group.trajectories_G, group.get_total_rewards(), strict=True):
            (transition,) = trajectory.transitions
            samples.append({"text": bytes(transition.ac.tokens).decode("utf-8"), "reward": total,
                            "metrics": transition.metrics, "logs": transition.logs,
                            "done": transition.episode_done})
        out.append({"items": [env.item for env in envs], "tags": builder.logging_tags(),
                    "prompt": bytes(prompt.to_ints()).decode("utf-8"), "samples": samples})
    return out


async def run_dataset(spec: dict) -> dict:
    builder = StandInDatasetBuilder(grader_path=spec["grader"], train_path=spec["train"], test_path=spec["test"],
                                    batch_size=spec["batch_size"], group_size=spec["group_size"],
                                    model_name_for_tokenizer="unused", renderer_name="unused")
    train, test = await builder()
    assert test is not None
    return {"train_batches": [[b.group_size for b in train.get_batch(i)] for i in range(len(train))],
            "train_items": sorted(json.dumps(b.item, sort_keys=True) for i in range(len(train))
                                  for b in train.get_batch(i)),
            "test_batches": [[b.group_size for b in test.get_batch(i)] for i in range(len(test))]}


async def main() -> None:
    payload = json.load(sys.stdin)
    result = {"cases": {c["name"]: await run_case(c, payload["group_size"]) for c in payload["cases"]}}
    if payload.get("dataset"):
        result["dataset"] = await run_dataset(payload["dataset"])
    print(json.dumps(result))


asyncio.run(main())
