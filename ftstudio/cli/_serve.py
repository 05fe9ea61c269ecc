"""`ftstudio serve [GRADER.json]`: the grader as an HTTP service (see ftstudio.serve)."""

from __future__ import annotations

import argparse

from ._commands import add_command
from ._common import EXIT_INVALID, CliError, positive_int


def cmd_serve(args) -> int:
    try:
        from ftstudio.serve import ServeConfig, ServeError, serve
    except ModuleNotFoundError as exc:  # the [serve] extra (starlette, uvicorn) is not installed
        raise CliError(f"ftstudio serve needs the [serve] extra ({exc.name} is missing): "
                       "pip install 'ftstudio[serve]' (or pip install -e '.[serve]' in a checkout)", EXIT_INVALID) from None

    config = ServeConfig(grader_path=args.grader, host=args.host, port=args.port, workers=args.workers,
                         token_env=args.token_env, allow_request_code=args.allow_request_code,
                         allow_request_models=args.allow_request_models,
                         allow_request_endpoints=tuple(args.allow_request_endpoint),
                         allow_hosts=tuple(args.allow_host), allow_origins=tuple(args.allow_origin),
                         max_body_mb=args.max_body_mb, max_rows=args.max_rows, max_concurrency=args.max_concurrency,
                         request_timeout=args.request_timeout, python_timeout=args.python_timeout,
                         python_memory_mb=args.python_memory_mb,
                         access_log=not args.no_access_log)
    try:
        return serve(config)
    except ServeError as exc:
        raise CliError(f"ftstudio serve: {exc}", EXIT_INVALID) from None
    except OSError as exc:
        raise CliError(f"ftstudio serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                       EXIT_INVALID) from None


def register(sub) -> None:
    s = add_command(sub, "serve")
    s.add_argument("grader", nargs="?", metavar="GRADER.json",
                   help="a grader or an RFT job config; /score and /openrlhf grade with it")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other address "
                   "needs --token-env)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    s.add_argument("--workers", type=positive_int, default=1, metavar="N", help="worker processes (default 1)")
    s.add_argument("--token-env", metavar="VAR", help="environment variable holding the bearer token every "
                   "request must carry")
    s.add_argument("--allow-request-code", action="store_true",
                   help="run python graders sent in requests (off by default: it runs the caller's code on this "
                   "machine, in the sandbox)")
    s.add_argument("--allow-request-models", action="store_true",
                   help="run score_model, label_model and cosine text_similarity graders sent in requests (off by "
                   "default: they spend this server's API key)")
    s.add_argument("--allow-request-endpoint", action="append", default=[], metavar="HOST",
                   help="let endpoint graders sent in requests call HOST (or HOST:PORT); repeatable (off by default: "
                   "the server would POST wherever a request says)")
    s.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                   help="accept requests whose Host header is HOST (or HOST:PORT), e.g. a tunnel's or proxy's name; "
                   "repeatable. On loopback only localhost, 127.0.0.1, [::1] and the bound address are accepted "
                   "otherwise; elsewhere, when given, only the named hosts")
    s.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                   help="accept requests from web pages of ORIGIN (scheme://host[:port]) and let them read the "
                   "answers (CORS); repeatable. A request with any other Origin header gets 403")
    s.add_argument("--max-body-mb", type=float, default=10.0, metavar="MB", help="largest request body (default 10)")
    s.add_argument("--max-rows", type=positive_int, default=10_000, metavar="N", help="most rows per request (default 10000)")
    s.add_argument("--max-concurrency", type=positive_int, default=128, metavar="N",
                   help="requests in flight per worker before 429 (default 128)")
    s.add_argument("--request-timeout", type=float, default=300.0, metavar="S",
                   help="wall limit of one request in seconds (default 300)")
    s.add_argument("--python-timeout", type=float, default=60.0, metavar="S",
                   help="wall limit of one python-grader call in seconds (default 60)")
    s.add_argument("--python-memory-mb", type=int, default=2048, metavar="MB",
                   help="memory limit of each python-grader worker process (default 2048)")
    s.add_argument("--no-access-log", action="store_true", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_serve)
