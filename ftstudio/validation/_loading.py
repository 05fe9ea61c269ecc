"""Read a job config or a bare grader from JSON, with validation Issues when it can't be one."""

from __future__ import annotations

from pydantic import ValidationError

from ftstudio.config import ImportProblem, JobConfig, exportable, parse_json
from ftstudio.graders import Grader, parse_grader

from ._check import check, check_grader


def from_json(source: str | bytes | dict) -> JobConfig:
    """Parse what to_json writes (or any create-job body); ImportProblem with issues otherwise."""
    data = parse_json(source) if not isinstance(source, dict) else exportable(source)
    try:
        return JobConfig.model_validate(data)
    except ValidationError:
        issues = [i for i in check(data) if i.severity == "error"]
        raise ImportProblem("the JSON is not a valid job config", issues) from None


def grader_from_json(source: str | bytes | dict) -> Grader:
    data = parse_json(source) if not isinstance(source, dict) else exportable(source)
    try:
        return parse_grader(data)
    except ValidationError:
        issues = [i for i in check_grader(data) if i.severity == "error"]
        raise ImportProblem("the JSON is not a valid grader", issues) from None
