"""Worker process of the python-grader runner (see sandbox.py). Run as a script, never imported by the app.

Started as `python -I -S worker/_main.py <request fd> <result fd> <capture path> <page fd>` with a
scrubbed environment, its own session, fd 0 on /dev/null and fds 1/2 on the capture file. Stdlib only
(orjson reads the batches when it is installed), and only light modules, so start-up stays cheap and
user code decides what heavy modules to load. `-S` skips `site`, whose .pth import hooks cost more than
the rest of the start: the worker puts the parent's site-packages folders (and the folders their .pth
files name) on sys.path itself, and runs the .pth files' import lines (editable installs' finders) on the
first import nothing else finds (`_site.py`), so user code imports what a `python -I` would.

What is enforced, in this order, before any user code runs:
- by the parent at start: `-I -S` (no PYTHON* variables, no user site, no script directory on
  sys.path), an environment of PATH, LANG/LC_ALL, HOME=TMPDIR=<fresh temp dir, also the cwd> and
  *_NUM_THREADS=1 only; a new session (so its process group can be SIGKILLed as a whole).
- kernel isolation (`_isolation.py`): namespaces, a read-only file system, a tmpfs quota
  on the working dir, another uid, no capabilities, no_new_privs, where the machine allows.
- rlimits, soft = hard so user code cannot raise them: RLIMIT_AS = memory_limit, RLIMIT_CORE = 0,
  RLIMIT_FSIZE = disk_limit (SIGXFSZ ignored, so an oversized write fails with EFBIG),
  RLIMIT_NPROC where enforced; without a pid namespace also RLIMIT_CPU, moved to used + timeout + 5 s
  before a call whenever 0.1 s have passed since it last moved, as a backstop if the parent is gone
  (with one, the outer process does that).
- an audit hook (`_guard.py`): defence in depth, since native code can get past it.
After each row, processes it left (pid namespace only) are killed and files it added to the
working dir are removed; the parent's per-call wall limit and kill stay the last line.

Protocol on the two dedicated pipes: frames of a 4-byte big-endian length plus a payload.
  parent -> worker: ["init", {source, memory_limit, timeout, disk_limit, isolation, output_limit, details_limit,
                    site_dirs, prefix, request_at}] (JSON), then batches, one frame each: "C" (check every
                    row) and/or "S" (read with the stdlib's json) when asked, then "K" + the nulls the JSON
                    must hold (8 bytes) for a batch encoded in one piece, then "P" + a length (4 bytes):
                    the batch's JSON array of [sample, item] pairs is on the page at request_at; or, for a
                    batch too big for the page, the JSON array itself.
  worker -> parent: ["booted", protections], then ["ready"] or ["init_error", details] (JSON); per batch,
                    ["r", position, reward, error, details, stdout] (JSON) for a row that failed, printed or
                    was slow, once its result is final, ["nulls"] instead of grading a batch whose JSON holds
                    more nulls than "K" said (a NaN orjson wrote as null), and b"D" + the row count (4 bytes)
                    + 1 if the worker now checks every row (1 byte), once the batch is done.
The rest of a batch's results travel through the shared page (the fourth argument, a file descriptor):
three int64 (rows started, the position being graded, the first position whose result is not final; see
_Batches), then one float64 reward per position, then the batch's JSON (written by the parent, read once
before the batch's first row). The parent reads it when the batch is done and, while
it waits, to know which row is running: each row keeps its own wall deadline, and a worker that dies or
hangs on a row leaves the final rewards of the rows before it on the page.

This file holds the start-up (main) and the row loop (_Batches); beside it, loaded by `_load`: `_frames.py`
(frames and batch reading), `_site.py` (sys.path and .pth files), `_calls.py` (the source loaded, grade()
called, errors worded), `_capture.py` (a row's output, and whether it changed fds 1/2), then the isolation
(`_isolation.py`), `_confine.py` and `_guard.py`.
"""

import _signal as signal  # not the signal module: its enums cost a cold start several ms
import _thread
import faulthandler
import gc
import math
import os
import resource
import sys
import time
import types


