"""The scheduling loop behind PythonGraderPool.run.

Rows go to workers in batches, one frame each way per batch (see _process.py): the rewards come back
on the worker's shared page, and a row that failed, printed or was slow sends its own message at once
(both read and checked in _intake.py). Each call still has its own wall deadline, and a slow call gives
the rows queued behind it to other workers (see _deadlines.py). A worker that dies or hangs on a row
harms that row only: the rows before it keep the rewards on the page, the rows after it go back to the
queue.

Runs of one pool go on side by side, each in its caller's thread: a run owns the workers it grades
with and polls only those; a worker it does not need (its queue is empty, or another run of the pool
has none) goes back to the pool, free for any run. A run with rows and no worker adopts a free one,
starts one (within the pool's size and the process's memory limit, see _residency.py) or waits
until one is freed.
"""

from __future__ import annotations

import math
import select
import threading
import time
from collections import deque
from typing import Any

from . import _deadlines, _intake, _residency
from ._batches import BatchSource
from ._deadlines import POLL_INTERVAL, START_GRACE
from ._intake import RUNTIME_ERROR, clip_details
from ._process import MAX_BATCH_ROWS, ProtocolError, WorkerProcess

SERVER_ERROR = "python_grader_server_error"
OTHER_ERROR = "other_error"
CANCELLED = "cancelled"  # the details of a row a cancel stopped (PythonCallResult.cancelled says so to code)
FIRST_BATCH_ROWS = 64       # a worker's first batch of a run (a preview's rows come back soon); then doubling
PROGRESS_INTERVAL = 0.1     # progress callbacks are throttled (a Streamlit update is not free)


def _stop_requested(cancel) -> bool:
    if cancel is None:
        return False
    is_set = getattr(cancel, "is_set", None)
    return bool(is_set() if is_set is not None else cancel())


