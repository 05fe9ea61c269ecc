"""The API's per-row error flags (`metadata.errors` of a grader run), as one string enum."""

from __future__ import annotations

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
