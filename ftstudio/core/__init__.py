"""The vocabulary every layer shares: Issue (a finding with a place), ErrorCode, named constants,
secret redaction, JSON limits and compact JSON, and the shape of a
rule with evidence (Rule, Evidence, Unavailable). Imports nothing else of ftstudio.

Each name is imported from its module when first used (PEP 562): `ftstudio --help` reads a constant or two
and must not pay for logging, dataclasses and the rest (issue 23: start-up within 3x `python -c pass`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import LazyFace

if TYPE_CHECKING:
    from ._codes import ROW_ERROR, ErrorCode, RowErrors, RowStatus
    from ._constants import (
        DEFAULT_CONCURRENCY,
        DEFAULT_MODEL,
        DEFAULT_RFT_MODEL,
        DEFAULT_SAMPLE_FIELD,
        PULL_DEADLINE_SECONDS,
        PULL_MAX_PAGES,
        REWARD_TOLERANCE,
        sample_field_problem,
    )
    from ._issues import Finding, Issue, Severity, count, join_path, sort_issues, under
    from ._json_limits import MAX_NESTING, JsonProblem, compact_json, json_issue, json_problem, nests_deeper
    from ._json_text import STRICT_DECODER, JsonTextKind, JsonTextProblem, decode_json, json_list, json_object
    from ._log import cache_dir, home, internal_issue, log_failure, log_path
    from ._plugins import Plugins
    from ._progress import Progress, ProgressFn, Stage
    from ._redact import REDACTED, find_secrets, redact, redact_data, register_secret
    from ._rules import EVIDENCE_KINDS, SOURCES, Evidence, Rule, Unavailable
    from ._stats import PLAIN_ROWS, mean, mean_std, reward_text, sorts_as_numpy
    from ._text import counted, shorten

# module -> the names it gives the public face
_FROM: dict[str, tuple[str, ...]] = {
    "_codes": ("ROW_ERROR", "ErrorCode", "RowErrors", "RowStatus"),
    "_constants": ("DEFAULT_CONCURRENCY", "DEFAULT_MODEL", "DEFAULT_RFT_MODEL", "DEFAULT_SAMPLE_FIELD", "PULL_DEADLINE_SECONDS", "PULL_MAX_PAGES", "REWARD_TOLERANCE", "sample_field_problem"),
    "_issues": ("Finding", "Issue", "Severity", "count", "join_path", "sort_issues", "under"),
    "_json_limits": ("MAX_NESTING", "JsonProblem", "compact_json", "json_issue", "json_problem", "nests_deeper"),
    "_json_text": ("STRICT_DECODER", "JsonTextKind", "JsonTextProblem", "decode_json", "json_list", "json_object"),
    "_lazy": ("LazyFace",),
    "_log": ("cache_dir", "home", "internal_issue", "log_failure", "log_path"),
    "_plugins": ("Plugins",),
    "_progress": ("Progress", "ProgressFn", "Stage"),
    "_redact": ("REDACTED", "find_secrets", "redact", "redact_data", "register_secret"),
    "_rules": ("EVIDENCE_KINDS", "SOURCES", "Evidence", "Rule", "Unavailable"),
    "_stats": ("PLAIN_ROWS", "mean", "mean_std", "reward_text", "sorts_as_numpy"),
    "_text": ("counted", "shorten"),
}
_FACE = LazyFace(__name__, _FROM)
_MODULE_OF = _FACE.module_of


def __getattr__(name: str) -> object:
    return _FACE.get(name, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_CONCURRENCY", "ROW_ERROR", "DEFAULT_MODEL", "DEFAULT_RFT_MODEL", "DEFAULT_SAMPLE_FIELD", "REDACTED",
    "REWARD_TOLERANCE", "STRICT_DECODER", "ErrorCode", "JsonProblem", "JsonTextKind", "JsonTextProblem", "decode_json", "Finding", "Issue", "Severity", "compact_json", "count", "find_secrets", "join_path", "json_issue", "json_list", "json_object", "json_problem",
    "redact", "redact_data", "register_secret", "sort_issues", "under", "home", "internal_issue", "log_failure",
    "counted", "log_path", "MAX_NESTING", "PULL_DEADLINE_SECONDS", "PULL_MAX_PAGES", "mean", "mean_std", "nests_deeper", "reward_text",
    "shorten", "cache_dir", "sample_field_problem", "RowErrors", "RowStatus", "Progress", "ProgressFn", "Stage", "EVIDENCE_KINDS", "SOURCES", "Evidence", "Rule",
    "Unavailable", "LazyFace", "PLAIN_ROWS", "Plugins", "sorts_as_numpy",
]
