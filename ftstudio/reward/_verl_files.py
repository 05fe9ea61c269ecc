"""`ftstudio export --format verl`: the files of the exported folder (besides grader.json, the examples
and the wheel, which _bundle.py adds)."""

from __future__ import annotations

from ._verl_recipe import VERL_VERSION

PREPARE_DATA_PY = '''\
"""OpenAI-format RFT JSONL as verl's parquet rows (written by `ftstudio export --format verl`).

    python3 prepare_data.py --train-file train.jsonl [--val-file val.jsonl] --out-dir data

Each row: prompt = the messages, reward_model.ground_truth = reference_answer (if any), extra_info = every
other field: the grader's item (verl hands extra_info to compute_score).
"""

import argparse
import json
import os

DATA_SOURCE = "ftstudio"


def verl_row(row, index=0):
    item = {k: v for k, v in row.items() if k not in ("messages", "model_sample")}
    return {"data_source": DATA_SOURCE, "prompt": row["messages"], "ability": "grader",
            "reward_model": {"style": "rule", "ground_truth": item.get("reference_answer")},
            "extra_info": {**item, "index": index}}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-file", required=True)
    p.add_argument("--val-file")
    p.add_argument("--out-dir", required=True)
    args = p.parse_args(argv)
    from datasets import Dataset  # verl's own dependency

    os.makedirs(args.out_dir, exist_ok=True)
    for name, path in (("train", args.train_file), ("val", args.val_file or args.train_file)):
        rows = [verl_row(r, i) for i, r in enumerate(read_jsonl(path))]
        Dataset.from_list(rows).to_parquet(os.path.join(args.out_dir, f"{name}.parquet"))
        print(f"wrote {len(rows)} rows to {os.path.join(args.out_dir, name + '.parquet')}")


if __name__ == "__main__":
    main()
'''

SMOKE_PY = '''\
"""Offline smoke run (no model, no GPU, no download): verl's own Hydra config composed with overrides.txt,
its reward loader and its registered naive reward manager score example_rows.jsonl.

    python3 smoke.py        # one JSON line per row ({"reward", ...sub-rewards}), then the mean
"""

import asyncio
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import verl  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from verl import DataProto  # noqa: E402
from verl.trainer.ppo.reward import load_reward_manager  # noqa: E402

from prepare_data import read_jsonl, verl_row  # noqa: E402


def overrides():
    """overrides.txt, with the grader beside this file (the folder may have moved since the export)."""
    grader = "+reward.custom_reward_function.reward_kwargs.grader="
    with open(os.path.join(HERE, "overrides.txt"), encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()]
    return [grader + os.path.join(HERE, "grader.json") if line.startswith(grader) else line for line in lines]


class CharTokenizer:
    """All the naive manager needs of a tokenizer: decode(ids, skip_special_tokens=True); one id per character."""

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(int(i)) for i in ids)


def objects(value):
    arr = np.empty(1, dtype=object)
    arr[0] = value
    return arr


def data_proto(row, completion):
    prompt = torch.tensor([[ord(c) for c in "prompt"]])
    response = torch.tensor([[ord(c) for c in completion] or [0]])
    mask = torch.cat([torch.ones_like(prompt), torch.tensor([[1] * len(completion) or [0]])], dim=1)
    return DataProto.from_dict(
        tensors={"prompts": prompt, "responses": response, "attention_mask": mask},
        non_tensors={"data_source": objects(row["data_source"]), "reward_model": objects(row["reward_model"]),
                     "extra_info": objects(dict(row["extra_info"]))})


def main():
    with initialize_config_dir(config_dir=os.path.join(os.path.dirname(verl.__file__), "trainer", "config"),
                               version_base=None):
        cfg = compose(config_name="ppo_trainer", overrides=overrides())
    manager = load_reward_manager(cfg, CharTokenizer())
    rows = read_jsonl(os.path.join(HERE, "example_rows.jsonl"))

    async def score_all():
        return await asyncio.gather(*(manager.run_single(data_proto(verl_row(r, i), r["model_sample"]))
                                      for i, r in enumerate(rows)))

    results = manager.loop.run_until_complete(score_all())
    for result in results:
        print(json.dumps({"reward": float(result["reward_score"]),
                          **{k: float(v) for k, v in result["reward_extra_info"].items() if k != "score"}}))
    mean = sum(float(r["reward_score"]) for r in results) / len(results)
    print(f"verl {verl.__version__} {type(manager).__name__}: scored {len(results)} rows, mean reward {mean:.4f}")


if __name__ == "__main__":
    main()
'''

