"""What sandbox workers may keep resident, across every pool of this process.

Pools keep their workers between runs (a warm worker grades its next row at once), and serve keeps
up to 16 graders' pools. Two limits keep that from holding the machine's memory:

- memory: the resident memory of all live workers of this process together (RSS, measured in /proc
  when a run gives a worker back, at most every MEASURE_INTERVAL per worker; a worker's outer process
  counts too; where there is no /proc, as on macOS, only the idle timeout applies). When a run ends,
  free workers (those no run is using) are stopped, least recently used first, until the total is
  under the limit, and a run starts a new worker only while it is under. Busy workers are never
  stopped: a row in progress finishes. The bound is checked at those moments, so workers that grow
  while they grade can pass it until their run ends.
- idle_timeout: a free worker unused for this long is stopped by a background thread.

Defaults: 2 GiB and 300 s; `FTSTUDIO_SANDBOX_MEMORY_MB` and `FTSTUDIO_SANDBOX_IDLE_SECONDS` set
them for a process (and the processes it starts, such as serve's workers), set_residency_limits()
from code.

One lock (LOCK) guards the bookkeeping of every pool (which run owns which worker); CHANGED is
notified whenever a worker is freed or stopped, so runs waiting for one look again. The reaper thread
waits on a condition of its own (REAP), not on CHANGED: every run frees its worker, and waking the
reaper for it cost each run a thread switch (about 25 µs, a tenth of a trainer's 64-row round trip).
It needs no word of a freed worker: that worker's idle time ends after every deadline the reaper already
waits for, and with no free worker it looks again after idle_timeout (IDLE_POLL when that is 0), which is
never later than the idle time of a worker freed meanwhile ends.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass

ENV_MEMORY = "FTSTUDIO_SANDBOX_MEMORY_MB"
ENV_IDLE = "FTSTUDIO_SANDBOX_IDLE_SECONDS"
DEFAULT_RESIDENT_MEMORY = 2 * 1024 ** 3
DEFAULT_IDLE_TIMEOUT = 300.0
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MEASURE_INTERVAL = 0.5  # seconds: a worker given back more often than this keeps its last measure

# Re-entrant: a pool's finalizer (which takes it) can run during a garbage collection in any thread.
LOCK = threading.RLock()
CHANGED = threading.Condition(LOCK)
REAP = threading.Condition(LOCK)  # the reaper's: notified when the limits change
IDLE_POLL = 0.05  # seconds: how often the reaper looks for free workers when idle_timeout is 0
MAX_WAIT = 3600.0  # seconds: the reaper's longest wait (an infinite idle_timeout is no valid lock timeout)
_pools: weakref.WeakSet = weakref.WeakSet()
_log = logging.getLogger("ftstudio.sandbox")


@dataclass(frozen=True)
class ResidencyLimits:
    """memory: bytes all sandbox workers of this process may keep resident together;
    idle_timeout: seconds after which a worker no run is using is stopped."""

    memory: int = DEFAULT_RESIDENT_MEMORY
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT


def _from_env() -> ResidencyLimits:
    memory, idle = DEFAULT_RESIDENT_MEMORY, DEFAULT_IDLE_TIMEOUT
    raw = os.environ.get(ENV_MEMORY, "").strip()
    if raw:
        try:
            memory = int(float(raw) * 1024 * 1024)
            if memory <= 0:
                raise ValueError
        except ValueError:
            memory = DEFAULT_RESIDENT_MEMORY
            _log.warning("%s=%r is not a positive number of MiB; using %d MiB", ENV_MEMORY, raw, memory >> 20)
    raw = os.environ.get(ENV_IDLE, "").strip()
    if raw:
        try:
            idle = float(raw)
            if not idle >= 0:
                raise ValueError
        except ValueError:
            idle = DEFAULT_IDLE_TIMEOUT
            _log.warning("%s=%r is not a number of seconds (0 or more); using %g s", ENV_IDLE, raw, idle)
    return ResidencyLimits(memory, idle)


_limits = [_from_env()]


def residency_limits() -> ResidencyLimits:
    """The limits in force in this process."""
    return _limits[0]


def set_residency_limits(memory: int | None = None, idle_timeout: float | None = None) -> ResidencyLimits:
    """Change the limits for every pool of this process (None keeps a value); applies them at once."""
    current = _limits[0]
    if memory is not None and not (isinstance(memory, int) and memory > 0):
        raise ValueError(f"memory must be a positive number of bytes, not {memory!r}")
    if idle_timeout is not None and not idle_timeout >= 0:
        raise ValueError(f"idle_timeout must be 0 or more seconds, not {idle_timeout!r}")
    _limits[0] = ResidencyLimits(current.memory if memory is None else memory,
                                 current.idle_timeout if idle_timeout is None else float(idle_timeout))
    with REAP:
        REAP.notify_all()  # the reaper looks at the new timeout
    trim()
    return _limits[0]


def register(pool) -> None:
    with LOCK:
        _pools.add(pool)
    _Reaper.ensure()


def resident(pid: int) -> int:
    """Resident bytes of a process and its children (a worker's sandboxed child); 0 if it is gone."""
    total, pending, seen = 0, [pid], set()
    while pending:
        p = pending.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/statm", "rb") as f:
                total += int(f.read().split()[1]) * _PAGE
            with open(f"/proc/{p}/task/{p}/children", "rb") as f:
                pending += [int(c) for c in f.read().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def measure(workers) -> None:
    """Update the resident size of workers a run is about to give back (outside LOCK: it reads /proc)."""
    now = time.monotonic()
    for w in workers:
        if w.proc is not None and now - w.measured_at >= MEASURE_INTERVAL:
            w.rss, w.measured_at = resident(w.pid), now


def _live_workers() -> list:
    with LOCK:
        return [w for pool in list(_pools) for w in pool._workers if w.state != "dead"]


def _stop(victims: list) -> None:
    """Stop workers taken out of their pools (outside LOCK: a kill waits for the process)."""
    for w in victims:
        w.close()
    if victims:
        with CHANGED:
            CHANGED.notify_all()


def _take_free(pool_filter, limit: int | None) -> list:
    """Under LOCK: free workers of every pool, least recently freed first, as (pool, worker)."""
    free = [(w.freed_at, id(w), pool, w) for pool in list(_pools) for w in pool._workers
            if w.owner is None and w.state != "dead" and pool_filter(pool, w)]
    free.sort(key=lambda t: (t[0], t[1]))
    return [(pool, w) for _, _, pool, w in free[:limit]]


def trim() -> int:
    """Stop free workers, least recently used first, while all workers together hold more than the
    memory limit. Returns the resident bytes left."""
    limit = _limits[0].memory
    total = sum(w.rss for w in _live_workers())
    while total > limit:
        with LOCK:
            taken = _take_free(lambda pool, w: True, 1)
            for pool, w in taken:
                pool._workers.remove(w)
        if not taken:
            break
        _, victim = taken[0]
        _stop([victim])
        total -= victim.rss
    return total


def room_to_start() -> bool:
    """May a run start one more worker now? (Stops free workers first if that makes room.)"""
    return trim() < _limits[0].memory


class _Reaper:
    """One daemon thread per process: stops free workers idle longer than idle_timeout."""

    _thread: threading.Thread | None = None

    @classmethod
    def ensure(cls) -> None:
        with LOCK:
            if cls._thread is not None and cls._thread.is_alive():
                return
            cls._thread = threading.Thread(target=cls._loop, name="ftstudio-sandbox-reaper", daemon=True)
            cls._thread.start()

    @staticmethod
    def _loop() -> None:
        while True:
            with REAP:
                timeout = _limits[0].idle_timeout
                now = time.monotonic()
                expired = _take_free(lambda pool, w, now=now, timeout=timeout: now - w.freed_at >= timeout, None)
                for pool, w in expired:
                    pool._workers.remove(w)
                if not expired:
                    free = [w.freed_at for pool in list(_pools) for w in pool._workers
                            if w.owner is None and w.state != "dead"]
                    wait = max(0.0, min(free) + timeout - now) if free else timeout or IDLE_POLL
                    REAP.wait(min(wait, MAX_WAIT))
                    continue
            _stop([w for _, w in expired])