def _load(name):
    """A sibling module (this script runs with -I, so its folder is not on sys.path); run from its source
    without importlib.util, whose imports cost a cold start more than the module."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    with open(path, encoding="utf-8") as f:
        code = compile(f.read(), path, "exec")
    module = types.ModuleType(name)
    module.__file__ = path
    exec(code, module.__dict__)
    return module


# Loaded at start, as the isolation may leave this folder unreadable to the uid user code runs as.
_frames, _site, _calls, _capture = _load("_frames"), _load("_site"), _load("_calls"), _load("_capture")
_loads, _call, _traceback, RUNTIME_ERROR = _frames.loads, _calls.call, _calls.traceback_module, _calls.RUNTIME_ERROR
_raised, _returned = _calls.raised, _calls.returned


def _set_limits(memory_limit, disk_limit):
    def lower(which, limit):
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        try:
            resource.setrlimit(which, (limit, limit))
        except (ValueError, OSError):
            pass
    lower(resource.RLIMIT_CORE, 0)
    lower(resource.RLIMIT_AS, memory_limit)
    lower(resource.RLIMIT_FSIZE, disk_limit)
    # Over the disk limit a write should fail with EFBIG, not kill the worker with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _cpu_backstop(timeout):
    # RLIMIT_CPU is cumulative and the worker is reused, so move the soft limit along per call.
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime + timeout) + 5
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))
    except (ValueError, OSError):
        pass


SLOW_ROW = 0.5  # seconds: a row that took this long sends its result at once (the parent starts the next row's clock)
BACKSTOP_EVERY = 0.1  # seconds between moves of the CPU backstop
CHECK_EVERY = 0.002  # seconds of rows between two checks in fast mode (what a dirty check grades again)
WATCH_EVERY = 0.05  # seconds a row runs before the watcher checks what the rows before it left


def _batch_policy():
    """SCHED_BATCH for the worker (Linux): a worker woken by its next batch does not preempt the parent that
    wrote it, which has the other workers' batches to read and send; it runs on a free core, or when the parent
    waits. The parent is the pool's busiest process (bench/README.md "Against the floor"). Same share of
    the CPU otherwise; a scheduling hint, not a protection."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        pass


def main():
    _batch_policy()
    request_fd, result_fd, capture_path, page_fd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    channel = _frames.Channel(request_fd, result_fd)
    message = channel.recv()
    message = _loads(message) if message else None
    if not message or message[0] != "init":
        return 2
    config = message[1]
    _capture.MAX_OUTPUT_BYTES, _calls.MAX_DETAILS_CHARS = config["output_limit"], config["details_limit"]
    _site.add_site_dirs(config.get("site_dirs", ()), config.get("prefix"))
    output = _capture.Output(capture_path)  # opened by path before the working dir is covered by a tmpfs
    workdir = os.getcwd()
    # Loaded before the isolation: this folder need not be readable by the uid user code runs as.
    isolation, confine, guard = _load("_isolation"), _load("_confine"), _load("_guard")
    protections = isolation.isolate(config, workdir, (request_fd, result_fd, page_fd))
    import mmap  # the page is mapped by the process that grades (after the fork of the namespace modes)
    page = mmap.mmap(page_fd, 0)
    request_at = config["request_at"]
    marks, rewards = memoryview(page)[:24].cast("q"), memoryview(page)[24:request_at].cast("d")
    request = memoryview(page)[request_at:]  # where the parent writes a batch's JSON ("P" frames)
    loads = _frames.BatchReader()
    _set_limits(config["memory_limit"], config["disk_limit"])
    if protections["mode"] == "audit_hook":
        confine.confine(protections, workdir)  # after the rlimits: its seccomp filter refuses setting them
    faulthandler.enable()  # a segfault in user code leaves a Python traceback in the capture
    timeout = config["timeout"]
    guard.install(protections, timeout, workdir)
    channel.send(["booted", protections])
    cleaner = isolation.RowCleaner(protections, workdir)
    del isolation, confine, guard
    grade, problem = _calls.load_source(config["source"])
    if problem:
        channel.send(["init_error", problem])
        return 0
    cleaner.start()
    cleaner.after_row()  # processes started by the module-level code do not outlive it either
    channel.send(["ready"])
    _Batches(channel, loads, grade, config, output, cleaner, marks, rewards, request,
             backstop=not protections["pid_namespace"]).serve()
    return 0


