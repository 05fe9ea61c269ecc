"""One pool shared by threads (serve's requests, the app's reruns), and what warm workers may keep
resident across the pools of a process. Real workers; rows that must stay running wait on a FIFO
the test holds open, so nothing here depends on timing (SAFETY only bounds a broken run)."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import threading
import time

import pytest

from ftstudio.sandbox import PythonGraderPool, ResidencyLimits, _residency, residency_limits, set_residency_limits

MB = 1024 ** 2
SAFETY = 60.0  # seconds; only a pool that serialises its runs, or loses a worker, ever waits this long

GATED = """
def grade(sample, item):
    gate = item.get("gate")
    if gate:
        with open(gate) as f:  # blocks until the test opens the FIFO's other end, returns when it closes it
            f.read()
    return item.get("v", 1.0)
"""


@pytest.fixture
def gate():
    """A FIFO the sandboxed user may open (its folder is world-readable, unlike pytest's tmp_path)."""
    folder = tempfile.mkdtemp(prefix="ftstudio-gate-")
    os.chmod(folder, 0o755)
    path = os.path.join(folder, "gate")
    os.mkfifo(path, 0o644)
    yield path
    shutil.rmtree(folder)


def hold_open(fifo: str) -> int:
    """The FIFO's writing end, opened as soon as a row has it open for reading (so that row is now
    running, and stays blocked until the descriptor is closed)."""
    deadline = time.monotonic() + SAFETY
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
        time.sleep(0.01)  # looking again for the reader, not waiting for anything to happen in time


def in_thread(target) -> tuple[threading.Thread, dict]:
    out: dict = {}
    thread = threading.Thread(target=lambda: out.setdefault("results", target()), daemon=True)
    thread.start()
    return thread, out


def test_a_slow_row_does_not_hold_up_other_runs(gate):
    with PythonGraderPool(GATED, workers=2, timeout=SAFETY) as pool:
        slow, slow_out = in_thread(lambda: pool.run([({}, {"gate": gate, "v": 0.5})]))
        fd = hold_open(gate)
        try:
            fast = [in_thread(lambda i=i: pool.run([({}, {"v": i / 10})])) for i in range(10)]
            for thread, _ in fast:
                thread.join(SAFETY)
            assert not any(thread.is_alive() for thread, _ in fast), "fast runs waited for the slow row"
            assert [out["results"][0].reward for _, out in fast] == [i / 10 for i in range(10)]
            assert all(out["results"][0].error is None for _, out in fast)
            assert slow.is_alive()  # still blocked on the FIFO: the fast runs did not wait for it
            assert len(pool.worker_pids()) <= 2
        finally:
            os.close(fd)  # end of file: the slow row returns
        slow.join(SAFETY)
    assert slow_out["results"][0].reward == 0.5


def test_a_long_run_lends_workers_to_a_run_that_has_none(gate):
    """Both workers are the long run's; the short run still gets one, while the long run's slow row
    is blocked, and the long run still grades every row."""
    rows = [({}, {"gate": gate, "v": 0.5})] + [({}, {"v": 0.25})] * 60
    with PythonGraderPool(GATED, workers=2, timeout=SAFETY) as pool:
        long, long_out = in_thread(lambda: pool.run(rows))
        fd = hold_open(gate)
        try:
            short, short_out = in_thread(lambda: pool.run([({}, {"v": 0.75})]))
            short.join(SAFETY)
            assert not short.is_alive() and short_out["results"][0].reward == 0.75
            assert long.is_alive()
        finally:
            os.close(fd)
        long.join(SAFETY)
    assert [r.reward for r in long_out["results"]] == [0.5] + [0.25] * 60


def test_close_stops_every_run_of_the_pool(gate):
    pool = PythonGraderPool(GATED, workers=2, timeout=SAFETY)
    runs = [in_thread(lambda: pool.run([({}, {"gate": gate})])) for _ in range(2)]
    fd = hold_open(gate)
    try:
        pool.close()
        for thread, _ in runs:
            thread.join(SAFETY)
        assert [out["results"][0].details for _, out in runs] == ["cancelled", "cancelled"]
        assert pool.worker_pids() == []
    finally:
        os.close(fd)


# --- what stays resident --------------------------------------------------------------------------

HOARD = """
DATA = b"x" * (80 * 1024 * 1024)  # resident as soon as the worker has loaded the source

def grade(sample, item):
    return 1.0
"""


@pytest.fixture
def limits():
    before = residency_limits()
    yield
    set_residency_limits(before.memory, before.idle_timeout)


def resident_total(pools) -> int:
    return sum(_residency.resident(pid) for p in pools for pid in p.worker_pids())


def test_free_workers_beyond_the_memory_limit_are_stopped(limits):
    """Six graders that each hold 80 MB keep at most the limit resident between their runs."""
    set_residency_limits(memory=250 * MB, idle_timeout=3600)
    pools = [PythonGraderPool(HOARD + f"# grader {i}\n", workers=1) for i in range(6)]
    try:
        for p in pools:
            assert p.run([({}, {})])[0].reward == 1.0
            assert resident_total(pools) <= 250 * MB
        assert pools[0].worker_pids() == [] and pools[-1].worker_pids() != []  # least recently used first
        assert pools[0].run([({}, {})])[0].reward == 1.0  # a pool whose worker was stopped starts one again
    finally:
        for p in pools:
            p.close()


def test_idle_workers_are_stopped_after_the_idle_timeout(limits):
    set_residency_limits(idle_timeout=0.2)
    with PythonGraderPool(GATED, workers=2) as pool:
        assert [r.reward for r in pool.run([({}, {})] * 4)] == [1.0] * 4
        deadline = time.monotonic() + SAFETY
        while pool.worker_pids() and time.monotonic() < deadline:
            time.sleep(0.05)  # looking again until the reaper has stopped them
        assert pool.worker_pids() == []
        assert pool.run([({}, {"v": 0.5})])[0].reward == 0.5


def test_limits_have_defaults_and_refuse_nonsense(limits, monkeypatch):
    assert ResidencyLimits() == ResidencyLimits(2 * 1024 ** 3, 300.0)
    monkeypatch.setenv("FTSTUDIO_SANDBOX_MEMORY_MB", "512")
    monkeypatch.setenv("FTSTUDIO_SANDBOX_IDLE_SECONDS", "30")
    assert _residency._from_env() == ResidencyLimits(512 * MB, 30.0)
    monkeypatch.setenv("FTSTUDIO_SANDBOX_MEMORY_MB", "lots")
    assert _residency._from_env().memory == 2 * 1024 ** 3
    with pytest.raises(ValueError, match="positive number of bytes"):
        set_residency_limits(memory=0)
    with pytest.raises(ValueError, match="0 or more seconds"):
        set_residency_limits(idle_timeout=-1)
