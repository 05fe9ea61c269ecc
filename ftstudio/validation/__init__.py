"""Validation: check(config) and check_grader(grader) return Issues and never raise; loading JSON into models."""

from __future__ import annotations

from ftstudio.core import Issue

from ._check import GRADER_PATH, as_data, blocks_grading, check, check_grader, errors
from ._loading import from_json, grader_from_json

__all__ = ['Issue', 'GRADER_PATH', 'as_data', 'blocks_grading', 'check', 'check_grader', 'errors', 'from_json', 'grader_from_json']
