"""The deadline watch of a run (see _scheduler.py): how long the parent may sleep, which call is slow or late.

The worker writes on its shared page the position of the row it is on before calling grade(), and the
parent looks at it whenever it wakes (at least every POLL_INTERVAL while a batch runs), so each call still
has its own wall deadline: a call's clock starts when the parent sees the worker on it (the batch is sent,
the page shows its position, or the previous row's message arrives; see _intake.py), which gives a call
at most POLL_INTERVAL more than the limit, never less. `deadline - timeout` is when the call started.

A call running longer than SLOW_CALL gives the rows queued behind it in its batch back to the
queue, so other workers grade them (a hung row holds nobody else back); that worker is retired
when its call ends, because it would otherwise go on to rows now graded elsewhere.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator

from ._process import WorkerProcess

START_GRACE = 10.0          # seconds for the interpreter to start, on top of the call timeout
POLL_INTERVAL = 0.05        # how often cancel and close are looked at while waiting
SLOW_CALL = 2.0             # seconds after which a call counts as slow (progress says so; its batch is split)


def slow(w: WorkerProcess, timeout: float, now: float) -> bool:
    """Whether the worker's call has been running for SLOW_CALL seconds or more."""
    return w.state == "busy" and w.deadline is not None and now - (w.deadline - timeout) >= SLOW_CALL


def release_slow(workers: Iterable[WorkerProcess], timeout: float, queue: deque[int]) -> None:
    """A slow call gives back the rows queued behind it and the rows before it whose results are not
    final yet (a fast worker's last stretch, which only the check after the slow call would settle)."""
    now = time.monotonic()
    for w in list(workers):
        if not w.released and slow(w, timeout, now):
            w.released = True
            _, _, checked = w.marks()
            unfinal = [j for j in range(max(0, checked), w.pos) if j not in w.special]
            back = [w.batch[j] for j in unfinal] + w.batch[w.pos + 1:]
            if w.pos + 1 < len(w.batch):
                w.batch, w.retiring = w.batch[:w.pos + 1], True
            w.dropped.update(unfinal)
            queue.extendleft(reversed(back))


def wait_time(workers: Iterable[WorkerProcess]) -> float:
    """How long the parent may sleep: POLL_INTERVAL, or less until the nearest deadline."""
    deadlines = [w.deadline for w in workers if w.deadline is not None]
    wait = POLL_INTERVAL
    if deadlines:
        wait = max(0.0, min(wait, min(deadlines) - time.monotonic()))
    return wait


def expired(workers: Iterable[WorkerProcess], timeout: float) -> Iterator[tuple[WorkerProcess, str, bool]]:
    """(worker, reason, timed_out) for each live worker past its deadline, as the run stops them one by one."""
    now = time.monotonic()
    for w in list(workers):
        if w.state == "dead" or w.deadline is None or now < w.deadline:
            continue
        if w.state == "busy":
            yield w, f"grade() did not finish within {timeout:g} s; its worker was stopped and replaced", True
        elif w.state == "booted":
            yield w, f"the module-level code of the source did not finish within {START_GRACE + timeout:g} s", False
        else:
            yield w, f"the grader worker did not start within {START_GRACE + timeout:g} s", False
