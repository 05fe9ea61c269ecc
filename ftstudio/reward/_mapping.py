"""How an OpenAI fine-tuning job's settings become TRL (1.16) trainer settings: one table, one function.

MAPPING is the table the recipe's README and the project README show; `settings(config)` gives the
values (with the comment train.py prints beside each) for one job config. Defaults were read from
`SFTConfig` / `DPOConfig` / `GRPOConfig` instances of trl 1.16.0 (see /README "Train anywhere").
OpenAI documents no base learning rate; the recipe scales TRL's default for the trainer instead.
"""

from __future__ import annotations

from typing import Any

from ftstudio.config import AUTO, JobConfig
from ftstudio.core.records import datarecord

TRAINERS = {"supervised": "SFT", "dpo": "DPO", "reinforcement": "GRPO"}
# TRL 1.16 defaults (the "auto" values and the base the learning-rate multiplier scales).
BASE_LEARNING_RATE = {"supervised": 2e-5, "dpo": 1e-6, "reinforcement": 1e-6}
TRL_EPOCHS = 3
TRL_PER_DEVICE_BATCH = 8
TRL_DPO_BETA = 0.1
TRL_NUM_GENERATIONS = 8
TRL_SEED = 42


@datarecord(frozen=True)
class Mapping:
    openai: str
    trl: str
    how: str  # "maps", "approximately" or "no equivalent"
    note: str


MAPPING: tuple[Mapping, ...] = (
    Mapping("model", "`--model`", "approximately",
            "any Hugging Face model id or local folder; OpenAI model ids are not downloadable"),
    Mapping("training_file / validation_file", "`--train-file` / `--validation-file`", "maps",
            "the same OpenAI-format JSONL, converted to TRL's format by `ftstudio.datasets.read_trl`"),
    Mapping("n_epochs", "`num_train_epochs`", "maps", f'"auto" → TRL\'s default {TRL_EPOCHS}'),
    Mapping("batch_size", "`per_device_train_batch_size` × `gradient_accumulation_steps`", "maps",
            "examples per optimizer step on one device (under accelerate, divide by the number of processes); "
            f'for GRPO the per-device batch is one prompt\'s generations; "auto" → TRL\'s {TRL_PER_DEVICE_BATCH} × 1'),
    Mapping("learning_rate_multiplier", "`learning_rate`", "approximately",
            "TRL's default learning rate for the trainer (SFT 2e-5, DPO 1e-6, GRPO 1e-6) × the multiplier; "
            'OpenAI documents no base rate; "auto" → 1 ×'),
    Mapping("beta (DPO)", "`beta`", "maps", f'"auto" → TRL\'s default {TRL_DPO_BETA}'),
    Mapping("compute_multiplier (RFT)", "`num_generations`", "approximately",
            f'samples per prompt = max(2, round({TRL_NUM_GENERATIONS} × multiplier)); "auto" → TRL\'s '
            f"{TRL_NUM_GENERATIONS}"),
    Mapping("eval_interval (RFT)", "`eval_steps`", "maps", 'with `eval_strategy="steps"`; "auto" → once per epoch'),
    Mapping("eval_samples (RFT)", "`num_generations_eval`", "maps",
            'samples per validation prompt; "auto" → TRL uses `num_generations`'),
    Mapping("reasoning_effort (RFT)", "—", "no equivalent",
            "TRL samples with the model's own chat template; pass the model's reasoning switch yourself if it has one"),
    Mapping("response_format (RFT)", "—", "no equivalent", "TRL does not constrain sampling to a JSON schema"),
    Mapping("grader (RFT)", "`reward_funcs=[Reward.load(\"grader.json\").for_trl()]`", "maps",
            "the same engine and the same rewards as `ftstudio grade`"),
    Mapping("seed", "`seed`", "maps", f"no seed in the job → TRL's default {TRL_SEED}"),
    Mapping("suffix", "`run_name`", "approximately", "OpenAI appends it to the model name; here it names the run"),
    Mapping("integrations (W&B)", '`report_to="wandb"`, `run_name`, `WANDB_PROJECT` / `WANDB_ENTITY` / `WANDB_TAGS`',
            "maps", "the run name is `wandb.name`, else the suffix"),
    Mapping("metadata", "—", "no equivalent", "job bookkeeping on the provider's side"),
)


def mapping_table() -> str:
    """MAPPING as a Markdown table."""
    rows = ["| OpenAI job | TRL | how | note |", "|---|---|---|---|"]
    rows += [f"| {m.openai} | {m.trl} | {m.how} | {m.note} |" for m in MAPPING]
    return "\n".join(rows)


@datarecord(frozen=True)
class Setting:
    name: str
    value: Any  # a Python expression's source text
    comment: str = ""


