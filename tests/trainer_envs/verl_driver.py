"""Runs in the verl venv: verl 0.9.1's own config, loader and naive reward manager on given rows.

stdin: {"overrides": [Hydra overrides], "rows": [{"data_source", "completion", "ground_truth", "extra_info"}]}
stdout (last line): {"registered", "manager", "custom_reward_function", "is_async", "direct", "run_single"}
"""

import asyncio
import inspect
import json
import os
import sys

import numpy as np
import torch
import verl
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from verl import DataProto
from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls
from verl.experimental.reward_loop.reward_manager.registry import REWARD_MANAGER
from verl.trainer.ppo.reward import get_custom_reward_fn, load_reward_manager


class CharTokenizer:
    """What the naive manager needs of a tokenizer: decode(ids, skip_special_tokens=True). One id per character."""

    def encode(self, text):
        return [ord(c) for c in text]

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(int(i)) for i in ids)


def data_proto(tok, row):
    prompt = torch.tensor([tok.encode("Q: ")])
    response = tok.encode(row["completion"]) or [0]
    valid = len(row["completion"])
    pad = 3  # padding after the response, masked out as verl's rollout does
    responses = torch.tensor([response + [0] * pad])
    mask = torch.tensor([[1] * prompt.shape[1] + [1] * valid + [0] * (responses.shape[1] - valid)])

    def objects(value):
        arr = np.empty(1, dtype=object)
        arr[0] = value
        return arr

    return DataProto.from_dict(
        tensors={"prompts": prompt, "responses": responses, "attention_mask": mask},
        non_tensors={"data_source": objects(row["data_source"]),
                     "reward_model": objects({"ground_truth": row["ground_truth"], "style": "rule"}),
                     "extra_info": objects(dict(row["extra_info"]))})


def main():
    payload = json.load(sys.stdin)
    config_dir = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        cfg = compose(config_name="ppo_trainer", overrides=payload["overrides"])
    fn = get_custom_reward_fn(cfg)
    tok = CharTokenizer()
    manager = load_reward_manager(cfg, tok)
    assert type(manager) is get_reward_manager_cls(cfg.reward.reward_manager.name)
    direct, managed = [], []
    for row in payload["rows"]:
        kwargs = dict(data_source=row["data_source"], solution_str=row["completion"],
                      ground_truth=row["ground_truth"], extra_info=dict(row["extra_info"]))
        out = fn(**kwargs)
        direct.append(asyncio.run(out) if inspect.isawaitable(out) else out)
    # The manager's own path, all rows at once on its loop, as verl's reward loop worker gathers them.
    async def all_rows():
        return await asyncio.gather(*(manager.run_single(data_proto(tok, row)) for row in payload["rows"]))
    managed = manager.loop.run_until_complete(all_rows())
    print(json.dumps({
        "registered": sorted(REWARD_MANAGER), "manager": type(manager).__name__,
        "custom_reward_function": OmegaConf.to_container(cfg.reward.custom_reward_function),
        "is_async": manager.is_async_reward_score, "direct": direct,
        "run_single": [{"reward_score": float(m["reward_score"]),
                        "reward_extra_info": {k: float(v) for k, v in m["reward_extra_info"].items()}}
                       for m in managed]}))


if __name__ == "__main__":
    main()
