"""Grader models, named as the API names them (facts §7).

A discriminated union on `type`. `MultiGrader.graders` is a map from a formula variable to a
grader: the HTTP API takes a map even though the SDK types a single grader (facts §7.6). A multi
nested inside a multi is accepted here, because users build such trees and grade them locally;
validation flags it for the API and `flatten()` fixes it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
GRADER_TYPES = ("string_check", "text_similarity", "score_model", "label_model", "python", "multi")
# Provider graders that score remotely: Azure Foundry's endpoint grader, Bedrock's lambda grader.
REMOTE_GRADER_TYPES = ("endpoint", "lambda")
MESSAGE_ROLES = ("user", "assistant", "system", "developer")
SCORE_MODEL_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
PYTHON_IMAGE_TAGS = ("2025-05-08", "alpha")

_forbid = ConfigDict(extra="forbid")


class _Strict(BaseModel):
    model_config = _forbid


# --- content blocks of model-grader messages ---------------------------------------------

class InputText(_Strict):
    type: Literal["input_text"] = "input_text"
    text: str


class OutputText(_Strict):
    type: Literal["output_text"] = "output_text"
    text: str


class InputImage(_Strict):
    type: Literal["input_image"] = "input_image"
    # The spec's own examples send "file_id": null beside image_url (both nullable in Azure's spec).
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["high", "low", "auto"] | None = None


class AudioData(_Strict):
    data: str = Field(description="Base64-encoded audio, or a template such as {{ item.audio }}")
    format: Literal["mp3", "wav"]


class InputAudio(_Strict):
    type: Literal["input_audio"] = "input_audio"
    input_audio: AudioData


ContentBlock = Annotated[InputText | OutputText | InputImage | InputAudio, Field(discriminator="type")]
Content = str | ContentBlock | list[str | ContentBlock]


class InputMessage(_Strict):
    role: Literal["user", "assistant", "system", "developer"]
    content: Content
    type: Literal["message"] | None = None


class SamplingParams(_Strict):
    seed: int | None = None
    top_p: int | float | None = None
    temperature: int | float | None = None
    max_completions_tokens: Annotated[int, Field(ge=1)] | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = None


# --- graders -----------------------------------------------------------------------------

class StringCheckGrader(_Strict):
    type: Literal["string_check"] = "string_check"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    input: str
    reference: str
    operation: Literal["eq", "ne", "like", "ilike"]
    # Accepted and ignored by fine-tuning (rule pass_threshold_ignored); kept so export is lossless.
    pass_threshold: int | float | None = None


class TextSimilarityGrader(_Strict):
    type: Literal["text_similarity"] = "text_similarity"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    input: str
    reference: str
    evaluation_metric: Literal[
        "cosine", "fuzzy_match", "bleu", "gleu", "meteor",
        "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l",
    ]
    pass_threshold: int | float | None = None


class ScoreModelGrader(_Strict):
    type: Literal["score_model"] = "score_model"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    model: str
    input: list[InputMessage]
    # int | float: numbers stay as written (an imported [0, 5] exports as [0, 5], not [0.0, 5.0]).
    range: Annotated[list[int | float], Field(min_length=2, max_length=2)] | None = None
    sampling_params: SamplingParams | None = None
    pass_threshold: int | float | None = None


class LabelModelGrader(_Strict):
    type: Literal["label_model"] = "label_model"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    model: str
    input: list[InputMessage]
    labels: list[str]
    passing_labels: list[str]
    # In the 2025 guide's example, not in the SDK types (facts §7.4); validation warns.
    sampling_params: SamplingParams | None = None
    pass_threshold: int | float | None = None


class PythonGrader(_Strict):
    type: Literal["python"] = "python"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    source: str
    image_tag: str | None = None
    pass_threshold: int | float | None = None


FormulaVariable = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]


class MultiGrader(_Strict):
    type: Literal["multi"] = "multi"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    graders: dict[FormulaVariable, Grader]
    calculate_output: str
    pass_threshold: int | float | None = None
    # Azure's RFT how-to: the reward of a row whose sub-grader errors or whose formula can't be evaluated
    # (0.0 when unset). Only Azure documents it: validation's rule multi_invalid_grade says so per target.
    invalid_grade: float | None = None


class EndpointGrader(_Strict):
    """Azure Foundry's endpoint grader: Azure POSTs {sample, item, trace_id} to url, expects {"score": n}."""

    type: Literal["endpoint"] = "endpoint"
    name: str | None = None
    url: str
    headers: dict[str, str] | None = None
    rate_limit: Annotated[int, Field(ge=1)] | None = None
    pass_threshold: int | float | None = None


