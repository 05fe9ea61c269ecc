"""Editors of the model graders: score_model and label_model (model, messages, range / labels, sampling)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components import grader_edit as E
from components import issues_panel, state
from components.message_editor import message_editor
from ftstudio.config import catalog
from ftstudio.graders import SCORE_MODEL_EFFORTS, LabelModelGrader, SamplingParams, ScoreModelGrader, tree


def model_caption(model_id: str) -> str:
    info = catalog.lookup(model_id) if model_id.strip() else None
    if not model_id.strip():
        return ""
    if info is None:
        return ""  # validation's model_unknown note says it, right under the field
    bits = ["reasoning model" if info.reasoning else "not a reasoning model"]
    if info.reasoning and info.efforts:
        bits.append("reasoning_effort: " + ", ".join(info.efforts + info.maybe_efforts))
    if info.retired:
        bits.append(f"retire{'d' if info.retired_on() else 's'} {info.retired.isoformat()}")
    if info.note:
        bits.append(info.note)
    return " · ".join(bits)


def render(path: tuple, node: Any, bag: E.IssueBag) -> None:
    k = lambda name: E.key(path, name)
    ids = [m.id for m in catalog.grader_models(state.target())]
    options = ids if node.model in ids else [node.model] + ids
    st.selectbox("Model", options, index=options.index(node.model), key=k("model"), accept_new_options=True,
                 on_change=_set_model, args=(path, k("model")),
                 help="Pick a grader model from the table, or type any model id your endpoint serves.")
    caption = model_caption(node.model)
    if caption:
        st.caption(caption)
    issues_panel.inline(bag.take(E.json_path(path, "model")))

    message_editor(path, node.input, bag)
    issues_panel.inline(bag.take(E.json_path(path, "input")))

    if isinstance(node, ScoreModelGrader):
        _range(path, node, bag)
    else:
        _labels(path, node, bag)
    _sampling(path, node, bag)


def _set_model(path: tuple, key: str) -> None:
    value = (state.widget(key) or "").strip()
    E.set_fields(path, "grader model", model=value)


def _range(path: tuple, node: ScoreModelGrader, bag: E.IssueBag) -> None:
    k = lambda name: E.key(path, name)
    low, high = node.range if node.range else (0.0, 1.0)
    st.markdown("**Range** — the scores the model may give; the reward is the model's score.")
    c1, c2, _ = st.columns([1, 1, 2])
    c1.number_input("Low", value=float(low), step=0.5, format="%g", key=k("low"), on_change=_set_range,
                    args=(path, k("low"), k("high")))
    c2.number_input("High", value=float(high), step=0.5, format="%g", key=k("high"), on_change=_set_range,
                    args=(path, k("low"), k("high")))
    if node.range is None:
        st.caption("Not set: the API uses [0, 1]. Editing either bound sets it.")
    issues_panel.inline(bag.take(E.json_path(path, "range")))


def _set_range(path: tuple, low_key: str, high_key: str) -> None:
    low, high = state.widget(low_key), state.widget(high_key)
    if low is None or high is None:
        return
    E.set_fields(path, "score range", range=[float(low), float(high)])


def _labels(path: tuple, node: LabelModelGrader, bag: E.IssueBag) -> None:
    k = lambda name: E.key(path, name)
    labels = list(dict.fromkeys(node.labels))
    st.multiselect("Labels", labels, default=labels, key=k("labels"), accept_new_options=True,
                   on_change=_set_labels, args=(path, k("labels")),
                   help="The labels the model chooses from. Type a new label and press Enter to add it.")
    issues_panel.inline(bag.take(E.json_path(path, "labels")))
    options = labels + [p for p in node.passing_labels if p not in labels]
    st.multiselect("Passing labels", options, default=[p for p in dict.fromkeys(node.passing_labels)],
                   key=k("passing"), on_change=_set_passing, args=(path, k("passing")),
                   help="A row scores 1 when the model picks one of these, else 0.")
    issues_panel.inline(bag.take(E.json_path(path, "passing_labels")))


def _set_labels(path: tuple, key: str) -> None:
    labels = [str(x).strip() for x in state.widget(key) or [] if str(x).strip()]
    node = tree.node_at(E.root(), path)
    passing = [p for p in node.passing_labels if p in labels]
    # The passing-labels widget must show the pruned list: redraw the node's widgets.
    E.set_fields(path, "labels", redraw=passing != node.passing_labels, labels=labels, passing_labels=passing)


def _set_passing(path: tuple, key: str) -> None:
    E.set_fields(path, "passing labels", passing_labels=list(state.widget(key) or []))


# --- sampling_params ----------------------------------------------------------------------

NUMBERS = (  # name, kind, min, max, step, help
    ("seed", int, None, None, 1, "Same seed, same sampling (where the model supports it)."),
    ("temperature", float, 0.0, 2.0, 0.1, "Randomness; reasoning models don't take it."),
    ("top_p", float, 0.0, 1.0, 0.05, "Nucleus sampling; reasoning models don't take it."),
    ("max_completions_tokens", int, 1, None, 64, "Upper bound on the grader's output tokens."),
)


def effort_options(model_id: str, current: str | None) -> tuple[list[str | None], str]:
    """reasoning_effort choices that fit the model, and a note (unknown model: every SDK value)."""
    info = catalog.lookup(model_id) if model_id.strip() else None
    if info is None:
        opts, note = list(SCORE_MODEL_EFFORTS), "Model not in the table: every SDK value is offered; check what it takes."
    elif not info.reasoning:
        opts, note = [], f"{model_id} is not a reasoning model: it takes no reasoning_effort."
    else:
        opts = list(info.efforts) + [e for e in info.maybe_efforts if e not in info.efforts]
        note = ("" if not info.maybe_efforts else
                f"The table can't tell whether it takes {', '.join(info.maybe_efforts)}.")
        if info.default_effort:
            note = (note + f" Default: {info.default_effort}.").strip()
    out: list[str | None] = [None, *opts]
    if current is not None and current not in out:
        out.append(current)  # keep showing an unsupported value; validation says why
    return out, note


def _sampling(path: tuple, node: Any, bag: E.IssueBag) -> None:
    k = lambda name: E.key(path, name)
    sp = node.sampling_params or SamplingParams()
    base = E.json_path(path, "sampling_params")
    found = bag.take(base)
    set_names = [n for n, v in sp.model_dump(exclude_none=True).items()]
    title = "Sampling parameters" + (f" · {', '.join(set_names)}" if set_names else " (optional)")
    with st.expander(title, expanded=bool(found)):
        cols = st.columns(2)
        for idx, (name, kind, lo, hi, step, hint) in enumerate(NUMBERS):
            value = getattr(sp, name)
            with cols[idx % 2]:
                st.number_input(name, min_value=kind(lo) if lo is not None else None,
                                max_value=kind(hi) if hi is not None else None,
                                value=kind(value) if value is not None else None, step=kind(step),
                                format="%d" if kind is int else "%g", placeholder="not set", key=k(f"sp-{name}"),
                                on_change=_set_sampling, args=(path, name, k(f"sp-{name}")), help=hint)
        options, note = effort_options(node.model, sp.reasoning_effort)
        st.selectbox("reasoning_effort", options, index=options.index(sp.reasoning_effort), key=k("sp-effort"),
                     format_func=lambda e: e or "(not set)", on_change=_set_sampling,
                     args=(path, "reasoning_effort", k("sp-effort")), disabled=len(options) == 1,
                     help="Only the values the chosen model takes are listed.")
        if note:
            st.caption(note)
        issues_panel.inline(found)


def _set_sampling(path: tuple, name: str, key: str) -> None:
    node = tree.node_at(E.root(), path)
    sp = node.sampling_params or SamplingParams()
    value = state.widget(key)
    new = sp.model_copy(update={name: value})
    empty = not new.model_dump(exclude_none=True)
    E.set_fields(path, f"sampling_params.{name}", sampling_params=None if empty else new)
