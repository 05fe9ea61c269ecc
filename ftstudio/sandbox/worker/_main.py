"""Worker process of the python-grader runner (see sandbox.py). Run as a script, never imported by the app.

Started as `python -I -S worker/_main.py <request fd> <result fd> <capture path> <page fd>` with a
scrubbed environment, its own session, fd 0 on /dev/null and fds 1/2 on the capture file. Stdlib only
(orjson reads the batches when it is installed), and only light modules, so start-up stays cheap and
user code decides what heavy modules to load. `-S` skips `site`, whose .pth import hooks cost more than
the rest of the start: the worker puts the parent's site-packages folders (and the folders their .pth
files name) on sys.path itself, and runs the .pth files' import lines (editable installs' finders) on the
first import nothing else finds (`_PthImports`), so user code imports what a `python -I` would.

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
                    site_dirs, prefix}] (JSON), then batches: a JSON array of [sample, item] pairs, one frame
                    each, after "C" (check every row) and/or "S" (read with the stdlib's json) when asked.
  worker -> parent: ["booted", protections], then ["ready"] or ["init_error", details] (JSON); per batch,
                    ["r", position, reward, error, details, stdout] (JSON) for a row that failed, printed or
                    was slow, once its result is final, and b"D" + the row count (4 bytes) + 1 if the worker
                    now checks every row (1 byte), once the batch is done.
The rest of a batch's results travel through the shared page (the fourth argument, a file descriptor):
three int64 (rows started, the position being graded, the first position whose result is not final; see
_Batches), then one float64 reward per position. The parent reads it when the batch is done and, while
it waits, to know which row is running: each row keeps its own wall deadline, and a worker that dies or
hangs on a row leaves the final rewards of the rows before it on the page.
"""

import _json
import _signal as signal  # not the signal module: its enums cost a cold start several ms
import _thread
import errno
import faulthandler
import gc
import math
import os
import resource
import sys
import time
import types

RUNTIME_ERROR = "python_grader_runtime_error"
# Set from the init message (the parent's limits, which it enforces again on what arrives).
MAX_OUTPUT_BYTES = 0             # captured stdout/stderr returned per call
MAX_DETAILS_CHARS = 0            # tracebacks keep their tail: the error line is at the end
MAX_REPR_CHARS = 200
FILENAME = "grader.py"

