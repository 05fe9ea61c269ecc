"""Grader models, template rendering, tree edits and the formula language of multi graders."""

from __future__ import annotations

from . import _templates as templates
from . import _tree as tree
from . import formula
from ._columns import render_column, render_one
from ._models import (
    GRADER_CLASSES,
    GRADER_TYPES,
    MESSAGE_ROLES,
    PYTHON_IMAGE_TAGS,
    REMOTE_GRADER_TYPES,
    SCORE_MODEL_EFFORTS,
    AudioData,
    EndpointGrader,
    Grader,
    GraderRoot,
    InputAudio,
    InputImage,
    InputMessage,
    InputText,
    LabelModelGrader,
    LambdaFunction,
    LambdaGrader,
    MultiGrader,
    OutputText,
    PythonGrader,
    SamplingParams,
    ScoreModelGrader,
    StringCheckGrader,
    TextSimilarityGrader,
    label,
    parse_grader,
    template_fields,
    walk,
)
from ._templates import SAMPLE_FIELDS, RenderError, Sample, parse, render

__all__ = ['formula', 'EndpointGrader', 'GRADER_CLASSES', 'LambdaFunction', 'LambdaGrader', 'REMOTE_GRADER_TYPES', 'label', 'AudioData', 'GRADER_TYPES', 'Grader', 'GraderRoot', 'InputAudio', 'InputImage', 'InputMessage', 'InputText', 'LabelModelGrader', 'MESSAGE_ROLES', 'MultiGrader', 'OutputText', 'PYTHON_IMAGE_TAGS', 'PythonGrader', 'RenderError', 'SAMPLE_FIELDS', 'SCORE_MODEL_EFFORTS', 'Sample', 'SamplingParams', 'ScoreModelGrader', 'StringCheckGrader', 'TextSimilarityGrader', 'parse', 'parse_grader', 'render', 'render_column', 'render_one', 'template_fields', 'templates', 'tree', 'walk']
