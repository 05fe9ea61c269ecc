"""A hyperparameter widget generated from its HyperParam metadata: an "auto" toggle and a number.

Nothing here knows a bound: min, max, step and help come from ftstudio.hyperparameters.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from components import state
from ftstudio.config import AUTO, HyperParam


def render(spec: HyperParam, value: Any, key: str) -> tuple[Any, str | None]:
    """Draw the widget; return (the value the user wants, an error message or None)."""
    label = spec.name.replace("_", " ").capitalize()
    if spec.kind == "choice":
        choice = st.selectbox(label, spec.choices, index=spec.choices.index(value) if value in spec.choices else 0,
                              key=key, help=f"{spec.help}\n\nAllowed: {spec.describe()}.")
        return choice, None
    with st.container(border=True):
        st.markdown(f"**{label}**", help=f"{spec.help}\n\nAllowed: {spec.describe()}.")
        # Each toggle is named after its hyperparameter: a screen reader hears "n_epochs: auto", not "auto". It has
        # the card's whole width: beside the title, a quarter of a card cut its name to "bat…" at 1280 px.
        auto = st.toggle(f"{spec.name}: auto", value=value == AUTO, key=state.key(key, "auto"),
                         help='"auto" lets the platform choose from your dataset')
        if auto:
            allowed = spec.describe().removeprefix('"auto" or ')
            st.caption(f"auto — the platform picks. Switch off to set {allowed}.")
            return AUTO, None
        start = value if value != AUTO else spec.suggested
        start = start if isinstance(start, (int, float)) else 0  # a spec with a number kind suggests a number
        is_int = spec.kind == "int"
        number = st.number_input(
            label, value=int(start) if is_int else float(start), step=int(spec.step) if is_int else float(spec.step),
            min_value=_bound(spec.ge, is_int), max_value=_bound(spec.le, is_int), key=state.key(key, "n"),
            label_visibility="collapsed", format=None if is_int else "%.6g",
        )
        try:
            return spec.coerce(number), None
        except ValueError as exc:
            return number, str(exc)


def _bound(value: float | None, is_int: bool):
    if value is None:
        return None
    return int(value) if is_int else float(value)