_FLAGS = b"CS"  # a batch frame's flags, before its "[" or "P"


class _Batches:
    """Grades batches. Rows start clean: no output, process or working-dir entry of an earlier row is there,
    fds 1/2 and sys.stdout/stderr are the capture. Checking that costs several system calls, which on a
    fast grader cost far more than grade() itself, so there are two modes:

    - careful: each row is checked and cleaned after it (its output collected, its processes killed, the
      entries it added removed) and its result is final: the "checked" mark on the page moves past it.
    - fast (until a check finds something): the same check, without cleaning, after a row that failed or was
      slow, every CHECK_EVERY seconds and at the end of the batch. A clean check means every row since the
      previous one started clean and wrote nothing: their results are final. A check that finds anything
      cleans up and grades the rows since the previous check again, carefully (a single row is taken as
      it is: it started clean), and the worker stays careful. While a row runs for longer than WATCH_EVERY,
      a watcher thread makes the same check (reads only): clean, it makes the rows before that row final,
      so a row that hangs holds back no result of the rows before it (its own state is still clean: a
      leftover of theirs, or a removal by it, would show).

    Page: [step, position, checked] as int64 (step counts rows started, regrades included: each start is a
    new wall clock for the parent; checked is the first position whose result is not final), then rewards.
    """

    def __init__(self, channel, loads, grade, config, output, cleaner, marks, rewards, request, backstop):
        self.channel, self.loads, self.grade, self.config = channel, loads, grade, config
        self.output, self.cleaner, self.marks, self.rewards, self.request = output, cleaner, marks, rewards, request
        self.backstop, self.armed, self.careful = backstop, -BACKSTOP_EVERY, False
        self.lock, self.fast_running, self.watcher = _thread.allocate_lock(), False, False

    def serve(self):
        while True:
            body = self.channel.recv()
            if body is None:
                return  # the parent closed the pipe or went away
            at = 0
            while at < len(body) and body[at] in _FLAGS:
                at += 1
            head = body[:at]
            careful = b"C" in head  # the parent asks for per-row checks (rows graded again after a failure)
            nulls = None
            if body[at:at + 1] == b"K":  # the nulls the JSON holds if orjson wrote no NaN or infinity as null
                nulls, at = int.from_bytes(body[at + 1:at + 9], "big"), at + 9
            # "P": the batch's JSON is on the page (its length follows), else it is the rest of the frame
            data = self.request[:int.from_bytes(body[at + 1:at + 5], "big")] if body[at:at + 1] == b"P" else body[at:]
            if nulls is not None and bytes(data).count(b"null") != nulls:
                self.channel.send(["nulls"])  # none of its rows started: the parent encodes them one by one
                continue
            enabled = gc.isenabled()
            gc.disable()  # a batch is thousands of new objects, none in a cycle: no collection passes over them
            try:
                # "S": a row only the stdlib's json reads as it was (an integer past 64 bits, a lone surrogate)
                rows = (_loads if b"S" in head else self.loads)(data)
            finally:
                if enabled:
                    gc.enable()
            self.output.mark()
            if careful or self.careful:
                self._careful(rows, 0, len(rows))
            else:
                if not self.watcher:
                    self.watcher = True
                    _thread.start_new_thread(self._watch, ())
                self.fast_running = True
                try:
                    self._fast(rows)
                finally:
                    self.fast_running = False
            self.channel.send_raw(b"D" + len(rows).to_bytes(4, "big") + (b"\x01" if self.careful else b"\x00"))
            del rows  # freed now, while the parent reads the results and sends the next batch, not after it came
            _traceback()  # while idle, and before memory can run short: see _traceback
            self.loads.warm()

    def _start(self, j):
        marks = self.marks
        marks[0] += 1
        marks[1] = j
        if self.backstop:
            now = time.monotonic()
            if now - self.armed >= BACKSTOP_EVERY:
                _cpu_backstop(self.config["timeout"])
                self.armed = now

    def _careful(self, rows, first, end):
        config, grade, rewards, marks, send = self.config, self.grade, self.rewards, self.marks, self.channel.send
        for j in range(first, end):
            sample, item = rows[j]
            self._start(j)
            started = time.monotonic()
            reward, error, details = _call(grade, sample, item, config)
            left = self.cleaner.after_row()
            text = self.output.collect()
            rewards[j] = reward
            if left:
                reward, error, details = 0.0, RUNTIME_ERROR, left + ("\n" + details if details else "")
            if error is not None or text is not None or time.monotonic() - started >= SLOW_ROW:
                send(["r", j, reward, error, details, text])
            marks[2] = j + 1

    def _fast(self, rows):
        # The per-row path of a fast grader, so each row costs little more than grade() itself: _start and
        # _call inlined (_calls.raised/returned word what is not a finite float, as _call does), and one
        # clock read a row: a row's start is the previous row's end (only its "slow" flag reads it, and an
        # earlier start only sends a message sooner), except where the CPU backstop needs the time now.
        config, grade, rewards, marks, clock = self.config, self.grade, self.rewards, self.marks, time.monotonic
        last, lock, backstop, isfinite = len(rows) - 1, self.lock, self.backstop, math.isfinite
        stdout, stderr = self.output.stdout, self.output.stderr
        step = marks[0]  # rows started: only this thread writes it while a batch runs
        now = checked_at = clock()
        for j, (sample, item) in enumerate(rows):
            step += 1
            marks[0] = step
            marks[1] = j
            if backstop:
                now = clock()
                if now - self.armed >= BACKSTOP_EVERY:
                    _cpu_backstop(config["timeout"])
                    self.armed = now
            started, error, details = now, None, None
            try:
                reward = grade(sample, item)
            except BaseException as exc:  # anything user code raises is a result
                reward, error, details = _raised(exc, config)
            else:
                if type(reward) is not float or not isfinite(reward):
                    reward, error, details = _returned(reward)
            rewards[j] = reward
            if not (stdout.write_through and stderr.write_through):  # made buffered: see _capture.Output
                try:  # text a row left in the buffers is on the capture before the next row starts
                    stdout.flush()
                    stderr.flush()
                except BaseException:
                    pass  # closed: the next check sees it
            now = clock()
            if error is None and j != last and now - checked_at < CHECK_EVERY:
                continue
            with lock:  # the watcher may have made rows final meanwhile: marks[2] is where this stretch starts
                first = marks[2]
                if self._clean():
                    if error is not None or now - started >= SLOW_ROW:
                        self.channel.send(["r", j, reward, error, details, None])
                elif j == first:
                    self._take_as_is(j, reward, error, details, now - started)
                    marks[2] = j + 1
                    self._careful(rows, j + 1, len(rows))  # careful from now on
                    return
                else:
                    self.careful = True
                    self._reset()
                    self._careful(rows, first, len(rows))
                    return
                marks[2] = j + 1
            now = checked_at = clock()

    def _watch(self):
        """The watcher thread: a row running for WATCH_EVERY and a clean check make the rows before it final."""
        marks, seen, done = self.marks, -1, -1
        while True:
            time.sleep(WATCH_EVERY)
            step = marks[0]
            if not self.fast_running or step != seen or step == done:
                seen = step
                continue
            with self.lock:
                if self.fast_running and marks[0] == step and marks[2] < marks[1] and self._clean(flush=False):
                    marks[2] = marks[1]
                done = step

    def _clean(self, flush=True):
        """Nothing since the last check: no output (flushed first), fds 1/2 and sys.stdout/stderr unchanged,
        nothing for the cleaner. Reads only (fstat, waitid with WNOWAIT)."""
        return self.output.untouched(flush) and not self.cleaner.changed()

    def _take_as_is(self, j, reward, error, details, took):
        """A check after a single row found something: that row started clean, so what is there is its own."""
        self.careful = True
        left = self.cleaner.after_row()
        text = self.output.collect()
        if left:
            reward, error, details = 0.0, RUNTIME_ERROR, left + ("\n" + details if details else "")
        if error is not None or text is not None or took >= SLOW_ROW:
            self.channel.send(["r", j, reward, error, details, text])

    def _reset(self):
        """Undo what the rows since the last check left (their output is dropped: they are graded again), and
        put fds 0-2 back, so that they run again on the descriptors they first ran on."""
        self.cleaner.after_row()
        self.output.rewind()


if __name__ == "__main__":
    sys.exit(main())
