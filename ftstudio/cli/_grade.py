"""`ftstudio grade CONFIG_OR_GRADER.json DATA`: score a dataset from the terminal.

Streams the data in chunks (a million rows stay within bounded memory), writes one record per
input row in input order, prints a summary. Exit 0 when grading ran (even if rows carry errors),
1 when the grader can't be evaluated, 2 when the data can't be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from ftstudio.core import DEFAULT_CONCURRENCY, DEFAULT_SAMPLE_FIELD

from ._commands import add_command
from ._common import (
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
from ._grade_report import ReportFile

if TYPE_CHECKING:
    from ftstudio.grading import Progress

EXIT_API = 3  # the API could not be used (as for the connected commands)
# Rows read, graded and written at a time: a chunk's rows are most of the peak memory (~2.5 kB a row as
# Python objects), and past a few thousand rows a bigger chunk grades no faster.
CHUNK_ROWS = 10_000


def grader_of(data: Any, path: str) -> dict[str, Any]:
    """The grader in the file at `path` (config.grader_of), or CliError (exit 1) saying there is none."""
    from ftstudio.config import NoGrader
    from ftstudio.config import grader_of as resolve

    try:
        return resolve(data, path)
    except NoGrader as exc:
        raise CliError(f"ftstudio: {exc.message}", EXIT_INVALID) from None


class _OutFile:
    """`--out FILE.jsonl|FILE.csv`, opened up front so a bad path fails before any grading."""

    def __init__(self, path: str | None):
        from ftstudio.grading import RecordWriter, format_of

        self.path, self.fh, self.writer = path, None, None
        if path:
            fmt = format_of(path)
            if fmt is None:
                raise CliError(f"ftstudio: --out {path}: use a .jsonl or .csv file name", EXIT_UNREADABLE)
            try:
                self.fh = open(path, "w", encoding="utf-8", newline="")
            except OSError as exc:
                raise CliError(f"ftstudio: cannot write {path}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
            self.writer = RecordWriter(self.fh, fmt)

    @property
    def count(self) -> int:
        return self.writer.count if self.writer else 0

    def write(self, result) -> None:
        if self.writer:
            self.writer.write_results(result)

    def write_records(self, records) -> None:
        if self.writer:
            self.writer.write(records)

    def close(self) -> None:
        if self.fh:
            self.fh.close()


class _Progress:
    """A one-line progress display on a terminal; silent otherwise."""

    def __init__(self) -> None:
        self.on = sys.stderr.isatty()
        self.rows_done, self.last = 0, 0.0

    def __call__(self, p: Progress) -> None:
        done, total, stage = p.done, p.total, p.label
        now = time.monotonic()
        if not self.on or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        width = 24
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(f"\r[{bar}] {done:,}/{total:,} {stage[:30]:<30} · {self.rows_done:,} rows graded")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.on:
            sys.stderr.write("\r" + " " * 100 + "\r")


def _lambda_handlers(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or ():
        arn, sep, path = pair.rpartition("=")
        if not sep or not arn or not path:
            raise CliError(f"ftstudio: --lambda-handler {pair!r}: use ARN=handler.py", EXIT_INVALID)
        out[arn] = path
    return out


def _batch(grader, args) -> int | None:
    """`--batch` / `--batch-id`: answer the model graders through the Batch API first (into the cache).
    None to go on grading; an exit code when the batch can't be used."""
    from ftstudio.api import ApiError, Endpoint, batch_counts
    from ftstudio.datasets import DatasetError, iter_rows
    from ftstudio.grading import InvalidGrader, plan_batch, run_batch, to_grader, uses_models

    try:
        model_grader = uses_models(to_grader(grader))
    except InvalidGrader:
        return None  # the ordinary path reports it
    if not model_grader:
        err("ftstudio: --batch: this grader has no model graders; grading directly")
        return None
    endpoint = Endpoint.from_env()
    if not endpoint.configured:
        err("ftstudio: --batch needs an endpoint: set OPENAI_API_KEY (and OPENAI_BASE_URL for other servers)")
        return EXIT_API

    made: list[str] = []

    def created(batch) -> None:
        made.append(batch["id"])
        err(f"ftstudio: created batch {batch['id']}; if interrupted, resume with --batch-id {','.join(made)}")

    def status(batch) -> None:
        total, done, failed = batch_counts(batch)
        err(f"ftstudio: batch {batch.get('id')}: {batch.get('status')} · {done:,}/{total:,} done"
            + (f" · {failed:,} failed" if failed else ""))

    def rows():
        return iter_rows(args.data, chunk_size=args.chunk_size, max_bytes=None)

    ids = [b.strip() for b in (args.batch_id or "").split(",") if b.strip()]
    try:
        if not ids:
            est = plan_batch(grader, rows(), args.sample_field, endpoint)
            err("ftstudio: --batch: " + est.text())
        outcome = run_batch(grader, rows(), args.sample_field, endpoint, batch_ids=ids or None,
                            poll=args.poll_interval, on_status=status, on_created=created)
    except (DatasetError, OSError):
        return None  # the ordinary path reports unreadable data
    except ApiError as exc:
        err(f"ftstudio: --batch: {exc.message}")
        return EXIT_API
    err("ftstudio: " + outcome.text())
    for batch in outcome.unfinished:
        for e in ((batch.get("errors") or {}).get("data") or [])[:5]:
            err(f"  line {e.get('line')}: {e.get('code')}: {e.get('message')}")
        err(f"ftstudio: batch {batch.get('id')} ended {batch.get('status')}; the answers it has are cached. Run "
            "again with --batch to send the rest as a new batch, or without it to send them live.")
    if outcome.unfinished:
        return EXIT_API
    return None


