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
from typing import Any

from ftstudio.core import DEFAULT_CONCURRENCY, DEFAULT_SAMPLE_FIELD

from ._common import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, CliError, err, load_json_file


def grader_of(data: Any, path: str) -> Any:
    from ftstudio.config import read_document

    doc = read_document(data)
    if doc.kind == "grader":
        return doc.data
    method = doc.data.get("method") if isinstance(doc.data, dict) else None
    grader = method.get("reinforcement", {}).get("grader") if isinstance(method, dict) and \
        isinstance(method.get("reinforcement"), dict) else None
    if grader is None:
        raise CliError(f"ftstudio: {path} has no method.reinforcement.grader to grade with", EXIT_INVALID)
    return grader


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
            self.writer.write(result.records())

    def close(self) -> None:
        if self.fh:
            self.fh.close()


class _Progress:
    """A one-line progress display on a terminal; silent otherwise."""

    def __init__(self) -> None:
        self.on = sys.stderr.isatty()
        self.rows_done, self.last = 0, 0.0

    def __call__(self, done: int, total: int, stage: str) -> None:
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


def cmd_grade(args) -> int:
    from ftstudio.datasets import DatasetError, iter_rows
    from ftstudio.grading import GradeOptions, InvalidGrader, grade_chunks, merge, summary_text
    from ftstudio.validation import check_grader, errors

    grader = grader_of(load_json_file(args.config), args.config)
    for issue in errors(check_grader(grader)):
        if not issue.blocks_grading:
            err(f"note: graded locally, but the API would reject it: {issue.line()}")
    options = GradeOptions(concurrency=args.concurrency)
    progress = _Progress()
    writer = _OutFile(args.out)
    parts = []
    try:
        chunks = iter_rows(args.data, chunk_size=args.chunk_size, max_bytes=None)
        for result in grade_chunks(grader, chunks, sample_field=args.sample_field, progress=progress,
                                   options=options):
            writer.write(result)
            parts.append(result)
            progress.rows_done += len(result)
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
    if not parts:
        err(f"ftstudio: {args.data}: no rows")
        return EXIT_UNREADABLE
    whole = merge(parts)
    summary = whole.summary()
    if args.json:
        print(json.dumps({"grader": {"name": whole.grader_name, "type": whole.grader_type}, "data": args.data,
                          "out": args.out, "summary": summary}, indent=2, ensure_ascii=False))
    else:
        print(summary_text(whole.grader_name, whole.grader_type, summary))
        if args.out:
            print(f"wrote {writer.count:,} records to {args.out}")
    return EXIT_OK



def register(sub) -> None:
    g = sub.add_parser("grade", help="score a dataset with a grader (a job config's or a bare one)")
    g.add_argument("config", metavar="CONFIG_OR_GRADER.json")
    g.add_argument("data", metavar="DATA", help=".jsonl, .json (an array) or .csv")
    g.add_argument("--sample-field", default=DEFAULT_SAMPLE_FIELD, metavar="NAME",
                   help="the field holding the model output (default: model_sample)")
    g.add_argument("--out", metavar="FILE.jsonl|FILE.csv", help="write one record per input row")
    g.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, metavar="N", help="parallel model-grader requests")
    g.add_argument("--chunk-size", type=int, default=50_000, help=argparse.SUPPRESS)
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    g.set_defaults(func=cmd_grade)
