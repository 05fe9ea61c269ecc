"""`ftstudio models refresh`: the configured endpoint's own models list decides retirement dates.

Reads GET /v1/models from the endpoint the environment configures and records, per target, every
listed id with the `shutdown_date` the provider gives (none: not shut down) in
$FTSTUDIO_HOME/models-refreshed.json; validation and the app then take a listed model's retirement
from there instead of the date shipped in data/models.json. Offline (no endpoint, or it can't be
reached) nothing is written: the shipped table stays, and the command says so (exit 3).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ._commands import add_command
from ._common import EXIT_OK, err

EXIT_API = 3


def shutdown_date(model: dict) -> str | None:
    """The model object's shutdown_date as YYYY-MM-DD (a date string or a Unix time), else None."""
    value: Any = model.get("shutdown_date")
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.UTC).date().isoformat()
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            return None
    return None


def cmd_refresh(args) -> int:
    from ftstudio.api import ApiError, Endpoint, list_models
    from ftstudio.config import catalog

    shipped = "kept the shipped model table (ftstudio/data/models.json)"
    endpoint = Endpoint.from_env()
    if not endpoint.configured:
        err(f"ftstudio: offline: no endpoint is configured (OPENAI_API_KEY or AZURE_OPENAI_*); {shipped}")
        return EXIT_API
    try:
        models = list_models(endpoint, max_retries=0)
    except ApiError as exc:
        err(f"ftstudio: offline: {exc.message}; {shipped}")
        return EXIT_API
    listed = {m["id"]: shutdown_date(m) for m in models}
    path = catalog.write_refreshed(endpoint.target, endpoint.label, listed, catalog.today())
    dated = {k: v for k, v in listed.items() if v}
    if args.json:
        print(json.dumps({"target": endpoint.target, "models": len(listed), "shutdown_dates": dated, "file": path},
                         indent=2))
    else:
        for model_id, day in sorted(dated.items()):
            print(f"{model_id}: shutdown_date {day}")
    err(f"read {len(listed)} model(s) from {endpoint.label} ({len(dated)} with a shutdown_date); recorded for "
        f"--target {endpoint.target} in {path}: that list now decides retirements of the models it lists")
    return EXIT_OK


def register(sub) -> None:
    m = add_command(sub, "models")
    msub = m.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    r = msub.add_parser("refresh", help="GET /v1/models from the configured endpoint; record shutdown_date per "
                        "model (offline: keep the shipped table; exit 3)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_refresh)