class _Channel:
    def __init__(self, rfd, wfd):
        self.rfd, self.wfd = rfd, wfd

    def send(self, obj):
        self.send_raw(_dumps(obj).encode("utf-8", "replace"))

    def send_raw(self, data):
        data = len(data).to_bytes(4, "big") + data
        view = memoryview(data)
        while view:
            view = view[os.write(self.wfd, view):]

    def _read_exact(self, n):
        chunks, left = [], n
        while left:
            chunk = os.read(self.rfd, min(left, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def recv(self):
        """The next frame's payload (bytes), or None once the parent has gone."""
        head = self._read_exact(4)
        if head is None:
            return None
        return self._read_exact(int.from_bytes(head, "big"))


class _Strict:
    """What the stdlib's C scanner reads from its decoder: the settings of json.loads."""
    strict, object_hook, object_pairs_hook, parse_float, parse_int, memo = True, None, None, float, int, {}
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__


# The stdlib's own C scanner and encoder, without the `json` package, whose import (its regular expressions,
# enum) costs a cold start more than every other module the worker needs: json.loads and json.dumps(...,
# ensure_ascii=False, allow_nan=False) give exactly these results.
_scan = _json.make_scanner(_Strict)
_encode = _json.make_encoder(None, None, _json.encode_basestring, None, ": ", ", ", False, False, False)


def _loads(body):
    text = body.decode("utf-8", "surrogatepass") if not isinstance(body, str) else body
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        end, value = -1, None
    if end != len(text):  # whitespace around the value, or not JSON: the json package says which
        import json
        return json.loads(text)
    return value


def _dumps(obj):
    return "".join(_encode(obj, 0))


BIG_BATCH = 64 * 1024  # bytes: a batch this big is read by orjson (imported then: it costs more than a
                       # whole cold start's other imports, and a preview's small batch does not need it)


class _BatchReader:
    """A batch's JSON reader: the stdlib until the first batch is done, orjson where installed after that, or
    for a big batch before (several times faster, even on a trainer's 64 rows); both read what the parent
    writes the same way (see _process.encode). orjson is imported while the worker is idle after its first
    batch (warm): its import costs a cold start more than the first batch's reading by the stdlib."""

    def __init__(self):
        self.fast = None

    def warm(self):
        if self.fast is None:
            try:
                import orjson
                self.fast = orjson.loads
            except BaseException:  # not installed, or refused: the stdlib reads everything too
                self.fast = _loads
        return self.fast

    def __call__(self, body):
        if self.fast is not None:
            return self.fast(body)
        return _loads(body) if len(body) < BIG_BATCH else self.warm()(body)


class _PthImports:
    """The `import` lines of .pth files, run when an import first finds nothing else (then retried).

    `site` would run them at start, and they cost more than the rest of a cold start; most graders never
    need them. The ones that do (an editable install's finder, a namespace package's hook) get them on
    their first missed import, as `site.addpackage` runs them: one line at a time, a failing line skipped.
    Appended last to sys.meta_path, so every other finder has missed when this one is asked.
    """

    def __init__(self, lines):
        self.lines = lines

    def find_spec(self, name, path=None, target=None):
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        lines, self.lines = self.lines, ()
        for line in lines:
            try:
                exec(line)  # what site.addpackage does with the same line
            except Exception:  # site skips a failing line too (it prints it; nobody reads that here)
                continue
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                return spec
        return None


def _add_site_dirs(site_dirs, prefix):
    """sys.path as `site` makes it under -I; the import lines of .pth files wait for a missed import."""
    import site
    imports = []
    for folder in site_dirs:
        if folder in sys.path or not os.path.isdir(folder):
            continue
        sys.path.append(folder)
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".pth") and not n.startswith("."))
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for line in lines:
                line = line.rstrip()
                if line.startswith(("import ", "import\t")):
                    imports.append(line)
                    continue
                if not line or line.startswith("#"):
                    continue
                path = os.path.abspath(os.path.join(folder, line))
                if path not in sys.path and os.path.isdir(path):
                    sys.path.append(path)
    if imports:
        sys.meta_path.append(_PthImports(imports))
    if prefix:
        sys.prefix = sys.exec_prefix = prefix
    site.setquit()  # exit() and quit(), as site.main() would provide
    site.setcopyright()
    site.sethelper()


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


def _short_repr(value):
    try:
        text = repr(value)
    except BaseException as exc:  # a user __repr__ can raise anything
        return f"<{type(value).__name__} object; repr() failed: {type(exc).__name__}>"
    return text if len(text) <= MAX_REPR_CHARS else text[:MAX_REPR_CHARS] + f"... ({len(text):d} chars)"


def _clip(text):
    return text if len(text) <= MAX_REPR_CHARS else text[:MAX_REPR_CHARS] + "..."


_HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")


def _format_exception(exc):
    """The traceback of user code: frames of the worker's own files (the call site, the audit hook) are dropped."""
    try:
        traceback = _traceback()
    except BaseException:  # an import the first batch needed under memory pressure (see _traceback)
        return f"{type(exc).__name__}: {_clip(str(exc))}"
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    seen, pending = set(), [te]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.stack[:] = [f for f in current.stack if not f.filename.startswith(_HERE)]
        pending += [current.__cause__, current.__context__]
    text = "".join(te.format())
    if len(text) > MAX_DETAILS_CHARS:
        text = "... (traceback trimmed)\n" + text[-MAX_DETAILS_CHARS:]
    return text


