"""Escape attempts against the python grader sandbox: each must fail, harm only its own row and
leave a clear error, while the other rows of the same run succeed.

Two kinds of attempt: plain Python (stopped by the audit hook in every mode) and "native" ones
that call libc through a raw function address, which no audit hook sees; those prove the kernel
isolation and are skipped, with the reason, where this machine cannot provide it. As root (here
and in CI) the strongest mode must be active, and every test runs.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from ftstudio.sandbox import DEFAULT_MEMORY_LIMIT, PythonGraderPool, protections
from ftstudio.sandbox import _process as _sandbox_process

RUNTIME = "python_grader_runtime_error"
MB = 1024 ** 2
PROJECT = Path(__file__).resolve().parents[1]

_libc = ctypes.CDLL(None)


def _address(name: str) -> int:
    return ctypes.cast(_libc[name], ctypes.c_void_p).value


# Where libc functions sit relative to getpid(): the worker loads the same libc, so user code can
# reach them from getpid's address without a ctypes look-up by name (which the audit hook sees).
OFFSETS = {name: _address(name) - _address("getpid") for name in
           ("open", "socket", "connect", "kill", "fork", "setsid", "execv", "_exit", "setrlimit", "prctl")}

SOURCE = r'''
import ctypes, json, os, resource, signal, socket, struct, subprocess, sys, time

_libc = ctypes.CDLL(None, use_errno=True)
_ANCHOR = ctypes.cast(_libc.getpid, ctypes.c_void_p).value

def native(item, name, *argtypes):
    """A libc function called through its raw address: the audit hook never sees this."""
    return ctypes.CFUNCTYPE(ctypes.c_int, *argtypes, use_errno=True)(_ANCHOR + item["offsets"][name])

def refused(what):
    err = ctypes.get_errno()
    raise OSError(err, "%s: %s" % (what, os.strerror(err)))

def native_open(item, path, flags, mode=0):
    fd = native(item, "open", ctypes.c_char_p, ctypes.c_int, ctypes.c_int)(path.encode(), flags, mode)
    if fd < 0:
        refused("open " + path)
    return fd

def grade(sample, item):
    k = item["k"]
    if k == "ok":
        return 1.0
    if k == "env":
        print(json.dumps(dict(os.environ)))
        print(open("/proc/self/environ", "rb").read())
        return 1.0
    if k == "parent_environ":
        return len(open("/proc/%d/environ" % item["pid"], "rb").read())
    if k == "native_parent_environ":
        fd = native_open(item, "/proc/%d/environ" % item["pid"], os.O_RDONLY)
        print(os.read(fd, 1 << 16))
        return 1.0
    if k == "connect":
        socket.create_connection(("127.0.0.1", item["port"]), timeout=1)
        return 1.0
    if k == "dns":
        socket.getaddrinfo("localhost", item["port"])
        return 1.0
    if k == "native_connect":
        s = native(item, "socket", ctypes.c_int, ctypes.c_int, ctypes.c_int)(socket.AF_INET, socket.SOCK_STREAM, 0)
        if s < 0:
            refused("socket")
        address = struct.pack("=H", socket.AF_INET) + struct.pack("!H", item["port"]) + bytes([127, 0, 0, 1]) + bytes(8)
        if native(item, "connect", ctypes.c_int, ctypes.c_char_p, ctypes.c_int)(s, address, len(address)) < 0:
            refused("connect to 127.0.0.1:%d" % item["port"])
        return 1.0
    if k == "write":
        with open(item["path"], "w") as f:
            f.write("escaped")
        return 1.0
    if k == "native_write":
        fd = native_open(item, item["path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b"escaped")
        return 1.0
    if k == "write_here":
        with open("mine.txt", "w") as f:
            f.write("x" * 1000)
        print(os.getcwd())
        return len(open("mine.txt").read()) / 1000
    if k == "popen":
        subprocess.Popen([item["sleep"], item["token"]])
    if k == "system":
        os.system("%s %s &" % (item["sleep"], item["token"]))
    if k == "spawn":
        os.posix_spawn(item["sleep"], ["sleep", item["token"]], {})
    if k == "native_daemon":
        fork = native(item, "fork")
        if fork() == 0:  # the usual double fork: the sleeper is orphaned in its own session
            native(item, "setsid")()
            if fork() == 0:
                argv = (ctypes.c_char_p * 3)(b"sleep", item["token"].encode(), None)
                native(item, "execv", ctypes.c_char_p, ctypes.c_void_p)(item["sleep"].encode(), argv)
            native(item, "_exit", ctypes.c_int)(0)
        time.sleep(0.2)
        return 1.0
    if k == "fork_bomb":
        while True:
            os.fork()
    if k == "native_fork_bomb":
        fork, me, made = native(item, "fork"), os.getpid(), 0
        while True:
            pid = fork()
            if pid > 0 and os.getpid() == me:
                made += 1
            elif pid < 0:
                if os.getpid() == me:
                    refused("fork failed after %d processes" % made)
                time.sleep(60)  # a process of the bomb at the limit waits to be killed
    if k == "hog":
        hoard = []
        while True:
            hoard.append(bytearray(10 * 1024 * 1024))
    if k == "raise_memory_limit":
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    if k == "native_raise_memory_limit":
        unlimited = (ctypes.c_ulong * 2)(2 ** 64 - 1, 2 ** 64 - 1)
        if native(item, "setrlimit", ctypes.c_int, ctypes.c_void_p)(resource.RLIMIT_AS, unlimited) < 0:
            refused("setrlimit(RLIMIT_AS, unlimited)")
    if k == "cpu_limit":  # the backstop of the audit_hook mode, moved per row: used + timeout + 5 s
        return 1.0 if 5 < resource.getrlimit(resource.RLIMIT_CPU)[0] < 60 else 0.0
    if k == "memory_limit":
        return resource.getrlimit(resource.RLIMIT_AS)[0] / 1024 ** 3
    if k == "immortal":  # no death signal when its parent is killed, then hang
        native(item, "prctl", ctypes.c_int, ctypes.c_ulong)(1, 0)  # PR_SET_PDEATHSIG, none
        time.sleep(1000)
    if k == "spin":
        while True:
            pass
    if k == "sleep":
        time.sleep(1000)
    if k == "kill_ppid":
        os.kill(os.getppid(), signal.SIGKILL)
    if k == "kill_pid":
        os.kill(item["pid"], signal.SIGKILL)
    if k == "killpg":
        os.killpg(item["pgid"], signal.SIGKILL)
    if k == "native_kill":
        if os.getpid() != 1:
            raise RuntimeError("kill(-1) is only tried as pid 1 of a pid namespace")
        kill = native(item, "kill", ctypes.c_int, ctypes.c_int)
        for target in (item["pid"], item["canary"], -1):
            if kill(target, signal.SIGKILL) == 0:
                return 1.0
        refused("kill(parent), kill(canary) and kill(-1)")
    if k == "fill_disk":
        n = 0
        while True:
            with open("fill-%d" % n, "wb") as f:
                f.write(bytes(MB))
            n += 1
    if k == "big_file":
        with open("big", "wb") as f:
            f.write(bytes(item["mb"] * MB))
        return 1.0
    return 0.5

MB = 1024 * 1024
'''


def row(k, **extra):
    return {"output_text": "answer"}, {"k": k, "offsets": OFFSETS, **extra}


def ok_rows(n=2):
    return [row("ok") for _ in range(n)]


def require(*flags):
    """Skip, saying why, when this machine cannot give the kernel isolation a test relies on."""
    found = protections()
    missing = [f for f in flags if not getattr(found, f)]
    if missing:
        why = "; ".join(found.notes) or ("the app does not run as root" if os.geteuid() else "")
        pytest.skip(f"needs {', '.join(missing)}, which the sandbox does not have here "
                    f"(mode {found.mode}{': ' + why if why else ''})")


def assert_rest_ok(results, bad):
    for i, r in enumerate(results):
        if i not in bad:
            assert (r.reward, r.error) == (1.0, None), (i, r)
    for i in bad:
        assert results[i].reward == 0.0 and results[i].error == RUNTIME, (i, results[i])


def processes_with(text: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(name))
            except OSError:
                pass
    return found


def namespace_sizes(worker_pids) -> list[int]:
    """How many processes live in each worker's pid namespace (workers still starting, not yet in
    one, are left out)."""
    host, sizes = os.readlink("/proc/self/ns/pid"), []
    for pid in worker_pids:
        try:
            ns = os.readlink(f"/proc/{pid}/ns/pid_for_children")
        except FileNotFoundError:  # the worker was replaced in between: nothing of it is left
            continue
        if ns != host:
            sizes.append(sum(1 for name in os.listdir("/proc") if name.isdigit() and _in(name, ns)))
    return sizes


def _in(pid: str, ns: str) -> bool:
    """A living (not zombie) process in pid namespace ns."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            if f.read().rsplit(b") ", 1)[1][:1] in (b"Z", b"X"):
                return False
        return os.readlink(f"/proc/{pid}/ns/pid") == ns
    except (OSError, IndexError):
        return False


