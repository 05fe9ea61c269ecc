"""Per-method format report on a dataset: what the API would reject before a job starts, plus
token counts.

Every problem carries the 0-based row index, the file line, a path within the row
(``messages[2].weight``), a severity and a code. The first 20 problems of each code are kept in
full and the rest are counted, so the report stays usable on 50,000 rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ftstudio.core.records import datarecord

from ._format_checks import METHODS, check_row, item_fields
from ._problems import DEFAULT_CAP, Problem, ProblemLog
from ._read import Dataset, LineError
from ._tokens import EXAMPLE_TOKEN_LIMIT, TokenCounter, TokenStats

__all__ = ["METHODS", "FormatReport", "Problem", "ReportBuilder", "format_report"]

MIN_ROWS = 10
RECOMMENDED_ROWS = 50
RFT_MAX_ROWS = {"training": 50_000, "validation": 1_000}
ROLES = tuple(RFT_MAX_ROWS)
_RANK = {"error": 0, "warning": 1, "info": 2}


@datarecord
class FormatReport:
    method: str
    role: str  # "training" | "validation"
    n_rows: int
    problems: list[Problem]  # the first `cap` of each code, in file order
    counts: dict[tuple[str, str], int]  # (severity, code) -> total, including those not kept
    item_fields: dict[str, int]  # reinforcement: field -> number of rows that have it
    tokens: TokenStats | None = None
    name: str | None = None
    cap: int = DEFAULT_CAP

    def count(self, severity: str) -> int:
        return sum(n for (sev, _), n in self.counts.items() if sev == severity)

    @property
    def n_errors(self) -> int:
        return self.count("error")

    @property
    def n_warnings(self) -> int:
        return self.count("warning")

    @property
    def ok(self) -> bool:
        return self.n_errors == 0

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "method": self.method,
            "role": self.role,
            "ok": self.ok,
            "n_rows": self.n_rows,
            "n_errors": self.n_errors,
            "n_warnings": self.n_warnings,
            "n_info": self.count("info"),
            "problem_counts": [
                {"severity": s, "code": c, "count": n}
                for (s, c), n in sorted(self.counts.items(), key=lambda kv: (_RANK[kv[0][0]], kv[0][1]))
            ],
            "problems": [p.to_dict() for p in self.problems],
            "item_fields": dict(self.item_fields),
            "tokens": self.tokens.to_dict() if self.tokens else None,
        }

    def to_text(self) -> str:
        title = f"{self.name + ': ' if self.name else ''}{self.method} {self.role} data, {self.n_rows:,} rows"
        verdict = "OK" if self.ok else f"{self.n_errors:,} errors"
        lines = [f"{title} - {verdict}, {self.n_warnings:,} warnings"]
        for severity, heading in (("error", "Errors"), ("warning", "Warnings"), ("info", "Notes")):
            shown = [p for p in self.problems if p.severity == severity]
            if not shown:
                continue
            lines.append(f"{heading}:")
            lines.extend(f"  {p} [{p.code}]" for p in shown)
            for (sev, code), n in self.counts.items():
                if sev == severity and n > self.cap:
                    lines.append(f"  ... and {n - self.cap:,} more [{code}] ({n:,} in all)")
        if self.item_fields:
            fields = ", ".join(f"{k} ({n:,})" for k, n in self.item_fields.items())
            lines.append(f"Item fields (rows that have each): {fields}")
        if self.tokens is not None:
            lines.append(self.tokens.to_text())
        return "\n".join(lines)


BEDROCK_RFT_ROWS = (100, 20_000)


class ReportBuilder:
    """Builds a FormatReport chunk by chunk, so the CLI can check files it never holds whole."""

    def __init__(
        self,
        method: str,
        *,
        role: str = "training",
        count_tokens: bool = True,
        sample_field: str | None = None,
        name: str | None = None,
        cap: int = DEFAULT_CAP,
        target: str = "openai",
    ):
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        self.method, self.role, self.name, self.cap = method, role, name, cap
        self.target = target
        self.sample_field = sample_field
        self._ignore = (sample_field,) if sample_field else ()
        self.log = ProblemLog(cap)
        self.n_rows = 0
        self.item_fields: dict[str, int] = {}
        self.sample_rows = 0
        self._unknown_keys: dict[str, list] = {}  # path -> [rows, first row, its line, message]
        self.tokens = TokenCounter(method) if count_tokens else None

    def add_rows(self, rows: Sequence[dict], lines: Iterable[int | None] | None = None, start: int | None = None) -> None:
        start = self.n_rows if start is None else start
        lines = list(lines) if lines is not None else [None] * len(rows)
        for i, (row, line) in enumerate(zip(rows, lines), start):
            for severity, code, path, message in check_row(row, self.method, self._ignore):
                if code == "unknown_key":
                    # One entry per key, not per row: a stray column repeats on every row.
                    seen = self._unknown_keys.setdefault(path, [0, i, line, message])
                    seen[0] += 1
                else:
                    self.log.add(Problem(severity, code, message, i, line, path))
            if self.sample_field and self.sample_field in row:
                self.sample_rows += 1
            if self.method == "reinforcement":
                for key in item_fields(row, self._ignore):
                    self.item_fields[key] = self.item_fields.get(key, 0) + 1
        if self.tokens is not None:
            self.tokens.add(rows, lines, start)
        self.n_rows += len(rows)

    def add_line_errors(self, errors: Iterable[LineError]) -> None:
        for e in errors:
            self.log.add(Problem("error", "invalid_line", f"{e.message}; fix or remove the line", line=e.line))

    def add_file_notes(self, *, blank_lines: int = 0, notes: Iterable[str] = (), fmt: str | None = None) -> None:
        for note in notes:
            self.log.add(Problem("info", "read_note", note))
        if blank_lines:
            self.log.add(Problem("info", "blank_lines", f"{blank_lines:,} blank lines were ignored"))
        if fmt and fmt != "jsonl":
            self.log.add(Problem("info", "not_jsonl", f"the API accepts JSONL files only: save these rows as .jsonl before uploading (this file is {fmt})"))

    def finish(self, n_epochs: int | str = "auto") -> FormatReport:
        self._row_count_checks()
        for path, (n, row, line, message) in self._unknown_keys.items():
            self.log.add(Problem("warning", "unknown_key", f"{message} (in {n:,} rows; first here)", row, line, path))
        self._item_field_checks()
        stats = None
        if self.tokens is not None:
            stats = self.tokens.finish(n_epochs)
            for row, line, n in stats.over_limit:
                self.log.add(Problem("warning", "row_too_long", (
                    f"{n:,} tokens, over the {EXAMPLE_TOKEN_LIMIT:,}-token limit for one example; "
                    "the API cuts it from the end: shorten it"
                ), row, line))
        if self.sample_field and self.sample_rows:
            self.log.add(Problem("info", "sample_field_present", (
                f"{self.sample_rows:,} rows have {self.sample_field!r} (model outputs for test grading); "
                "it is not counted as data: remove it from the file you upload"
            ), path=self.sample_field))
        problems = sorted(self.log.shown, key=lambda p: (p.row if p.row is not None else -1, p.line or 0))
        return FormatReport(
            method=self.method, role=self.role, n_rows=self.n_rows, problems=problems,
            counts=dict(self.log.counts), item_fields=dict(self.item_fields), tokens=stats,
            name=self.name, cap=self.cap,
        )

    def _row_count_checks(self) -> None:
        n = self.n_rows
        if n == 0:
            self.log.add(Problem("error", "no_rows", "the file has no valid rows"))
        elif self.method in ("supervised", "dpo") and n < MIN_ROWS:
            self.log.add(Problem("error", "too_few_rows", f"{n} rows; the API needs at least {MIN_ROWS}: add more"))
        elif self.method == "supervised" and n < RECOMMENDED_ROWS:
            self.log.add(Problem("warning", "few_rows", f"{n} rows; about {RECOMMENDED_ROWS} or more are recommended for clear gains"))
        if self.target == "bedrock" and self.method == "reinforcement" and self.role == "training" and n:
            # BR-DATA: "Training data must follow the OpenAI chat completions format with 100-20K examples"
            if n < BEDROCK_RFT_ROWS[0]:
                self.log.add(Problem("error", "too_few_rows", f"{n} rows; Bedrock RFT needs at least "
                                     f"{BEDROCK_RFT_ROWS[0]} records: add more"))
            elif n > BEDROCK_RFT_ROWS[1]:
                self.log.add(Problem("warning", "too_many_rows", f"{n:,} rows; Bedrock documents at most "
                                     f"{BEDROCK_RFT_ROWS[1]:,} RFT examples"))
        if self.method == "reinforcement" and n > RFT_MAX_ROWS[self.role]:
            self.log.add(Problem("error", "too_many_rows", (
                f"{n:,} rows; a reinforcement {self.role} file holds at most {RFT_MAX_ROWS[self.role]:,}: split or sample it"
            )))

    def _item_field_checks(self) -> None:
        if self.method != "reinforcement" or self.n_rows == 0:
            return
        if not self.item_fields:
            self.log.add(Problem("warning", "no_item_fields", (
                "rows have no fields besides messages/tools; graders usually compare the output "
                "with a reference field such as {{item.answer}}: add one"
            )))
        for key, n in self.item_fields.items():
            if n < self.n_rows:
                self.log.add(Problem("warning", "field_in_some_rows", (
                    f"field {key!r} is in {n:,} of {self.n_rows:,} rows; a grader reading {{{{item.{key}}}}} "
                    "fails on the others (invalid_variable_error): add it to every row or don't use it"
                ), path=key))


def format_report(
    data: Dataset | list[dict],
    method: str,
    *,
    role: str = "training",
    n_epochs: int | str = "auto",
    lines: list[int] | None = None,
    count_tokens: bool = True,
    sample_field: str | None = None,
    cap: int = DEFAULT_CAP,
) -> FormatReport:
    """Report on a Dataset (its skipped lines become `invalid_line` errors) or a list of rows.

    `sample_field`: a key holding model outputs for test grading; it is left out of the checks and
    the item fields, and noted."""
    if isinstance(data, Dataset):
        builder = ReportBuilder(method, role=role, count_tokens=count_tokens, sample_field=sample_field, name=data.name, cap=cap)
        builder.add_file_notes(blank_lines=data.blank_lines, notes=data.notes, fmt=data.format)
        builder.add_line_errors(data.errors)
        builder.add_rows(data.store, lines if lines is not None else data.lines)
    else:
        builder = ReportBuilder(method, role=role, count_tokens=count_tokens, sample_field=sample_field, cap=cap)
        builder.add_rows(list(data), lines)
    return builder.finish(n_epochs)