class _Output:
    """Reads what a call wrote to fds 1/2 (one O_APPEND capture file) and repairs redirections."""

    def __init__(self, path):
        self.rfd = os.open(path, os.O_RDONLY)
        self.saved = os.dup(1)
        self.stdin = os.dup(0)  # /dev/null: put back before rows are graded again (see _Batches._reset)
        # Line buffering keeps print() and os.write(1, ...) output in the order it happened.
        sys.stdout.reconfigure(line_buffering=True)
        self.stdout, self.stderr = sys.stdout, sys.stderr
        st = os.fstat(self.rfd)
        self.dev, self.ino = st.st_dev, st.st_ino  # the capture file, which fds 1/2 must stay on
        self.start = 0  # where the next call's output begins (the capture is emptied after a call that wrote)

    def mark(self):
        self.start = os.fstat(self.rfd).st_size

    def collect(self):
        """What the call wrote since mark() or the last collect(), or None; fds 1/2 and sys.stdout/stderr
        are put back first, whatever the call did to them. One fstat when nothing was written."""
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # user code may have closed or replaced them
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except BaseException:
                    pass
        os.dup2(self.saved, 1)
        os.dup2(self.saved, 2)
        if sys.stdout is not self.stdout or sys.stderr is not self.stderr or self.stdout.closed or self.stderr.closed:
            self._repair()
        start = self.start
        end = os.fstat(self.rfd).st_size
        if end <= start:
            return None
        self.start = 0
        data = os.pread(self.rfd, min(end - start, MAX_OUTPUT_BYTES), start)
        text = data.decode("utf-8", "replace")
        if end - start > MAX_OUTPUT_BYTES:
            text += f"\n... ({end - start - MAX_OUTPUT_BYTES:d} more bytes of output not shown)"
        # Empty the capture after each call that wrote, so what the parent finds there after a crash
        # is the crashed call's output only. O_APPEND: later writes land at the new end.
        os.ftruncate(self.saved, 0)
        return text

    def _repair(self):
        for name in ("stdout", "stderr"):
            current, original = getattr(sys, name), getattr(self, name)
            if current is not original or original.closed:
                if original.closed:
                    original = open(fd_of(name), "w", encoding="utf-8", errors="replace",
                                    buffering=1, closefd=False)
                    setattr(self, name, original)
                setattr(sys, name, original)


def fd_of(name):
    return 1 if name == "stdout" else 2


_SOURCE = []  # the source, for the lines of its tracebacks (linecache is loaded with traceback)


def _traceback():
    """The traceback module, with the source's lines registered. Imported once the first batch is done (or
    at the first error before that): it and linecache bring the regular expressions of tokenize and
    textwrap, which cost a cold start more than the rest of the worker; later, imported already, it cannot
    fail under memory pressure."""
    import linecache
    import traceback
    if _SOURCE and FILENAME not in linecache.cache:
        source = _SOURCE[0]
        linecache.cache[FILENAME] = (len(source), None, source.splitlines(True), FILENAME)
    return traceback


def _load_source(source):
    """Run the module-level code and return (grade, None) or (None, details)."""
    _SOURCE[:] = [source]
    try:
        code = compile(source, FILENAME, "exec")
    except SyntaxError as exc:
        return None, f"the source does not compile: {exc.msg} (line {exc.lineno}, column {exc.offset})"
    except (ValueError, MemoryError, RecursionError) as exc:
        return None, f"the source does not compile: {exc}"
    module = types.ModuleType("grader")
    module.__file__ = FILENAME
    sys.modules["grader"] = module
    try:
        exec(code, module.__dict__)
    except BaseException as exc:
        return None, "the module-level code of the source raised an exception:\n" + _format_exception(exc)
    grade = module.__dict__.get("grade")
    if grade is None:
        return None, "the source defines no function named grade; define grade(sample, item) -> float"
    if not callable(grade):
        return None, f"grade is an object of type {type(grade).__name__}, not a function; define grade(sample, item) -> float"
    problem = _arity_problem(grade)
    return (None, problem) if problem else (grade, None)


