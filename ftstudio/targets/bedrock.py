"""bedrock: Amazon Bedrock's OpenAI-compatible fine-tuning jobs API.

Bedrock documents only lambda graders (rule bedrock_grader_type); the OpenAI grader types are passed
as written, since nothing documents that it refuses them.
"""

from __future__ import annotations

from ftstudio.graders import as_is

from ._target import Target

TARGET = Target(
    name="bedrock", title="Amazon Bedrock (OpenAI-compatible jobs)", order=30,
    about="Amazon Bedrock's OpenAI-compatible fine-tuning jobs API",
    graders={t: as_is for t in ("string_check", "text_similarity", "score_model", "label_model", "python", "multi")},
)
