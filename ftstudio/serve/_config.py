"""ServeConfig: what `ftstudio serve` was started with, passed to every worker process through the
environment (as JSON; the bearer token itself never: only the name of the variable that holds it)."""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ftstudio.config import ImportProblem, NoGrader, grader_of, parse_json
from ftstudio.core.records import asdict, datarecord, fields

ENV_CONFIG = "FTSTUDIO_SERVE_CONFIG"


class ServeError(Exception):
    """The server can't start as configured; the message says what to change."""


@datarecord(frozen=True)
class ServeConfig:
    grader_path: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    token_env: str | None = None
    # What a request may bring and who may send one (SECURITY.md, "ftstudio serve"): all off by default.
    allow_request_code: bool = False  # python graders sent in requests
    allow_request_models: bool = False  # score_model, label_model, cosine text_similarity sent in requests
    allow_request_endpoints: tuple[str, ...] = ()  # hosts an endpoint grader sent in a request may call
    allow_hosts: tuple[str, ...] = ()  # Host headers accepted besides the loopback names (all of them off loopback)
    allow_origins: tuple[str, ...] = ()  # Origin headers accepted (a request with any other Origin: 403)
    max_body_mb: float = 10.0
    max_rows: int = 10_000
    max_concurrency: int = 128  # grading requests in flight per process; past it: 429 + Retry-After
    request_timeout: float = 300.0  # wall limit of one request, seconds (Azure waits 10 min, OpenRLHF 3)
    python_timeout: float = 60.0  # wall limit of one python-grader call (one row)
    python_memory_mb: int = 2048  # address-space limit of each python-grader worker
    access_log: bool = True

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def __post_init__(self) -> None:
        for name in ("allow_request_endpoints", "allow_hosts", "allow_origins"):  # lists when read from JSON
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeConfig:
        raw = os.environ.get(ENV_CONFIG)
        if not raw:
            raise ServeError(f"{ENV_CONFIG} is not set: start the server with `ftstudio serve`")
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def token(self) -> str | None:
        """The bearer token every request must carry (None: no token required)."""
        if not self.token_env:
            return None
        value = os.environ.get(self.token_env, "")
        if not value.strip():
            raise ServeError(f"--token-env {self.token_env}: that environment variable is not set or empty; "
                             f"export {self.token_env}=<a long random token> first")
        return value.strip()

    def check(self) -> None:
        """Refuse settings that would be unsafe or can't work, before anything binds."""
        if not self.loopback and not self.token_env:
            raise ServeError(f"refusing to bind {self.host}: it is not a loopback address, so every request must "
                             "carry a bearer token. Put a long random token in an environment variable and pass "
                             "its name with --token-env VAR (or bind 127.0.0.1)")
        self.token()
        if self.workers < 1:
            raise ServeError("--workers must be at least 1")
        if not 0 <= self.port <= 65535:
            raise ServeError(f"--port {self.port}: use a port between 0 and 65535")
        if self.max_body_mb <= 0 or self.max_rows < 1 or self.max_concurrency < 1:
            raise ServeError("--max-body-mb, --max-rows and --max-concurrency must be positive")
        if self.request_timeout <= 0 or self.python_timeout <= 0 or self.python_memory_mb < 64:
            raise ServeError("--request-timeout and --python-timeout must be positive, --python-memory-mb ≥ 64")
        for flag, values, parse in (("--allow-host", self.allow_hosts, host_port),
                                    ("--allow-request-endpoint", self.allow_request_endpoints, host_port),
                                    ("--allow-origin", self.allow_origins, origin)):
            for value in values:
                try:
                    parse(value)
                except ValueError as exc:
                    raise ServeError(f"{flag} {value!r}: {exc}") from None


def host_port(text: str) -> tuple[str, int | None]:
    """'Example.com', 'example.com:8443', '[::1]:8000', '::1' -> (lower-case host without brackets, port or None)."""
    text = text.strip().lower()
    if not text or any(c in text for c in "/?#@ \t"):
        raise ValueError("give a host name or address, optionally with :PORT (no scheme, no path)")
    if text.count(":") > 1 and not text.startswith("["):  # a bare IPv6 address
        return text, None
    try:
        parts = urlsplit("//" + text)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError("not a host[:port]") from None
    if not host:
        raise ValueError("not a host[:port]")
    return host, port


def origin(text: str) -> str:
    """An Origin as browsers send it ('http://localhost:3000'), lower-case, without a trailing slash."""
    text = text.strip().lower().rstrip("/")
    if text == "null":
        return text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment:
        raise ValueError("give an origin as a browser sends it: scheme://host[:port], e.g. http://localhost:3000")
    return text


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_grader(path: str) -> dict[str, Any]:
    """The grader in GRADER.json: a bare grader, a job config's method.reinforcement.grader, or a preset's."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ServeError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return grader_of(parse_json(raw), path)
    except NoGrader as exc:
        raise ServeError(exc.message) from None
    except ImportProblem as exc:
        raise ServeError(f"{path}: {exc.message}") from None
