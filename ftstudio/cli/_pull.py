"""`ftstudio pull`: save every fine-tuning job of the configured account as a config, before the provider closes.

Exit codes: 0 saved; 1 saved, but some jobs couldn't become a valid config (reasons in index.json);
2 the folder can't be written; 3 the API could not be used (no endpoint, no key, 401, network),
in which case nothing was written, or the pull is incomplete: a bound (--max-pages, --deadline, the
size cap, the nesting limit) stopped the listing, and the jobs read before it are saved with a
complete index.json. Every line printed and every file written has secrets masked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys

from ftstudio.core import PULL_DEADLINE_SECONDS, PULL_MAX_PAGES

from ._commands import add_command
from ._common import EXIT_API, EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, CliError, endpoint_from_env, err, retry_note

_KEY_VARS = "OPENAI_API_KEY (or AZURE_OPENAI_API_KEY for Azure)"
# What to do about each bound that can stop a pull (the cause itself comes from store.pull).
_NEXT = {
    "max_pages": "if the account really has more jobs, run it again with a higher --max-pages",
    "deadline": "for a slow connection, run it again with a higher --deadline",
    "too_large": "the server is not sending an ordinary job list; check OPENAI_BASE_URL",
    "too_deep": "the server is not sending an ordinary job list; check OPENAI_BASE_URL",
}


def _out(text: str = "") -> None:
    """Every line pull prints goes through the redaction its files get (a server may echo the key)."""
    from ftstudio.core import redact

    print(redact(text))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pages, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 page, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return value


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _api_failure(exc, endpoint) -> CliError:
    """Exit 3 with what went wrong and what to do; nothing has been written at this point."""
    status = getattr(exc, "status", None)
    text = f"ftstudio: {getattr(exc, 'message', None) or exc}"
    if status == 401 and not endpoint.api_key:
        text += f"\n  No API key is set: set {_KEY_VARS} to a key of the account that owns the jobs."
    elif status in (401, 403):
        text += f"\n  Set {_KEY_VARS} to a key of the account (or project) that owns the jobs."
    elif status == 404:
        text += f"\n  {endpoint.label} has no fine-tuning jobs API: check OPENAI_BASE_URL (it usually ends in /v1)."
    elif status is None:
        text += "\n  Check OPENAI_BASE_URL (or AZURE_OPENAI_ENDPOINT) and the network, then run it again."
    return CliError(text + "\n  Nothing was written.", EXIT_API)


def cmd_pull(args) -> int:
    from ftstudio.api import ApiError, ListingLimits
    from ftstudio.store import pull

    endpoint = endpoint_from_env()

    def on_page(pages: int, jobs: int) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\rreading the job list: page {pages}, {jobs} jobs")

    incomplete = None
    limits = ListingLimits(max_pages=args.max_pages, deadline=args.deadline)
    try:
        jobs = pull.fetch(endpoint, since=args.since, status=args.status, on_page=on_page, on_retry=retry_note,
                          limits=limits)
    except pull.PullIncomplete as exc:
        jobs, incomplete = exc.jobs, exc
    except ApiError as exc:
        raise _api_failure(exc, endpoint) from None
    except ValueError as exc:
        raise CliError(f"ftstudio: {endpoint.label} answered, but not with a job list: {exc}. Nothing was written.",
                       EXIT_API) from None
    finally:
        if sys.stderr.isatty():
            sys.stderr.write("\n")
    try:
        result = pull.save(jobs, args.out)
    except OSError as exc:
        raise CliError(f"ftstudio: cannot write to {args.out}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    if args.json:
        _out(json.dumps(result.index, indent=2, ensure_ascii=False))
        err(_saved_line(result))
    else:
        _table(result)
        _summary(result, args.out)
    if incomplete is not None:
        err(f"ftstudio: the pull is incomplete: {incomplete.message}.\n  The {len(jobs)} job(s) read before it "
            f"are saved, listed in {result.out / pull.INDEX}.\n  {_NEXT[incomplete.cause]}.")
        return EXIT_API
    return EXIT_INVALID if any(not j.valid for j in jobs) else EXIT_OK


def _serving(job, today: dt.date) -> str:
    if not job.entry.get("fine_tuned_model"):
        return "—"  # nothing was trained, nothing serves
    when = job.stops_serving()
    if when is None:
        return "unknown"
    return f"stopped {when.isoformat()}" if when <= today else when.isoformat()


def _table(result) -> None:
    from ftstudio.config import catalog

    today = catalog.today()
    rows = [("job", "status", "method", "config", "fine-tuned model", "stops serving")]
    for job in result.jobs:
        rows.append((job.id, str(job.entry.get("status")), job.method,
                     "ok" if job.valid else f"invalid ({len(job.problems)})",
                     job.entry.get("fine_tuned_model") or "—", _serving(job, today)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        _out("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])


def _saved_line(result) -> str:
    c = result.counts()
    return (f"Saved {c['saved']} job{'s' if c['saved'] != 1 else ''} to {result.out} ({c['new']} new, "
            f"{c['updated']} updated, {c['unchanged']} unchanged); index: {result.out / 'index.json'}")


def _summary(result, out: str) -> None:
    from ftstudio.config import catalog
    from ftstudio.store import pull

    _out()
    _out(_saved_line(result))
    bad = [j for j in result.jobs if not j.valid]
    if bad:
        _out(f"{len(bad)} job{'s' if len(bad) != 1 else ''} couldn't become a valid config; still saved, with the "
              f"reasons under \"problems\" in {result.out / 'index.json'}:")
        for job in bad:
            first = job.problems[0]
            more = f" (+{len(job.problems) - 1} more)" if len(job.problems) > 1 else ""
            _out(f"  {job.id}: {first.path or '$'}: {first.message}{more}")
    today = catalog.today()
    soon = pull.retiring(result.jobs, pull.RETIRING_DAYS, today)
    if soon:
        _out(f"Fine-tuned models that stop serving within {pull.RETIRING_DAYS} days (their base model retires):")
        for job, when in soon:
            _out(f"  {job.entry['fine_tuned_model']}  {when.isoformat()} (in {(when - today).days} days)")
    elif result.jobs:
        _out(f"No fine-tuned model here stops serving within {pull.RETIRING_DAYS} days, as far as the model table knows.")
    if result.jobs:
        example = result.out / next((j for j in result.jobs if j.valid), result.jobs[0]).entry["file"]
        _out("Next steps:")
        _out(f"  retrain on Azure:                ftstudio submit {example} --target azure --train FILE")
        _out(f"  train with open-source tools:    ftstudio export {example} --format trl")
        _out("  the training data stays with the provider: download each training_file / validation_file "
              "too (GET /v1/files/{id}/content) while it still answers.")


def register(sub) -> None:
    p = add_command(sub, "pull",
                    description="List every fine-tuning job of the configured account (OPENAI_API_KEY / "
                    "OPENAI_BASE_URL, or AZURE_OPENAI_*) and write DIR/<job id>.json (a create-job body that "
                    "validate, export and submit accept) and DIR/index.json. Exit 0 saved, 1 some jobs aren't "
                    "valid configs (reasons in index.json), 3 the API could not be used (nothing written) or the "
                    "pull is incomplete (a bound stopped it; the jobs read before are saved with index.json).")
    p.add_argument("--out", default="pulled", metavar="DIR", help="where to write (default ./pulled)")
    p.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="only jobs created on or after this day (UTC)")
    p.add_argument("--status", choices=("succeeded", "failed", "cancelled", "all"), default="all",
                   help="only jobs with this status (default all)")
    p.add_argument("--json", action="store_true", help="print the index instead of the table")
    p.add_argument("--max-pages", type=_positive_int, default=PULL_MAX_PAGES, metavar="N",
                   help=f"stop after N pages of the job list (default {PULL_MAX_PAGES:,}; a page holds 100 jobs)")
    p.add_argument("--deadline", type=_seconds, default=PULL_DEADLINE_SECONDS, metavar="SECONDS",
                   help=f"stop reading the job list after this many seconds in all, retries and slow reads "
                        f"included (default {PULL_DEADLINE_SECONDS:g})")
    p.set_defaults(func=cmd_pull)
