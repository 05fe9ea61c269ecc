"""Hyperparameter declarations: bounds, default and help live here once.

Every hyperparameter of `method.*.hyperparameters` is `"auto"` or a number within documented
bounds (facts §3). An explicit `null` means "not set": the platform picks, as with "auto" (OpenAI's
types make every one nullable and Azure's notebooks created jobs with `n_epochs: None`), so the typed
value is the default; exports keep the null as written (config.as_written). The UI generates its widgets from `HyperParam` metadata and validation
builds its messages from it, so neither repeats a bound.
"""

# The models' field types are built from the HyperParam specs (`_field(SPEC)`), so each bound lives once;
# pydantic evaluates those calls, a static checker cannot.
# pyright: reportInvalidTypeForm=false

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ftstudio.core.records import datarecord

AUTO = "auto"


@datarecord(frozen=True)
class HyperParam:
    """Metadata of one hyperparameter, attached to the pydantic field."""

    name: str
    kind: Literal["int", "float", "choice"]
    help: str
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    step: float = 1
    choices: tuple[str, ...] = ()
    allows_auto: bool = True
    default: Any = AUTO
    # A sensible number to start from when the user switches "auto" off.
    suggested: float | str | None = None

    def describe(self) -> str:
        """The allowed values in words, for messages and widget help."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c).replace("'", '"') for c in self.choices)
        what = "an integer" if self.kind == "int" else "a number"
        parts = []
        if self.ge is not None:
            parts.append(f">= {_fmt(self.ge)}")
        if self.gt is not None:
            parts.append(f"> {_fmt(self.gt)}")
        if self.le is not None:
            parts.append(f"<= {_fmt(self.le)}")
        bounds = " and ".join(parts)
        text = f"{what} {bounds}".strip()
        if self.kind == "int" and self.ge is not None and self.le is not None:
            text = f"an integer from {_fmt(self.ge)} to {_fmt(self.le)}"
        return f'"auto" or {text}' if self.allows_auto else text

    def coerce(self, value: Any) -> Any:
        """Accept exactly what the API accepts; raise ValueError with a complete message."""
        if value is None:
            return self.default  # null is "not set": what the platform picks (auto, or "default")
        if self.allows_auto and value == AUTO:
            return AUTO
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueError(f"{self.name} must be {self.describe()} (got {_show(value)})")
        # bool is an int subclass in Python but never a number in JSON.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{self.name} must be {self.describe()} (got {_show(value)})")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{self.name} must be {self.describe()} (got {_show(value)})")
        if self.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(f"{self.name} must be {self.describe()} (got {_show(value)})")
                value = int(value)
        else:
            value = float(value)
        if (
            (self.ge is not None and value < self.ge)
            or (self.gt is not None and value <= self.gt)
            or (self.le is not None and value > self.le)
        ):
            raise ValueError(f"{self.name} must be {self.describe()} (got {_show(value)})")
        return value


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else '"' + value[:40] + '"'
    return text if len(text) <= 60 else text[:57] + "..."


def _field(spec: HyperParam):
    """The pydantic annotation for a hyperparameter: auto-or-number, checked by `spec.coerce`."""
    if spec.kind == "choice":
        number: Any = Literal[spec.choices]  # type: ignore[valid-type]
    else:
        base = int if spec.kind == "int" else float
        number = Annotated[base, Field(ge=spec.ge, gt=spec.gt, le=spec.le)]
    inner = Literal["auto"] | number if spec.allows_auto else number
    inner = inner | None  # for the JSON Schema: null is accepted (and read as the default)
    return Annotated[
        inner,
        BeforeValidator(spec.coerce),
        Field(description=spec.help, json_schema_extra={"x-ftstudio": _meta(spec)}),
        spec,
    ]


def _meta(spec: HyperParam) -> dict[str, Any]:
    return {k: v for k, v in {"kind": spec.kind, "step": spec.step, "suggested": spec.suggested}.items() if v is not None}


N_EPOCHS = HyperParam(
    "n_epochs", "int", ge=1, le=50, suggested=3,
    help="Full passes over the training file. Raise by 1-2 if the model underfits (doesn't follow "
    "the training examples); lower by 1-2 if its outputs lose diversity or it overfits. "
    "\"auto\" picks a value from the dataset size.",
)
BATCH_SIZE = HyperParam(
    "batch_size", "int", ge=1, le=256, suggested=8,
    help="Examples per gradient update. Larger batches update less often with lower variance "
    "(smoother, slower to adapt); smaller batches update more often and noisier.",
)
LEARNING_RATE_MULTIPLIER = HyperParam(
    "learning_rate_multiplier", "float", gt=0, step=0.1, suggested=1.0,
    help="Scales the base learning rate. Raise it if training does not converge; lower it to "
    "avoid overfitting or instability.",
)
BETA = HyperParam(
    "beta", "float", gt=0, le=2, step=0.05, suggested=0.1,
    help="DPO only. Higher beta keeps the model closer to its pre-DPO behaviour; lower beta "
    "follows the preference pairs more aggressively.",
)
COMPUTE_MULTIPLIER = HyperParam(
    "compute_multiplier", "float", gt=0.00001, le=10, step=0.1, suggested=1.0,
    help="RFT only. Compute spent exploring the search space during training. Higher explores "
    "more (costs more); lower is cheaper and faster. Azure's UI suggests 0.5-3.0.",
)
EVAL_INTERVAL = HyperParam(
    "eval_interval", "int", ge=1, suggested=1,
    help="RFT only. Training steps between evaluation runs. Lower gives finer validation curves "
    "and more checkpoints to pick from, at more grading cost.",
)
EVAL_SAMPLES = HyperParam(
    "eval_samples", "int", ge=1, suggested=5,
    help="RFT only. Samples generated per validation example at each eval step. More samples "
    "give steadier validation rewards, at more grading cost.",
)
REASONING_EFFORT = HyperParam(
    "reasoning_effort", "choice", choices=("default", "low", "medium", "high"),
    allows_auto=False, default="default",
    help="RFT only. How much the model reasons while sampling during training. Higher can help "
    "hard tasks at the cost of longer, pricier samples. \"default\" lets the platform decide.",
)

_Base = ConfigDict(extra="forbid", defer_build=True)  # built on first use (issue 23, start-up)


class SupervisedHyperparameters(BaseModel):
    model_config = _Base
    batch_size: _field(BATCH_SIZE) = BATCH_SIZE.default
    learning_rate_multiplier: _field(LEARNING_RATE_MULTIPLIER) = LEARNING_RATE_MULTIPLIER.default
    n_epochs: _field(N_EPOCHS) = N_EPOCHS.default


class DpoHyperparameters(BaseModel):
    model_config = _Base
    batch_size: _field(BATCH_SIZE) = BATCH_SIZE.default
    beta: _field(BETA) = BETA.default
    learning_rate_multiplier: _field(LEARNING_RATE_MULTIPLIER) = LEARNING_RATE_MULTIPLIER.default
    n_epochs: _field(N_EPOCHS) = N_EPOCHS.default


class ReinforcementHyperparameters(BaseModel):
    model_config = _Base
    batch_size: _field(BATCH_SIZE) = BATCH_SIZE.default
    compute_multiplier: _field(COMPUTE_MULTIPLIER) = COMPUTE_MULTIPLIER.default
    eval_interval: _field(EVAL_INTERVAL) = EVAL_INTERVAL.default
    eval_samples: _field(EVAL_SAMPLES) = EVAL_SAMPLES.default
    learning_rate_multiplier: _field(LEARNING_RATE_MULTIPLIER) = LEARNING_RATE_MULTIPLIER.default
    n_epochs: _field(N_EPOCHS) = N_EPOCHS.default
    reasoning_effort: _field(REASONING_EFFORT) = REASONING_EFFORT.default


class LegacyHyperparameters(BaseModel):
    """The deprecated top-level `hyperparameters` block (supervised only)."""

    model_config = _Base
    batch_size: _field(BATCH_SIZE) = BATCH_SIZE.default
    learning_rate_multiplier: _field(LEARNING_RATE_MULTIPLIER) = LEARNING_RATE_MULTIPLIER.default
    n_epochs: _field(N_EPOCHS) = N_EPOCHS.default


HYPERPARAMETER_MODELS: dict[str, type[BaseModel]] = {
    "supervised": SupervisedHyperparameters,
    "dpo": DpoHyperparameters,
    "reinforcement": ReinforcementHyperparameters,
}


def specs(model: type[BaseModel]) -> list[HyperParam]:
    """The HyperParam metadata of each field of a hyperparameters model, in field order."""
    out = []
    for field in model.model_fields.values():
        spec = next((m for m in field.metadata if isinstance(m, HyperParam)), None)
        if spec is not None:
            out.append(spec)
    return out


def spec_by_name(name: str) -> HyperParam | None:
    for model in (*HYPERPARAMETER_MODELS.values(), LegacyHyperparameters):
        for spec in specs(model):
            if spec.name == name:
                return spec
    return None


def methods_taking(name: str) -> list[str]:
    """Which methods accept a hyperparameter, for 'belongs to another method' messages."""
    return [m for m, model in HYPERPARAMETER_MODELS.items() if name in model.model_fields]
