"""The python grader runner: `grade(sample, item) -> float` from user source, run in worker processes.

User code never runs in the caller's process. A pool of reusable workers (default: one per CPU)
grades rows in batches; each call still has its own wall limit, and a call that hangs, crashes,
exhausts memory or exits harms only its own row. Each worker gets a scrubbed environment, a fresh
temporary working directory, rlimits, kernel isolation where the machine allows it (namespaces
without network, a read-only file system, a disk quota, an unprivileged uid) and an audit-hook
guard, all before user code runs. `protections()` says which are active here; SECURITY.md says
what each one stops.

Results are data: every row gets a PythonCallResult, with the API's error names
(`python_grader_runtime_error`, `python_grader_server_error`) or `other_error` ("cancelled").

Rows travel in batches (one frame each way; see _process.py and _scheduler.py, which reads what comes back
in _intake.py and watches deadlines in _deadlines.py). What holds per row and what per batch:

- Per row, as for a row alone: its own wall limit (its clock starts when the parent sees the worker on it,
  at most POLL_INTERVAL late; a row past it gets timed_out=True and its worker is replaced); a row that
  hangs, crashes, exhausts memory or exits harms only itself (rows before it keep their results, rows
  after it are graded by another worker); its own stdout/stderr and error details; it starts with no
  output, process or working-dir entry left by an earlier row, fds 1/2 and sys.stdout/stderr on the
  capture; cancel and close stop it.
- Per worker, set once before any user code and unchanged by batching: namespaces, read-only file
  system, tmpfs quota, uid, no_new_privs, Landlock and seccomp, rlimits (RLIMIT_AS, FSIZE, NPROC, CORE),
  the audit hook. The CPU backstop (RLIMIT_CPU, audit-hook mode only) moves before a row whenever 0.1 s
  have passed since its last move, so a row may find it up to 0.1 s of CPU tighter.
- Per batch, or per few milliseconds of rows: the checks that rows left nothing behind (a "fast" worker
  checks after a failed or slow row, every 2 ms of rows and at the end of the batch, and a watcher
  thread while a row runs long; the first check that finds anything has the rows since the previous
  check graded again one by one, and the pool then checks after every row), the shared page's rewards,
  the "done" frame. A row's result is only ever taken from a checked state, so what a row sees is what it
  would see alone; what can differ is that a row may run twice (its first result dropped) when a
  neighbour left something behind, or when its worker stopped before the stretch was checked.
"""

from __future__ import annotations

import ast
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import _residency
from ._deadlines import slow
from ._intake import size_text
from ._scheduler import OTHER_ERROR, RUNTIME_ERROR, SERVER_ERROR, execute

__all__ = [
    "MAX_SOURCE_BYTES", "PythonCallResult", "SourceProblem", "static_check",
    "PythonGraderPool", "run_python_grader", "SandboxProtections", "protections",
    "RUNTIME_ERROR", "SERVER_ERROR", "OTHER_ERROR",
]

MAX_SOURCE_BYTES = 256 * 1024
DEFAULT_TIMEOUT = 120.0
DEFAULT_MEMORY_LIMIT = 2 * 1024 ** 3
DEFAULT_DISK_LIMIT = 1024 ** 3


@dataclass(frozen=True, slots=True)
class PythonCallResult:
    reward: float
    error: str | None = None      # "python_grader_runtime_error" | "python_grader_server_error" | "other_error"
    details: str | None = None
    stdout: str | None = None     # what the call wrote to stdout and stderr, truncated
    # Why the row has no reward when it is not the row's doing, as data (callers never read `details` for it).
    cancelled: bool = False       # a cancel or close stopped the run before this row finished
    timed_out: bool = False       # grade() ran past the time limit on this row