class _Run:
    def __init__(self, pool, calls, progress, cancel, result_type):
        self.pool, self.progress, self.cancel, self.Result = pool, progress, cancel, result_type
        self.timeout = pool._timeout
        self.n = len(calls)
        self.results: list[Any] = [None] * self.n
        self.calls = calls
        self.queue: deque[int] = deque(range(self.n))  # rows are encoded as they go into a batch
        self.source = BatchSource(self.queue, calls)  # the batches taken off it (see _batches.py)
        self.own: list[WorkerProcess] = []  # the workers this run grades with (their owner is self)
        self.hungry = False  # counted in pool._hungry: rows to grade and no worker
        self.timed_out = 0  # rows whose call ran past the limit (the pool's timed_out() reads it)
        self.fatal = None  # a failure of this run that every remaining row shares
        self.limits: dict[WorkerProcess, int] = {}  # the next batch size of each worker, for this run
        self.careful = False  # rows were given back by a worker that stopped in fast mode: check row by row
        self.done = 0

    # --- the loop -------------------------------------------------------------------------

    def execute(self) -> list:
        pool, last_progress = self.pool, 0.0
        self.thread = threading.get_ident()
        with _residency.LOCK:
            pool._runs.add(self)
        try:
            self._report(force=True)
            while self.done < self.n:
                if pool._closed or _stop_requested(self.cancel):
                    break
                fatal = pool._fatal or self.fatal
                if fatal is not None:
                    self._fill(fatal)
                    break
                _deadlines.release_slow(self.own, self.timeout, self.queue)
                self._acquire()
                self._assign()
                self._wait(look=self._prepare())
                self._expire()
                if self.done < self.n:  # else _finish gives every worker back at once
                    self._give_back()
                now = time.monotonic()
                if self.progress is not None and now - last_progress >= PROGRESS_INTERVAL:
                    last_progress = now
                    self._report()
        finally:
            self._finish()
        if not all(self.results):  # results are truthy: a row without one is None
            self._fill(self.Result(0.0, OTHER_ERROR, CANCELLED, cancelled=True))
        self.done = self.n
        self._report(force=True)
        return self.results

    def _finish(self):
        pool = self.pool
        for w in list(self.own):
            # Busy workers still hold rows of this run: they cannot be reused. Without a source that
            # loads, no worker is of use.
            if w.state == "busy":
                self._settle(w, _intake.final(w)[0])  # a cancel keeps the rows whose results are final
            if w.state in ("busy", "dead") or pool._fatal is not None:
                self._discard(w)
        _residency.measure(self.own)
        with _residency.CHANGED:
            self._set_hungry(False)
            for w in self.own:
                self._free(w)
            self.own.clear()
            pool._runs.discard(self)
            spare = [w for w in pool._workers if w.owner is None] if pool._fatal is not None else []
            for w in spare:
                pool._workers.remove(w)
            _residency.CHANGED.notify_all()
        for w in spare:
            w.close()
        _residency.trim()

    def _report(self, force=False):
        if self.progress is not None and (force or self.done < self.n):
            # Rows of running batches count once final (their rewards wait on the worker's page).
            running = sum(min(w.checked, len(w.batch)) - sum(j < w.checked for j in w.dropped)
                          for w in self.own if w.state == "busy")
            self.progress(min(self.n, self.done + running), self.n)

    def _fill(self, result):
        for i, r in enumerate(self.results):
            if r is None:
                self.results[i] = result
        self.done = self.n
        self.queue.clear()

    # --- workers: adopt, start, give back -------------------------------------------------

    def _cap(self):
        """Workers the pool may have: its size, plus a stand-in for each worker stuck on a slow call
        (at most doubling it)."""
        pool = self.pool
        return pool._size + min(pool._size, sum(1 for w in pool._workers if w.retiring))

    def _acquire(self):
        pool = self.pool
        busy = sum(1 for w in self.own if w.state == "busy")
        with _residency.LOCK:
            # A worker per first batch's worth of rows: a small run (a trainer's call, a preview) goes to one
            # worker in one batch, one wake-up each way, rather than split into batches that wake several.
            wanted = min(self._cap(), math.ceil(len(self.queue) / FIRST_BATCH_ROWS) + busy)
            if len(self.own) < wanted and (not self.own or not pool._hungry):
                # Free workers of the pool, those ready to grade first; a run that already has a worker
                # leaves them to runs that have none.
                order = {"idle": 0, "booted": 1, "starting": 2}
                free = sorted((w for w in pool._workers if w.owner is None and w.state in order),
                              key=lambda w: order[w.state])
                for w in free[:wanted - len(self.own)]:
                    w.owner = self
                    self.own.append(w)
            new = max(0, min(wanted - len(self.own), self._cap() - len(pool._workers) - pool._starting))
            pool._starting += new
        started = 0
        try:
            while started < new and _residency.room_to_start():
                w = WorkerProcess(pool._init)
                w.deadline = time.monotonic() + START_GRACE + self.timeout
                w.owner = self
                with _residency.LOCK:
                    pool._workers.append(w)
                self.own.append(w)
                started += 1
        except OSError as exc:
            self.fatal = self.Result(0.0, SERVER_ERROR, f"the grader worker could not be started: {exc}")
        finally:
            with _residency.LOCK:
                pool._starting -= new
                self._set_hungry(bool(self.queue) and not self.own)

    def _set_hungry(self, hungry):
        """Under LOCK: keep pool._hungry, the count of runs that have rows and no worker, up to date."""
        if hungry != self.hungry:
            self.hungry = hungry
            self.pool._hungry += 1 if hungry else -1

    def _free(self, w):
        """Under LOCK: the worker goes back to the pool, free for any run."""
        if w.state != "dead" and w in self.pool._workers:
            w.owner, w.freed_at = None, time.monotonic()

    def _give_back(self):
        """Idle workers this run has no rows for, or that a run without a worker is waiting for."""
        idle = [w for w in self.own if w.state == "idle"]
        if not idle or (self.queue and not self.pool._hungry) or (self.queue and len(self.own) == 1):
            return
        keep = 1 if self.queue else 0
        _residency.measure(idle[:len(self.own) - keep])
        with _residency.CHANGED:
            for w in idle[:len(self.own) - keep]:
                self._free(w)
                self.own.remove(w)
            _residency.CHANGED.notify_all()

    # --- grading --------------------------------------------------------------------------

    def _assign(self):
        idle = [w for w in self.own if w.state == "idle"]
        for k, w in enumerate(idle):
            if not self.queue:
                return
            share = math.ceil(len(self.queue) / (len(idle) - k))  # what is left, split among the idle ones left
            if share <= FIRST_BATCH_ROWS:
                rows = share  # a small run: one batch per worker, one round trip
            else:
                limit = self.limits.get(w, FIRST_BATCH_ROWS)
                self.limits[w] = min(MAX_BATCH_ROWS, 2 * limit)
                rows = max(1, min(limit, math.ceil(len(self.queue) / (2 * len(self.own)))))
            batch, body, stdlib, nulls = self._take(rows)
            if not batch:
                continue
            w.batch, w.sent, w.pos, w.step, w.checked, w.special = batch, len(batch), 0, 0, 0, {}
            w.dropped, w.released, w.state = set(), False, "busy"
            w.send_batch(body, self.careful or self.pool._careful, stdlib, nulls)
            w.deadline = time.monotonic() + self.timeout
            w.flush()

    def _prepare(self) -> bool:
        """A batch encoded ahead while the workers grade (see _batches.BatchSource.prepare)."""
        own = self.own
        if not own:
            return False
        limit = min(self.limits.get(w, FIRST_BATCH_ROWS) for w in own)
        return self.source.prepare(len(own), limit, FIRST_BATCH_ROWS * len(own))

    def _take(self, rows):
        """Up to `rows` rows off the queue, as the source takes them; a row no encoding takes gets its result now."""
        batch, body, stdlib, nulls, refused = self.source.take(rows)
        for i, details in refused:
            self.results[i] = self.Result(0.0, OTHER_ERROR, details)
        self.done += len(refused)
        return batch, body, stdlib, nulls

    def _wait(self, look=False):
        """Read what the workers sent, waiting until one did, a deadline or POLL_INTERVAL (not at all if `look`)."""
        if not self.own:
            with _residency.CHANGED:  # until a worker is freed or stopped anywhere (or the next look at cancel)
                _residency.CHANGED.wait(POLL_INTERVAL)
            return
        poller, owners = select.poll(), {}
        for w in self.own:
            poller.register(w.res_r, select.POLLIN)
            owners[w.res_r] = w
            if w.outbuf:
                poller.register(w.req_w, select.POLLOUT)
                owners[w.req_w] = w
        for fd, _event in poller.poll(0 if look else _deadlines.wait_time(self.own) * 1000):
            w = owners[fd]
            if w.state == "dead":
                continue
            if fd == w.req_w:
                w.flush()  # a worker that stops reading shows up as EOF or a missed deadline
            else:
                self._readable(w)
        for w in list(self.own):
            if w.state == "busy":
                self._observe(w)

    def _observe(self, w):
        """Look at the page (see _intake.look); a retiring worker whose rows are all final is stopped."""
        checked = _intake.look(w, self.timeout)
        if checked is None:
            self._fail(w, "the worker process sent a malformed message")
            return
        if w.retiring and checked >= len(w.batch):
            # Every row it kept is final; it is on rows given back to the queue, which run elsewhere.
            if self._settle(w, len(w.batch)):
                self._discard(w)
            else:
                self._fail(w, "the worker process sent a malformed message")

    def _expire(self):
        for w, reason, timed_out in _deadlines.expired(self.own, self.timeout):
            self._fail(w, reason, timed_out=timed_out)

    # --- messages -------------------------------------------------------------------------

    def _readable(self, w):
        try:
            messages, eof = w.receive()
        except ProtocolError as exc:
            self._fail(w, f"the worker process sent {exc}")
            return
        for message in messages:
            if not self._handle(w, message):
                self._fail(w, "the worker process sent a malformed message")
                return
        if eof and w.state != "dead":
            reason = _intake.exit_reason(w, self.pool._memory_limit)
            self._fail(w, reason + (" while grading this row" if w.state == "busy" else ""))

    def _handle(self, w, message) -> bool:
        if not isinstance(message, (list, tuple)) or not message:  # a tuple: the "done" frame (see receive)
            return False
        kind = message[0]
        if w.state == "starting" and kind == "booted" and len(message) == 2:
            if not self.pool._booted(message[1]):
                return False
            w.state = "booted"
        elif w.state == "booted" and message == ["ready"]:
            w.state, w.deadline = "idle", None
        elif w.state == "booted" and kind == "init_error" and len(message) == 2 and isinstance(message[1], str):
            self.pool._fatal = self.Result(0.0, RUNTIME_ERROR, clip_details(message[1]))
            self._discard(w)
        elif w.state == "busy" and kind == "r" and len(message) == 6:
            return _intake.record(w, self.Result, self.timeout, *message[1:])
        elif w.state == "busy" and kind == "done" and len(message) == 3:
            return self._done(w, message[1], message[2])
        elif w.state == "busy" and message == ["nulls"]:
            return self._recount(w)
        else:
            return False
        return True

    def _done(self, w, rows, careful) -> bool:
        if rows != w.sent or not self._settle(w, len(w.batch)):
            return False
        if careful:
            self.pool._careful = True  # this grader leaves things behind: new batches are checked row by row
        if w.retiring:
            self._discard(w)
        else:
            w.batch, w.pos, w.state, w.deadline = [], 0, "idle", None
        return True

    def _recount(self, w) -> bool:
        """The worker counted more nulls in its batch than the rows' top-level Nones (see _encode.encode_rows)
        and graded none of them: they go back to the head of the queue, to be encoded one by one. Only a batch
        it was asked to count, before it started a row; anything else is a malformed message."""
        if not w.counted or w.special or w.dropped or w.released or w.marks()[0] != 0:
            return False
        w.counted = False
        self.source.hand_back(w.batch)
        if w.retiring:
            self._discard(w)
        else:
            w.batch, w.pos, w.state, w.deadline = [], 0, "idle", None
        return True

    def _settle(self, w, upto, rewards=None) -> bool:
        """The results of the batch's first `upto` rows (see _intake.settle); False if the page is malformed."""
        settled = _intake.settle(w, upto, rewards, self.results, self.pool._clean, self.Result)
        if settled is None:
            return False
        self.done += settled
        return True

    def _fail(self, w, reason, timed_out=False):
        """The worker is beyond use. The row it was on carries the reason; the rows before it whose results
        are final keep them; the others go back to the queue, to be graded with a check after each row
        (see worker/_main.py). So does the row it was on when rows of its stretch were not final yet and the
        cause may not be its own: it did not start from a checked state, or its output is mixed with theirs
        (a time-out is taken as final unless the latter: it would cost another time-out)."""
        state, tail = w.state, w.output_tail()
        final = _intake.final(w) if state == "busy" else None
        self._discard(w)
        if state == "busy" and final is not None:
            checked, p, rewards = final
            current = w.pos if timed_out else max(p, checked)
            if not self._settle(w, checked, rewards):
                # A page with a reward that is not a number: every row it covers fails (grading them again
                # would meet the same source again).
                broken = self.Result(0.0, RUNTIME_ERROR, "the worker process sent a malformed message")
                lost = [i for j, i in enumerate(w.batch[:current + 1]) if j not in w.dropped]
                for i in lost:
                    self.results[i] = broken
                self.done += len(lost)
                self.queue.extendleft(reversed(w.batch[current + 1:]))
                return
            if current >= len(w.batch):
                return  # every row it kept is final (it was retiring): it stopped on a row given back
            unsure = checked < current
            again = [w.batch[j] for j in range(checked, current) if j not in w.dropped]
            if unsure and (not timed_out or tail):
                again.append(w.batch[current])
            else:
                hint = "; its last output is in stdout" if tail else ""
                self.results[w.batch[current]] = w.special.get(current) or self.Result(
                    0.0, RUNTIME_ERROR, reason + hint, tail, timed_out=timed_out)
                self.done += 1
                self.timed_out += timed_out
            self.careful = self.careful or bool(again)
            self.queue.extendleft(reversed(again + w.batch[current + 1:]))
        elif state == "starting":
            extra = f"; its output:\n{tail}" if tail else ""
            self.fatal = self.Result(0.0, SERVER_ERROR, f"the grader worker could not start: {reason}{extra}")
        elif state == "booted":
            if not reason.startswith("the module-level"):
                reason += " while running the module-level code of the source"
            self.fatal = self.Result(0.0, RUNTIME_ERROR, reason, tail)

    def _discard(self, w):
        with _residency.CHANGED:
            if w in self.pool._workers:
                self.pool._workers.remove(w)
            if w in self.own:
                self.own.remove(w)
            _residency.CHANGED.notify_all()
        w.close()


def execute(pool, calls, progress, cancel, result_type) -> list:
    return _Run(pool, calls, progress, cancel, result_type).execute()
