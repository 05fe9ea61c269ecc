"""The exported folder's train.py (`ftstudio export --format tinker`): tinker-cookbook's RL loop with the
grader's environments, or `--smoke`, the rows' given completions through them offline."""

from __future__ import annotations

from string import Template

TRAIN_PY = Template('''\
"""Train on the rows with tinker-cookbook's RL loop, rewards from the grader: exported by Fine-Tune Studio
(`ftstudio export --format tinker`). Tested with tinker-cookbook ${cookbook} and tinker ${tinker}.

    python train.py --smoke                        # offline: the rows' given completions, no service, no model
    export TINKER_API_KEY=...                      # read from the environment by the tinker client, never written
    python train.py --model MODEL [--renderer NAME] [--base-url URL] [--max-steps N]

One row is one problem: its messages are the prompt, the row without them is the grader's item, and each
rollout's reward is what `ftstudio grade grader.json` gives that row with the rollout's text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GRADER = HERE / "grader.json"
ROWS = HERE / "rows.jsonl"
RESPONSE_FORMAT = HERE / "response_format.json"  # the job's, when it has one
SAMPLE_FIELD = ${sample_field}  # the rows' column holding the completions --smoke rolls out
BATCH_SIZE = ${batch_size}  # prompts per step: the job's batch_size, else the rows up to 32
GROUP_SIZE = 4  # rollouts per prompt (GRPO's group)
EPOCHS = ${epochs}  # the job's n_epochs, else 1


def parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="roll the rows' given completions out offline and print rewards")
    p.add_argument("--model", help="the base model to train, as the service names it")
    p.add_argument("--renderer", help="tinker-cookbook renderer name (default: the one it recommends for the model)")
    p.add_argument("--base-url", help="a Tinker-compatible service (default: the tinker client's)")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    p.add_argument("--group-size", type=int, default=GROUP_SIZE)
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument("--max-steps", type=int, help="stop after N steps")
    p.add_argument("--learning-rate", type=float, default=4e-5)
    p.add_argument("--max-tokens", type=int, default=512, help="tokens per rollout")
    p.add_argument("--format-coef", type=float, default=0.0,
                   help="subtract this from a rollout that misses the job's response_format")
    p.add_argument("--log-path", default=str(HERE / "runs"))
    return p


def response_format():
    return json.loads(RESPONSE_FORMAT.read_text(encoding="utf-8")) if RESPONSE_FORMAT.exists() else None


def read_rows():
    from ftstudio.reward.envs import read_rows as read

    return read(ROWS)


def smoke() -> int:
    from ftstudio.reward.envs import smoke as run

    results = asyncio.run(run(GRADER, read_rows(), SAMPLE_FIELD, response_format=response_format()))
    for result in results:
        print(json.dumps(result))
    scored = [r["reward"] for r in results if "reward" in r]
    mean = sum(scored) / len(scored) if scored else 0.0
    print(f"smoke: {len(scored)} of {len(results)} rows rolled out through tinker-cookbook's do_group_rollout "
          f"(no service, no model); mean reward {mean:.4f}")
    return 0 if scored else 1


def config(args):
    """tinker-cookbook's rl.train.Config over the grader's environments (no service is contacted here)."""
    from tinker_cookbook import model_info
    from tinker_cookbook.rl import train as rl_train

    from ftstudio.reward.envs import GraderDatasetBuilder

    renderer = args.renderer or model_info.get_recommended_renderer_name(args.model)
    builder = GraderDatasetBuilder(grader_path=str(GRADER), train_path=str(ROWS), batch_size=args.batch_size,
                                   group_size=args.group_size, model_name_for_tokenizer=args.model,
                                   renderer_name=renderer, response_format=response_format(),
                                   format_coef=args.format_coef)
    return rl_train.Config(learning_rate=args.learning_rate, dataset_builder=builder, model_name=args.model,
                           recipe_name="ftstudio_grader", max_tokens=args.max_tokens, log_path=args.log_path,
                           renderer_name=renderer, base_url=args.base_url, eval_every=0,
                           num_epochs=args.epochs, max_steps=args.max_steps)


def train(args) -> int:
    if not os.environ.get("TINKER_API_KEY"):
        print("TINKER_API_KEY is not set: export it in this shell (the tinker client reads it; nothing here "
              "writes it anywhere)", file=sys.stderr)
        return 2
    from tinker_cookbook.rl import train as rl_train

    asyncio.run(rl_train.main(config(args)))
    return 0


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.smoke:
        return smoke()
    if not args.model:
        p.error("--model is required to train (or --smoke for the offline run)")
    return train(args)


if __name__ == "__main__":
    sys.exit(main())
''')
