"""A python node in the small-call plan (grading/_plan.py): the whole column in one run of the node's warm pool.

The rows are the ones its scorer (graders.types.python.score) sends: each output's sample dict and the row's
item, in row order, with the call's cancel. A call where any row has an error (the code raised, timed out or
returned what is not a number; the run was cancelled) is the engine's: the plan declines, and the engine grades
the call with these same results (`ran`), so a row's code runs once and its error is the engine's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ftstudio.graders import sample_dicts

if TYPE_CHECKING:  # the sandbox and the python type are imported when a python node first runs (issue 23, start-up)
    from ftstudio.graders import PythonGrader
    from ftstudio.sandbox import PythonCallResult, PythonGraderPool

# Each row's item, as the engine's Batch.items gives them (built only when a python node runs).
Items = Callable[[], Sequence[dict[str, Any]]]
# The session's warm pool of a python node (GradingSession.python_pool).
Pools = Callable[["PythonGrader"], "PythonGraderPool"]
# The results of the python nodes a call ran, by id(node).
Ran = dict[int, "list[PythonCallResult]"]


def python_column(node: PythonGrader, pools: Pools, outputs: list[str], items: Sequence[dict[str, Any]],
                  cancel: Any, ran: Ran) -> list[float] | None:
    """The node's reward per row, or None when a row has an error (its results are in `ran` either way)."""
    if len(items) != len(outputs):
        return None
    results = pools(node).run(list(zip(sample_dicts(outputs), items)), cancel=cancel)
    ran[id(node)] = results
    if len(results) != len(outputs):  # a cancelled run may return fewer
        return None
    for result in results:
        if result.error is not None:
            return None
    return [result.reward for result in results]


__all__ = ["Items", "Pools", "Ran", "python_column"]
