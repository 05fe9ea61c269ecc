"""Column-wise template rendering: one template over many rows, with fast paths.

The common templates are a single variable (`{{ item.answer }}`, `{{ sample.output_text }}`);
those skip the general renderer, which is what lets string_check reach hundreds of thousands of
rows per second. Results: values aligned to the requested rows, None where the row failed, and
the failure (code, message) per failed row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ftstudio.core import ROW_ERROR, shorten

from ._templates import Ref, RenderError, Sample, parse, to_text

_MISSING = object()


def render_column(source: str, batch: Any, rows: Sequence[int]) -> tuple[list[str | None], dict[int, tuple[str, str]]]:
    """Render `source` for the given row indices of an engine Batch."""
    tpl = parse(source)
    if tpl.problems:  # validation stops grading before this; keep the engine total anyway
        msg = tpl.problems[0].message
        return [None] * len(rows), {r: (ROW_ERROR.OTHER, f"malformed template: {msg}") for r in rows}
    parts = tpl.parts
    if not parts:
        return [""] * len(rows), {}
    first = parts[0]
    if len(parts) == 1 and isinstance(first, str):
        return [first] * len(rows), {}
    if len(parts) == 1 and isinstance(first, Ref):
        fast = _single_ref(first, batch, rows)
        if fast is not None:
            return fast
    out: list[str | None] = []
    errs: dict[int, tuple[str, str]] = {}
    render = tpl.render
    items, samples = batch.items, batch.samples
    for r in rows:
        try:
            out.append(render(items[r], samples[r]))
        except RenderError as exc:
            out.append(None)
            errs[r] = (exc.code, exc.message)
    return out, errs


def _single_ref(ref: Ref, batch, rows) -> tuple[list[Any], dict[int, tuple[str, str]]] | None:
    if ref.namespace == "sample" and ref.path == ("output_text",):
        outputs = batch.outputs
        return [outputs[r] for r in rows], {}
    if ref.namespace == "item" and len(ref.path) == 1 and isinstance(ref.path[0], str):
        key = ref.path[0]
        raw = batch.rows
        values: list[Any]
        if key == batch.sample_field:  # the output field is not part of the item
            values = [_MISSING] * len(rows)
        else:
            values = [raw[r].get(key, _MISSING) for r in rows]
        errs: dict[int, tuple[str, str]] = {}
        shown = f"{{{{ {shorten(ref.text)} }}}}"  # one string for every failing row, however long the path
        missing = (ROW_ERROR.INVALID_VARIABLE, f"{shown}: '{shorten(str(key))}' does not exist in this row")
        for i, v in enumerate(values):
            if v.__class__ is not str:
                if v is _MISSING:
                    values[i] = None
                    errs[rows[i]] = missing
                else:
                    try:
                        values[i] = to_text(v)
                    except RenderError as exc:
                        values[i] = None
                        errs[rows[i]] = (exc.code, f"{shown}: {exc.message}")
        return values, errs
    return None


def render_one(source: str, item: Any, sample: Sample) -> tuple[str | None, tuple[str, str] | None]:
    """One template for one (item, sample): (text, None) or (None, (code, message))."""
    tpl = parse(source)
    if tpl.problems:
        return None, (ROW_ERROR.OTHER, f"malformed template: {tpl.problems[0].message}")
    try:
        return tpl.render(item, sample), None
    except RenderError as exc:
        return None, (exc.code, exc.message)
