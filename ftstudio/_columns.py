"""Column-wise template rendering: one template over many rows, with fast paths.

The common templates are a single variable (`{{ item.answer }}`, `{{ sample.output_text }}`);
those skip the general renderer, which is what lets string_check reach hundreds of thousands of
rows per second. Results: values aligned to the requested rows, None where the row failed, and
the failure (code, message) per failed row.
"""

from __future__ import annotations

from typing import Any, Sequence

from .templates import Ref, RenderError, Sample, parse, to_text

_MISSING = object()


def render_column(source: str, items: Sequence[Any], samples: Sequence[Sample | None],
                  rows: Sequence[int]) -> tuple[list[str | None], dict[int, tuple[str, str]]]:
    tpl = parse(source)
    if tpl.problems:  # validation stops grading before this; keep the engine total anyway
        msg = tpl.problems[0].message
        return [None] * len(rows), {r: ("other_error", f"malformed template: {msg}") for r in rows}
    parts = tpl.parts
    if not parts:
        return [""] * len(rows), {}
    if len(parts) == 1 and isinstance(parts[0], str):
        return [parts[0]] * len(rows), {}
    if len(parts) == 1:
        fast = _single_ref(parts[0], items, samples, rows)
        if fast is not None:
            return fast
    out: list[str | None] = []
    errs: dict[int, tuple[str, str]] = {}
    render = tpl.render
    for r in rows:
        try:
            out.append(render(items[r], samples[r]))
        except RenderError as exc:
            out.append(None)
            errs[r] = (exc.code, exc.message)
    return out, errs


def _single_ref(ref: Ref, items, samples, rows):
    if ref.namespace == "sample" and ref.path == ("output_text",):
        return [samples[r].output_text for r in rows], {}
    if ref.namespace == "item" and len(ref.path) == 1 and isinstance(ref.path[0], str):
        key = ref.path[0]
        values = [it.get(key, _MISSING) if it.__class__ is dict else _MISSING for it in (items[r] for r in rows)]
        errs: dict[int, tuple[str, str]] = {}
        for i, v in enumerate(values):
            if v.__class__ is not str:
                if v is _MISSING:
                    values[i] = None
                    errs[rows[i]] = ("invalid_variable_error", f"{{{{ {ref.text} }}}}: '{key}' does not exist in this row")
                else:
                    values[i] = to_text(v)
        return values, errs
    return None


def render_one(source: str, item: Any, sample: Sample) -> tuple[str | None, tuple[str, str] | None]:
    values, errs = render_column(source, [item], [sample], [0])
    return values[0], errs.get(0)
