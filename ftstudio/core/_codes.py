"""The API's per-row error flags (`metadata.errors` of a grader run), as one string enum."""

from __future__ import annotations

from enum import StrEnum

from .records import datarecord, field


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


class RowStatus(StrEnum):
    """Why a row with errors has no reward of its own, as data: the details text is for people,
    and nothing decides anything by reading it (a cancel is a status, not the word "cancelled")."""

    FAILED = "failed"        # the grader ran on the row and it failed (its error codes say how)
    TIMED_OUT = "timed_out"  # a call for the row ran past its time limit
    NOT_RUN = "not_run"      # a cancel came before the row was graded
    CANCELLED = "cancelled"  # a cancel stopped the row while it was being graded

    @property
    def stopped(self) -> bool:
        """A cancel, not the row, is why it has no reward."""
        return self is RowStatus.NOT_RUN or self is RowStatus.CANCELLED


# When two parts of a row (a multi's children) end differently, the row keeps the later of these.
_STATUS_RANK = {s: i for i, s in enumerate(RowStatus)}


@datarecord
class RowErrors:
    """Error flags of one row: code -> details (the API reports flags plus *_details strings), and
    the row's status. The status is kept beside the record, not written into it."""

    codes: dict[str, str] = field(default_factory=dict[str, str])
    status: RowStatus = RowStatus.FAILED

    def add(self, code: str, details: str, status: RowStatus | None = None) -> None:
        if code in self.codes:
            if details and details not in self.codes[code] and len(self.codes[code]) < 2000:
                self.codes[code] += "; " + details
        else:
            self.codes[code] = details
        if status is not None:
            self.mark(status)

    def mark(self, status: RowStatus) -> None:
        if _STATUS_RANK[status] > _STATUS_RANK[self.status]:
            self.status = status

    @property
    def stopped(self) -> bool:
        return self.status.stopped
