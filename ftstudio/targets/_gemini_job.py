"""The rest of a Gemini reinforcement tuning job: which of our job's settings have an equivalent there.

google-genai 3.6.1 `CreateTuningJobConfig` (method REINFORCEMENT_TUNING): epoch_count,
learning_rate_multiplier, batch_size, samples_per_prompt, evaluate_interval, checkpoint_interval,
max_output_tokens, thinking_level (MINIMAL|LOW|MEDIUM|HIGH), adapter_size, validation_dataset_uri.
The export writes only the reward config; these are what to set beside it.
"""

from __future__ import annotations

from typing import Any

from ._translation import Change

# OpenAI reinforcement hyperparameter -> CreateTuningJobConfig field (None: no equivalent).
EQUIVALENT: dict[str, str | None] = {
    "n_epochs": "epoch_count",
    "batch_size": "batch_size",
    "learning_rate_multiplier": "learning_rate_multiplier",
    "eval_interval": "evaluate_interval",
    "reasoning_effort": "thinking_level",
    "compute_multiplier": None,
    "eval_samples": None,
    "seed": None,
}


def job_changes(config: dict) -> list[Change]:
    """What moving the job (not the grader) to Gemini changes."""
    method = config.get("method") if isinstance(config.get("method"), dict) else None
    block = method.get("reinforcement") if isinstance(method, dict) else None
    hp = block.get("hyperparameters") if isinstance(block, dict) else None
    out = []
    for name, value in (hp.items() if isinstance(hp, dict) else []):
        if value in ("auto", "default", None):
            continue
        where, target = f"method.reinforcement.hyperparameters.{name}", EQUIVALENT.get(name)
        if target is None:
            out.append(Change(where, "gemini_job_field", f"{name} has no equivalent in Gemini's CreateTuningJobConfig",
                              "samples_per_prompt is an absolute count, not a multiplier"
                              if name == "compute_multiplier" else "Gemini's default applies"))
        else:
            shown = str(value).upper() if name == "reasoning_effort" else value
            out.append(Change(where, "gemini_job_field", f"{name} → CreateTuningJobConfig.{target} = {shown!r}",
                              "set it in the tuning job's config", lost=False))
    fields: tuple[tuple[str, str, bool], ...] = (
        ("model", "pick a Gemini base model Vertex offers for reinforcement tuning (tunings.tune(base_model=...))",
         False),
        ("training_file", "convert the data (ftstudio convert --to gemini) and upload it to GCS "
                          "(TuningDataset(gcs_uri=...))", False),
        ("validation_file", "convert it too and pass validation_dataset_uri", False),
        ("suffix", "Gemini names tuned models itself", True), ("metadata", "no equivalent", True),
        ("integrations", "no W&B integration", True))
    for key, what, lost in fields:
        value: Any = config.get(key)
        if value not in (None, "", {}, []):
            out.append(Change(key, "gemini_job_field", what, lost=lost))
    return out