@pytest.fixture
def pool():
    with PythonGraderPool(SOURCE, workers=2, timeout=2, memory_limit=300 * MB, disk_limit=8 * MB) as p:
        yield p


# --- the mode -----------------------------------------------------------------------------------

def _kernel_allows_namespaces() -> bool:
    """Can this process create the namespaces root mode uses? (Some containers refuse even root.)"""
    import ctypes

    pid = os.fork()
    if pid == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        os._exit(0 if libc.unshare(0x40000000 | 0x00020000 | 0x20000000) == 0 else 1)  # NEWNET|NEWNS|NEWPID
    return os.waitpid(pid, 0)[1] == 0


def test_strongest_mode_is_active_as_root():
    found = protections()
    if os.geteuid() != 0:
        pytest.skip(f"not root: the sandbox runs in {found.mode} mode here ({'; '.join(found.notes) or 'no notes'})")
    if not _kernel_allows_namespaces():
        pytest.skip("this machine refuses namespaces even to root (a restricted container): "
                    f"the sandbox runs in {found.mode} mode")
    assert found.mode == "root", found.notes
    assert found.network_namespace and found.pid_namespace and found.read_only_filesystem
    assert found.separate_uid and found.uid >= 1_900_000_000 and found.no_new_privileges
    assert found.disk_quota == 1024 ** 3 and found.max_processes == 32 and found.audit_hook
    assert any("network namespace" in line for line in found.describe())