def _hp(config: JobConfig) -> dict[str, Any]:
    method = config.method
    block = getattr(method, config.method_type, None) if method else None
    hp = getattr(block, "hyperparameters", None) or (config.hyperparameters if config.method_type == "supervised"
                                                      else None)
    return hp.model_dump() if hp is not None else {}


def _split_batch(batch: int) -> tuple[int, int]:
    """batch = per_device × accumulation, with per_device the largest divisor ≤ TRL's default 8."""
    per_device = max(d for d in range(1, min(batch, TRL_PER_DEVICE_BATCH) + 1) if batch % d == 0)
    return per_device, batch // per_device


def settings(config: JobConfig) -> list[Setting]:
    """The TRL config arguments that come from the job (run-time ones are added by train.py)."""
    method = config.method_type
    hp = _hp(config)
    out: list[Setting] = []
    epochs = hp.get("n_epochs", AUTO)
    out.append(Setting("num_train_epochs", TRL_EPOCHS, 'n_epochs "auto": TRL\'s default (OpenAI picks it from the '
                                                       "dataset size)") if epochs == AUTO else
               Setting("num_train_epochs", epochs, "n_epochs"))
    mult = hp.get("learning_rate_multiplier", AUTO)
    base = BASE_LEARNING_RATE[method]
    factor = 1.0 if mult == AUTO else float(mult)
    out.append(Setting("learning_rate", f"{base!r} * {factor!r}",
                       f"TRL's {TRAINERS[method]} default × learning_rate_multiplier"
                       + (' ("auto": × 1)' if mult == AUTO else "")))
    batch = hp.get("batch_size", AUTO)
    if method == "reinforcement":
        cm = hp.get("compute_multiplier", AUTO)
        gens = TRL_NUM_GENERATIONS if cm == AUTO else max(2, round(TRL_NUM_GENERATIONS * float(cm)))
        out.append(Setting("num_generations", gens, 'compute_multiplier "auto": TRL\'s default' if cm == AUTO else
                           f"≈ compute_multiplier {cm}: samples per prompt = max(2, round({TRL_NUM_GENERATIONS} × {cm}))"))
        out.append(Setting("per_device_train_batch_size", gens, "one prompt's generations per device step"))
        prompts = 1 if batch == AUTO else int(batch)
        out.append(Setting("gradient_accumulation_steps", prompts,
                           'batch_size "auto": one prompt per step' if batch == AUTO else
                           f"batch_size {batch}: prompts per optimizer step"))
        samples = hp.get("eval_samples", AUTO)
        if samples != AUTO:
            out.append(Setting("num_generations_eval", max(2, int(samples)), f"eval_samples {samples} "
                               "(TRL needs at least 2)" if int(samples) < 2 else "eval_samples"))
        out.append(Setting("per_device_eval_batch_size", max(2, int(samples)) if samples != AUTO else gens,
                           "one prompt's validation generations per step"))
        effort = hp.get("reasoning_effort", "default")
        if effort not in (AUTO, "default"):
            out.append(Setting("# reasoning_effort", repr(effort), "no equivalent in TRL: use the model's own "
                               "reasoning switch if it has one"))
        rft = config.method.reinforcement if config.method else None
        if rft is not None and rft.response_format:
            out.append(Setting("# response_format", repr(rft.response_format.get("type", "set")),
                               "no equivalent in TRL: sampling is not constrained to a schema"))
    elif batch == AUTO:
        out.append(Setting("per_device_train_batch_size", TRL_PER_DEVICE_BATCH, 'batch_size "auto": TRL\'s default'))
    else:
        per_device, accumulate = _split_batch(int(batch))
        out.append(Setting("per_device_train_batch_size", per_device, f"batch_size {batch} = {per_device} × {accumulate}"))
        out.append(Setting("gradient_accumulation_steps", accumulate, "(per device; divide by the GPU count under "
                           "accelerate)"))
    if method == "dpo":
        beta = hp.get("beta", AUTO)
        out.append(Setting("beta", TRL_DPO_BETA, 'beta "auto": TRL\'s default') if beta == AUTO else
                   Setting("beta", beta, "beta"))
    out.append(Setting("seed", TRL_SEED, "the job has no seed: TRL's default") if config.seed is None else
               Setting("seed", config.seed, "seed"))
    return out


def eval_interval(config: JobConfig) -> int | None:
    value = _hp(config).get("eval_interval", AUTO) if config.method_type == "reinforcement" else AUTO
    return None if value == AUTO else int(value)


def wandb_settings(config: JobConfig) -> dict[str, Any] | None:
    for integration in config.integrations or []:
        if integration.type == "wandb":
            return integration.wandb.model_dump(exclude_none=True)
    return None
