"""What the app's Export page shows: the `ftstudio serve` command line, and the Azure endpoint-grader JSON
that points an Azure RFT job at the server's /score."""

from __future__ import annotations

import shlex
from typing import Any
from urllib.parse import urlsplit

from ._config import is_loopback

DEFAULT_TOKEN_ENV = "FTSTUDIO_SERVE_TOKEN"


def serve_command(grader_path: str = "grader.json", *, host: str = "127.0.0.1", port: int = 8000,
                  workers: int = 1, token_env: str | None = None, allow_hosts: tuple[str, ...] = ()) -> str:
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
    for name in allow_hosts:
        parts += ["--allow-host", name]
    return " ".join(shlex.quote(p) for p in parts)


def tunnel_host(public_url: str, host: str) -> str | None:
    """The Host a tunnel or proxy forwards to a server bound to loopback, which must then allow it
    (--allow-host); None when the server is not on loopback or the URL names this machine."""
    try:
        name = urlsplit(public_url).hostname
    except ValueError:
        return None
    if not name or not is_loopback(host) or is_loopback(name):
        return None
    return name


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
