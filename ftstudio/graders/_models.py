"""The pieces grader models share, named as the API names them (facts §7): the base class of every
grader model and the content blocks and messages of model graders.

Each grader type's model lives in its own module (`graders/types/`); the `Grader` union is built
from the registered types (`graders/types/_registry.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from ._light import Field, LightModel

IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
MESSAGE_ROLES = ("user", "assistant", "system", "developer")
SCORE_MODEL_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
PYTHON_IMAGE_TAGS = ("2025-05-08", "alpha")

class StrictModel(LightModel):
    """A model that refuses keys it does not declare (pydantic's extra="forbid"). Not a pydantic model: a grader
    that fits is validated without importing pydantic (graders/_light.py, issue 23, start-up)."""

    model_config = {"extra": "forbid"}


class GraderModel(StrictModel):
    """The base of every grader model. Each subclass declares `type: Literal["<its type>"]` first and
    `name: str | None` second (the order export writes them in)."""

    if TYPE_CHECKING:  # fields every subclass declares; here only for the type checker
        # A str: each subclass narrows it to its Literal, which pyright allows only from Any
        # (a mutable attribute's type is invariant).
        type: Any
        name: str | None


# --- content blocks of model-grader messages ---------------------------------------------

class InputText(StrictModel):
    type: Literal["input_text"] = "input_text"
    text: str


class OutputText(StrictModel):
    type: Literal["output_text"] = "output_text"
    text: str


class InputImage(StrictModel):
    type: Literal["input_image"] = "input_image"
    # The spec's own examples send "file_id": null beside image_url (both nullable in Azure's spec).
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["high", "low", "auto"] | None = None


class AudioData(StrictModel):
    data: str = Field(description="Base64-encoded audio, or a template such as {{ item.audio }}")
    format: Literal["mp3", "wav"]


class InputAudio(StrictModel):
    type: Literal["input_audio"] = "input_audio"
    input_audio: AudioData


ContentBlock = Annotated[InputText | OutputText | InputImage | InputAudio, Field(discriminator="type")]
Content = str | ContentBlock | list[str | ContentBlock]


class InputMessage(StrictModel):
    role: Literal["user", "assistant", "system", "developer"]
    content: Content
    type: Literal["message"] | None = None


class SamplingParams(StrictModel):
    seed: int | None = None
    top_p: int | float | None = None
    temperature: int | float | None = None
    max_completions_tokens: Annotated[int, Field(ge=1)] | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = None