# --- secrets --------------------------------------------------------------------------------------

def test_environment_secrets_never_reach_user_code(pool, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-1234")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-5678")
    results = pool.run([row("env"), row("parent_environ", pid=os.getpid()), row("ok")])
    assert (results[0].reward, results[0].error) == (1.0, None)
    assert "sk-test-secret" not in results[0].stdout and "aws-secret" not in results[0].stdout
    assert "OPENAI_API_KEY" not in results[0].stdout
    assert "reading other processes is not allowed in a python grader" in results[1].details
    assert_rest_ok(results, bad=[1])


def test_parent_environment_unreadable_by_native_code(pool, monkeypatch):
    require("pid_namespace")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-1234")
    results = pool.run([row("native_parent_environ", pid=os.getpid()), row("ok")])
    # The parent's pid does not exist in the worker's pid namespace and /proc.
    assert "No such file or directory" in results[0].details
    assert "sk-test-secret" not in (results[0].stdout or "") + results[0].details
    assert_rest_ok(results, bad=[0])


# --- network --------------------------------------------------------------------------------------

@pytest.fixture
def listening():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def no_connection_arrived(server) -> bool:
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def test_no_network(pool, listening):
    port = listening.getsockname()[1]
    results = pool.run([row("connect", port=port), row("ok"), row("dns", port=port), row("ok")])
    for bad in (results[0], results[2]):
        assert "PermissionError: network access is not allowed in a python grader" in bad.details
    assert_rest_ok(results, bad=[0, 2])
    assert no_connection_arrived(listening)


