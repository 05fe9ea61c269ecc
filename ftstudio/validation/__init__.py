"""Validation: check(config) and check_grader(grader) return Issues and never raise; loading JSON into models."""

from __future__ import annotations

from ftstudio.core import EVIDENCE_KINDS, SOURCES, Evidence, Issue, Rule

from ._check import GRADER_PATH, as_data, blocks_grading, check, check_grader, errors
from ._job_rules import OPENAI_CLOSED, OPENAI_JOBS_CLOSE, openai_closed
from ._loading import Kept, from_json, from_json_keeping, grader_from_json, restore_kept
from ._rules import (
    DEFAULT_TARGET,
    RULES,
    TARGETS,
    check_target,
    resolve,
    rule,
    rules_markdown,
)
from ._schema_issues import did_you_mean

__all__ = ['DEFAULT_TARGET', 'EVIDENCE_KINDS', 'Evidence', 'OPENAI_CLOSED', 'OPENAI_JOBS_CLOSE', 'openai_closed', 'RULES', 'Rule', 'SOURCES', 'TARGETS', 'check_target', 'did_you_mean', 'resolve', 'rule', 'rules_markdown', 'Issue', 'GRADER_PATH', 'as_data', 'blocks_grading', 'check', 'check_grader', 'errors', 'from_json', 'grader_from_json', 'Kept', 'from_json_keeping', 'restore_kept']