class LambdaFunction(_Strict):
    function: str = Field(description="The Lambda function ARN")


class LambdaGrader(_Strict):
    """Bedrock's reward function: {"type": "lambda", "lambda": {"function": ARN}}."""

    type: Literal["lambda"] = "lambda"
    name: str | None = None
    lambda_: LambdaFunction = Field(alias="lambda")
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


Grader = Annotated[
    StringCheckGrader | TextSimilarityGrader | ScoreModelGrader | LabelModelGrader | PythonGrader | MultiGrader
    | EndpointGrader | LambdaGrader,
    Field(discriminator="type"),
]
MultiGrader.model_rebuild()

ModelGrader = ScoreModelGrader | LabelModelGrader
GRADER_CLASSES: dict[str, type[BaseModel]] = {
    "string_check": StringCheckGrader,
    "text_similarity": TextSimilarityGrader,
    "score_model": ScoreModelGrader,
    "label_model": LabelModelGrader,
    "python": PythonGrader,
    "multi": MultiGrader,
    "endpoint": EndpointGrader,
    "lambda": LambdaGrader,
}


def label(grader, key: str | None = None) -> str:
    """A name to show for a grader: its name, else its multi key, else its type (names are optional)."""
    return grader.name or key or grader.type


def walk(grader, path: tuple = ()):
    """Yield (path, grader) for the grader and every descendant, parents first.

    `path` is the tuple of multi keys leading to the node, so callers can build JSON paths.
    """
    yield path, grader
    if isinstance(grader, MultiGrader):
        for key, child in grader.graders.items():
            yield from walk(child, path + (key,))


def template_fields(grader) -> list[tuple[tuple, str]]:
    """The (relative path, template string) pairs of one grader node (not its children).

    Everything the API renders as a template: string_check / text_similarity input and
    reference, and the text of model-grader messages and content blocks.
    """
    out: list[tuple[tuple, str]] = []
    if isinstance(grader, (StringCheckGrader, TextSimilarityGrader)):
        out += [(("input",), grader.input), (("reference",), grader.reference)]
    elif isinstance(grader, (ScoreModelGrader, LabelModelGrader)):
        for i, msg in enumerate(grader.input):
            out += _content_templates(("input", i, "content"), msg.content)
    return out


def _content_templates(base: tuple, content) -> list[tuple[tuple, str]]:
    if isinstance(content, str):
        return [(base, content)]
    if isinstance(content, list):
        out = []
        for j, part in enumerate(content):
            out += _content_templates(base + (j,), part)
        return out
    if isinstance(content, (InputText, OutputText)):
        return [(base + ("text",), content.text)]
    if isinstance(content, InputImage):
        return [(base + ("image_url",), content.image_url)] if content.image_url is not None else []
    if isinstance(content, InputAudio):
        return [(base + ("input_audio", "data"), content.input_audio.data)]
    return []


class GraderRoot(BaseModel):
    """A bare grader wrapped in a model, so pydantic can validate the discriminated union."""

    grader: Grader


def parse_grader(data: Any) -> Grader:
    """The grader model of its JSON form; pydantic's ValidationError if it doesn't fit the schema."""
    return GraderRoot.model_validate({"grader": data}).grader