def test_no_network_for_native_code(pool, listening):
    require("network_namespace")
    port = listening.getsockname()[1]
    results = pool.run([row("native_connect", port=port), row("ok")])
    assert "tried to use the network" in results[0].details and "Network is unreachable" in results[0].details
    assert_rest_ok(results, bad=[0])
    assert no_connection_arrived(listening)


# --- files ----------------------------------------------------------------------------------------

@pytest.fixture
def targets():
    name = f"ftstudio-escape-{uuid.uuid4().hex}"
    paths = [PROJECT / name, Path.home() / name, Path("/tmp") / name]
    yield paths
    for p in paths:
        if p.exists():
            p.unlink()


def test_no_writes_outside_the_working_directory(pool, targets):
    results = pool.run([row("write", path=str(p)) for p in targets] + [row("write_here")])
    for r in results[:3]:
        assert "writing outside the working directory" in r.details and "is not allowed in a python grader" in r.details
    assert_rest_ok(results, bad=[0, 1, 2])
    assert not any(p.exists() for p in targets)


def test_no_writes_outside_the_working_directory_for_native_code(pool, targets):
    require("read_only_filesystem")
    results = pool.run([row("native_write", path=str(p)) for p in targets] + [row("write_here")])
    for r in results[:3]:
        assert "tried to write outside its working directory" in r.details
        assert "Read-only file system" in r.details
    assert_rest_ok(results, bad=[0, 1, 2])
    assert not any(p.exists() for p in targets)
    # The working dir is a private tmpfs: what the row wrote never reached the real one.
    workdir = results[3].stdout.strip()
    assert "ftstudio-grader-" in workdir and not os.path.exists(os.path.join(workdir, "mine.txt"))


# --- processes ------------------------------------------------------------------------------------

def sleeper(kind):
    token = f"1000.{uuid.uuid4().int % 10 ** 9}"  # `sleep 1000.<n>`: found later by its argument
    return row(kind, sleep=shutil.which("sleep"), token=token), token


def test_no_subprocess_outlives_the_row(pool):
    rows, tokens = zip(*(sleeper(kind) for kind in ("popen", "system", "spawn")))
    results = pool.run([rows[0], row("ok"), rows[1], rows[2], row("ok")])
    for i in (0, 2, 3):
        assert "creating processes is not allowed in a python grader" in results[i].details
    assert_rest_ok(results, bad=[0, 2, 3])
    assert not any(processes_with(t) for t in tokens)


def test_no_native_subprocess_outlives_the_row():
    require("pid_namespace")
    daemon, token = sleeper("native_daemon")
    with PythonGraderPool(SOURCE, workers=1, timeout=5) as p:
        results = p.run([row("ok"), daemon, row("ok")])
        # Only the sandboxed process itself is left in its namespace.
        assert namespace_sizes(p.worker_pids()) == [1]
    assert results[1].details.startswith("grade() left processes running; they were killed")
    assert_rest_ok(results, bad=[1])
    assert processes_with(token) == []


def test_fork_bomb_fails_fast(pool):
    results = pool.run([row("fork_bomb"), row("ok"), row("ok")])
    assert "creating processes is not allowed in a python grader (os.fork)" in results[0].details
    assert_rest_ok(results, bad=[0])
    assert all(size == 1 for size in namespace_sizes(pool.worker_pids()))


def test_native_fork_bomb_fails_fast(pool):
    require("pid_namespace", "max_processes")
    results = pool.run([row("native_fork_bomb"), row("ok"), row("ok")])
    details = results[0].details
    # Stopped by RLIMIT_NPROC, not by the 2 s wall limit; its processes were killed after the row.
    assert "did not finish" not in details and "Resource temporarily unavailable" in details
    assert "grade() left processes running; they were killed" in details
    assert_rest_ok(results, bad=[0])
    workers = pool.worker_pids()
    sizes = namespace_sizes(workers)  # the bomb's worker is among them: it ran a row
    assert sizes and all(size == 1 for size in sizes)
    pool.close()
    assert not any(os.path.exists(f"/proc/{w}") for w in workers)


# --- disk -----------------------------------------------------------------------------------------