def _arity_problem(grade):
    for _ in range(100):  # decorators made with functools.wraps keep the signature in __wrapped__
        inner = getattr(grade, "__wrapped__", None)
        if inner is None:
            break
        grade = inner
    if not isinstance(grade, types.FunctionType):
        return None  # a bound method, callable object or builtin: it is called and judged per row
    code = grade.__code__
    if code.co_flags & 0x80:  # CO_COROUTINE
        return "grade is an async function; define it with a plain def (it must return a float, not a coroutine)"
    if code.co_flags & (0x04 | 0x08) or code.co_kwonlyargcount or code.co_argcount != 2:
        names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        return ("grade must take exactly two positional parameters (sample, item) and no others; "
                "it takes ({})".format(", ".join(names + (("*args",) if code.co_flags & 0x04 else ())
                                            + (("**kwargs",) if code.co_flags & 0x08 else ()))))
    return None


def _call(grade, sample, item, limits):
    try:
        value = grade(sample, item)
    except MemoryError as exc:
        return 0.0, RUNTIME_ERROR, ("grade() ran out of memory (limit {})\n".format(_size(limits["memory_limit"]))
                                    + _format_exception(exc))
    except SystemExit as exc:
        return 0.0, RUNTIME_ERROR, (f"grade() called sys.exit({_short_repr(exc.code)}); return a float instead\n"
                                    + _format_exception(exc))
    except BaseException as exc:  # anything user code raises is a result
        return 0.0, RUNTIME_ERROR, _os_error_hint(exc, limits) + _format_exception(exc)
    try:
        reward = float(value)
    except BaseException as exc:  # float() may run user __float__
        return 0.0, RUNTIME_ERROR, (f"grade() returned {_short_repr(value)} (type {type(value).__name__}), which is not a valid float: float() raised {type(exc).__name__}: {_clip(str(exc))}")
    if not math.isfinite(reward):
        return 0.0, RUNTIME_ERROR, (f"grade() returned {_short_repr(value)}, which is not a finite number (nan and inf are rejected)")
    return reward, None, None


def _os_error_hint(exc, limits):
    """A first line that names the sandbox rule an OSError ran into (the traceback follows)."""
    code = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return ("grade() ran out of disk space (a python grader may write at most {}, in its working "
                "directory)\n".format(_size(limits["disk_limit"])))
    if code == errno.EROFS:
        return "grade() tried to write outside its working directory, which is the only writable place\n"
    if code in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
        return "grade() tried to use the network, which a python grader does not have\n"
    if code == errno.EAGAIN and "fork" in str(exc).lower():
        return "grade() tried to create processes beyond the limit\n"
    return ""


def _size(n):
    for unit, factor in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= factor:
            return f"{round(n / factor, 2):g} {unit}"
    return f"{n:d} bytes"


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


SLOW_ROW = 0.5  # seconds: a row that took this long sends its result at once (the parent starts the next row's clock)
BACKSTOP_EVERY = 0.1  # seconds between moves of the CPU backstop
CHECK_EVERY = 0.002  # seconds of rows between two checks in fast mode (what a dirty check grades again)
WATCH_EVERY = 0.05  # seconds a row runs before the watcher checks what the rows before it left


