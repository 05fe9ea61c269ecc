"""The row detail's "How the grader saw this row": what each node's templates render to for the row, beside the
scores the run recorded. Nothing is graded again: rendering runs no code and calls no model, so neither a
python grader that loops nor a paid judge holds the page (a Cancel on such a run leaves the page whole at once,
not faded for the two minutes a looping row takes to time out).
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from components import run_cache
from ftstudio.grading import GradingRun, rendered_inputs


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _inputs(run: GradingRun, i: int) -> list[dict[str, Any]] | None:
    entry = run.entry(i)
    return rendered_inputs(run.grader, entry, run.sample_field) if isinstance(entry, dict) else None


def recorded_score(run: GradingRun, i: int, node: dict[str, Any]) -> float | None:
    """The score the run recorded for this node on row i: the reward at the root, a top-level child's own
    score (None where it failed); deeper nodes are not recorded."""
    if not node["path"]:
        return float(run.results.rewards[i])
    key = node["key"]
    if node["path"] == f"graders.{key}" and key in run.results.sub_rewards:
        return run.results.sub_value(key, i)
    return None


def render(run: GradingRun, i: int) -> None:
    try:
        nodes = run_cache.derived(run, ("inputs", i), lambda: _inputs(run, i))
    except Exception as exc:  # the detail view must never take the page down
        st.error(f"Could not render this row's templates: {type(exc).__name__}: {exc}")
        return
    if nodes is None:  # an unreadable line: nothing to render
        return
    st.markdown("**How the grader saw this row** — each node's templates rendered for it (nothing is graded "
                "again: no code runs, no model is called)")
    for node in nodes:
        where = node["path"].replace("graders.", "") if node["path"] else "grader"
        score = recorded_score(run, i, node)
        shown = f" · score **{score:.4f}**" if score is not None else ""
        with st.container(border=True):
            st.markdown(f"`{where}` · {node['type']} *{node['name'] or ''}*{shown}")
            if node.get("problem"):
                st.caption(f"Nothing to render: {node['problem']}")
                continue
            rendered = list(node["rendered"].items())
            cols = st.columns(len(rendered)) if len(rendered) == 2 else [st.container()] * len(rendered)
            for col, (name, value) in zip(cols, rendered):
                with col:
                    _rendered(name, value)


def _rendered(name: str, value: Any) -> None:
    if name == "messages" and isinstance(value, list):
        for m in value:
            role = m.get("role", "?") if isinstance(m, dict) else "?"
            st.caption(f"message · {role}")
            st.code(_text(m.get("content") if isinstance(m, dict) else m), language=None, wrap_lines=True)
    else:
        st.caption(name)
        st.code(_text(value) or "(empty)", language=None, wrap_lines=True)