def test_disk_quota(pool):
    require("disk_quota")
    with PythonGraderPool(SOURCE, workers=1, timeout=5, disk_limit=8 * MB) as p:
        results = p.run([row("fill_disk"), row("big_file", mb=16), row("big_file", mb=6), row("write_here")])
    for r in results[:2]:
        assert "grade() ran out of disk space (a python grader may write at most 8 MiB" in r.details
        assert "No space left on device" in r.details or "File too large" in r.details
    # Each row starts with an empty working dir: the full disk of the rows before harms none of them.
    assert_rest_ok(results, bad=[0, 1])


def test_oversized_file_fails_in_every_mode(monkeypatch):
    monkeypatch.setattr(_sandbox_process, "ISOLATION", "audit_hook")
    with PythonGraderPool(SOURCE, workers=1, timeout=5, disk_limit=4 * MB) as p:
        results = p.run([row("big_file", mb=8), row("big_file", mb=2)])
        assert p.protections().mode == "audit_hook" and p.protections().disk_quota is None
    assert "ran out of disk space" in results[0].details and "File too large" in results[0].details
    assert_rest_ok(results, bad=[0])


# --- memory, time ---------------------------------------------------------------------------------

def test_memory_limit(pool):
    results = pool.run([row("hog"), row("ok"), row("raise_memory_limit"), row("ok")])
    assert "grade() ran out of memory (limit 300 MiB)" in results[0].details
    assert "changing resource limits is not allowed in a python grader" in results[2].details
    assert_rest_ok(results, bad=[0, 2])


def test_memory_limit_cannot_be_raised_by_native_code(pool):
    require("no_new_privileges")
    results = pool.run([row("native_raise_memory_limit"), row("hog"), row("ok")])
    assert "Operation not permitted" in results[0].details
    assert "grade() ran out of memory (limit 300 MiB)" in results[1].details
    assert_rest_ok(results, bad=[0, 1])


def test_default_memory_limit_is_2_gib():
    assert DEFAULT_MEMORY_LIMIT == 2 * 1024 ** 3
    with PythonGraderPool(SOURCE, workers=1) as p:
        [r] = p.run([row("memory_limit")])
    assert (r.reward, r.error) == (2.0, None)


@pytest.mark.slow
def test_hanging_rows_are_stopped(pool):
    results = pool.run([row("spin"), row("ok"), row("sleep"), row("ok")])
    for i in (0, 2):
        assert "grade() did not finish within 2 s; its worker was stopped and replaced" in results[i].details
    assert_rest_ok(results, bad=[0, 2])


@pytest.mark.slow
def test_hung_worker_that_undid_its_death_signal_is_still_killed():
    require("pid_namespace")
    with PythonGraderPool(SOURCE, workers=1, timeout=2) as p:
        p.run([row("ok")])
        [worker] = p.worker_pids()
        ns = os.readlink(f"/proc/{worker}/ns/pid_for_children")
        results = p.run([row("immortal"), row("ok")])
        assert "did not finish within 2 s" in results[0].details
        assert_rest_ok(results, bad=[0])
        assert not any(_in(name, ns) for name in os.listdir("/proc") if name.isdigit())


# --- the parent -----------------------------------------------------------------------------------

@pytest.fixture
def canary():
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def test_parent_cannot_be_killed(pool, canary):
    me = {"pid": os.getpid(), "pgid": os.getpgid(0)}
    results = pool.run([row("kill_ppid"), row("ok"), row("kill_pid", **me), row("killpg", **me), row("ok")])
    for i in (0, 2, 3):
        assert "signalling other processes is not allowed in a python grader" in results[i].details
    assert_rest_ok(results, bad=[0, 2, 3])
    assert canary.poll() is None


def test_parent_cannot_be_killed_by_native_code(pool, canary):
    require("pid_namespace")
    results = pool.run([row("native_kill", pid=os.getpid(), canary=canary.pid), row("ok"), row("ok")])
    # Neither the parent nor another process of the user exists in the worker's pid namespace.
    assert "No such process" in results[0].details
    assert_rest_ok(results, bad=[0])
    assert canary.poll() is None


# --- the fallbacks --------------------------------------------------------------------------------

