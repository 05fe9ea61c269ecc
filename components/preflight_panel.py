"""The preflight above the Grade button: what the grader reads that the data doesn't hold."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components import state
from ftstudio.core import Issue
from ftstudio.grading import preflight


def findings(grader: Any, ds: Any, sample_field: str) -> list[Issue]:
    """grading.preflight, computed once per (grader, dataset, output field): configs are never mutated."""
    a = state.app()
    marker = (id(grader), getattr(ds, "content_hash", id(ds)), sample_field)
    cached = a.preflight_cache
    if cached is not None and cached[0] == marker and cached[1] is grader:
        return cached[2]
    issues = preflight(grader, ds, sample_field)
    a.preflight_cache = (marker, grader, issues)
    return issues


def render(grader: Any, ds: Any, sample_field: str) -> None:
    issues = findings(grader, ds, sample_field)
    if not issues:
        return
    lines = "\n".join(f"- {i.message}" + (f" — {i.hint}" if i.hint else "") for i in issues)
    st.warning(f"**Before you grade:**\n{lines}", icon=":material/rule:")
