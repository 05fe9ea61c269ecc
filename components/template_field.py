"""A text field that holds a `{{ item.* }}` / `{{ sample.* }}` template.

Beside the field, a menu inserts the variables that exist (the sample fields, plus `item.<field>`
for each field of the loaded dataset); under it, what the template renders to for the dataset's
first row, or the row-level error the API would report (invalid_variable_error...).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from components import issues_panel, state
from ftstudio.core import Issue
from ftstudio.graders import SAMPLE_FIELDS, RenderError, Sample, parse, render_one

PREVIEW_CHARS = 240


@dataclass(frozen=True)
class Context:
    variables: tuple[str, ...]
    item: dict | None  # the first dataset row without the model output
    sample: Sample | None
    note: str = ""  # why there is no preview


def context() -> Context:
    """Variables and the preview row, computed once per dataset (fields scan every row)."""
    ds, field = state.dataset(), state.sample_field()
    marker = (id(ds), getattr(ds, "content_hash", None), field, len(ds) if ds is not None else 0)
    cached = state.app().template_context
    if cached and cached[0] == marker:
        return cached[1]
    variables = [f"sample.{f}" for f in SAMPLE_FIELDS]
    item = sample = None
    note = "Load a dataset on 4 Test grading to list its fields and preview templates on its first row."
    if ds is not None:
        fields = state.dataset_fields() or []
        row = state.first_row()
        note = "The dataset has no readable rows."
        if row is not None:
            item = {k: v for k, v in row.items() if k != field}
            output = row.get(field)
            note = ""
            if output is None:
                note = f"Row 1 has no '{field}' field (the model output), so sample.* can't be previewed."
                sample = Sample("")
            else:
                sample = Sample(output if isinstance(output, str) else json.dumps(
                    output, separators=(",", ":"), ensure_ascii=False))
                try:
                    data = sample.output_json()
                except RenderError:  # not JSON: no output_json keys to offer
                    data = None
                if isinstance(data, dict):
                    variables[2:2] = [f"sample.output_json.{k}" for k in list(data)[:20] if _plain(k)]
        variables += [f"item.{f}" if _plain(f) else f'item["{f}"]' for f in fields]
    ctx = Context(tuple(variables), item, sample, note)
    state.app().template_context = (marker, ctx)
    return ctx


def _plain(name: str) -> bool:
    return name.isidentifier()


def template_field(label: str, value: str, *, key: str, on_change: Callable[[str], None],
                   issues: Iterable[Issue] = (), area: bool = False, height: int | None = None,
                   help: str | None = None, placeholder: str | None = None) -> None:
    """Draw the field; `on_change(new_text)` applies an edit (typed, or a variable inserted)."""
    ctx = context()
    # Pass `value` only on first draw: afterwards the widget's state is the truth (an insert sets it).
    initial: dict[str, Any] = {} if state.has_widget(key) else {"value": value}
    with st.container(horizontal=True, vertical_alignment="bottom", gap="xsmall"):
        if area:
            st.text_area(label, key=key, on_change=_typed, args=(key, on_change), help=help, height=height,
                         placeholder=placeholder, **initial)
        else:
            st.text_input(label, key=key, on_change=_typed, args=(key, on_change), help=help,
                          placeholder=placeholder, **initial)
        st.menu_button("", ctx.variables, key=state.key(key, "insert"), icon=":material/data_object:",
                       help="Insert a variable", on_click=_insert, args=(key, value, on_change),
                       format_func=lambda v: "{{ " + v + " }}")
    current = state.widget(key, value)
    preview(current if isinstance(current, str) else value, ctx)
    issues_panel.inline(issues)


def _typed(key: str, on_change: Callable[[str], None]) -> None:
    on_change(state.widget(key) or "")


def _insert(key: str, value: str, on_change: Callable[[str], None]) -> None:
    var = state.widget(state.key(key, "insert"))
    if not var:
        return
    current = state.widget(key, value) or ""
    sep = "" if not current or current[-1] in " \n([{\"'" else " "
    new = f"{current}{sep}{{{{ {var} }}}}"
    state.set_widget(key, new)
    on_change(new)


def preview(source: str, ctx: Context | None = None) -> None:
    """One caption: the template rendered for the first dataset row, or why it can't be."""
    ctx = ctx or context()
    if ctx.item is None:
        return
    tpl = parse(source)
    if tpl.problems or not tpl.refs:
        return  # malformed templates have their own message; plain text renders as itself
    if ctx.sample is None:
        return
    text, err = render_one(source, ctx.item, ctx.sample)
    if err is not None:
        st.markdown(f":red[Row 1 → **{err[0]}**:] {_code(err[1])}")
    else:
        st.caption(f"Row 1 → {_code(text or '')}" + (" _(empty)_" if not text else ""))
    if ctx.note:
        st.caption(ctx.note)


def _code(text: Any) -> str:
    """Inline code that survives backticks and newlines (markdown isn't interpreted inside)."""
    s = str(text).replace("\n", " ⏎ ")
    if len(s) > PREVIEW_CHARS:
        s = s[:PREVIEW_CHARS] + " …"
    if not s:
        return ""
    fence = "``" if "`" in s else "`"
    return f"{fence} {s} {fence}" if fence == "``" else f"`{s}`"
