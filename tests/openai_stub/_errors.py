"""OpenAI-shaped error bodies: {"error": {message, type, param, code}}."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised inside a route handler; the server turns it into an HTTP error response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = error_body(message, type=type, param=param, code=code)
        self.headers = headers or {}


def error_body(message: str, *, type: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def mask_key(key: str) -> str:
    # The real API echoes a masked key; never the whole thing.
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def invalid_key_error(key: str | None) -> ApiError:
    if not key:
        return ApiError(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header "
            "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
    return ApiError(
        401,
        f"Incorrect API key provided: {mask_key(key)}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def model_not_found(model: str) -> ApiError:
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


# Default bodies for fail_next(status) when the test gives none.
_CANNED: dict[int, tuple[str, str, str | None]] = {
    400: ("Bad request (injected by the stub).", "invalid_request_error", None),
    401: ("Incorrect API key provided: sk-***************stub.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to sample from this model.", "invalid_request_error", None),
    404: ("The model `stub-model` does not exist or you do not have access to it.", "invalid_request_error",
          "model_not_found"),
    408: ("Request timed out.", "invalid_request_error", None),
    409: ("Conflict (injected by the stub).", "invalid_request_error", None),
    422: ("Unprocessable entity (injected by the stub).", "invalid_request_error", None),
    429: ("Rate limit reached for requests. Please try again in 1s.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


def canned_error(status: int) -> dict[str, Any]:
    message, type_, code = _CANNED.get(status, (f"Injected error {status}.", "server_error", None))
    return error_body(message, type=type_, code=code)
