"""What a grading report holds: one run's results, its grader and data, the calibration figures, the probe
verdicts (when probes were run for it) and its worst rows with their rendered inputs. Built the same way by
the app's "Download report" and by `ftstudio grade --report`; `to_html` turns it into one file.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ftstudio.core import DEFAULT_SAMPLE_FIELD, REDACTED
from ftstudio.core.records import datarecord, field
from ftstudio.datasets import LineError
from ftstudio.graders import Grader
from ftstudio.grading import GradeResults, rendered_inputs
from ftstudio.probes import ProbeReport

WORST_ROWS = 10  # rows a reviewer reads in full; more belong in the records (JSONL/CSV)
ENTRY_CHARS = 4000  # one long output or item is cut in the report (the records keep it whole)


@datarecord(frozen=True)
class ReportRow:
    """One of the worst rows, as a reviewer reads it."""

    row: int  # 0-based, in the file's order (the records' `row`)
    line: int | None
    reward: float
    sub_rewards: dict[str, float | None]  # None: the child has no value on this row (it failed)
    errors: dict[str, str]  # ErrorCode value -> details
    output: str | None  # the sample field's text (None when the row has none)
    item: dict[str, Any] | None  # the row without its sample field; None for an unreadable line
    unreadable: str | None  # why the line could not be read
    inputs: list[dict[str, Any]]  # grading.rendered_inputs: per node, its templates rendered for this row


@datarecord(frozen=True)
class Report:
    results: GradeResults
    grader: Grader
    dataset: str  # the data's name (a file name or path)
    scope: str  # which rows were graded ("all 31 rows", ...)
    sample_field: str
    threshold: float  # the pass threshold the KPIs and the reward histogram use
    calibration: dict[str, Any] | None = None  # probes.calibration(...)
    probes: ProbeReport | None = None  # only when probes were run for this run (same grader and data)
    worst: list[ReportRow] = field(default_factory=list[ReportRow])
    title: str = "Grading report"
    total_rows: int | None = None  # rows the run was asked to grade (a cancelled run graded fewer)
    created: float = field(default_factory=time.time)


def worst_indices(results: GradeResults, k: int = WORST_ROWS) -> list[int]:
    """Result rows with the lowest rewards, lowest first; ties in file order."""
    order = sorted(range(len(results)), key=lambda i: (results.rewards[i], i))
    return order[:k]


def _text(value: Any) -> str | None:
    import json

    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= ENTRY_CHARS else text[:ENTRY_CHARS] + " …"


def report_row(results: GradeResults, i: int, entry: dict[str, Any] | LineError | Any, grader: Grader,
               sample_field: str = DEFAULT_SAMPLE_FIELD, row: int | None = None) -> ReportRow:
    """Result row `i` with its dataset entry (a row dict, or the LineError of an unreadable line); `row` is its
    index in the file's order when that differs from `i` (a sample of the rows was graded)."""
    errors = dict(results.errors[i].codes) if i in results.errors else {}
    subs = {k: results.sub_value(k, i) for k in results.sub_rewards}
    line = results.lines[i] if i < len(results.lines) else None
    where = i if row is None else row
    if isinstance(entry, dict):
        item = {k: v for k, v in entry.items() if k != sample_field}
        return ReportRow(where, line, float(results.rewards[i]), subs, errors, _text(entry.get(sample_field)),
                         _masked(item), None, _masked(rendered_inputs(grader, entry, sample_field)))
    why = entry.message if isinstance(entry, LineError) else f"not a JSON object: {_text(entry)}"
    return ReportRow(where, line, float(results.rewards[i]), subs, errors, None, None, why, [])


def _masked(data: Any) -> Any:
    """JSON-like data with secrets masked: key-shaped strings, and every value of a `headers` object (an
    endpoint grader's Authorization header is a secret whatever its shape)."""
    from ftstudio.core import redact_data

    if isinstance(data, dict):
        return {k: ({h: REDACTED for h in v} if k == "headers" and isinstance(v, Mapping) else _masked(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [_masked(v) for v in data]
    return redact_data(data)


def grader_json(grader: Grader) -> dict[str, Any]:
    """The grader as the report shows it: its JSON form with secrets masked."""
    from ftstudio.config import to_data

    return _masked(to_data(grader))



def default_threshold(results: GradeResults, grader: Grader) -> float:
    """The grader's own pass_threshold, else the middle of the rewards' range (the Test grading page's
    default: 0.5 for rewards in [0, 1])."""
    import math

    from .charts import value_range

    own = getattr(grader, "pass_threshold", None)
    if isinstance(own, (int, float)) and not isinstance(own, bool) and math.isfinite(own):
        return float(own)
    lo, hi = value_range(results.rewards)
    return lo + (hi - lo) / 2
