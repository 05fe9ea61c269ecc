"""Preflight: what the grader reads that the data doesn't hold, said before any row is graded.

The format report checks the dataset on its own; this checks the pair. A grader that reads
`{{ sample.output_json.answer }}` on outputs that aren't JSON grades every row as an error, and a
template that reads `item.answer` fails on the rows that lack it. The app shows these lines above
the Grade button and `ftstudio grade` prints them before its summary.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ftstudio.core import DEFAULT_SAMPLE_FIELD, Issue, join_path
from ftstudio.datasets import Dataset
from ftstudio.graders import parse_grader, template_fields, templates, walk

from ._context import Batch, prepare

# Reading every row of a million-row file to warn is not worth the wait: a sample says as much.
MAX_ROWS = 5_000
_MISSING = object()


def _refs(grader: Any) -> list[tuple[str, templates.Ref]]:
    """(JSON path of the template, reference) for every well-formed `{{ … }}` in the tree."""
    out = []
    for node_path, node in walk(grader):
        base: list[Any] = []
        for key in node_path:
            base += ["graders", key]
        for rel, source in template_fields(node):
            tpl = templates.parse(source)
            out += [(join_path(base + list(rel)), ref) for ref in tpl.refs]
    return out


def _lookup(value: Any, path: Iterable[str | int]) -> Any:
    for seg in path:
        if isinstance(seg, int):
            ok = isinstance(value, list) and -len(value) <= seg < len(value)
            value = value[seg] if ok else _MISSING
        else:
            value = value.get(seg, _MISSING) if isinstance(value, dict) else _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _parsed(output: str | None) -> Any:
    if output is None:
        return _MISSING
    try:
        return json.loads(output)
    except (ValueError, RecursionError):
        return _MISSING


def preflight(grader: Any, rows: Any, sample_field: str = DEFAULT_SAMPLE_FIELD) -> list[Issue]:
    """Warnings about what `grader` reads that `rows` don't hold; never raises.

    `grader` is a grader model or its JSON form; `rows` dicts, a Dataset or a RowChunk. Only the
    first MAX_ROWS rows are looked at (the message says so when there were more).
    """
    try:
        model = grader if not isinstance(grader, dict) else parse_grader(grader)
        refs = _refs(model)
    except (ValueError, TypeError, AttributeError):  # an invalid grader is validation's to report
        return []
    if isinstance(rows, Dataset):  # decode only the rows looked at: a dataset can hold 200 MB of them
        n_all = len(rows.entries)
        batch = prepare(rows.chunk(range(min(n_all, MAX_ROWS))), sample_field)
    else:
        batch = rows if isinstance(rows, Batch) else prepare(rows, sample_field)
        n_all = len(batch)
    n = min(n_all, MAX_ROWS)
    if n == 0:
        return []
    more = "" if n == n_all else f" (the first {n:,} rows looked at)"
    # Rows that are already errors (unreadable lines, no output field) aren't rendered: not counted below.
    ok = [i for i in range(n) if i not in batch.base_errors]
    unreadable = sum(1 for i, problem in batch.base_errors.items() if i < n and problem.unreadable)
    missing_field = n - len(ok) - unreadable
    issues: list[Issue] = []
    if missing_field:
        issues.append(Issue(path="", severity="warning", code="preflight_sample_field",
                            message=f"{missing_field:,} of {n:,} rows have no `{sample_field}` field{more}",
                            hint="choose the field that holds the model output"))
    seen: set[str] = set()
    parsed: list[Any] | None = None
    for where, ref in refs:
        if ref.dotted in seen:
            continue
        seen.add(ref.dotted)
        if ref.namespace == "sample" and ref.path[0] == "output_json":
            if parsed is None:
                parsed = [_parsed(batch.outputs[i]) for i in ok]
            issue = _output_json_issue(ref, where, parsed, more)
        elif ref.namespace == "item":
            lacking = sum(1 for i in ok if _lookup(batch.items[i], ref.path) is _MISSING)
            issue = None if not lacking else Issue(
                path=where, severity="warning", code="preflight_item_missing",
                message=f"the grader reads `{ref.dotted}`; {lacking:,} of {len(ok):,} rows lack it{more}",
                hint="those rows will be graded as invalid_variable_error")
        else:
            issue = None
        if issue is not None:
            issues.append(issue)
    return issues


def _output_json_issue(ref, where: str, parsed: list[Any], more: str) -> Issue | None:
    rest = ref.path[1:]
    wants_object = bool(rest) and isinstance(rest[0], str)
    not_json = sum(1 for v in parsed if v is _MISSING)
    if wants_object:
        good = sum(1 for v in parsed if isinstance(v, dict))
        kind = "JSON objects"
    else:
        good = len(parsed) - not_json
        kind = "JSON"
    if good < len(parsed):
        other = len(parsed) - good - not_json  # JSON, but not an object: the path can't be read
        hint = (f"{not_json:,} will be graded as sample_parse_error (not JSON)" if not_json else "") + \
            ("; " if not_json and other else "") + \
            (f"{other:,} as invalid_variable_error (JSON, not an object)" if other else "")
        return Issue(path=where, severity="warning", code="preflight_output_json",
                     message=f"the grader reads `sample.output_json`; {good:,} of {len(parsed):,} outputs are {kind}{more}",
                     hint=hint)
    if rest:
        lacking = sum(1 for v in parsed if _lookup(v, rest) is _MISSING)
        if lacking:
            return Issue(path=where, severity="warning", code="preflight_output_json",
                         message=f"the grader reads `{ref.dotted}`; {lacking:,} of {len(parsed):,} outputs lack it{more}",
                         hint="those rows will be graded as invalid_variable_error")
    return None
