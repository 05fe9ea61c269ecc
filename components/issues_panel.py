"""Show validation Issues: inline under a field or node, or as a full list with links to their step."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from ftstudio.core import Issue, sort_issues

ICON = {"error": ":material/error:", "warning": ":material/warning:", "info": ":material/info:"}


def owning_page(path: str) -> str:
    """The step that edits the field at `path`."""
    if path.startswith("method.reinforcement.grader"):
        return "app_pages/graders.py"
    if path == "hyperparameters" or ".hyperparameters" in path:
        return "app_pages/hyperparameters.py"
    return "app_pages/method.py"


def inline(issues: Iterable[Issue], *, show_path: bool = False) -> None:
    """Messages right under a field: errors red, warnings amber, notes grey."""
    for issue in sort_issues(issues):
        where = f"`{issue.path or '$'}` " if show_path else ""
        text = f"{where}{issue.message}" + (f" — {issue.hint}" if issue.hint else "")
        if issue.severity == "error":
            st.error(text, icon=":material/error:")
        elif issue.severity == "warning":
            st.warning(text, icon=":material/warning:")
        else:
            st.caption(f":material/info: {text}")


def full_list(issues: list[Issue], page_titles: dict[str, str]) -> None:
    """Every issue, grouped by the step that owns it, each with a link there."""
    if not issues:
        st.success("No issues: the config is ready to export.")
        return
    groups: dict[str, list[Issue]] = {}
    for issue in sort_issues(issues):
        groups.setdefault(owning_page(issue.path), []).append(issue)
    for page, items in groups.items():
        st.page_link(page, label=f"{page_titles.get(page, page)} — {len(items)} issue(s)", icon=":material/arrow_forward:")
        for issue in items:
            hint = f"  \n  _{issue.hint}_" if issue.hint else ""
            st.markdown(f"{ICON[issue.severity]} `{issue.path or '$'}` {issue.message}{hint}")
