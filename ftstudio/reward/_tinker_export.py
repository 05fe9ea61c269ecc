"""`ftstudio export CONFIG --format tinker --data DATA [--sample-field NAME] -o DIR`: the grader, the rows, a
train.py running tinker-cookbook's RL loop with `ftstudio.reward.envs` (or `--smoke`, offline), ftstudio's
wheel and a README with one install command."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ftstudio.config import JobConfig, to_json
from ftstudio.core import DEFAULT_SAMPLE_FIELD

from ._folder import ftstudio_requirement, with_wheel, write_folder
from ._recipe import GRADER_FILE, recipe_zip
from ._tinker_train import TRAIN_PY

TINKER_COOKBOOK_VERSION = "0.6.1"
TINKER_VERSION = "0.38.0"
ROWS_FILE = "rows.jsonl"
RESPONSE_FORMAT_FILE = "response_format.json"
# tinker-cookbook 0.6.1 needs tml-renderers>=0.4.1, which needs Python 3.12: --no-deps, then what it imports
INSTALL = (f"pip install --no-deps tinker-cookbook=={TINKER_COOKBOOK_VERSION} && pip install -r requirements.txt")
SMOKE = "python train.py --smoke"
COMMAND = f"{INSTALL} && {SMOKE}"


def _hyper(config: JobConfig, name: str) -> int | None:
    rft = config.method.reinforcement if config.method else None
    value = getattr(rft.hyperparameters, name, None) if rft and rft.hyperparameters else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# tinker-cookbook 0.6.1's Requires-Dist without tml-renderers (Python 3.12 only; the RL loop never imports it),
# tinker pinned to the release the tests ran: what `pip install --no-deps tinker-cookbook` leaves to install.
COOKBOOK_REQUIREMENTS = (
    f"tinker=={TINKER_VERSION}", "aiohttp>=3.9.0", "anyio>=4.0.0", "blobfile>=3.0.0", "chz>=0.4.0",
    "cloudpickle>=3.0.0", "datasets>=2.14.0", "huggingface-hub>=0.20.0", "numpy>=1.24.0", "pillow>=10.0.0",
    "pydantic>=2.0.0", "pyrage>=1.4.0", "rich>=13.0.0", "safetensors>=0.4.0", "termcolor>=2.0.0",
    "tiktoken>=0.12.0", "torch>=2.10", "tqdm>=4.60.0",
    "transformers!=5.3.0,!=5.4.*,!=5.5.0,!=5.5.1,!=5.5.2,!=5.5.3,!=5.6.*,>=4.57.6",
)


def requirements() -> str:
    return "".join(r + "\n" for r in COOKBOOK_REQUIREMENTS) + ftstudio_requirement()


def _readme(name: str, rows: int, sample_field: str, has_format: bool) -> str:
    fmt = (f"- `{RESPONSE_FORMAT_FILE}`: the job's response_format. A Tinker sampler does not constrain output "
           "to it, so each step's metrics carry `response_format_valid`; `--format-coef C` subtracts C from an "
           "invalid output's reward (0 by default, so rewards equal `ftstudio grade`'s).\n" if has_format else "")
    return f"""# {name}: a Tinker-style RL environment

Exported by Fine-Tune Studio (`ftstudio export --format tinker`). Install (Python 3.11 or later), then run
the environments offline on the rows' given completions (no service, no model):

```bash
{COMMAND}
```

