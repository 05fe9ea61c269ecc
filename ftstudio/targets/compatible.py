"""compatible: any other server that takes OpenAI's fine-tuning API; OpenAI's rules, softened where
only OpenAI's own service is known to refuse."""

from __future__ import annotations

from ftstudio.graders import as_is

from ._target import Target

TARGET = Target(
    name="compatible", title="OpenAI-compatible server", order=40, about="a server that takes OpenAI's API",
    graders={t: as_is for t in ("string_check", "text_similarity", "score_model", "label_model", "python", "multi")},
)