@dataclass(frozen=True)
class SandboxProtections:
    """What isolates a worker on this machine, as the worker itself reported it.

    mode: "root" (namespaces, and user code runs as a uid of its own), "user_namespace" (the
    same namespaces, under the user's uid) or "audit_hook" (no namespaces: the Python-level guard,
    rlimits and, where the kernel offers them, Landlock and a seccomp filter). notes say why a
    stronger protection is missing.
    """

    mode: str
    network_namespace: bool
    pid_namespace: bool
    read_only_filesystem: bool
    disk_quota: int | None        # bytes of the private tmpfs working dir; None: it is on the real disk
    separate_uid: bool            # user code runs as a uid no other process has
    uid: int
    no_new_privileges: bool
    max_processes: int | None     # RLIMIT_NPROC, where the kernel enforces it
    audit_hook: bool = True
    landlock: int | None = None   # audit_hook mode: the Landlock ABI confining files, TCP, signals, ptrace
    seccomp: bool = False         # audit_hook mode: a seccomp filter refuses sockets, new processes, signals
    notes: tuple[str, ...] = ()

    @classmethod
    def from_report(cls, report) -> SandboxProtections | None:
        try:
            fields: dict[str, Any] = dict(report, notes=tuple(str(n) for n in report["notes"]))
            made = cls(**fields)
        except (TypeError, KeyError, ValueError):
            return None
        return made if made.mode in ("root", "user_namespace", "audit_hook") else None

    def describe(self) -> list[str]:
        """One line per protection, for people (the app, the CLI)."""
        lines = [f"isolation mode: {self.mode}"]
        lines.append("network: " + ("none (empty network namespace)" if self.network_namespace
                                    else "no sockets (seccomp filter)" if self.seccomp
                                    else "blocked by the audit hook only"))
        lines.append("processes: " + ("own pid namespace; leftovers are killed after each row"
                                      if self.pid_namespace else "no new ones, signals only to itself (seccomp filter)"
                                      if self.seccomp else "blocked by the audit hook only")
                     + (f"; at most {self.max_processes} tasks" if self.max_processes else ""))
        lines.append("files: " + ("read-only except the working dir" if self.read_only_filesystem
                                  else f"writable only in the working dir (Landlock ABI {self.landlock})"
                                  if self.landlock else "writable wherever the user may write")
                     + (f"; working dir is a {size_text(self.disk_quota)} tmpfs" if self.disk_quota
                        else "; working dir on the real disk"))
        lines.append("other processes: " + ("not visible (own pid namespace)" if self.pid_namespace
                                            else "their memory and environment are out of reach (Landlock)"
                                            if self.landlock else "guarded by the audit hook only"))
        lines.append("user: " + (f"separate uid {self.uid}, no capabilities" if self.separate_uid
                                 else f"uid {self.uid}" + (", no capabilities" if self.pid_namespace or
                                                           self.no_new_privileges else "")))
        return lines + [f"note: {n}" for n in self.notes]


@dataclass(frozen=True)
class SourceProblem:
    code: str
    message: str
    line: int | None = None
    severity: str = "error"  # the Finding shape of ftstudio.core (the sandbox does not import core)

    def where(self) -> str:
        return f"line {self.line}" if self.line is not None else ""


# --- static check (AST only, nothing runs) ------------------------------------------------

_SIGNATURE_HINT = "define it as def grade(sample, item) -> float"


def static_check(source: str) -> list[SourceProblem]:
    """Problems the engine refuses before running anything. Never executes code, never raises.

    Codes: python_source_too_large, python_syntax_error, python_missing_grade, python_grade_arity,
    python_grade_async.
    """
    try:
        return _static_check(source)
    except Exception as exc:  # a checker must not crash on odd input; the log keeps the traceback
        logging.getLogger("ftstudio.sandbox").exception("the static check of a python grader failed")
        return [SourceProblem("python_syntax_error", f"The source could not be checked: {exc}")]