def test_user_namespace_mode(monkeypatch, listening, targets, canary):
    monkeypatch.setattr(_sandbox_process, "ISOLATION", "user_namespace")
    port = listening.getsockname()[1]
    with PythonGraderPool(SOURCE, workers=1, timeout=5) as p:
        results = p.run([row("native_connect", port=port), row("native_write", path=str(targets[0])),
                         row("native_kill", pid=os.getpid(), canary=canary.pid), row("ok")])
        found = p.protections()
    if found.mode != "user_namespace":
        pytest.skip(f"unprivileged user namespaces are refused here: {'; '.join(found.notes)}")
    assert found.network_namespace and found.pid_namespace and found.read_only_filesystem
    assert found.disk_quota and not found.separate_uid and found.no_new_privileges
    assert "Network is unreachable" in results[0].details
    assert "Read-only file system" in results[1].details
    assert "No such process" in results[2].details
    assert_rest_ok(results, bad=[0, 1, 2])
    assert no_connection_arrived(listening) and not targets[0].exists() and canary.poll() is None


def test_audit_hook_mode_still_blocks_python_level_escapes(monkeypatch, listening, targets):
    monkeypatch.setattr(_sandbox_process, "ISOLATION", "audit_hook")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-1234")
    port = listening.getsockname()[1]
    daemon, token = sleeper("popen")
    with PythonGraderPool(SOURCE, workers=1, timeout=5) as p:
        results = p.run([row("env"), row("connect", port=port), row("write", path=str(targets[0])), daemon,
                         row("fork_bomb"), row("kill_pid", pid=os.getpid()), row("parent_environ", pid=os.getpid()),
                         row("cpu_limit")])
        assert p.protections().mode == "audit_hook"
    assert "sk-test-secret" not in results[0].stdout
    expected = ["network access", "writing outside", "creating processes", "creating processes",
                "signalling other processes", "reading other processes"]
    for r, text in zip(results[1:], expected):
        assert r.error == RUNTIME and text in r.details
    assert_rest_ok(results, bad=[1, 2, 3, 4, 5, 6])
    assert no_connection_arrived(listening) and not targets[0].exists() and processes_with(token) == []


NON_ROOT_SCRIPT = r'''
import json, os, sys
sys.path.insert(0, sys.argv[1])
from ftstudio.sandbox import protections, run_python_grader
found = protections()
job = json.load(sys.stdin)
results = run_python_grader(job["source"], job["rows"], workers=1, timeout=5)
print(json.dumps({"mode": found and found.mode, "notes": found and found.notes, "uid": os.getuid(),
                  "results": [[r.reward, r.error, r.details] for r in results]}))
'''


def test_real_non_root_user_gets_user_namespaces(listening, targets):
    """The same code run by an unprivileged user (uid 65534): the mode a developer's machine gives."""
    if os.geteuid() != 0:
        pytest.skip("needs root to start a process as another user")
    python = "/usr/bin/python3"
    if not os.path.exists(python):
        pytest.skip(f"{python} (an interpreter other users may run) is not installed")
    port = listening.getsockname()[1]
    job = {"source": SOURCE, "rows": [row("native_connect", port=port), row("native_write", path=str(targets[2])),
                                      row("ok")]}
    done = subprocess.run([python, "-I", "-c", NON_ROOT_SCRIPT, str(PROJECT)], user=65534, group=65534,
                          extra_groups=[], cwd="/", env={"PATH": "/usr/bin:/bin"}, input=json.dumps(job),
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        pytest.skip(f"{python} cannot run the project as uid 65534: {(done.stderr.strip() or '?').splitlines()[-1]}")
    out = json.loads(done.stdout)
    if out["mode"] != "user_namespace":
        pytest.skip(f"unprivileged user namespaces are refused here: {out['notes']}")
    assert out["uid"] == 65534
    (_, error0, details0), (_, error1, details1), ok = out["results"]
    assert error0 == RUNTIME and "Network is unreachable" in details0
    # /tmp is writable by every user: only the read-only mount namespace stops this write.
    assert error1 == RUNTIME and "Read-only file system" in details1
    assert ok == [1.0, None, None]
    assert no_connection_arrived(listening) and not targets[2].exists()
