"""What the app's Export page shows: the `ftstudio serve` command line, and the Azure endpoint-grader JSON
that points an Azure RFT job at the server's /score."""

from __future__ import annotations

import shlex
from typing import Any

DEFAULT_TOKEN_ENV = "FTSTUDIO_SERVE_TOKEN"


def serve_command(grader_path: str = "grader.json", *, host: str = "127.0.0.1", port: int = 8000,
                  workers: int = 1, token_env: str | None = None) -> str:
    """The command line that serves `grader_path` (only non-default options are written)."""
    parts = ["ftstudio", "serve", grader_path]
    if host != "127.0.0.1":
        parts += ["--host", host]
    if port != 8000:
        parts += ["--port", str(port)]
    if workers != 1:
        parts += ["--workers", str(workers)]
    if token_env:
        parts += ["--token-env", token_env]
    return " ".join(shlex.quote(p) for p in parts)


def azure_endpoint_grader(public_url: str, *, name: str = "ftstudio", token_env: str | None = None,
                          rate_limit: int | None = 50) -> dict[str, Any]:
    """Azure's endpoint-grader config for a server reachable at `public_url` (its /score endpoint).

    The token is never written: the header holds a ${VAR} placeholder to fill in where the job is created.
    """
    url = public_url.rstrip("/")
    if not url.endswith("/score"):
        url += "/score"
    grader: dict[str, Any] = {"type": "endpoint", "name": name, "url": url}
    if token_env:
        grader["headers"] = {"Authorization": f"Bearer ${{{token_env}}}"}
    if rate_limit:
        grader["rate_limit"] = int(rate_limit)
    return grader
