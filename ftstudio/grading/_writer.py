"""The one place that writes grading records: `ftstudio grade --out`, the app's downloads and the server.

JSONL is one record per line, exactly `GradeResults.record(i)`. CSV flattens each sub-reward into a
`sub_reward.<key>` column and keeps error details as compact JSON.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable
from typing import Any, TextIO

from ftstudio.core import reward_text

from ._results import GradeResults, RowRecord, Summary

FORMATS = ("jsonl", "csv")


def format_of(path: str) -> str | None:
    lower = path.lower()
    return next((f for f in FORMATS if lower.endswith("." + f)), None)


class RecordWriter:
    """Writes records to a text stream. With `sub_keys` the CSV header is written at once (even with no
    rows); without, it comes from the first record."""

    def __init__(self, fh: TextIO, fmt: str, sub_keys: list[str] | None = None):
        if fmt not in FORMATS:
            raise ValueError(f"unknown record format {fmt!r}; one of {', '.join(FORMATS)}")
        self.fh, self.fmt, self.count = fh, fmt, 0
        self._csv: Any = None
        self._sub_keys = sub_keys
        if fmt == "csv" and sub_keys is not None:
            self._header(sub_keys)

    def _header(self, sub_keys: list[str]) -> Any:
        import csv  # CSV records only (issue 23, start-up)

        self._sub_keys = sub_keys
        self._csv = csv.writer(self.fh)
        self._csv.writerow(["row", "line", "reward", *[f"sub_reward.{k}" for k in sub_keys], "errors",
                            "error_details"])
        return self._csv

    def write(self, records: Iterable[RowRecord]) -> None:
        for rec in records:
            if self.fmt == "jsonl":
                self.fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            else:
                writer = self._csv if self._csv is not None else self._header(list(rec["sub_rewards"]))
                keys = self._sub_keys or []
                details = json.dumps(rec["error_details"], ensure_ascii=False) if rec["error_details"] else ""
                writer.writerow([rec["row"], rec.get("line", ""), rec["reward"],
                                    *[rec["sub_rewards"].get(k, "") for k in keys], ";".join(rec["errors"]), details])
            self.count += 1


    def write_results(self, result: GradeResults) -> None:
        """All of a chunk's records: JSONL lines formatted straight from its arrays (what `write` gives
        for the same records, byte for byte, without a dict and a json.dumps per row); CSV through `write`."""
        if self.fmt != "jsonl":
            self.write(result.records())
            return
        keys = list(result.sub_rewards)
        heads = [json.dumps(k, ensure_ascii=False) + ": " for k in keys]
        subs = [result.sub_rewards[k] for k in keys]
        errors, lines, rewards, first = result.errors, result.lines, result.rewards, result.row_offset
        isfinite, dumps = math.isfinite, json.dumps
        out: list[str] = []
        if not subs and not errors and lines and all(x is not None for x in lines) and all(map(isfinite, rewards)):
            # the common chunk (one grader, no errors, rows from a file): one format per row
            template = '{"row": %d, "reward": %r, "sub_rewards": {}, "errors": [], "error_details": null, "line": %d}'
            out = [template % rec for rec in zip(range(first, first + len(result)), rewards, lines)]
            self.fh.write("\n".join(out) + "\n" if out else "")
            self.count += len(out)
            return
        for i in range(len(result)):
            reward = rewards[i]
            values = [v[i] for v in subs]
            # json writes NaN and Infinity its own way, and a row with errors has codes and details: the dict path
            if i in errors or not isfinite(reward) or not all(map(isfinite, values)):
                out.append(dumps(result.record(i), ensure_ascii=False))
                continue
            line = lines[i] if lines else None
            sub = ", ".join([h + repr(v) for h, v in zip(heads, values)])
            out.append(f'{{"row": {first + i}, "reward": {reward!r}, "sub_rewards": {{{sub}}}, "errors": [], '
                       f'"error_details": null' + ("}" if line is None else f', "line": {line}}}'))
        if out:
            self.fh.write("\n".join(out) + "\n")
        self.count += len(out)


def records_bytes(records: Iterable[RowRecord], fmt: str, sub_keys: list[str] | None = None) -> bytes:
    buf = io.StringIO(newline="")
    RecordWriter(buf, fmt, sub_keys if fmt == "csv" else None).write(records)
    return buf.getvalue().encode("utf-8")


def summary_text(name: str, kind: str, s: Summary) -> str:
    """The human summary `ftstudio grade` prints and the Results tab shows."""
    lines = [f"graded {s['count']:,} rows with {kind} '{name}' in {s['elapsed_seconds']:.2f} s"
             + (f" ({s['rows_per_second']:,.0f} rows/s)" if s.get("rows_per_second") else "")
             + (" — CANCELLED" if s.get("cancelled") else "")]
    if s["count"]:
        q = s["quantiles"]
        lines.append(f"mean reward {reward_text(s['mean'])}   std {reward_text(s['std'])}   min {q['p0']:.4g}   p25 {q['p25']:.4g}   "
                     f"median {q['p50']:.4g}   p75 {q['p75']:.4g}   max {q['p100']:.4g}")
        if s.get("quantiles_error"):
            lines.append(f"({s.get('quantiles_error')})")
    if s["sub_reward_means"]:
        lines.append("sub-reward means: " + ", ".join(f"{k} {reward_text(v)}" for k, v in s["sub_reward_means"].items()))
    if s["rows_with_errors"]:
        codes = ", ".join(f"{k} {v:,}" for k, v in s["errors_by_code"].items())
        lines.append(f"rows with errors: {s['rows_with_errors']:,} ({100 * s['error_rate']:.1f}%): {codes}")
    else:
        lines.append("rows with errors: 0")
    for model, u in s["token_usage"].items():
        lines.append(f"tokens {model}: {u['prompt_tokens']:,} prompt + {u['completion_tokens']:,} completion in "
                     f"{u['requests']:,} requests; {u['cache_hits']:,} answers from the cache")
    return "\n".join(lines)