def _keyed(chunks, args, keys: deque):
    """Prepare each chunk once and note its rows' group keys (for calibration) on the way to the engine."""
    from ftstudio.grading import prepare
    from ftstudio.probes import group_keys

    for chunk in chunks:
        batch = prepare(chunk, args.sample_field)
        found = group_keys(batch.rows, args.group_field, args.sample_field)
        for i in batch.base_errors:
            found[i] = None
        keys.append(found)
        yield batch


def cmd_grade(args) -> int:
    from ftstudio.grading import GradeOptions
    from ftstudio.validation import check_grader, errors

    grader = grader_of(load_json_file(args.config), args.config)
    target = resolve_target(args)
    for issue in errors(check_grader(grader, target=target)):
        if not issue.blocks_grading:
            err(f"note: graded locally, but {target} would reject it: {issue.line()}")
    options = GradeOptions(concurrency=args.concurrency, lambda_handlers=_lambda_handlers(args.lambda_handler))
    report = ReportFile(args.report)  # without plotly, or at a path it can't write: stop before any grading
    try:
        return _grade_and_report(grader, args, options, report)
    finally:
        report.close()


def _grade_and_report(grader, args, options, report: ReportFile) -> int:
    from ftstudio.datasets import DatasetError
    from ftstudio.grading import InvalidGrader

    if args.batch or args.batch_id:
        code = _batch(grader, args)
        if code is not None:
            return code
    progress = _Progress()
    writer = _OutFile(args.out)
    try:
        # The report draws every row's reward: only with --report are the chunks' results kept (the memory a
        # report costs); the summary and the records never need them.
        whole, kept = None, ([] if report.fh is not None else None)
        if args.engine == "ray":
            from ._grade_ray import grade_on_ray

            whole, keys, checks = grade_on_ray(grader, args, options, writer)
            running, groups = _gathered(whole, keys, args.group_field)
        else:
            running, groups, checks = _grade_here(grader, args, options, writer, progress, kept)
    except InvalidGrader as exc:
        progress.finish()
        err(f"ftstudio: {args.config}: the grader can't be evaluated:")
        for issue in exc.issues:
            err("  " + issue.line())
        return EXIT_INVALID
    except DatasetError as exc:
        progress.finish()
        err(f"ftstudio: {exc}")
        return EXIT_UNREADABLE
    except OSError as exc:
        progress.finish()
        err(f"ftstudio: cannot read {args.data}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
    finally:
        writer.close()
    progress.finish()
    if not len(running):
        err(f"ftstudio: {args.data}: no rows")
        return EXIT_UNREADABLE
    calibration = _report(args, running, groups, checks, writer.count)
    if report.fh is not None:
        from ftstudio.grading import merge

        report.write(grader, merge(kept) if kept else whole, calibration, args)
        print(f"wrote the report to {args.report}", file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK


def _grade_here(grader, args, options, writer: _OutFile, progress: _Progress, kept: list | None = None):
    """Grade on this machine, chunk by chunk: each chunk's records are written, its rewards added to running
    aggregates and its group keys to Groups, then it is let go. (RunningResults, Groups, preflight issues)."""
    from ftstudio.datasets import iter_rows
    from ftstudio.grading import RunningResults, grade_chunks, preflight
    from ftstudio.probes import Groups

    running, groups = RunningResults(), Groups(args.group_field)
    checks: list = []
    keys: deque[list] = deque()  # the keys of chunks read but not graded yet

    def first_checked(chunks):
        # The preflight looks at the first chunk (it samples at most 5,000 rows anyway).
        for i, chunk in enumerate(chunks):
            if i == 0:
                checks.extend(preflight(grader, chunk, args.sample_field))
            yield chunk

    chunks = first_checked(_keyed(iter_rows(args.data, chunk_size=args.chunk_size, max_bytes=None), args, keys))
    for result in grade_chunks(grader, chunks, sample_field=args.sample_field, progress=progress, options=options):
        writer.write(result)
        groups.add_hashables(keys.popleft(), result.rewards, before=running.rewards or ())
        running.add(result)
        if kept is not None:
            kept.append(result)
        progress.rows_done += len(result)
    return running, groups, checks


def _gathered(whole, keys: list, group_field: str | None):
    """The Ray engine's whole results as the local run's aggregates."""
    from ftstudio.grading import RunningResults
    from ftstudio.probes import Groups

    running, groups = RunningResults(), Groups(group_field)
    if whole is not None:
        running.add(whole)
        groups.add_hashables(keys, whole.rewards)
    return running, groups


def _report(args, running, groups, checks: list, written: int) -> dict[str, Any]:
    """The summary `grade` prints: preflight lines, the reward summary with calibration, what was written.
    Returns the calibration (the HTML report shows it too)."""
    from ftstudio.grading import summary_text
    from ftstudio.probes import calibration, calibration_text

    totals = running.summary()
    summary: dict = dict(totals)
    summary["calibration"] = calibration(running.distribution(), keys=groups, group_field=args.group_field)
    if args.json:
        print(json.dumps({"grader": {"name": running.grader_name, "type": running.grader_type}, "data": args.data,
                          "out": args.out, "preflight": [i.message for i in checks], "summary": summary},
                         indent=2, ensure_ascii=False))
        return summary["calibration"]
    for issue in checks:
        print(f"preflight: {issue.message}")
    print(summary_text(running.grader_name, running.grader_type, totals))
    print(calibration_text(summary["calibration"]))
    if args.out:
        print(f"wrote {written:,} records to {args.out}")
    return summary["calibration"]


def register(sub) -> None:
    g = add_command(sub, "grade")
    g.add_argument("config", metavar="CONFIG_OR_GRADER.json")
    g.add_argument("data", metavar="DATA", help=".jsonl, .json (an array) or .csv")
    g.add_argument("--sample-field", type=sample_field, default=DEFAULT_SAMPLE_FIELD, metavar="NAME",
                   help="the field holding the model output (default: model_sample)")
    g.add_argument("--out", metavar="FILE.jsonl|FILE.csv", help="write one record per input row")
    g.add_argument("--report", metavar="OUT.html",
                   help="also write the run as one self-contained HTML file (config, KPIs, interactive charts, "
                        "calibration, the worst rows with their rendered inputs); needs the [app] extra (plotly)")
    g.add_argument("--concurrency", type=positive_int, default=DEFAULT_CONCURRENCY, metavar="N", help="parallel model-grader requests")
    g.add_argument("--chunk-size", type=positive_int, default=CHUNK_ROWS, help=argparse.SUPPRESS)
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    g.add_argument("--batch", action="store_true",
                   help="send the model-grader requests through the Batch API (half the price), then grade")
    g.add_argument("--batch-id", metavar="ID[,ID...]", help="pick up existing batches (implies --batch)")
    g.add_argument("--poll-interval", type=float, default=30.0, help=argparse.SUPPRESS)
    g.add_argument("--group-field", metavar="NAME",
                   help="rows sharing this field's value are samples of one item (default: identical items)")
    g.add_argument("--lambda-handler", action="append", metavar="ARN=handler.py",
                   help="grade a lambda grader (Bedrock) by running this local handler file for that function "
                        "ARN (lambda_handler(event, context)); repeatable")
    g.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this machine (default); ray: a Ray cluster, for datasets one machine can't grade "
                        "in time (needs the [ray] extra)")
    g.add_argument("--ray-address", metavar="ADDR",
                   help="with --engine ray: the cluster to use (default: RAY_ADDRESS, else a local Ray)")
    add_target(g)
    g.set_defaults(func=cmd_grade)
