"""Bad requests as OpenAI's error shape: {"error": {"message", "type", "param", "code"}}, param a JSON path.

The openai SDK turns these into typed exceptions (400 BadRequestError, 401 AuthenticationError, 403
PermissionDeniedError, 413, 429 RateLimitError…) whose .param / .code come from this body.
"""

from __future__ import annotations

import json
from typing import Any

from ftstudio.core import Issue


class ApiProblem(Exception):
    """Raised while handling a request; the app answers with `status` and `body()`."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 type: str = "invalid_request_error", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = status, message, param, code, type
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, param=self.param, code=self.code, type=self.type)


def error_body(message: str, *, param: str | None = None, code: str | None = None,
               type: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_bytes(problem: ApiProblem) -> bytes:
    return json.dumps(problem.body(), ensure_ascii=False).encode("utf-8")


def under(prefix: str, path: str) -> str:
    """A path inside `prefix`: under('grader', 'graders.a.input') -> 'grader.graders.a.input'."""
    if not path:
        return prefix
    if not prefix:
        return path
    return prefix + (path if path.startswith("[") else "." + path)


def issue_problem(issue: Issue, prefix: str) -> ApiProblem:
    message = issue.message + (f" ({issue.hint})" if issue.hint else "")
    return ApiProblem(400, message, param=under(prefix, issue.path), code=issue.code)


def missing(param: str) -> ApiProblem:
    return ApiProblem(400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")


def wrong_type(param: str, expected: str, value: Any) -> ApiProblem:
    got = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
           int: "a number", float: "a number"}.get(type(value), type(value).__name__)
    return ApiProblem(400, f"Invalid type for '{param}': expected {expected}, but got {got} instead.",
                      param=param, code="invalid_type")
