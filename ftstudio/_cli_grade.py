"""`ftstudio grade CONFIG_OR_GRADER.json DATA`: score a dataset from the terminal.

Streams the data in chunks (a million rows stay within bounded memory), writes one record per
input row in input order, prints a summary. Exit 0 when grading ran (even if rows carry errors),
1 when the grader can't be evaluated, 2 when the data can't be read.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from typing import Any

from .cli import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, CliError, _err, load_json_file


def grader_of(data: Any, path: str) -> Any:
    from .export import read_document

    doc = read_document(data)
    if doc.kind == "grader":
        return doc.data
    method = doc.data.get("method") if isinstance(doc.data, dict) else None
    grader = method.get("reinforcement", {}).get("grader") if isinstance(method, dict) and \
        isinstance(method.get("reinforcement"), dict) else None
    if grader is None:
        raise CliError(f"ftstudio: {path} has no method.reinforcement.grader to grade with", EXIT_INVALID)
    return grader


class _Writer:
    def __init__(self, path: str | None):
        self.path, self.fh, self.csv, self.count, self.sub_keys = path, None, None, 0, None
        if path:
            lower = path.lower()
            if not (lower.endswith(".jsonl") or lower.endswith(".csv")):
                raise CliError(f"ftstudio: --out {path}: use a .jsonl or .csv file name", EXIT_UNREADABLE)
            try:
                self.fh = open(path, "w", encoding="utf-8", newline="")
            except OSError as exc:
                raise CliError(f"ftstudio: cannot write {path}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
            self.is_csv = lower.endswith(".csv")

    def write(self, result) -> None:
        if not self.fh:
            return
        for rec in result.records():
            if self.is_csv:
                if self.csv is None:
                    self.sub_keys = list(rec["sub_rewards"])
                    self.csv = csv.writer(self.fh)
                    self.csv.writerow(["row", "line", "reward", *[f"sub_reward.{k}" for k in self.sub_keys],
                                       "errors", "error_details"])
                self.csv.writerow([rec["row"], rec.get("line", ""), rec["reward"],
                                   *[rec["sub_rewards"].get(k, "") for k in self.sub_keys], ";".join(rec["errors"]),
                                   json.dumps(rec["error_details"], ensure_ascii=False) if rec["error_details"] else ""])
            else:
                self.fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.count += 1

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
    from .datasets import DatasetError, iter_rows
    from .engine import GradeOptions, InvalidGrader, grade_chunks
    from .results import merge
    from .validation import check_grader, errors

    grader = grader_of(load_json_file(args.config), args.config)
    for issue in errors(check_grader(grader)):
        if not issue.blocks_grading:
            _err(f"note: graded locally, but the API would reject it: {issue.line()}")
    options = GradeOptions(concurrency=args.concurrency)
    progress = _Progress()
    writer = _Writer(args.out)
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
        _err(f"ftstudio: {args.config}: the grader can't be evaluated:")
        for issue in exc.issues:
            _err("  " + issue.line())
        return EXIT_INVALID
    except DatasetError as exc:
        progress.finish()
        _err(f"ftstudio: {exc}")
        return EXIT_UNREADABLE
    except OSError as exc:
        progress.finish()
        _err(f"ftstudio: cannot read {args.data}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
    finally:
        writer.close()
    progress.finish()
    if not parts:
        _err(f"ftstudio: {args.data}: no rows")
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


def summary_text(name: str, kind: str, s: dict) -> str:
    lines = [f"graded {s['count']:,} rows with {kind} '{name}' in {s['elapsed_seconds']:.2f} s"
             + (f" ({s['rows_per_second']:,.0f} rows/s)" if s.get("rows_per_second") else "")
             + (" — CANCELLED" if s.get("cancelled") else "")]
    if s["count"]:
        q = s["quantiles"]
        lines.append(f"mean reward {s['mean']:.4f}   std {s['std']:.4f}   min {q['p0']:.4g}   p25 {q['p25']:.4g}   "
                     f"median {q['p50']:.4g}   p75 {q['p75']:.4g}   max {q['p100']:.4g}")
    if s["sub_reward_means"]:
        lines.append("sub-reward means: " + ", ".join(f"{k} {v:.4f}" for k, v in s["sub_reward_means"].items()))
    if s["rows_with_errors"]:
        codes = ", ".join(f"{k} {v:,}" for k, v in s["errors_by_code"].items())
        lines.append(f"rows with errors: {s['rows_with_errors']:,} ({100 * s['error_rate']:.1f}%): {codes}")
    else:
        lines.append("rows with errors: 0")
    for model, u in s["token_usage"].items():
        lines.append(f"tokens {model}: {u['prompt_tokens']:,} prompt + {u['completion_tokens']:,} completion in "
                     f"{u['requests']:,} requests; {u['cache_hits']:,} answers from the cache")
    return "\n".join(lines)
