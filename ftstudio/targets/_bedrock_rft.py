"""Target bedrock-rft: Bedrock's native reinforcement fine-tuning job, with the tree as its reward Lambda.

`CreateModelCustomizationJob` (botocore 1.44.18, bedrock 2023-04-20) with customizationType
REINFORCEMENT_FINE_TUNING and `customizationConfig.rftConfig`: `graderConfig.lambdaGrader.lambdaArn`
and `hyperParameters` (RFTHyperParameters, bounds in RFT_HYPERPARAMETERS below). The Lambda is
`ftstudio.reward.bedrock.lambda_handler` over the grader tree, so every grader type translates
(the Lambda runs ftstudio's engine); what changes is the job around it: hyperparameters without an
equivalent, the base model, the data's shape.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from ftstudio.config import HyperParam, catalog
from ftstudio.core.records import datarecord, field

from ._translation import Change

TARGET = "bedrock-rft"
CUSTOMIZATION_TYPE = "REINFORCEMENT_FINE_TUNING"
# RFTHyperParameters: names and bounds as botocore's service model has them (a test compares).
RFT_HYPERPARAMETERS: tuple[HyperParam, ...] = (
    HyperParam("epochCount", "int", "Passes over the training data.", ge=1, le=50, allows_auto=False, default=None),
    HyperParam("batchSize", "int", "Prompts per training step.", ge=16, le=512, allows_auto=False, default=None),
    HyperParam("learningRate", "float", "The optimizer's learning rate (absolute, not a multiplier).", ge=1e-7,
               le=1e-3, step=1e-7, allows_auto=False, default=None),
    HyperParam("maxPromptLength", "int", "Longest prompt in tokens (the service model sets no bound).",
               allows_auto=False, default=None),
    HyperParam("trainingSamplePerPrompt", "int", "Responses sampled per prompt (the group the rewards compare).",
               ge=2, le=16, allows_auto=False, default=None),
    HyperParam("inferenceMaxTokens", "int", "Longest sampled response in tokens (no bound in the service model).",
               allows_auto=False, default=None),
    HyperParam("reasoningEffort", "choice", "How much the model reasons before answering.",
               choices=("low", "medium", "high"), allows_auto=False, default=None),
    HyperParam("evalInterval", "int", "Training steps between validation runs.", ge=1, le=100, allows_auto=False,
               default=None),
)
BY_NAME = {h.name: h for h in RFT_HYPERPARAMETERS}
# OpenAI's reinforcement hyperparameters -> Bedrock's (None: no equivalent, the value is dropped).
EQUIVALENT: dict[str, str | None] = {
    "n_epochs": "epochCount",
    "batch_size": "batchSize",
    "eval_interval": "evalInterval",
    "reasoning_effort": "reasoningEffort",
    "learning_rate_multiplier": None,
    "compute_multiplier": None,
    "eval_samples": None,
    "seed": None,
}
_JOB_NAME = re.compile(r"[^a-zA-Z0-9+.\-]+")
LAMBDA_FILE = "lambda_function.py"
REQUEST_FILE = "create_model_customization_job.json"


class BedrockRftError(ValueError):
    """The job can't be written (no base model Bedrock offers for RFT, and none given)."""


@datarecord
class BedrockRftExport:
    request: dict[str, Any]
    files: dict[str, str]  # relative path -> text: the request and the Lambda package
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def rft_models() -> list[str]:
    return [m.id for m in catalog.fine_tunable("reinforcement", TARGET)]


def base_model(config: dict, given: str | None) -> tuple[str, list[str]]:
    """(the base model identifier, warnings); BedrockRftError naming the offered models when none fits."""
    offered = rft_models()
    if given:
        known = catalog.lookup(given, TARGET) is not None and catalog.is_known(given, TARGET)
        return given, ([] if known else [f"--base-model {given} is not in the table of models Bedrock offers for "
                                         f"reinforcement fine-tuning ({', '.join(offered)}); using it as given"])
    raw = config.get("model")
    model = raw if isinstance(raw, str) else ""
    info = catalog.lookup(model, TARGET) if model else None
    if info is not None and catalog.is_known(model, TARGET) and "reinforcement" in info.methods:
        return info.id, []
    raise BedrockRftError(f"the config's model {model or '(none)'!r} is not a model Bedrock offers for reinforcement "
                          f"fine-tuning; give one with --base-model ({', '.join(offered)})")


def job_name(config: dict, given: str | None) -> str:
    """--job-name, else the config's suffix (or "ftstudio-rft") and a short hash of the config."""
    if given:
        return given
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:8]
    stem = _JOB_NAME.sub("-", str(config.get("suffix") or "ftstudio-rft")).strip("-+.") or "ftstudio-rft"
    return f"{stem[:54]}-{digest}"


