"""The vocabulary every layer shares: Issue (a finding with a place), ErrorCode, named constants,
secret redaction, JSON limits and compact JSON, and the shape of a
rule with evidence (Rule, Evidence, Unavailable). Imports nothing else of ftstudio."""

from __future__ import annotations

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
from ._progress import Progress, ProgressFn, Stage
from ._redact import REDACTED, find_secrets, redact, redact_data, register_secret
from ._rules import EVIDENCE_KINDS, SOURCES, Evidence, Rule, Unavailable
from ._stats import mean, mean_std, reward_text
from ._text import counted, shorten

__all__ = [
    "DEFAULT_CONCURRENCY", "ROW_ERROR", "DEFAULT_MODEL", "DEFAULT_RFT_MODEL", "DEFAULT_SAMPLE_FIELD", "REDACTED",
    "REWARD_TOLERANCE", "STRICT_DECODER", "ErrorCode", "JsonProblem", "JsonTextKind", "JsonTextProblem", "decode_json", "Finding", "Issue", "Severity", "compact_json", "count", "find_secrets", "join_path", "json_issue", "json_list", "json_object", "json_problem",
    "redact", "redact_data", "register_secret", "sort_issues", "under", "home", "internal_issue", "log_failure",
    "counted", "log_path", "MAX_NESTING", "PULL_DEADLINE_SECONDS", "PULL_MAX_PAGES", "mean", "mean_std", "nests_deeper", "reward_text",
    "shorten", "cache_dir", "sample_field_problem", "RowErrors", "RowStatus", "Progress", "ProgressFn", "Stage", "EVIDENCE_KINDS", "SOURCES", "Evidence", "Rule",
    "Unavailable",
]
