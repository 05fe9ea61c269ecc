"""What the pages derive from a grading run (summary, tables, figures, explanations, comparisons), kept
by the UI beside the run, never on it: a domain object holds no view state.

Keyed by the run object itself (a run is never changed once made); an entry goes with its run.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from ftstudio.grading import GradingRun

T = TypeVar("T")

_caches: dict[int, dict[Hashable, Any]] = {}
_lock = threading.Lock()  # Streamlit runs each browser session in its own thread


def _of(run: GradingRun) -> dict[Hashable, Any]:
    with _lock:
        found = _caches.get(id(run))
        if found is None:
            found = _caches[id(run)] = {}
            weakref.finalize(run, _caches.pop, id(run), None)
        return found


def derived(run: GradingRun, key: Hashable, build: Callable[[], T]) -> T:
    """`build()` the first time `key` is asked for this run; the same value after."""
    cache = _of(run)
    if key not in cache:
        cache[key] = build()
    return cache[key]


def peek(run: GradingRun, key: Hashable) -> Any | None:
    """The value kept for `key`, or None when nothing was built yet."""
    return _of(run).get(key)


def keep(run: GradingRun, key: Hashable, value: Any) -> None:
    _of(run)[key] = value
