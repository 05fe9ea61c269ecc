"""openai: OpenAI's fine-tuning API (`POST /v1/fine_tuning/jobs`), the shape every other body starts from.

It takes every OpenAI grader type as written. The provider graders (Azure's endpoint, Bedrock's
lambda) say in their own modules that it doesn't take them.
"""

from __future__ import annotations

from ftstudio.graders import as_is

from ._target import Target

TARGET = Target(
    name="openai", title="OpenAI", order=10, about="OpenAI's fine-tuning API",
    graders={t: as_is for t in ("string_check", "text_similarity", "score_model", "label_model", "python", "multi")},
)
