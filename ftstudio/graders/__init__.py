"""Grader models, template rendering, tree edits and the formula language of multi graders.

Each grader type is one module of `types` (its model, default node, scorer, checks, row explanation
and probe fix hint); the tables below (GRADER_TYPES, GRADER_CLASSES, MODEL_TYPES, the Grader union)
are derived from that registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftstudio.core import LazyFace

if TYPE_CHECKING:
    from . import _templates as templates
    from . import _tree as tree
    from . import formula, metrics, types
    from ._columns import render_column, render_one
    from ._grader import (
        GRADER_CLASSES,
        GRADER_TYPES,
        MODEL_TYPES,
        REMOTE_GRADER_TYPES,
        label,
        parse_grader,
        template_fields,
        walk,
    )
    from ._light import LightModel, is_model, validation_error
    from ._models import (
        MESSAGE_ROLES,
        PYTHON_IMAGE_TAGS,
        SCORE_MODEL_EFFORTS,
        AudioData,
        GraderModel,
        InputAudio,
        InputImage,
        InputMessage,
        InputText,
        OutputText,
        SamplingParams,
    )
    from ._root import GraderRoot
    from ._templates import SAMPLE_FIELDS, RenderError, Sample, parse, render, sample_dicts
    from .types import (
        Grader,
        GraderType,
        GraderUnion,
        ModelGraderModel,
        PairScore,
        Scored,
        ScoringContext,
        Translation,
        Translator,
        UnknownGraderType,
        as_is,
        build_requests,
        facet_gaps,
        find,
        grader_type,
        grader_types,
        interpret,
        is_cancelled,
        response_format,
        sampling_kwargs,
    )
    from .types.endpoint import EndpointGrader
    from .types.label_model import LabelModelGrader
    from .types.lambda_ import LambdaFunction, LambdaGrader
    from .types.multi import MultiGrader, error_reward
    from .types.python import PYTHON_STUB, PythonGrader, pool_results
    from .types.score_model import ScoreModelGrader
    from .types.string_check import StringCheckGrader
    from .types.text_similarity import TextSimilarityGrader

# Each name is imported from its module when first used: grading one string_check row needs the registry and
# one model, not the formula language, the metrics or the tree edits (issue 23, start-up).
_FACE = LazyFace(__name__, {
    "_columns": ("render_column", "render_one"),
    "_grader": ("GRADER_CLASSES", "GRADER_TYPES", "MODEL_TYPES", "REMOTE_GRADER_TYPES", "label",
                "parse_grader", "template_fields", "walk"),
    "_light": ("LightModel", "is_model", "validation_error"),
    "_root": ("GraderRoot",),
    "_models": ("MESSAGE_ROLES", "PYTHON_IMAGE_TAGS", "SCORE_MODEL_EFFORTS", "AudioData", "GraderModel", "InputAudio",
                "InputImage", "InputMessage", "InputText", "OutputText", "SamplingParams"),
    "_templates": ("SAMPLE_FIELDS", "RenderError", "Sample", "parse", "render", "sample_dicts"),
    "types": ("Grader", "GraderType", "GraderUnion", "ModelGraderModel", "PairScore", "Scored", "ScoringContext", "Translation",
              "Translator", "UnknownGraderType", "as_is", "build_requests", "facet_gaps", "find", "grader_type",
              "grader_types", "interpret", "is_cancelled", "response_format", "sampling_kwargs"),
    "types.endpoint": ("EndpointGrader",),
    "types.label_model": ("LabelModelGrader",),
    "types.lambda_": ("LambdaFunction", "LambdaGrader"),
    "types.multi": ("MultiGrader", "error_reward"),
    "types.python": ("PYTHON_STUB", "PythonGrader", "pool_results"),
    "types.score_model": ("ScoreModelGrader",),
    "types.string_check": ("StringCheckGrader",),
    "types.text_similarity": ("TextSimilarityGrader",),
}, {"templates": "_templates", "tree": "_tree", "formula": "formula", "metrics": "metrics", "types": "types"})


def __getattr__(name: str) -> object:
    return _FACE.get(name, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AudioData", "EndpointGrader", "GRADER_CLASSES", "GRADER_TYPES", "Grader", "GraderModel", "GraderRoot",
    "GraderType", "GraderUnion", "InputAudio", "InputImage", "InputMessage", "InputText", "LabelModelGrader", "LambdaFunction",
    "LambdaGrader", "LightModel", "MESSAGE_ROLES", "MODEL_TYPES", "ModelGraderModel", "MultiGrader", "OutputText", "PairScore", "PYTHON_IMAGE_TAGS", "PYTHON_STUB", "PythonGrader",
    "REMOTE_GRADER_TYPES", "RenderError", "SAMPLE_FIELDS", "SCORE_MODEL_EFFORTS", "Sample", "SamplingParams",
    "ScoreModelGrader", "Scored", "ScoringContext", "StringCheckGrader", "TextSimilarityGrader", "Translation", "Translator",
    "UnknownGraderType", "as_is", "build_requests", "error_reward", "facet_gaps", "find", "formula", "grader_type", "grader_types",
    "interpret", "is_cancelled", "is_model", "label", "metrics", "parse", "parse_grader", "pool_results", "render", "render_column", "render_one",
    "response_format", "sample_dicts", "sampling_kwargs", "template_fields", "templates", "tree", "types", "validation_error", "walk",
]
