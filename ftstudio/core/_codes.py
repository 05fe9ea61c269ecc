"""The API's per-row error flags (`metadata.errors` of a grader run), as one string enum."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_VARIABLE = "invalid_variable_error"
    SAMPLE_PARSE = "sample_parse_error"
    FORMULA_PARSE = "formula_parse_error"
    PYTHON_RUNTIME = "python_grader_runtime_error"
    PYTHON_SERVER = "python_grader_server_error"
    MODEL_PARSE = "model_grader_parse_error"
    MODEL_REFUSAL = "model_grader_refusal_error"
    MODEL_SERVER = "model_grader_server_error"
    TRUNCATED_OBSERVATION = "truncated_observation_error"
    UNRESPONSIVE_REWARD = "unresponsive_reward_error"
    OTHER = "other_error"


class _PlainCodes:
    """ErrorCode values as plain str, for per-row hot paths. A StrEnum member hashes through a Python-level
    __hash__, so dicts keyed by members made grading with many row errors ~35% slower (bench_engine). The
    values are the same strings, so records and comparisons do not change."""

    def __init__(self) -> None:
        for member in ErrorCode:
            setattr(self, member.name, member.value)

    def __getattr__(self, name: str) -> str:  # only reached for a name ErrorCode lacks: fail like ErrorCode
        raise AttributeError(f"ErrorCode has no member {name!r}")


ROW_ERROR = _PlainCodes()


@dataclass
class RowErrors:
    """Error flags of one row: code -> details (the API reports flags plus *_details strings)."""

    codes: dict[str, str] = field(default_factory=dict)

    def add(self, code: str, details: str) -> None:
        if code in self.codes:
            if details and details not in self.codes[code] and len(self.codes[code]) < 2000:
                self.codes[code] += "; " + details
        else:
            self.codes[code] = details
