"""`ftstudio compare` and `ftstudio submit`: the connected commands.

The endpoint comes from the environment (OPENAI_API_KEY / OPENAI_BASE_URL, or Azure's
AZURE_OPENAI_ENDPOINT / AZURE_OPENAI_API_KEY / OPENAI_API_VERSION). Exit codes: 0 done,
1 invalid grader/config (or, with --wait, a job that failed or was cancelled), 2 unreadable
input, 3 the API could not be used (no endpoint, auth, network).
"""

from __future__ import annotations

import argparse
import json
import sys

from ftstudio.core import DEFAULT_SAMPLE_FIELD, REWARD_TOLERANCE

from ._commands import add_command
from ._common import (
    EXIT_API,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_UNREADABLE,
    CliError,
    add_target,
    err,
    load_json_file,
    positive_int,
    resolve_target,
    sample_field,
)
from ._common import endpoint_from_env as _endpoint
from ._common import retry_note as _retry_note


def cmd_compare(args) -> int:
    from ftstudio.datasets import DatasetError, read_dataset
    from ftstudio.grading import InvalidGrader, compare

    from ._grade import grader_of

    grader = grader_of(load_json_file(args.config), args.config)
    endpoint = _endpoint()
    try:
        data = read_dataset(args.data, max_bytes=None)
    except DatasetError as exc:
        raise CliError(f"ftstudio: {exc}", EXIT_UNREADABLE) from None
    try:
        report = compare(grader, data, endpoint, sample_field=args.sample_field, n=args.rows,
                         on_retry=_retry_note)
    except InvalidGrader as exc:
        err(f"ftstudio: {args.config}: the grader can't be evaluated:")
        for issue in exc.issues:
            err("  " + issue.line())
        return EXIT_INVALID
    summary = report.summary()
    if args.json:
        print(json.dumps({"summary": summary, "rows": [r.to_dict() for r in report.rows]}, indent=2,
                         ensure_ascii=False))
    else:
        print(f"{'row':>5} {'local':>10} {'official':>10} {'delta':>10}  notes")
        for r in report.rows:
            official = "—" if r.official_reward is None else f"{r.official_reward:.6g}"
            delta = "—" if r.delta is None else f"{r.delta:+.3g}"
            notes = []
            if r.differs:
                notes.append("DIFFERS")
            if r.failure:
                notes.append(r.failure)
            if r.official_errors:
                notes.append("official: " + ", ".join(r.official_errors))
            if r.local_errors:
                notes.append("local: " + ", ".join(r.local_errors))
            subs = [f"{k} {d:+.3g}" for k, d in r.sub_deltas.items() if abs(d) > REWARD_TOLERANCE]
            if subs:
                notes.append("sub " + " ".join(subs))
            print(f"{r.row:>5} {r.local_reward:>10.6g} {official:>10} {delta:>10}  {'; '.join(notes)}")
        print(f"{summary['differ']} of {summary['rows']} rows differ by more than 1e-6; "
              f"{summary['failed']} failed; {summary['cached']} official answers from the cache")
        for model, tokens in summary["official_tokens"].items():
            print(f"official grader tokens {model}: {tokens:,}")
    if summary["answered"] == 0 and summary["rows"]:
        return EXIT_API
    return EXIT_OK


def _submit_body(args) -> dict:
    """The body to submit, as written (provider extensions included), or a CliError naming what stops it
    (not a job config, an unreadable data file, errors for the target without --force)."""
    from ftstudio.api import is_file_id
    from ftstudio.config import read_document
    from ftstudio.validation import OPENAI_CLOSED, check, errors, openai_closed

    if resolve_target(args) == "openai" and openai_closed():  # before reading or uploading anything
        raise CliError(f"ftstudio: {OPENAI_CLOSED}", EXIT_INVALID)
    doc = read_document(load_json_file(args.config))
    if doc.kind != "config" or not isinstance(doc.data, dict):
        raise CliError(f"ftstudio: {args.config}: submit needs a job config (a JSON object with model, "
                       "training_file and method)", EXIT_INVALID)
    config = doc.data
    problems = [i for i in errors(check(config, target=resolve_target(args)))
                if i.path not in ("training_file", "validation_file")]
    if problems and not args.force:
        lines = "\n".join("  " + issue.line() for issue in problems)
        raise CliError(f"ftstudio: {args.config} has {len(problems)} error(s); fix them or pass --force:\n{lines}",
                       EXIT_INVALID)
    for source in (args.train, args.validation):
        if source and not is_file_id(source):
            try:
                open(source, "rb").close()
            except OSError as exc:
                raise CliError(f"ftstudio: cannot read {source}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    return config


def _upload_progress(role: str, sent: int, total: int) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\ruploading {role.split('_')[0]}: {sent / 1e6:,.1f} / {total / 1e6:,.1f} MB")
        if sent >= total:
            sys.stderr.write("\n")


def cmd_submit(args) -> int:
    from ftstudio.api import KEEP, SubmitError, submit

    config = _submit_body(args)
    endpoint = _endpoint()
    try:
        validation = args.validation if args.validation else KEEP
        sub = submit(endpoint, config, args.train, validation, progress=_upload_progress, on_retry=_retry_note)
    except SubmitError as exc:
        err(f"ftstudio: {exc.message}")
        for role, file_id in exc.uploaded.items():
            print(f"uploaded {role}: {file_id}")
        return EXIT_API
    for role, file_id in sub.uploaded.items():
        print(f"uploaded {role}: {file_id}")
    job = sub.job
    print(f"job {job['id']}: {job.get('status')}")
    return _follow_job(endpoint, job, args.poll) if args.wait else EXIT_OK


def _follow_job(endpoint, job: dict, poll: float) -> int:
    from ftstudio.api import ApiError, follow

    def on_event(ev: dict) -> None:
        print(f"  [{ev.get('level', 'info')}] {ev.get('message', '')}")

    def on_status(j: dict) -> None:
        print(f"job {j['id']}: {j.get('status')}" + (f" -> {j['fine_tuned_model']}" if j.get("fine_tuned_model") else ""))

    try:
        final = follow(endpoint, job["id"], on_event=on_event, on_status=on_status,
                       first_interval=poll, on_retry=_retry_note)
    except ApiError as exc:
        err(f"ftstudio: {exc.message} (the job keeps running; check it later with its id {job['id']})")
        return EXIT_API
    return EXIT_OK if final.get("status") == "succeeded" else EXIT_INVALID


def register(sub) -> None:
    cmp = add_command(sub, "compare")
    cmp.add_argument("config", metavar="CONFIG_OR_GRADER.json")
    cmp.add_argument("data", metavar="DATA")
    cmp.add_argument("--rows", type=positive_int, default=20, metavar="N", help="how many rows (default 20, the first ones)")
    cmp.add_argument("--sample-field", type=sample_field, default=DEFAULT_SAMPLE_FIELD, metavar="NAME")
    cmp.add_argument("--json", action="store_true")
    cmp.set_defaults(func=cmd_compare)

    s = add_command(sub, "submit")
    s.add_argument("config", metavar="CONFIG")
    s.add_argument("--train", required=True, metavar="FILE", help="a .jsonl path, or an uploaded file id (file-...)")
    s.add_argument("--validation", metavar="FILE", help="a .jsonl path, or an uploaded file id (default: the config's validation_file)")
    s.add_argument("--wait", action="store_true", help="follow the job until it ends, printing its events")
    s.add_argument("--force", action="store_true", help="submit even when validation finds errors")
    add_target(s)
    s.add_argument("--poll", type=float, default=2.0, help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_submit)