def _static_check(source) -> list[SourceProblem]:
    if not isinstance(source, str):
        return [SourceProblem("python_syntax_error", f"The source must be text, not {type(source).__name__}.")]
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        return [SourceProblem(
            "python_source_too_large",
            f"The source is {size:,} bytes of UTF-8; the limit is {MAX_SOURCE_BYTES:,} bytes (256 kB). "
            "Move large data into the dataset rows (the item) instead of the source.")]
    try:
        tree = ast.parse(source, filename="grader.py")
    except SyntaxError as exc:
        where = f"Line {exc.lineno}, column {exc.offset}: " if exc.lineno else ""
        return [SourceProblem("python_syntax_error",
                              f"{where}{exc.msg}. Fix the syntax so the source compiles.", exc.lineno)]
    except (ValueError, RecursionError, MemoryError) as exc:
        return [SourceProblem("python_syntax_error", f"The source does not compile: {exc}.")]
    binding = _last_grade_binding(tree.body)
    if binding is None:
        return [SourceProblem("python_missing_grade",
                              f"The source defines no top-level function named grade; {_SIGNATURE_HINT}.")]
    line = binding.lineno
    if isinstance(binding, ast.AsyncFunctionDef):
        return [SourceProblem("python_grade_async",
                              f"Line {line}: grade is an async function; {_SIGNATURE_HINT} (a plain def, "
                              "returning a float rather than a coroutine).", line)]
    args = None
    if isinstance(binding, ast.FunctionDef):
        args = binding.args
    elif isinstance(binding, ast.Lambda):
        args = binding.args
    if args is not None and not _two_positional(args):
        shown = ast.unparse(args) or "no parameters"
        return [SourceProblem("python_grade_arity",
                              f"Line {line}: grade must take exactly two positional parameters "
                              f"(sample, item) and no others; it takes ({shown}). {_SIGNATURE_HINT[0].upper()}"
                              f"{_SIGNATURE_HINT[1:]}.", line)]
    return []


def _two_positional(args: ast.arguments) -> bool:
    return (len(args.posonlyargs) + len(args.args) == 2 and args.vararg is None
            and not args.kwonlyargs and args.kwarg is None)


def _last_grade_binding(body: list[ast.stmt]) -> ast.stmt | ast.Lambda | None:
    """The statement that binds `grade` last at module level (inside if/try/with too), or None.

    For `grade = lambda ...` the Lambda node is returned so its parameters can be checked; other
    bindings (imports, classes, calls) are accepted here and judged when the source runs.
    """
    found: ast.stmt | ast.Lambda | None = None
    for node in body:
        hit: ast.stmt | ast.Lambda | None = None
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == "grade":
            hit = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "grade" for t in targets) and node.value is not None:
                hit = node.value if isinstance(node.value, ast.Lambda) else node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name.split(".")[0]) == "grade" for a in node.names):
                hit = node
        nested: list[list[ast.stmt]] = []
        if isinstance(node, (ast.If, ast.For, ast.While)):
            nested = [node.body, node.orelse]
        elif isinstance(node, ast.With):
            nested = [node.body]
        elif isinstance(node, (ast.Try, ast.TryStar)):
            nested = [node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody]
        for block in nested:
            hit = _last_grade_binding(block) or hit
        found = hit or found
    return found


# --- the pool -----------------------------------------------------------------------------

def _close_workers(workers: list) -> None:
    with _residency.LOCK:
        taken = list(workers)
        workers.clear()
    for w in taken:
        w.close()