RUN_SH = '''\
#!/usr/bin/env bash
# Train with verl {version}'s PPO/GRPO trainer and this grader as its reward (written by `ftstudio export --format verl`):
#   bash run.sh MODEL TRAIN.jsonl [VAL.jsonl] [more Hydra overrides...]
# MODEL: a Hugging Face model id or local folder; the data: the OpenAI-format RFT JSONL the job would upload.
set -euo pipefail
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
MODEL=$1; TRAIN=$2; VAL=${{3:-$2}}; shift $(( $# < 3 ? $# : 3 ))
python3 "$HERE/prepare_data.py" --train-file "$TRAIN" --val-file "$VAL" --out-dir "$HERE/data"
# overrides.txt names the grader by the path it was exported to; a moved folder uses its own copy.
OVERRIDES=$(sed "s#^+reward.custom_reward_function.reward_kwargs.grader=.*#+reward.custom_reward_function.reward_kwargs.grader=$HERE/grader.json#" "$HERE/overrides.txt")
python3 -m verl.trainer.main_ppo $OVERRIDES \\
    algorithm.adv_estimator=grpo \\
    data.train_files="$HERE/data/train.parquet" data.val_files="$HERE/data/val.parquet" \\
    actor_rollout_ref.model.path="$MODEL" \\
    "$@"
'''


def readme(name: str, overrides: list[str], asynchronous: bool) -> str:
    lines = "\n".join(overrides)
    why = ("`compute_score_async`: the tree has model graders, so verl awaits a batch's samples at once and they "
           "are graded together (their requests run concurrently)." if asynchronous else
           "`compute_score`: verl runs it in its thread pool, once per sample.")
    return f"""# Train with verl {VERL_VERSION}: the grader `{name}` as verl's reward

Written by `ftstudio export --format verl`. Tested with verl {VERL_VERSION} (`get_custom_reward_fn` and the
registered `naive` reward manager, on the same rows as `ftstudio grade`).

```bash
pip install -r requirements.txt && python3 smoke.py
```

`requirements.txt` installs verl {VERL_VERSION} and ftstudio from `wheels/` (built at export time; ftstudio is not
on PyPI). `smoke.py` is the offline smoke run: no model, no GPU, no download. verl's own Hydra config with
`overrides.txt`, its loader and its naive reward manager score `example_rows.jsonl`. It prints one reward per row.

## Train

```bash
bash run.sh MODEL train.jsonl val.jsonl trainer.n_gpus_per_node=1   # more Hydra overrides after the files
```

`run.sh` converts the OpenAI-format RFT JSONL to verl's parquet (`prepare_data.py`: `prompt` = the messages,
`reward_model.ground_truth` = `reference_answer`, `extra_info` = the other fields, which is the grader's
item). Then it starts `python3 -m verl.trainer.main_ppo $(cat overrides.txt) ...` with GRPO. `overrides.txt`
has one Hydra override per line:

```
{lines}
```

- {why}
- The grader's path is a reward keyword (`+` because verl's schema has no `reward_kwargs` key), so Ray
  workers need no environment variable. If you move this folder, `run.sh` and `smoke.py` use the
  `grader.json` beside them.
- The reward is `{{"score": reward, **sub_rewards}}`, the same numbers as `ftstudio grade`. A row with
  errors scores 0.0.
"""


def run_sh() -> str:
    return RUN_SH.format(version=VERL_VERSION)
