"""azure: Azure OpenAI / Foundry fine-tuning, the OpenAI body with Azure's deployments and previews.

It takes the OpenAI grader types as written (and, in preview, the endpoint grader: see its module).
"""

from __future__ import annotations

from ftstudio.graders import as_is

from ._target import Target

TARGET = Target(
    name="azure", title="Azure OpenAI / Foundry", order=20, about="Azure OpenAI / Foundry fine-tuning",
    graders={t: as_is for t in ("string_check", "text_similarity", "score_model", "label_model", "python", "multi")},
)
