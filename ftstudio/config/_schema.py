"""JSON Schemas of the job config and of a grader, for editors and other tools."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from ftstudio.graders import Grader

from ._job import JobConfig

_ID = "https://ftstudio.local/schema/"


def job_config_schema() -> dict[str, Any]:
    schema = JobConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = _ID + "job-config.json"
    schema["description"] = ("The body of POST /v1/fine_tuning/jobs as Fine-Tune Studio models it. "
                             "method.reinforcement.grader.graders (multi) is a map from a formula variable "
                             "to a grader, as the HTTP API takes it.")
    return schema


def grader_schema() -> dict[str, Any]:
    schema = TypeAdapter(Grader).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = _ID + "grader.json"
    return schema
