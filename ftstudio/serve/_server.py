"""Running the app on uvicorn: bind first (so port 0 works and the real URLs can be printed), then serve
in this process or in N worker processes that share the socket. SIGTERM drains in-flight requests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tempfile
from typing import Any

from ._config import ENV_CONFIG, ServeConfig, load_grader

ENDPOINTS = (
    ("POST", "/v1/fine_tuning/alpha/graders/run", "the official graders.run shape (also under /openai/v1)"),
    ("POST", "/v1/fine_tuning/alpha/graders/validate", "the official graders.validate shape"),
    ("POST", "/score", "Azure endpoint grader: {sample, item, trace_id} -> {score}"),
    ("POST", "/openrlhf", "OpenRLHF remote reward (--reward.remote_url)"),
    ("POST", "/gemini", "Gemini Cloud Run reward: {example, response} -> {reward} (/gemini/KEY: a child)"),
    ("POST", "/v1/grade", "batch: {grader?, sample_field?, rows} -> grade --out records"),
    ("POST", "/verify", "NeMo-Gym resources server: {responses_create_params, response, ...} -> + reward"),
    ("GET", "/healthz", "alive"),
    ("GET", "/readyz", "grader loaded, python workers warm"),
    ("GET", "/metrics", "Prometheus"),
)


def base_url(host: str, port: int) -> str:
    """The URL of a server bound to host:port; an IPv6 address in brackets, once (`::1` and `[::1]` alike)."""
    bare = host.strip().strip("[]")
    return f"http://[{bare}]:{port}" if ":" in bare else f"http://{bare}:{port}"


def banner(config: ServeConfig, port: int, grader: dict[str, Any] | None) -> str:
    base = base_url(config.host, port)
    what = (f"{grader.get('type')} grader '{grader.get('name')}' from {config.grader_path}" if grader
            else "no grader of its own (requests bring theirs; /score and /openrlhf need one)")
    lines = [f"ftstudio serve: {what}; {config.workers} worker process{'es' if config.workers > 1 else ''}"]
    lines += [f"  {method:<4} {base}{path:<42} {note}" for method, path, note in ENDPOINTS]
    lines.append(f"  openai SDK: OpenAI(base_url=\"{base}/v1\", api_key=...)")
    if config.token_env:
        lines.append(f"  every request must send 'Authorization: Bearer ${config.token_env}'")
    lines.append("  graders sent in requests: " + ", ".join(request_powers(config)))
    if config.allow_hosts:
        lines.append("  Host accepted: " + ", ".join(config.allow_hosts) + (" and the loopback names" if config.loopback
                                                                            else " only"))
    if config.allow_origins:
        lines.append("  web pages accepted from: " + ", ".join(config.allow_origins))
    lines.append("  SIGTERM or Ctrl+C drains requests in flight, then exits")
    return "\n".join(lines)


def request_powers(config: ServeConfig) -> list[str]:
    """What a grader sent in a request may do on this server, in words (the banner's line)."""
    endpoints = ", ".join(config.allow_request_endpoints)
    return [f"python {'runs' if config.allow_request_code else 'refused (--allow-request-code)'}",
            f"model graders {'run' if config.allow_request_models else 'refused (--allow-request-models)'}",
            f"endpoint graders {'only to ' + endpoints if endpoints else 'refused (--allow-request-endpoint)'}"]


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.set_inheritable(True)
    return sock


def serve(config: ServeConfig) -> int:
    """Check, bind, print the URLs, serve until SIGTERM/SIGINT; 0 after a clean drain."""
    import uvicorn

    config.check()
    grader = load_grader(config.grader_path) if config.grader_path else None
    sock = bind(config.host, config.port)
    port = sock.getsockname()[1]
    os.environ[ENV_CONFIG] = config.to_env()
    metrics_dir = None
    if config.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="ftstudio-serve-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    common: dict[str, Any] = dict(access_log=False, log_level="warning", lifespan="on",
                                  timeout_graceful_shutdown=config.request_timeout + 5, server_header=False)
    from ._app import create_app

    app = create_app(config, grader)  # fails here, before anything is printed, if the grader can't be served
    try:
        if config.workers == 1:
            print(banner(config, port, grader), flush=True)
            server = uvicorn.Server(uvicorn.Config(app, **common))
            # uvicorn drains, then re-raises the signal it caught with the previous handler in place; a no-op
            # handler makes that a clean exit 0 instead of death by SIGTERM.
            signal.signal(signal.SIGTERM, lambda *_: None)
            server.run(sockets=[sock])
            return 0 if server.started else 1
        from uvicorn.supervisors import Multiprocess

        uconfig = uvicorn.Config("ftstudio.serve._app:app_from_env", factory=True, workers=config.workers, **common)
        print(banner(config, port, grader), flush=True)
        Multiprocess(uconfig, sockets=[sock]).run()
        return 0
    finally:
        sock.close()
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        sys.stdout.flush()
