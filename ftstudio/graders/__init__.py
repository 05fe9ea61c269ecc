"""Grader models, template rendering, tree edits and the formula language of multi graders."""

from __future__ import annotations

from . import _templates as templates
from . import formula
from . import _tree as tree
from ._columns import render_column, render_one
from ._models import (
    AudioData, GRADER_TYPES, Grader, GraderRoot, InputAudio, InputImage, InputMessage, InputText, LabelModelGrader, MESSAGE_ROLES, MultiGrader, OutputText, PYTHON_IMAGE_TAGS, PythonGrader, SCORE_MODEL_EFFORTS, SamplingParams, ScoreModelGrader, StringCheckGrader, TextSimilarityGrader, parse_grader, template_fields, walk,
)
from ._templates import RenderError, SAMPLE_FIELDS, Sample, parse, render

__all__ = ['formula', 'AudioData', 'GRADER_TYPES', 'Grader', 'GraderRoot', 'InputAudio', 'InputImage', 'InputMessage', 'InputText', 'LabelModelGrader', 'MESSAGE_ROLES', 'MultiGrader', 'OutputText', 'PYTHON_IMAGE_TAGS', 'PythonGrader', 'RenderError', 'SAMPLE_FIELDS', 'SCORE_MODEL_EFFORTS', 'Sample', 'SamplingParams', 'ScoreModelGrader', 'StringCheckGrader', 'TextSimilarityGrader', 'parse', 'parse_grader', 'render', 'render_column', 'render_one', 'template_fields', 'templates', 'tree', 'walk']