def _dict(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _rft_block(config: dict) -> dict[str, Any]:
    return _dict(_dict(config, "method"), "reinforcement")


def hyperparameters(config: dict) -> tuple[dict[str, Any], list[Change]]:
    """RFTHyperParameters from method.reinforcement.hyperparameters, and what has no equivalent."""
    ours = _dict(_rft_block(config), "hyperparameters")
    out: dict[str, Any] = {}
    changes = []
    base = "method.reinforcement.hyperparameters"
    for name, value in ours.items():
        where = f"{base}.{name}"
        if value in ("auto", "default") or value is None:  # the service's default either way
            continue
        target = EQUIVALENT.get(name)
        if target is None:
            changes.append(Change(where, "bedrock_rft_hyperparameter", f"{name} has no equivalent in Bedrock's "
                                  "RFTHyperParameters; dropped", "Bedrock's defaults apply" if name != "learning_"
                                  "rate_multiplier" else "set learningRate yourself (an absolute rate, 1e-7..1e-3)"))
            continue
        try:
            out[target] = BY_NAME[target].coerce(value)
        except ValueError as exc:
            changes.append(Change(where, "bedrock_rft_hyperparameter", f"{name} {value!r} → {target}: {exc}; dropped",
                                  "Bedrock's default applies"))
            continue
        changes.append(Change(where, "bedrock_rft_renamed", f"{name} → {target}", lost=False))
    return out, changes


def config_changes(config: dict) -> list[Change]:
    """What `validate --target bedrock-rft` reports: the base model, hyperparameters and job fields."""
    out = []
    model = config.get("model")
    if isinstance(model, str) and model:
        try:
            base_model(config, None)
        except BedrockRftError as exc:
            out.append(Change("model", "bedrock_rft_model_unlisted", str(exc), "pass --base-model to the export"))
    return out + hyperparameters(config)[1] + job_changes(config)


def request(config: dict, *, role_arn: str, lambda_arn: str, training_s3: str, output_s3: str,
            validation_s3: str | None = None, job: str | None = None, model: str | None = None
            ) -> tuple[dict[str, Any], list[Change], list[str]]:
    base, warnings = base_model(config, model)
    hyper, changes = hyperparameters(config)
    name = job_name(config, job)
    rft: dict[str, Any] = {"graderConfig": {"lambdaGrader": {"lambdaArn": lambda_arn}}}
    if hyper:
        rft["hyperParameters"] = hyper
    body: dict[str, Any] = {
        "jobName": name, "customModelName": name, "roleArn": role_arn, "baseModelIdentifier": base,
        "customizationType": CUSTOMIZATION_TYPE, "trainingDataConfig": {"s3Uri": training_s3},
        "outputDataConfig": {"s3Uri": output_s3}, "customizationConfig": {"rftConfig": rft},
    }
    if validation_s3:
        body["validationDataConfig"] = {"validators": [{"s3Uri": validation_s3}]}
    return body, changes + job_changes(config), warnings


def job_changes(config: dict) -> list[Change]:
    """The job fields Bedrock's request has no place for, and how the data must look."""
    out = []
    for key, message in (("training_file", "an OpenAI file id; the job reads --training-s3"),
                         ("validation_file", "an OpenAI file id; the job reads --validation-s3"),
                         ("suffix", "names the job (jobName, customModelName) instead of the model"),
                         ("seed", "RFTHyperParameters has no seed"), ("metadata", "use jobTags for bookkeeping"),
                         ("integrations", "Bedrock has no W&B integration")):
        if config.get(key) not in (None, "", {}, []):
            out.append(Change(key, "bedrock_rft_job_field", message, lost=key in ("seed", "integrations",
                                                                                               "metadata")))
    block = _rft_block(config)
    for key in ("response_format", "tools", "max_episode_steps"):
        if block.get(key) is not None:
            out.append(Change(f"method.reinforcement.{key}", "bedrock_rft_job_field",
                              f"{key} has no place in Bedrock's RFT job; dropped"))
    out.append(Change("method.reinforcement.grader", "bedrock_rft_lambda", "the grader runs in the reward Lambda "
                      "(DIR/lambda: ftstudio's engine, the same rewards as `ftstudio grade`); it answers "
                      "[{\"id\", \"aggregate_reward_score\", \"metrics_list\"}] as AWS documents",
                      "model graders need OPENAI_API_KEY (and OPENAI_BASE_URL) in the Lambda's environment; raise its "
                      "timeout (up to 15 minutes)", lost=False))
    out.append(Change("", "bedrock_rft_data", "each training row must carry the grader's item as reference_answer "
                      "(an object; any other value is read as {\"reference_answer\": value})",
                      "rows shaped {\"messages\", \"reference_answer\": {...item}}", lost=False))
    return out


LAMBDA_SOURCE = '''"""Bedrock reinforcement fine-tuning reward function: the grader tree in grader.json, scored by ftstudio.

Written by `ftstudio export --format bedrock-rft`. Bedrock invokes lambda_handler(event, context) with a
list of samples, each the training row with the generated assistant turn appended and an "id"; it answers
one {"id", "aggregate_reward_score", "metrics_list"} per sample (ftstudio.reward.bedrock has the details).
Package this folder with ftstudio installed into it: pip install --target . -r requirements.txt
"""

import os

os.environ.setdefault("FTSTUDIO_GRADER", os.path.join(os.path.dirname(os.path.abspath(__file__)), "grader.json"))

from ftstudio.reward.bedrock import lambda_handler  # noqa: E402

__all__ = ["lambda_handler"]
'''


def lambda_files(grader: Any) -> dict[str, str]:
    """DIR/lambda/: the handler, the grader it scores with, and what to install beside it."""
    return {
        f"lambda/{LAMBDA_FILE}": LAMBDA_SOURCE,
        "lambda/grader.json": json.dumps(grader, indent=2, ensure_ascii=False) + "\n",
        "lambda/requirements.txt": "# ftstudio (this project) and its dependencies; model graders also need\n"
                                   "# OPENAI_API_KEY / OPENAI_BASE_URL in the function's environment.\nftstudio\n",
    }


def export_bedrock_rft(config: dict, grader: Any, **flags: Any) -> BedrockRftExport:
    """The request and the Lambda package for a job config (JSON form) whose grader (JSON form) is `grader`."""
    body, changes, warnings = request(config, **flags)
    files = {REQUEST_FILE: json.dumps(body, indent=2, ensure_ascii=False) + "\n", **lambda_files(grader)}
    return BedrockRftExport(body, files, changes, warnings)
