"""One python-grader worker process, seen from the parent: start, frame messages, stop.

The worker (`worker/_main.py`) talks only over two dedicated pipes and one shared page, so nothing
user code prints can reach the protocol. What it sends is untrusted: frames are length-checked and
parsed as JSON (or are the 6-byte "batch done" frame), never unpickled; the page is read with pread (a
worker that shrinks it cannot fault the parent) and every position and reward on it is range-checked;
the scheduler checks every message's shape.

Rows go as one frame per batch, encoded by _encode.py: the frame says where on the page the batch's JSON is
(written with pwrite: a pipe costs a copy each way and a wake-up of the worker per pipe's worth), or holds
the JSON when it is bigger than the page's room.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from typing import cast

WORKER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker", "_main.py")
# What a row may bring back: its captured output (bytes read from fds 1/2) and its error details
# (characters; tracebacks keep their tail). The worker cuts to these, and the parent cuts again, since
# user code runs in the worker and can change anything there.
MAX_OUTPUT_BYTES = 8 * 1024
MAX_DETAILS_CHARS = 8000
# The largest message a worker may send: a result with both of the above at their limits, JSON-escaped
# (up to 6 bytes a character), fits several times over. A bigger one stops the worker, and the parent
# never holds more than this plus one read of a message that is not complete yet.
MAX_FRAME_BYTES = 256 * 1024
READ_CHUNK = 64 * 1024
READ_BUDGET = 1024 * 1024  # bytes read per call of receive(); the scheduler's poll loop comes back for more
# Rows in one batch: the shared page has a reward slot for each. 512 measured as fast as 256 to 768 and faster
# than 1024 (a batch's rows, built by the worker, then fit in its core's cache; bench/README.md "Against the floor").
MAX_BATCH_ROWS = 512
HEAD = 24  # the page starts with three int64: rows started (step), the position being graded, the first not final
REQUEST_AT = HEAD + 8 * MAX_BATCH_ROWS  # after the rewards: the batch's JSON, written by the parent only
MAX_BATCH_BYTES = 1024 * 1024  # a batch's JSON that fits on the page (a bigger one goes in its frame)
PAGE_BYTES = REQUEST_AT + MAX_BATCH_BYTES
# The request pipe's size where Linux allows (see _widen): a big batch in one or a few writes. Four times the
# default: the kernel counts pipe sizes against a per-user quota (64 MiB by default), and 1 MiB measured no faster.
PIPE_BYTES = 256 * 1024
DONE = b"D"  # the first byte of the frame that closes a batch (JSON messages start with "[")
CAREFUL = b"C"  # before a batch's "[" (or "P"): check it row by row (see worker/_main.py)
STDLIB = b"S"  # before a batch's "[" (or "P"): read it with the stdlib's json
COUNT = b"K"  # after the flags: the nulls the batch's JSON must hold (8 bytes), for the worker to count
ON_PAGE = b"P"  # then the length of the batch's JSON (4 bytes), which is on the page at REQUEST_AT
_ZERO = bytes(HEAD)
# "auto" uses the strongest isolation the machine allows; tests force "user_namespace" or
# "audit_hook" (the fallbacks) to check them on a machine where a stronger mode is available.
ISOLATION = "auto"
OUTPUT_TAIL_BYTES = 4096
# Thread pools of numeric libraries reserve address space per thread, which RLIMIT_AS counts,
# and a worker is meant to use one core.
_ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


class ProtocolError(Exception):
    """The worker sent something that is not a well-formed frame."""


def worker_environment(home: str) -> dict[str, str]:
    """A fresh environment: nothing of the parent's (API keys included) is passed on."""
    env = {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": home,
        "TMPDIR": home,
        "PYTHONIOENCODING": "utf-8",
    }
    env.update(dict.fromkeys(_ONE_THREAD, "1"))
    return env


def frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def _site_dirs() -> list[str]:
    """The site-packages folders a `python -I` child would have (the worker runs with -S and adds them)."""
    try:
        return [d for d in site.getsitepackages() if os.path.isdir(d)]
    except AttributeError:  # an embedded interpreter's site may lack it
        return [p for p in sys.path if p.endswith("site-packages")]


def _page() -> int:
    """A descriptor of PAGE_BYTES shared bytes: a memfd, or an unlinked temporary file elsewhere."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("ftstudio-grader-page", os.MFD_CLOEXEC)
    else:
        fd, path = tempfile.mkstemp(prefix="ftstudio-grader-page-")
        os.unlink(path)
    os.ftruncate(fd, PAGE_BYTES)
    return fd


def _put(fd: int, data: bytes, at: int) -> bool:
    """data written at `at` of the page (a write, not a mapping: a worker that shrinks the page cannot fault
    the parent, the write grows it back); False if the system refused it (the caller sends it in its frame)."""
    try:
        with memoryview(data) as view:
            while view:
                written = os.pwrite(fd, view, at)
                view, at = view[written:], at + written
    except OSError:
        return False
    return True


def _widen(fd: int) -> None:
    """Let the request pipe hold PIPE_BYTES, where Linux allows: a big batch then goes in one or a few writes
    and wake-ups of the worker, not one per 64 KiB (the default size) of rows. Past the user's pipe quota the
    kernel refuses, and the pipe keeps its size."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)  # Linux only: AttributeError elsewhere
    except (AttributeError, OSError):
        pass


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "the worker process closed its message pipe"
    if returncode >= 0:
        return f"the worker process died (exit code {returncode})"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    return f"the worker process died (killed by {name})"


