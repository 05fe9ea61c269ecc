"""The python grader's time limit on Test grading: a "Time limit per row" input when the grader runs code, and
the notice a run shows when every row it finished so far ran past that limit (a grader that loops or waits
forever would otherwise look like slow progress: 31 rows x 120 s on 4 workers is ~16 minutes).

The notice reads the run's progress as data (JobProgress.timed_out, counted from RowStatus.TIMED_OUT results
of the sandbox), never the rows' messages.
"""

from __future__ import annotations

import streamlit as st

from components import state
from ftstudio.graders import grader_type, walk
from ftstudio.grading import GradeOptions, JobProgress

KEY = state.key("tg", "python-timeout")
# The value outlives the input: Streamlit forgets a widget's value when a run hides it (the progress view does).
KEPT = state.key("tg", "python-timeout", "kept")
DEFAULT = GradeOptions().python_timeout
LABEL = "Time limit per row (s)"


def runs_code(grader) -> bool:
    """True when a node of the tree runs the user's code in the sandbox (a python grader)."""
    return grader is not None and any(grader_type(n.type).code is not None for _p, n in walk(grader))


def seconds() -> float:
    """The limit the next run uses: the input's value, else the engine's default."""
    return float(state.widget(KEPT, DEFAULT))


def _keep() -> None:
    state.set_widget(KEPT, state.widget(KEY, DEFAULT))


def render(where, grader) -> None:
    if runs_code(grader):
        where.number_input(LABEL, 1, 3600, int(seconds()), key=KEY, on_change=_keep,
                           help="How long grade() may run on one row before the row is a timed-out error and its "
                                "worker is replaced. Lower it to find a grader that never returns sooner.")


def notice(p: JobProgress) -> None:
    """A warning while every row the current stage finished timed out; nothing otherwise."""
    if not p.all_timed_out:
        return
    limit = f"{p.limit:g} s" if p.limit is not None else "time"
    rest = max(p.total - p.rows_done, 0)
    pace = (f" At this pace the other {rest:,} rows take about {_minutes(p.elapsed / max(p.rows_done, 1) * rest)}."
            if rest else "")
    st.warning(f"**Every row finished so far timed out**: {p.timed_out:,} of {p.stage_done:,} rows of {p.node} ran "
               f"past the {limit} limit per row. grade() probably never returns (a loop, or a wait on input or the "
               f"network).{pace} **Cancel** the run, then fix the grader in 3 Graders, or change **{LABEL}** "
               "above the Grade button for code that is only slow.", icon=":material/timer_off:")


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
