"""Runs in the OpenRLHF venv: OpenRLHF 0.11.2's own SingleTurnAgentExecutor on given samples.

stdin: {"remote_rm_url": a .py path or [URLs], "queries": [...], "prompts": [...], "labels": [...]}
A .py path goes through its loader and `_fetch_rewards_via_func` (one thread per sample, as `execute` does);
URLs through its HTTP client `_fetch_rewards_via_http` (round robin over the list).
stdout (last line): {"loaded_func": whether the .py loader ran, "results": [{rewards, scores,
extra_logs} as lists]}
"""

import asyncio
import json
import sys

from openrlhf.utils.agent import SingleTurnAgentExecutor


def plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def main():
    payload = json.load(sys.stdin)
    executor = SingleTurnAgentExecutor(remote_rm_url=payload["remote_rm_url"])
    args = (payload["queries"], payload["prompts"], payload["labels"])
    if executor.reward_func is not None:
        results = asyncio.run(executor._fetch_rewards_via_func(*args))
    else:
        results = asyncio.run(executor._fetch_rewards_via_http(*args))
    print(json.dumps({"loaded_func": executor.reward_func is not None,
                      "results": [plain(r) for r in results]}))


if __name__ == "__main__":
    main()