class PythonGraderPool:
    """Reusable worker processes for one grader source. A context manager; safe to share between
    threads: runs from several threads go on side by side, each on free workers of the pool (at most
    `workers` of them together), so one slow row holds up only its own run; close() from another
    thread stops running runs.

    Rows of a run that did not finish because of cancel or close get error "other_error" with
    details "cancelled": the result list always has one entry per call, in call order.
    """

    def __init__(self, source: str, *, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                 memory_limit: int = DEFAULT_MEMORY_LIMIT, disk_limit: int = DEFAULT_DISK_LIMIT):
        if workers is None:
            workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if workers < 1 or not timeout > 0 or memory_limit < 1 or disk_limit < 1:
            raise ValueError("workers, timeout, memory_limit and disk_limit must be positive")
        self._size, self._timeout, self._memory_limit = int(workers), float(timeout), int(memory_limit)
        self._workers: list = []  # every live worker; which run owns which: see _scheduler (under _residency.LOCK)
        self._runs: set = set()  # runs going on
        self._hungry = 0  # runs that have rows to grade and no worker
        self._starting = 0  # workers being started right now
        self._closed = False
        self._careful = False  # a worker found what a row left behind: every batch is checked row by row
        self._clean: dict[object, object] = {}  # one result per reward of rows without error or output (_intake)
        self._protections: SandboxProtections | None = None
        self._init = {"source": source, "timeout": self._timeout, "memory_limit": self._memory_limit,
                      "disk_limit": int(disk_limit)}
        # Set when every row must fail the same way (the source is refused or does not load).
        self._fatal: PythonCallResult | None = _source_refusal(source)
        self._finalizer = weakref.finalize(self, _close_workers, self._workers)
        _residency.register(self)

    def run(self, calls: Sequence[tuple[dict[str, Any], dict[str, Any]]], *,
            progress: Callable[[int, int], object] | None = None,
            cancel: threading.Event | Callable[[], bool] | None = None) -> list[PythonCallResult]:
        """Grade (sample, item) pairs; one result per call, in order.

        progress(done, total) is called from this thread, throttled to about ten times a second
        plus once at the start and once at the end. cancel is polled about every 50 ms.
        """
        if self._closed:
            return [PythonCallResult(0.0, SERVER_ERROR, "the python grader pool is closed")] * len(calls)
        return execute(self, calls, progress, cancel, PythonCallResult)

    def waiting(self) -> int:
        """How many calls have been running longer than SLOW_CALL seconds right now (see _deadlines; the rest of
        their batches already went to other workers); progress lines say so."""
        now = time.monotonic()
        return sum(1 for w in list(self._workers) if slow(w, self._timeout, now))

    def timed_out(self) -> int:
        """How many calls of the run on this thread have run past the limit so far (its progress callback
        runs on that thread): progress says when every finished row timed out."""
        me = threading.get_ident()
        return sum(r.timed_out for r in list(self._runs) if r.thread == me)

    @property
    def timeout(self) -> float:
        """Each call's wall-clock limit in seconds."""
        return self._timeout

    def protections(self) -> SandboxProtections | None:
        """What isolates this pool's workers (None until one has started)."""
        return self._protections

    def _booted(self, report) -> bool:
        made = SandboxProtections.from_report(report)
        if made is not None:
            self._protections = made
        return made is not None

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for diagnostics and tests)."""
        return [w.pid for w in list(self._workers) if w.state != "dead"]

    def close(self) -> None:
        """Stop every worker. Runs in other threads end first (their unfinished rows: "cancelled")."""
        me = threading.get_ident()
        with _residency.CHANGED:
            self._closed = True
            _residency.CHANGED.notify_all()
            while any(run.thread != me for run in self._runs):
                _residency.CHANGED.wait()
        self._finalizer()

    def __enter__(self) -> PythonGraderPool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _source_refusal(source) -> PythonCallResult | None:
    """The limits the runner itself enforces before starting anything (the rest is the worker's job)."""
    if not isinstance(source, str):
        return PythonCallResult(0.0, RUNTIME_ERROR, f"the source must be text, not {type(source).__name__}")
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        return PythonCallResult(0.0, RUNTIME_ERROR, f"the source is {size:,} bytes of UTF-8; the limit is "
                                                    f"{MAX_SOURCE_BYTES:,} bytes ({size_text(MAX_SOURCE_BYTES)})")
    return None


_probe_lock = threading.Lock()
_probed: list[SandboxProtections] = []


def protections(refresh: bool = False) -> SandboxProtections | None:
    """What isolates python graders on this machine: starts one worker once (about 0.1 s) and
    remembers its report for the life of the process. None if no worker could be started."""
    with _probe_lock:
        if refresh or not _probed:
            with PythonGraderPool("def grade(sample, item):\n    return 1.0\n", workers=1, timeout=30) as pool:
                pool.run([({}, {})])
                found = pool.protections()
            if found is None:
                return None
            _probed[:] = [found]
        return _probed[0]


def run_python_grader(source: str, calls: Sequence[tuple[dict[str, Any], dict[str, Any]]], **kw) -> list[PythonCallResult]:
    """Grade calls with a pool that lives for this run only. Keyword arguments: those of
    PythonGraderPool (workers, timeout, memory_limit, disk_limit) and of run (progress, cancel)."""
    run_kw = {k: kw.pop(k) for k in ("progress", "cancel") if k in kw}
    if "workers" not in kw:
        kw["workers"] = max(1, min(len(calls), len(os.sched_getaffinity(0))))
    with PythonGraderPool(source, **kw) as pool:
        return pool.run(calls, **run_kw)
