"""Validation: check(config) and check_grader(grader) return Issues and never raise; loading JSON into models."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftstudio.core import LazyFace

if TYPE_CHECKING:
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

# Each name is imported from its module when first used, so a command pays only for what it uses (issue 23, start-up).
_FACE = LazyFace(__name__, {
    "ftstudio.core": ("EVIDENCE_KINDS", "SOURCES", "Evidence", "Issue", "Rule"),
    "_check": ("GRADER_PATH", "as_data", "blocks_grading", "check", "check_grader", "errors"),
    "_job_rules": ("OPENAI_CLOSED", "OPENAI_JOBS_CLOSE", "openai_closed"),
    "_loading": ("Kept", "from_json", "from_json_keeping", "grader_from_json", "restore_kept"),
    "_rules": ("DEFAULT_TARGET", "RULES", "TARGETS", "check_target", "resolve", "rule", "rules_markdown"),
    "_schema_issues": ("did_you_mean",),
})


def __getattr__(name: str) -> object:
    return _FACE.get(name, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = ['DEFAULT_TARGET', 'EVIDENCE_KINDS', 'Evidence', 'OPENAI_CLOSED', 'OPENAI_JOBS_CLOSE', 'openai_closed', 'RULES', 'Rule', 'SOURCES', 'TARGETS', 'check_target', 'did_you_mean', 'resolve', 'rule', 'rules_markdown', 'Issue', 'GRADER_PATH', 'as_data', 'blocks_grading', 'check', 'check_grader', 'errors', 'from_json', 'grader_from_json', 'Kept', 'from_json_keeping', 'restore_kept']
