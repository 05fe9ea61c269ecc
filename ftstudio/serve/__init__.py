"""`ftstudio serve`: the grading engine as an HTTP service (the official graders run/validate shapes, an
Azure endpoint grader, an OpenRLHF remote reward, a batch endpoint), on uvicorn."""

from __future__ import annotations

from ._app import RUN_PATH, VALIDATE_PATH, app_from_env, create_app
from ._config import ENV_CONFIG, ServeConfig, ServeError, is_loopback, load_grader
from ._endpoint import DEFAULT_TOKEN_ENV, azure_endpoint_grader, serve_command, tunnel_host
from ._server import ENDPOINTS, banner, base_url, serve

__all__ = [
    "DEFAULT_TOKEN_ENV", "ENDPOINTS", "ENV_CONFIG", "RUN_PATH", "VALIDATE_PATH", "ServeConfig", "ServeError", "app_from_env",
    "azure_endpoint_grader", "banner", "base_url", "create_app", "is_loopback", "load_grader", "serve",
    "serve_command", "tunnel_host",
]
