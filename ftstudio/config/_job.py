"""JobConfig: the whole `POST /v1/fine_tuning/jobs` body as one typed root object (facts §2).

The model mirrors the API body field for field, so `export.to_json` is a plain dump. Things the
API rejects but a user may still be building (a method block that doesn't match method.type, a
grader tree with a nested multi) are accepted here and reported by `validation.check`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ftstudio.core import DEFAULT_MODEL, DEFAULT_RFT_MODEL
from ftstudio.graders import Grader, StringCheckGrader

from ._hyperparameters import (
    DpoHyperparameters,
    LegacyHyperparameters,
    ReinforcementHyperparameters,
    SupervisedHyperparameters,
)

METHODS = ("supervised", "dpo", "reinforcement")
MAX_SEED = 2147483647
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
MAX_SUFFIX = 64

_forbid = ConfigDict(extra="forbid", defer_build=True)  # built on first use (issue 23, start-up)


class WandbIntegrationSettings(BaseModel):
    model_config = _forbid
    project: str = Field(min_length=1, description="The W&B project the run is created under.")
    name: str | None = Field(default=None, description="Display name of the run (default: the job id).")
    entity: str | None = Field(default=None, description="Team or user name (default: the key's entity).")
    tags: list[str] | None = Field(default=None, description="Tags added to the run.")


class Integration(BaseModel):
    model_config = _forbid
    type: Literal["wandb"] = "wandb"
    wandb: WandbIntegrationSettings


class SupervisedMethod(BaseModel):
    model_config = _forbid
    hyperparameters: SupervisedHyperparameters | None = None


class DpoMethod(BaseModel):
    model_config = _forbid
    hyperparameters: DpoHyperparameters | None = None


class ReinforcementMethod(BaseModel):
    model_config = _forbid
    grader: Grader
    hyperparameters: ReinforcementHyperparameters | None = None
    # In the RFT guide's create-job example, absent from the SDK and spec (facts §5).
    response_format: dict[str, Any] | None = None


class Method(BaseModel):
    model_config = _forbid
    type: Literal["supervised", "dpo", "reinforcement"]
    supervised: SupervisedMethod | None = None
    dpo: DpoMethod | None = None
    reinforcement: ReinforcementMethod | None = None


class JobConfig(BaseModel):
    """The create-job body. Field order is the export's key order."""

    model_config = _forbid
    model: str = Field(description="Base model id, or a fine-tuned model id to continue training.")
    training_file: str = Field(description="Id of an uploaded JSONL file (purpose fine-tune).")
    validation_file: str | None = Field(default=None, description="Id of the validation JSONL file.")
    suffix: Annotated[str, Field(min_length=1, max_length=MAX_SUFFIX)] | None = Field(
        default=None, description="Up to 64 characters added to the fine-tuned model's name."
    )
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] | None = Field(
        default=None, description="Reproducibility seed; generated when omitted."
    )
    metadata: dict[str, str] | None = Field(
        default=None, description="Up to 16 key/value pairs; keys at most 64 and values at most 512 characters."
    )
    integrations: list[Integration] | None = None
    method: Method | None = None
    # Deprecated in favour of method.*.hyperparameters; kept so imports of old bodies are lossless.
    hyperparameters: LegacyHyperparameters | None = None

    @field_validator("metadata")
    @classmethod
    def _metadata_limits(cls, value: dict[str, str] | None):
        if value is None:
            return value
        if len(value) > MAX_METADATA_PAIRS:
            raise ValueError(f"metadata holds at most {MAX_METADATA_PAIRS} pairs (got {len(value)}); remove some")
        for key, val in value.items():
            if len(key) > MAX_METADATA_KEY:
                raise ValueError(f"metadata key {key[:20]!r}... is {len(key)} characters; at most {MAX_METADATA_KEY}")
            if len(val) > MAX_METADATA_VALUE:
                raise ValueError(
                    f"metadata value of {key!r} is {len(val)} characters; at most {MAX_METADATA_VALUE}"
                )
        return value

    # --- conveniences used by pages and the CLI -----------------------------------------

    @property
    def method_type(self) -> str:
        return self.method.type if self.method else "supervised"

    @property
    def grader(self):
        m = self.method
        if m and m.reinforcement is not None:
            return m.reinforcement.grader
        return None


def default_grader() -> StringCheckGrader:
    return StringCheckGrader(
        name="exact_answer", input="{{ sample.output_text }}", reference="{{ item.answer }}", operation="eq"
    )


def new_config(method: str = "supervised", model: str | None = None) -> JobConfig:
    """A fresh config for the UI's 'New config' and the CLI's templates."""
    defaults = {"supervised": DEFAULT_MODEL, "dpo": DEFAULT_MODEL, "reinforcement": DEFAULT_RFT_MODEL}
    return JobConfig(model=model or defaults[method], training_file="", method=method_block(method))


def method_block(method: str, grader=None) -> Method:
    if method == "supervised":
        return Method(type="supervised", supervised=SupervisedMethod(hyperparameters=SupervisedHyperparameters()))
    if method == "dpo":
        return Method(type="dpo", dpo=DpoMethod(hyperparameters=DpoHyperparameters()))
    if method == "reinforcement":
        return Method(
            type="reinforcement",
            reinforcement=ReinforcementMethod(
                grader=grader or default_grader(), hyperparameters=ReinforcementHyperparameters()
            ),
        )
    raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")


def with_reinforcement(config: JobConfig, **fields: Any) -> JobConfig:
    """The config with `fields` of its reinforcement block replaced (grader=..., response_format=...);
    a config under another method is switched to reinforcement first."""
    if config.method_type != "reinforcement":
        config = switch_method(config, "reinforcement")[0]
    method = config.method
    assert method is not None and method.reinforcement is not None  # switch_method made it reinforcement
    block = method.reinforcement.model_copy(update=fields)
    return config.model_copy(update={"method": method.model_copy(update={"reinforcement": block})})


def switch_method(config: JobConfig, method: str, stash_grader=None) -> tuple[JobConfig, list[str], object]:
    """The config under another method, keeping what carries over.

    Returns (new config, what was dropped in words, the grader set aside — or None). Shared
    hyperparameters (batch_size, learning_rate_multiplier, n_epochs) carry over; a grader is set
    aside when leaving reinforcement and `stash_grader` is restored when coming back.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    old_type = config.method_type
    old_block = getattr(config.method, old_type, None) if config.method else None
    old_hp = getattr(old_block, "hyperparameters", None)
    block = method_block(method, grader=stash_grader if method == "reinforcement" else None)
    new_block = getattr(block, method)
    dropped: list[str] = []
    aside = None
    if old_hp is not None:
        keep, new_fields = {}, type(new_block.hyperparameters).model_fields
        for name, value in old_hp.model_dump().items():
            if name in new_fields:
                keep[name] = value
            elif value not in ("auto", "default"):
                dropped.append(f"{name} = {value} ({old_type} only)")
        new_block = new_block.model_copy(update={"hyperparameters": new_block.hyperparameters.model_copy(update=keep)})
    if old_type == "reinforcement" and method != "reinforcement" and config.grader is not None:
        aside = config.grader
        dropped.append(f"the grader tree '{aside.name}' (set aside: switching back to reinforcement restores it)")
        if isinstance(old_block, ReinforcementMethod) and old_block.response_format is not None:
            dropped.append("response_format")
    new_method = Method(type=method, **{method: new_block})
    return config.model_copy(update={"method": new_method}), dropped, aside