def _pid_namespace(pid: int) -> str | None:
    """The pid namespace the worker's children live in, if it is not ours."""
    try:
        theirs = os.readlink(f"/proc/{pid}/ns/pid_for_children")
        return None if theirs == os.readlink("/proc/self/ns/pid") else theirs
    except OSError:
        return None


def _kill_namespace(namespace: str) -> None:
    """SIGKILL what is left in a worker's pid namespace, and wait (up to 2 s) until it has died.

    Its pid 1 dies with the worker (it has PR_SET_PDEATHSIG) unless user code undid that with
    native calls; killing pid 1 ends the rest. Not our children: dead means gone or a zombie.
    """
    killed = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.readlink(f"/proc/{name}/ns/pid") == namespace:
                    os.kill(int(name), signal.SIGKILL)
                    killed.append(name)
            except OSError:
                pass
    deadline = time.monotonic() + 2.0
    while killed and time.monotonic() < deadline:
        killed = [pid for pid in killed if _running(pid)]
        if killed:
            time.sleep(0.002)


def _running(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b") ", 1)[1][:1] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


class WorkerProcess:
    """A started worker plus its state in the scheduler: starting -> booted -> idle <-> busy -> dead."""

    def __init__(self, init: dict):
        self.tmpdir = tempfile.mkdtemp(prefix="ftstudio-grader-")
        self.proc: subprocess.Popen | None = None
        self.state = "starting"
        self.batch: list[int] = []  # the rows of the batch it grades (the first ones, once some were given back)
        self.sent = 0  # rows in the batch as sent
        self.pos = 0  # the position in the batch of the row it was last seen on
        self.step = 0  # rows it had started then (the page's step)
        self.checked = 0  # the first position whose result was not final then (progress)
        self.special: dict = {}  # position -> result, for rows that sent their own message
        self.dropped: set[int] = set()  # positions given back to the queue while a slow call ran
        self.released = False  # the rows around its slow call were given back
        self.deadline: float | None = None
        self.retiring = False  # rows queued behind a slow call were given back; stop it after this call
        self.counted = False  # its batch's nulls are its to count: it may hand the batch back (see _encode)
        self.owner: object | None = None  # the run grading with it; None: free, any run of its pool may adopt it
        self.freed_at = time.monotonic()
        self.rss, self.measured_at = 0, 0.0  # resident bytes when last given back (see _residency)
        self._inbuf = bytearray()
        self.outbuf = bytearray()
        capture = os.path.join(self.tmpdir, ".output")
        capture_fd = os.open(capture, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        # The parent reads a crashed worker's last output through its own descriptor, so user code
        # cannot point the parent at another file by replacing the capture path.
        self._capture_r = os.open(capture, os.O_RDONLY | os.O_CLOEXEC)
        req_r, self.req_w = os.pipe()
        _widen(self.req_w)
        self.res_r, res_w = os.pipe()
        self.page = _page()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", WORKER_SCRIPT, str(req_r), str(res_w), capture, str(self.page)],
                stdin=subprocess.DEVNULL, stdout=capture_fd, stderr=capture_fd,
                pass_fds=(req_r, res_w, self.page), cwd=self.tmpdir, env=worker_environment(self.tmpdir),
                start_new_session=True,  # its own process group: one killpg stops everything it started
            )
        except BaseException:
            for fd in (self.req_w, self.res_r, self.page):
                os.close(fd)
            self._cleanup_files()
            raise
        finally:
            for fd in (req_r, res_w, capture_fd):
                os.close(fd)
        os.set_blocking(self.req_w, False)
        os.set_blocking(self.res_r, False)
        self.outbuf += frame(json.dumps(["init", dict(
            init, isolation=ISOLATION, output_limit=MAX_OUTPUT_BYTES, details_limit=MAX_DETAILS_CHARS,
            request_at=REQUEST_AT, site_dirs=_site_dirs(), prefix=sys.prefix)]).encode("ascii"))

    def _started(self) -> subprocess.Popen:
        if self.proc is None:
            raise RuntimeError("the worker process has not been started")
        return self.proc

    @property
    def pid(self) -> int:
        return self._started().pid

    def send_batch(self, body: bytes, careful: bool, stdlib: bool, nulls: int | None = None) -> None:
        """Queue a batch, its rows' JSON array (flush() writes it); its marks on the page start at 0 (the worker
        is idle)."""
        os.pwrite(self.page, _ZERO, 0)
        head = (CAREFUL if careful else b"") + (STDLIB if stdlib else b"")
        if nulls is not None:  # the worker counts them and hands the batch back if the JSON holds more
            head += COUNT + nulls.to_bytes(8, "big")
        self.counted = nulls is not None
        if len(body) <= MAX_BATCH_BYTES and _put(self.page, body, REQUEST_AT):
            # On the page: one copy, where a pipe costs a copy each way and a wake-up per pipe's worth.
            self.outbuf += frame(head + ON_PAGE + len(body).to_bytes(4, "big"))
            return
        # Appended piece by piece: the rows are copied once (into outbuf), not once per concatenation.
        self.outbuf += (len(head) + len(body)).to_bytes(4, "big") + head
        self.outbuf += body

    def marks(self) -> tuple[int, int, int]:
        """(step, position, first position not final) as the worker left them, unchecked (the caller checks
        ranges); (-1, -1, -1) if the page was cut short."""
        data = os.pread(self.page, HEAD, 0)
        if len(data) < HEAD:
            return -1, -1, -1
        step, position, checked = memoryview(data).cast("q")
        return step, position, checked

    def rewards(self, rows: int) -> list[float]:
        """The rewards of the first `rows` positions (fewer if the page was cut short)."""
        data = os.pread(self.page, 8 * rows, HEAD)
        return cast("list[float]", memoryview(data)[:len(data) // 8 * 8].cast("d").tolist())

    def flush(self) -> bool:
        """Write what the pipe takes now; False if the worker stopped reading for good."""
        try:
            while self.outbuf:
                with memoryview(self.outbuf) as view:  # a view: no copy of what is written
                    written = os.write(self.req_w, view[: 1 << 20])
                del self.outbuf[:written]
        except BlockingIOError:
            pass
        except OSError:
            return False
        return True

    def receive(self) -> tuple[list, bool]:
        """Parse the complete frames that have arrived (reading at most READ_BUDGET bytes). Returns
        (messages, reached_end); ProtocolError as soon as a frame announces more than MAX_FRAME_BYTES."""
        messages, eof, read = [], False, 0
        while read < READ_BUDGET:
            try:
                chunk = os.read(self.res_r, READ_CHUNK)
            except BlockingIOError:
                break
            except OSError:
                eof = True
                break
            if not chunk:
                eof = True
                break
            read += len(chunk)
            self._inbuf += chunk
            self._parse(messages)
            if len(chunk) < READ_CHUNK:
                break  # the pipe is empty now: poll says when more comes (a second read would only raise EAGAIN)
        return messages, eof

    def _parse(self, messages: list) -> None:
        buf, at = self._inbuf, 0
        while len(buf) - at >= 4:
            size = int.from_bytes(buf[at:at + 4], "big")
            if size > MAX_FRAME_BYTES:
                raise ProtocolError(f"a message of {size:,} bytes (the limit is {MAX_FRAME_BYTES // 1024} KiB; a "
                                    f"row's output is kept up to {MAX_OUTPUT_BYTES // 1024} KiB, so the grader "
                                    "must have changed the worker's own limits)")
            if len(buf) - at - 4 < size:
                break
            body = bytes(buf[at + 4:at + 4 + size])
            if size == 6 and body[:1] == DONE:
                messages.append(("done", int.from_bytes(body[1:5], "big"), body[5]))
            else:
                try:
                    messages.append(json.loads(body))
                except ValueError as exc:
                    raise ProtocolError(f"a message that is not JSON ({exc})") from None
            at += 4 + size
        del buf[:at]

    def wait_exit(self, timeout: float = 1.0) -> int | None:
        """The exit status once the process has ended by itself, or None if it is still alive."""
        try:
            return self._started().wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def output_tail(self) -> str | None:
        try:
            size = os.fstat(self._capture_r).st_size
            data = os.pread(self._capture_r, OUTPUT_TAIL_BYTES, max(0, size - OUTPUT_TAIL_BYTES))
        except OSError:
            return None
        return data.decode("utf-8", "replace") or None

    def kill(self) -> None:
        """SIGKILL the whole process group, then reap. Safe to call more than once."""
        if self.state == "dead":
            return
        self.state = "dead"
        if self.proc is not None:
            # Read before the kill: the pid namespace the worker made for its sandboxed child.
            namespace = _pid_namespace(self.proc.pid)
            # Signal the group before reaping: an unreaped leader keeps the group id from reuse.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            if namespace is not None:
                _kill_namespace(namespace)
        for fd in (self.req_w, self.res_r, self.page):
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self) -> None:
        self.kill()
        self._cleanup_files()

    def _cleanup_files(self) -> None:
        fd, self._capture_r = getattr(self, "_capture_r", -1), -1
        if fd >= 0:
            os.close(fd)
        for _ in range(3):
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            if not os.path.exists(self.tmpdir):
                break
            time.sleep(0.01)
