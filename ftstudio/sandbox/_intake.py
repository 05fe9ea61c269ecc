"""What comes back from a worker during a run (see _scheduler.py), read and checked before it becomes a result.

The worker's shared page (rows started, the position being graded, the first position whose result is not
final, then one reward per position), the messages of rows that failed, printed or were slow, and how the
worker ended. The page and messages are written by the process user code runs in, so every position and
reward is range-checked, and the texts are cut to the parent's own limits whatever the worker did.
"""

from __future__ import annotations

import math
import signal
import time
from typing import Any

from ._process import MAX_DETAILS_CHARS, MAX_OUTPUT_BYTES, WorkerProcess, describe_exit

RUNTIME_ERROR = "python_grader_runtime_error"


def size_text(n: int) -> str:
    for unit, factor in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= factor:
            return f"{round(n / factor, 2):g} {unit}"
    return f"{n} bytes"


def look(w: WorkerProcess, timeout: float) -> int | None:
    """The page's first position not final, after a look at it (a row started since the parent last looked
    starts its own clock); None if the page is malformed."""
    step, p, checked = w.marks()
    if not (step >= w.step and 0 <= p < w.sent and 0 <= checked <= w.sent):
        return None
    w.checked = max(w.checked, checked)
    if step > w.step:
        w.step, w.pos, w.deadline = step, p, time.monotonic() + timeout
    return checked


def record(w: WorkerProcess, result_type: Any, timeout: float, j, reward, error, details, stdout) -> bool:
    """A row's own message (it failed, printed or was slow): its result, and the next row's clock."""
    if (type(j) is not int or not 0 <= j < w.sent or j in w.special or (w.special and j < max(w.special))
            or type(reward) not in (int, float) or not math.isfinite(reward)
            or error not in (None, RUNTIME_ERROR)
            or not isinstance(details, (str, type(None))) or not isinstance(stdout, (str, type(None)))):
        return False
    w.special[j] = result_type(float(reward), error, clip_details(details), clip_output(stdout))
    w.deadline = time.monotonic() + timeout
    return True


def settle(w: WorkerProcess, upto: int, rewards: list[float] | None, results: list[Any], clean: dict[object, object],
           result_type: Any) -> int | None:
    """The results of the batch's first `upto` rows put in `results`: their messages, else their rewards on
    the page (one result per reward kept in `clean`, the pool's: see clean_result). The number of rows settled
    (those given back are not), or None if a reward there is not a finite number (the worker's memory is user
    code's to change)."""
    if upto <= 0:
        return 0
    rewards = w.rewards(upto) if rewards is None else rewards[:upto]
    if len(rewards) < upto or not math.isfinite(sum(rewards)) and not all(map(math.isfinite, rewards)):
        return None
    special, batch, dropped = w.special, w.batch, w.dropped
    if not special and not dropped:  # the usual batch: every row's result is its reward's, most of them known
        found = list(map(clean.get, rewards))  # a zero misses here (see clean_result); results are truthy
        if not all(found):
            found = [r if r is not None else clean_result(clean, reward, result_type)
                     for r, reward in zip(found, rewards)]
        for i, result in zip(batch, found):
            results[i] = result
        return upto
    for j in range(upto):
        if dropped and j in dropped:
            continue  # given back while a slow call ran: graded elsewhere
        result = special.get(j)
        if result is None:
            result = clean_result(clean, rewards[j], result_type)
        results[batch[j]] = result
    return upto - sum(j < upto for j in dropped)


CLEAN_RESULTS = 4096  # rewards whose result a pool keeps (a trainer's rewards repeat: 0 and 1, a few fractions)


def clean_result(clean: dict[object, object], reward: float, result_type: Any) -> Any:
    """The result of a row with this reward and no error or output, from the pool's `clean` (results are
    frozen, so runs share them): making one costs more than a trainer's row's whole round trip. A zero is kept
    under (reward, sign), so -0.0 stays -0.0 (a float key would find 0.0's); past CLEAN_RESULTS, it starts over."""
    key = reward if reward else (reward, math.copysign(1.0, reward))
    result = clean.get(key)
    if result is None:
        if len(clean) >= CLEAN_RESULTS:
            clean.clear()
        result = clean[key] = result_type(reward)
    return result


def final(w: WorkerProcess) -> tuple[int, int, list[float]]:
    """(first position not final, position running, rewards) of a busy worker, read before it is stopped."""
    _, p, checked = w.marks()
    p = p if 0 <= p < w.sent else w.pos
    checked = checked if 0 <= checked <= w.sent else 0
    return min(checked, len(w.batch)), p, w.rewards(len(w.batch))


def exit_reason(w: WorkerProcess, memory_limit: int) -> str:
    """Why a worker whose pipe closed has ended (it is waited for), with the likely cause of a kill."""
    status = w.wait_exit()
    reason = describe_exit(status)
    if status == -signal.SIGKILL:
        reason += f"; the likely cause is running out of memory (limit {size_text(memory_limit)})"
    elif status == -signal.SIGXCPU:
        reason += "; it used more CPU time than the backstop limit allows"
    return reason


# Room for what the worker adds around the output and the traceback it cut (its notes, the hint of an
# OSError), so a result that kept to the limits is never cut again.
_SLACK = 1000


def clip_output(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_OUTPUT_BYTES + _SLACK:
        return text
    return text[:MAX_OUTPUT_BYTES] + f"\n... ({len(text) - MAX_OUTPUT_BYTES:,} more characters cut by the sandbox)"


def clip_details(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_DETAILS_CHARS + _SLACK:
        return text
    return "... (details cut by the sandbox)\n" + text[-MAX_DETAILS_CHARS:]
