"""Targets: the platforms a grader tree is validated for and exported to, one module each.

A target module (`openai.py`, `azure.py`, ...) declares `TARGET = Target(name=..., title=..., order=...,
about=..., graders={...})`: for each grader type, either a translation (a function `(node, target)` ->
what the platform takes; `as_is` when it takes the OpenAI body unchanged) or
`Unavailable(reason, rule)`, "not available here, because ...", whose rule (in `validation.RULES`,
or in the target's own `rules`, with its evidence) decides the severity validation reports it with.
A grader type's module may declare its own pairs instead (`GraderType.targets`), so that a new type
is one file. Every (target, type) pair is declared exactly once: `gaps()` lists those that are not,
and a test fails on any.

Add a target: write `ftstudio/targets/<name>.py` (named after the target, "-" written "_") with its TARGET
(the registry imports it when the target is first named, and every module here when all targets are listed),
give its rules a severity for the new target name (`validation/_rules.py`), and see docs/architecture.md,
"Add a target".

Beyond OpenAI's job body: Gemini's reward config (`gemini.py`, built by `_gemini*.py`) and Bedrock's
RFT job (`bedrock_rft.py`, built by `_bedrock_rft.py`). `Change` is one line of what an export loses
or changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftstudio.core import LazyFace

from ._target import Target

if TYPE_CHECKING:
    from ftstudio.core import Unavailable
    from ftstudio.graders import Translation, as_is

    from . import _gemini_runtime as gemini_runtime
    from ._bedrock_rft import (
        LAMBDA_FILE,
        REQUEST_FILE,
        RFT_HYPERPARAMETERS,
        BedrockRftError,
        BedrockRftExport,
        export_bedrock_rft,
        rft_models,
    )
    from ._bedrock_rft import (
        config_changes as bedrock_rft_changes,
    )
    from ._bedrock_rft import (
        hyperparameters as bedrock_rft_hyperparameters,
    )
    from ._gemini import CLOUD_RUN_PLACEHOLDER, GeminiExport, Part, export_gemini
    from ._gemini_data import GeminiRow, GeminiRowError, gemini_row
    from ._gemini_job import job_changes as gemini_job_changes
    from ._gemini_types import TRANSLATIONS as GEMINI_TRANSLATIONS
    from ._gemini_types import evaluate_snippet, re2_escape
    from ._registry import (
        TARGETS,
        UnknownTarget,
        declared_rules,
        gaps,
        is_target,
        target,
        target_names,
        targets,
        translation,
        unavailable_rules,
    )
    from ._target import NotTranslatable, Target
    from ._translation import Affine, Change, RewardRange, onto, reward_range

# Each name is imported from its module when first used: validating for openai needs the registry, not the Gemini
# and Bedrock exports (issue 23, start-up).
_FACE = LazyFace(__name__, {
    "ftstudio.core": ("Unavailable",),
    "ftstudio.graders": ("Translation", "as_is"),
    "_bedrock_rft": ("LAMBDA_FILE", "REQUEST_FILE", "RFT_HYPERPARAMETERS", "BedrockRftError", "BedrockRftExport",
                     "export_bedrock_rft", "rft_models", "config_changes as bedrock_rft_changes",
                     "hyperparameters as bedrock_rft_hyperparameters"),
    "_gemini": ("CLOUD_RUN_PLACEHOLDER", "GeminiExport", "Part", "export_gemini"),
    "_gemini_data": ("GeminiRow", "GeminiRowError", "gemini_row"),
    "_gemini_job": ("job_changes as gemini_job_changes",),
    "_gemini_types": ("TRANSLATIONS as GEMINI_TRANSLATIONS", "evaluate_snippet", "re2_escape"),
    "_registry": ("TARGETS", "UnknownTarget", "declared_rules", "gaps", "is_target", "target", "target_names", "targets",
                  "translation", "unavailable_rules"),
    "_target": ("NotTranslatable", "Target"),
    "_translation": ("Affine", "Change", "RewardRange", "onto", "reward_range"),
}, {"gemini_runtime": "_gemini_runtime"})


def __getattr__(name: str) -> object:
    return _FACE.get(name, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


DEFAULT_TARGET = "openai"


__all__ = [
    "DEFAULT_TARGET", "NotTranslatable", "TARGETS", "Target", "Translation", "Unavailable", "UnknownTarget", "as_is",
    "declared_rules", "gaps", "is_target", "target", "target_names", "targets", "translation", "unavailable_rules",
    "LAMBDA_FILE", "REQUEST_FILE", "RFT_HYPERPARAMETERS", "BedrockRftError", "BedrockRftExport", "bedrock_rft_changes",
    "bedrock_rft_hyperparameters", "export_bedrock_rft", "rft_models", "CLOUD_RUN_PLACEHOLDER", "GEMINI_TRANSLATIONS",
    "Affine", "Change", "GeminiExport", "GeminiRow", "GeminiRowError", "Part", "RewardRange", "gemini_job_changes",
    "evaluate_snippet", "export_gemini", "gemini_row", "gemini_runtime", "onto", "re2_escape", "reward_range",
]