def main():
    request_fd, result_fd, capture_path, page_fd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    channel = _Channel(request_fd, result_fd)
    message = channel.recv()
    message = _loads(message) if message else None
    if not message or message[0] != "init":
        return 2
    config = message[1]
    global MAX_OUTPUT_BYTES, MAX_DETAILS_CHARS
    MAX_OUTPUT_BYTES, MAX_DETAILS_CHARS = config["output_limit"], config["details_limit"]
    _add_site_dirs(config.get("site_dirs", ()), config.get("prefix"))
    output = _Output(capture_path)  # opened by path before the working dir is covered by a tmpfs
    workdir = os.getcwd()
    # Loaded before the isolation: this folder need not be readable by the uid user code runs as.
    isolation, confine, guard = _load("_isolation"), _load("_confine"), _load("_guard")
    protections = isolation.isolate(config, workdir, (request_fd, result_fd, page_fd))
    import mmap  # the page is mapped by the process that grades (after the fork of the namespace modes)
    page = mmap.mmap(page_fd, 0)
    marks, rewards = memoryview(page)[:24].cast("q"), memoryview(page)[24:].cast("d")
    loads = _BatchReader()
    _set_limits(config["memory_limit"], config["disk_limit"])
    if protections["mode"] == "audit_hook":
        confine.confine(protections, workdir)  # after the rlimits: its seccomp filter refuses setting them
    faulthandler.enable()  # a segfault in user code leaves a Python traceback in the capture
    timeout = config["timeout"]
    guard.install(protections, timeout, workdir)
    channel.send(["booted", protections])
    cleaner = isolation.RowCleaner(protections, workdir)
    del isolation, confine, guard
    grade, problem = _load_source(config["source"])
    if problem:
        channel.send(["init_error", problem])
        return 0
    cleaner.start()
    cleaner.after_row()  # processes started by the module-level code do not outlive it either
    channel.send(["ready"])
    _Batches(channel, loads, grade, config, output, cleaner, marks, rewards,
             backstop=not protections["pid_namespace"]).serve()
    return 0


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

    def __init__(self, channel, loads, grade, config, output, cleaner, marks, rewards, backstop):
        self.channel, self.loads, self.grade, self.config = channel, loads, grade, config
        self.output, self.cleaner, self.marks, self.rewards = output, cleaner, marks, rewards
        self.backstop, self.armed, self.careful = backstop, -BACKSTOP_EVERY, False
        self.lock, self.fast_running, self.watcher = _thread.allocate_lock(), False, False

    def serve(self):
        while True:
            body = self.channel.recv()
            if body is None:
                return  # the parent closed the pipe or went away
            head = body[:body.index(b"[")] if body[:1] != b"[" else b""
            careful = b"C" in head  # the parent asks for per-row checks (rows graded again after a failure)
            enabled = gc.isenabled()
            gc.disable()  # a batch is thousands of new objects, none in a cycle: no collection passes over them
            try:
                # "S": a row only the stdlib's json reads as it was (an integer past 64 bits, a lone surrogate)
                rows = (_loads if b"S" in head else self.loads)(body[len(head):])
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
        config, grade, rewards, marks, clock = self.config, self.grade, self.rewards, self.marks, time.monotonic
        start, call, last, lock = self._start, _call, len(rows) - 1, self.lock
        stdout, stderr = self.output.stdout, self.output.stderr
        checked_at = clock()
        for j, (sample, item) in enumerate(rows):
            start(j)
            started = clock()
            reward, error, details = call(grade, sample, item, config)
            rewards[j] = reward
            try:  # text a row left in the buffers is on the capture before the next row starts (no syscall if none)
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
            checked_at = clock()

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
        output = self.output
        if sys.stdout is not output.stdout or sys.stderr is not output.stderr:
            return False
        try:
            if flush:
                output.stdout.flush()
                output.stderr.flush()
            one, two = os.fstat(1), os.fstat(2)
        except BaseException:  # closed by user code, or a descriptor that is gone
            return False
        return (one.st_ino == output.ino and one.st_dev == output.dev and two.st_ino == output.ino
                and two.st_dev == output.dev and one.st_size == output.start and not self.cleaner.changed())

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
        self.output.collect()
        os.dup2(self.output.stdin, 0)
        os.ftruncate(self.output.saved, 0)
        self.output.start = 0


if __name__ == "__main__":
    sys.exit(main())