tinker-cookbook {TINKER_COOKBOOK_VERSION} is installed without its dependencies because one of them
(tml-renderers) needs Python 3.12 and its RL loop never imports it; `requirements.txt` lists the others, and
ftstudio from `wheels/`. The smoke run prints one JSON line per row (`reward`, and the step's `metrics`) and a summary;
each reward equals `ftstudio grade {GRADER_FILE} {ROWS_FILE} --sample-field {sample_field}`'s.

## Files
- `{GRADER_FILE}`: the grader. `{ROWS_FILE}`: the {rows} row(s) of the dataset, one problem each: the row's
  `messages` are the prompt (rendered by the model's renderer), the row without them is the grader's item.
  `--smoke` rolls out the `{sample_field}` column.
{fmt}- `train.py`: tinker-cookbook's RL loop (`tinker_cookbook.rl.train`) over `ftstudio.reward.envs`
  (GraderDatasetBuilder: one EnvGroupBuilder per row, `--group-size` rollouts each; the step's metrics carry
  the sub-rewards and `grader_error`).

## Train on Tinker

```bash
export TINKER_API_KEY=...        # read by the tinker client from the environment; nothing here writes it
python train.py --model MODEL [--renderer NAME] [--max-steps N] [--base-url URL]
```

The renderer defaults to the one tinker-cookbook recommends for the model (its tokenizer is downloaded from
Hugging Face). `--base-url` points the loop at another Tinker-compatible service.

## Together

Together's `together.post_training.tinker` (together 3.1.1) is a Tinker-compatible shim that takes
tinker-cookbook objects unchanged, so the same environments (`ftstudio.reward.envs.group_builders`) run in
a loop written against it. Not run here: it needs the service.

## Azure Fine-Tuning Sessions

`azure-ai-finetuningsessions` (1.0.0b1) has no reward interface: the client samples, computes advantages
and passes them in. `score_group` is that step: the grader's rewards for one prompt's rollouts and GRPO's
group-normalised advantages, with the groups that carry no signal said.

```python
import json
from ftstudio.reward import Reward, score_group

reward = Reward.load("{GRADER_FILE}")
for line in open("{ROWS_FILE}"):
    row = json.loads(line)
    item = {{k: v for k, v in row.items() if k != "messages"}}
    completions = ...  # this prompt's group of samples: client.sampling.begin_sample(...) (its result's texts)
    group = score_group(reward, completions, item)       # scale="group": (r - mean) / (std + 1e-4)
    if group.zero_variance:
        continue                                           # every reward equal: no learning signal
    # one datum per sample: LossFnInputs(target_tokens=..., weights=..., logprobs=...,
    #                                    advantages=<group.advantages[i] on each sampled token>)
    # then client.training.begin_forward_backward(...) and client.training.begin_optim_step(...)
```

## Tested

Offline, on a machine without a service or a GPU: tinker-cookbook {TINKER_COOKBOOK_VERSION} with tinker
{TINKER_VERSION} on Python 3.11, environments built from presets and real graders rolled out by the
cookbook's own `do_group_rollout` with given completions and a stand-in renderer (tokens = UTF-8 bytes),
rewards equal to `ftstudio grade`'s to 1e-9; this folder installed and `--smoke` run as above; `score_group`
on given rollouts. Training against Tinker, Together or Azure was not run (each needs its service).
"""


def _grader_and_format(config: JobConfig) -> tuple[Any, Any]:
    grader = config.grader
    if config.method_type != "reinforcement" or grader is None:
        raise ValueError(f"--format tinker needs a reinforcement job with a grader (or a bare grader); this is "
                         f"a {config.method_type} job")
    rft = config.method.reinforcement if config.method else None
    return grader, (rft.response_format if rft else None)


def tinker_readme(config: JobConfig, n_rows: int, sample_field: str = DEFAULT_SAMPLE_FIELD) -> str:
    """The folder's README.md alone: the app shows it on every render without encoding the rows."""
    grader, response_format = _grader_and_format(config)
    return _readme(grader.name or grader.type, n_rows, sample_field, bool(response_format))


def tinker_files(config: JobConfig, rows: Sequence[dict[str, Any]], sample_field: str = DEFAULT_SAMPLE_FIELD) -> dict[str, str]:
    """{file name: text} of the folder (the wheel aside)."""
    grader, response_format = _grader_and_format(config)
    batch = _hyper(config, "batch_size") or max(1, min(len(rows), 32))
    files = {
        GRADER_FILE: to_json(grader) + "\n",
        ROWS_FILE: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
        "train.py": TRAIN_PY.substitute(cookbook=TINKER_COOKBOOK_VERSION, tinker=TINKER_VERSION,
                                        sample_field=repr(sample_field), batch_size=batch,
                                        epochs=_hyper(config, "n_epochs") or 1),
        "requirements.txt": requirements(),
        "README.md": tinker_readme(config, len(rows), sample_field),
    }
    if response_format:
        files[RESPONSE_FORMAT_FILE] = json.dumps(response_format, indent=2, ensure_ascii=False) + "\n"
    return files


def write_tinker(config: JobConfig, rows: Sequence[dict[str, Any]], out_dir: str | Path,
                 sample_field: str = DEFAULT_SAMPLE_FIELD) -> list[Path]:
    return write_folder(with_wheel(tinker_files(config, rows, sample_field)), out_dir)


def tinker_zip(config: JobConfig, rows: Sequence[dict[str, Any]], sample_field: str = DEFAULT_SAMPLE_FIELD,
               folder: str = "tinker") -> bytes:
    """The folder as a zip (the app's download), wheel included."""
    return recipe_zip(with_wheel(tinker_files(config, rows, sample_field)), folder)
