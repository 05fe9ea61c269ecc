"""`ftstudio export --format openrlhf`: reward_func.py (which finds grader.json beside itself), run.sh, smoke.py."""

from __future__ import annotations

OPENRLHF_VERSION = "0.11.2"

REWARD_FUNC_PY = '''\
"""OpenRLHF reward function for the grader in grader.json beside this file (written by `ftstudio export
--format openrlhf`; tested with OpenRLHF {version}). OpenRLHF loads it by path:

    python3 -m openrlhf.cli.train_ppo_ray --reward.remote_url $PWD/reward_func.py --data.label_key label ...

and calls reward_func(queries, prompts, labels) once per sample. It returns {{"rewards", "scores",
"extra_logs"}}: the same rewards as `ftstudio grade`, each sub-reward and grader_error in extra_logs.
"""

from pathlib import Path

from ftstudio.reward.openrlhf import reward_func_for

reward_func = reward_func_for(Path(__file__).resolve().with_name("grader.json"))
'''


def reward_func_py() -> str:
    return REWARD_FUNC_PY.format(version=OPENRLHF_VERSION)


SMOKE_PY = '''\
"""Offline smoke run (no model, no GPU, no download): OpenRLHF's own SingleTurnAgentExecutor loads
reward_func.py by path, as `--reward.remote_url reward_func.py` does, and scores example_rows.jsonl.

    python3 smoke.py        # one JSON line per row ({"reward", ...extra_logs}), then the mean
"""

import asyncio
import json
import os

from openrlhf.utils.agent import SingleTurnAgentExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT = "<|user|> {question} <|assistant|> "


def main():
    with open(os.path.join(HERE, "example_rows.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    executor = SingleTurnAgentExecutor(remote_rm_url=os.path.join(HERE, "reward_func.py"))
    prompts = [PROMPT.format(question=r["messages"][-1]["content"]) for r in rows]
    queries = [p + r["model_sample"] for p, r in zip(prompts, rows)]
    # the label: the row's item as a JSON object (--data.label_key label, see README.md)
    labels = [json.dumps({k: v for k, v in r.items() if k not in ("messages", "model_sample")}) for r in rows]
    results = asyncio.run(executor._fetch_rewards_via_func(queries, prompts, labels))
    for result in results:
        print(json.dumps({"reward": float(result["rewards"][0]),
                          **{k: float(v[0]) for k, v in result["extra_logs"].items()}}))
    mean = sum(float(r["rewards"][0]) for r in results) / len(results)
    print(f"OpenRLHF reward_func.py: scored {len(results)} rows, mean reward {mean:.4f}")


if __name__ == "__main__":
    main()
'''

PREPARE_DATA_PY = '''\
"""OpenAI-format RFT JSONL as OpenRLHF rows (written by `ftstudio export --format openrlhf`):
`prompt` = the messages (use --data.apply_chat_template), `label` = the grader's item as a JSON string.

    python3 prepare_data.py TRAIN.jsonl OUT.jsonl
"""

import json
import sys


def main(src, dst):
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            if line.strip():
                row = json.loads(line)
                item = {k: v for k, v in row.items() if k not in ("messages", "model_sample")}
                out.write(json.dumps({"prompt": row["messages"], "label": json.dumps(item)}) + "\\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
'''

RUN_SH = '''\
#!/usr/bin/env bash
# Train with OpenRLHF {version} (PPO/GRPO on Ray) and this grader as its reward (written by `ftstudio export --format openrlhf`):
#   bash run.sh MODEL TRAIN.jsonl [more train_ppo_ray arguments...]
set -euo pipefail
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
MODEL=$1; TRAIN=$2; shift 2
python3 "$HERE/prepare_data.py" "$TRAIN" "$HERE/train.openrlhf.jsonl"
python3 -m openrlhf.cli.train_ppo_ray \\
    --actor.model_name_or_path "$MODEL" \\
    --data.prompt_dataset "$HERE/train.openrlhf.jsonl" --data.input_key prompt --data.label_key label \\
    --data.apply_chat_template \\
    --reward.remote_url "$HERE/reward_func.py" \\
    "$@"
'''


def readme(name: str) -> str:
    return f"""# Train with OpenRLHF {OPENRLHF_VERSION}: the grader `{name}` as OpenRLHF's reward

Written by `ftstudio export --format openrlhf`. Tested with OpenRLHF {OPENRLHF_VERSION} (its loader for a `.py`
remote reward, `SingleTurnAgentExecutor`, on the same rows as `ftstudio grade`).

```bash
pip install -r requirements.txt && python3 smoke.py
```

`requirements.txt` installs OpenRLHF {OPENRLHF_VERSION} and ftstudio from `wheels/` (built at export time; ftstudio
is not on PyPI). `smoke.py` is the offline smoke run: no model, no GPU, no download. OpenRLHF's own executor
loads `reward_func.py` by path and scores `example_rows.jsonl`. It prints one reward per row.

## Train

```bash
bash run.sh MODEL train.jsonl --actor.num_gpus_per_node 1   # more train_ppo_ray arguments after the file
```

- `reward_func.py` is what `--reward.remote_url` loads. It finds `grader.json` beside itself, so no
  environment variable is needed. OpenRLHF calls `reward_func(queries, prompts, labels)` once per sample.
- `prepare_data.py` turns the OpenAI-format RFT JSONL into OpenRLHF rows: `prompt` = the messages, and
  `label` = the grader's item as a JSON object (`--data.label_key label`).
- The completion is the query minus its prompt. The rewards are the same numbers as `ftstudio grade`.
  `extra_logs` has each sub-reward and `grader_error`. OpenRLHF clips rewards to `--reward.clip_range`
  (default (-10, 10)).
- Instead of the file: `ftstudio serve grader.json` and `--reward.remote_url http://HOST:8000/openrlhf`.
"""


def run_sh() -> str:
    return RUN_SH.format(version=OPENRLHF_VERSION)
