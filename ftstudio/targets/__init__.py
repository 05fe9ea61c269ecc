"""Targets a grader tree is exported to beyond OpenAI's job body: Gemini's reward config, Bedrock's RFT job.

Each target translates one grader type at a time (`TRANSLATIONS` of the target's module), or answers
`Unavailable(reason, rule)`, whose rule is in the validation registry with its evidence. `Change` is
one line of what an export loses or changes.
"""

from __future__ import annotations

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
from ._translation import Affine, Change, RewardRange, Unavailable, onto, reward_range

__all__ = [
    "LAMBDA_FILE", "REQUEST_FILE", "RFT_HYPERPARAMETERS", "BedrockRftError", "BedrockRftExport", "bedrock_rft_changes", "bedrock_rft_hyperparameters",
    "export_bedrock_rft",
    "rft_models", "CLOUD_RUN_PLACEHOLDER", "GEMINI_TRANSLATIONS", "Affine", "Change", "GeminiExport", "GeminiRow", "GeminiRowError",
    "Part", "RewardRange", "gemini_job_changes", "Unavailable", "evaluate_snippet", "export_gemini", "gemini_row", "gemini_runtime", "onto",
    "re2_escape", "reward_range",
]
