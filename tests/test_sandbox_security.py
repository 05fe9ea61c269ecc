"""Escape attempts against the python grader sandbox: each must fail, harm only its own row and
leave a clear error, while the other rows of the same run succeed.

Two kinds of attempt: plain Python (stopped by the audit hook in every mode) and "native" ones
that call libc through a raw function address, which no audit hook sees; those prove the kernel
layers and are skipped, with the reason, where this machine cannot provide them. Every attempt runs
twice: in the strongest mode this machine gives ("auto"; as root, here and in CI, that must be the
root mode) and in the "audit_hook" mode forced, the fallback where namespaces are refused, whose
kernel layers are Landlock and a seccomp filter.
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
        pid = fork()
        if pid < 0:
            refused("fork")
        if pid == 0:  # the usual double fork: the sleeper is orphaned in its own session
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
        kill = native(item, "kill", ctypes.c_int, ctypes.c_int)
        # kill(-1) only as pid 1 of a pid namespace: anywhere else it would reach every process of the user.
        for target in (item["pid"], item["canary"]) + ((-1,) if os.getpid() == 1 else ()):
            if kill(target, signal.SIGKILL) == 0:
                return 1.0
        refused("kill(parent), kill(canary)" + (" and kill(-1)" if os.getpid() == 1 else ""))
    if k == "dir_fd_environ":  # os.open's audit event does not carry dir_fd
        proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
        print(os.read(os.open("%d/environ" % item["pid"], os.O_RDONLY, dir_fd=proc), 1 << 16))
        return 1.0
    if k == "symlink_environ":  # a path that does not say "proc"
        os.symlink("/proc/%d" % item["pid"], "p")
        print(open("p/environ", "rb").read())
        return 1.0
    if k == "pidfd_kill":  # neither pidfd_open nor pidfd_send_signal raises an audit event
        signal.pidfd_send_signal(os.pidfd_open(item["canary"]), signal.SIGKILL)
        return 1.0
    if k == "fifo":  # nor does mkfifo
        os.mkfifo(item["path"])
        return 1.0
    if k == "fresh_fork_exec":  # a fresh copy of _posixsubprocess would bring fork_exec back
        import importlib.util
        sys.modules.pop("_posixsubprocess", None)
        fresh = importlib.util.module_from_spec(importlib.util.find_spec("_posixsubprocess"))
        print(fresh.fork_exec)
        return 1.0
    if k == "unhook":
        return unhook(item)
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


def unhook(item):
    """Every way plain Python has to find the audit hook and switch it off, or to make it misjudge."""
    import builtins, gc, posixpath, types
    tried = []

    def attempt(what, action):
        try:
            action()
            tried.append(what + ": done")
        except BaseException as exc:
            tried.append("%s: %s" % (what, type(exc).__name__))

    workdir = os.getcwd()
    for o in gc.get_objects():
        if isinstance(o, types.FunctionType) and o.__code__.co_filename.endswith("_guard.py"):
            attempt("code", lambda o=o: setattr(o, "__code__", (lambda *a, **k: None).__code__))
            attempt("defaults", lambda o=o: setattr(o, "__defaults__", None))
            attempt("del defaults", lambda o=o: delattr(o, "__defaults__"))
            attempt("kwdefaults", lambda o=o: setattr(o, "__kwdefaults__", {}))
            attempt("globals", lambda o=o: o.__globals__.update(os=None, PermissionError=None))
            attempt("cantrace", lambda o=o: setattr(o, "__cantrace__", True))
            for cell in o.__closure__ or ():
                attempt("cell", lambda c=cell: setattr(c, "cell_contents", None))
        if hasattr(type(o), "hook") and hasattr(o, "checks"):
            attempt("checks", lambda o=o: setattr(o, "checks", {}))
        if isinstance(o, types.MappingProxyType):
            for inner in gc.get_referents(o):
                if isinstance(inner, dict) and "os.kill" in inner:
                    attempt("mapping", inner.clear)
        if isinstance(o, (dict, set, list)) and "os.kill" in o:  # event names: the hook's tables
            attempt("container", o.clear)
    for referrer in gc.get_referrers(os.path.realpath):
        if isinstance(referrer, list):
            attempt("hook list", referrer.clear)
    attempt("realpath", lambda: setattr(posixpath, "realpath", lambda p, *a, **k: workdir + "/x"))
    attempt("getpid", lambda: setattr(os, "getpid", lambda: item["pid"]))
    attempt("builtins", lambda: setattr(builtins, "PermissionError", None))

    def tracer(frame, event, arg):
        frame.f_locals.clear()
        return tracer
    attempt("settrace", lambda: sys.settrace(tracer))
    attempt("setprofile", lambda: sys.setprofile(tracer))
    print("\n".join(tried))
    return 1.0
'''


def row(k, **extra):
    return {"output_text": "answer"}, {"k": k, "offsets": OFFSETS, **extra}


def ok_rows(n=2):
    return [row("ok") for _ in range(n)]


MODES = ["auto", "audit_hook"]


@pytest.fixture(params=MODES)
def mode(request, monkeypatch):
    """The isolation mode workers of this test start in ("auto": the strongest this machine allows)."""
    monkeypatch.setattr(_sandbox_process, "ISOLATION", request.param)
    return request.param


def layers(pool):
    """What isolates this pool's workers (starts one if none has started yet)."""
    if pool.protections() is None:
        pool.run([row("ok")])
    return pool.protections()


def require_any(found, *flags):
    """Skip, saying why, unless the workers have at least one of these kernel layers."""
    if not any(getattr(found, f) for f in flags):
        why = "; ".join(found.notes) or ("the app does not run as root" if os.geteuid() else "")
        pytest.skip(f"needs {' or '.join(flags)}, which the sandbox does not have here "
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
def pool(mode):
    with PythonGraderPool(SOURCE, workers=2, timeout=2, memory_limit=300 * MB, disk_limit=8 * MB) as p:
        yield p


@pytest.fixture
def roomy_pool(mode):
    """For rows that take long on a busy machine (filling 300 MB): the wall limit is not what they test."""
    with PythonGraderPool(SOURCE, workers=2, timeout=60, memory_limit=300 * MB, disk_limit=8 * MB) as p:
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
    assert found.landlock is None and not found.seccomp  # the namespaces are the kernel layer there
    assert any("network namespace" in line for line in found.describe())


def test_audit_hook_mode_uses_the_kernel_layers_it_can(monkeypatch):
    monkeypatch.setattr(_sandbox_process, "ISOLATION", "audit_hook")
    with PythonGraderPool(SOURCE, workers=1, timeout=5) as p:
        found = layers(p)
    assert found.mode == "audit_hook" and not found.network_namespace and not found.pid_namespace
    assert found.no_new_privileges and found.audit_hook
    text = "\n".join(found.describe())
    assert ("Landlock" in text) == bool(found.landlock) and ("seccomp" in text) == found.seccomp
    if not (found.landlock and found.seccomp):
        assert any("Landlock" in n or "seccomp" in n for n in found.notes), found.notes  # it says what is missing
    if not _landlock_abi():
        pytest.skip("this kernel offers no Landlock")
    assert found.landlock == _landlock_abi() and found.seccomp, found.notes


def _landlock_abi() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return max(0, libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1)))


# --- the audit hook itself ----------------------------------------------------------------------

@pytest.fixture
def canary():
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def test_audit_hook_cannot_be_switched_off(mode, monkeypatch, listening, targets, canary):
    """A grader walks gc, frames and modules to empty, patch or rebind the hook's state; then the
    same worker tries the escapes: each is still refused by the hook itself (its own messages)."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-1234")
    port = listening.getsockname()[1]
    daemon, token = sleeper("popen")
    me = {"pid": os.getpid()}
    with PythonGraderPool(SOURCE, workers=1, timeout=10) as p:
        results = p.run([row("unhook", **me), row("parent_environ", **me), row("write", path=str(targets[0])),
                         row("connect", port=port), row("kill_pid", pid=canary.pid), daemon,
                         row("dir_fd_environ", **me), row("symlink_environ", **me), row("ok")])
    tried = results[0].stdout
    assert results[0].reward == 1.0 and "defaults: PermissionError" in tried and "code: PermissionError" in tried
    assert "settrace: PermissionError" in tried and "setprofile: PermissionError" in tried
    expected = ["reading other processes", "writing outside the working directory", "network access",
                "signalling other processes", "creating processes", "os.open() with a relative path",
                "creating symbolic links"]
    for r, text in zip(results[1:], expected):
        assert r.error == RUNTIME and f"{text}" in r.details and "is not allowed in a python grader" in r.details, r
        assert "sk-test-secret" not in (r.stdout or "") + r.details
    assert_rest_ok(results, bad=range(1, 8))
    assert no_connection_arrived(listening) and not targets[0].exists() and canary.poll() is None
    assert processes_with(token) == []


def test_audit_hook_has_no_side_doors(mode, targets, canary):
    """C functions that raise no audit event are disarmed, and a fresh copy of their module can't be made."""
    with PythonGraderPool(SOURCE, workers=1, timeout=10) as p:
        results = p.run([row("pidfd_kill", canary=canary.pid), row("fifo", path=str(targets[1])),
                         row("fresh_fork_exec"), row("ok")])
    assert "signalling other processes is not allowed in a python grader" in results[0].details
    assert "creating special files (FIFOs, device nodes) is not allowed" in results[1].details
    assert ("creating processes is not allowed in a python grader" in results[2].details
            or "cannot be made in a python grader" in results[2].details), results[2].details
    assert_rest_ok(results, bad=[0, 1, 2])
    assert canary.poll() is None and not targets[1].exists()


def test_audit_hook_keeps_no_state_python_can_change():
    """The hook and its helpers read no global, have no closure cell and catch no exception: all they
    use is one default, a tuple of immutable values (checked structurally, on their code)."""
    import dis

    guard = _load_worker_module("_guard")
    templates = [guard._hook, guard._text_of, guard._resolve, guard._check_write] + [
        f for name, f in vars(guard).items() if name.startswith("_on_")]
    assert len(templates) == 12
    for template in templates:
        code = template.__code__
        names = {i.opname for i in dis.get_instructions(code)}
        assert not names & {"LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "LOAD_DEREF", "LOAD_CLASSDEREF",
                            "STORE_DEREF", "LOAD_CLOSURE", "MAKE_FUNCTION", "IMPORT_NAME"}, (template, names)
        assert not code.co_freevars and not code.co_cellvars, template
        assert not code.co_exceptiontable, f"{template.__name__} catches exceptions"
        frozen = guard._frozen(template, ("state",))
        assert frozen.__globals__ == {"__builtins__": {}} and frozen.__closure__ is None
        assert frozen.__kwdefaults__ is None and frozen.__defaults__ == (("state",),)

    def immutable(value, depth=0):
        assert depth < 10
        if isinstance(value, (tuple, frozenset)):
            return all(immutable(v, depth + 1) for v in value)
        return value is None or type(value) in (str, int, float, bool, type) or callable(value) and \
            type(value).__name__ in ("builtin_function_or_method", "method_descriptor", "function")
    for constant in (guard._REFUSED, guard._WRITE_EVENTS, guard._BLOCKED_SYMBOLS, guard._HIDDEN_MODULES,
                     guard._PROCESS_MODULES, guard._FUNCTION_STATE):
        assert immutable(constant), constant


def test_seccomp_filter_is_built_for_both_architectures():
    """Only x86_64 runs here; the aarch64 program must assemble too (its numbers differ, no fork)."""
    confine = _load_worker_module("_confine")
    for machine, arch in (("x86_64", 0xC000003E), ("aarch64", 0xC00000B7)):
        program = confine._assemble(confine.seccomp_program(machine, 4321))
        assert program[0] == (confine.LD_ABS, 0, 0, confine.ARCH) and program[1][3] == arch
        assert all(0 <= jt <= 255 and 0 <= jf <= 255 for _, jt, jf, _ in program) and len(program) < 100
        refused = {k for op, _, _, k in program if op == confine.JEQ}
        column = confine.ARCHES[machine][0]
        assert confine.SYSCALLS["socket"][column] in refused and confine.SYSCALLS["execve"][column] in refused


def _load_worker_module(name):
    import importlib.util

    path = PROJECT / "ftstudio" / "sandbox" / "worker" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_test_worker_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    found = layers(pool)
    require_any(found, "pid_namespace", "landlock")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-1234")
    results = pool.run([row("native_parent_environ", pid=os.getpid()), row("ok")])
    # With a pid namespace the parent's pid does not exist in the worker's /proc; with Landlock the
    # kernel refuses ptrace-class access to a process outside the worker's domain.
    reason = "No such file or directory" if found.pid_namespace else "Permission denied"
    assert reason in results[0].details, results[0].details
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
    found = layers(pool)
    require_any(found, "network_namespace", "seccomp")
    port = listening.getsockname()[1]
    results = pool.run([row("native_connect", port=port), row("ok")])
    if found.network_namespace:
        assert "tried to use the network" in results[0].details and "Network is unreachable" in results[0].details
    else:
        assert "socket: Operation not permitted" in results[0].details, results[0].details
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
    found = layers(pool)
    require_any(found, "read_only_filesystem", "landlock")
    results = pool.run([row("native_write", path=str(p)) for p in targets] + [row("write_here")])
    for p, r in zip(targets, results[:3]):
        if p.parent.stat().st_mode & 0o001 == 0:
            # A folder other users cannot enter (a 0700 $HOME): the worker's uid is stopped there, before the
            # read-only mount would be.
            assert "Permission denied" in r.details or "Read-only file system" in r.details, r.details
        elif found.read_only_filesystem:
            assert "tried to write outside its working directory" in r.details
            assert "Read-only file system" in r.details
        else:
            assert "Permission denied" in r.details, r.details  # Landlock
    assert_rest_ok(results, bad=[0, 1, 2])
    assert not any(p.exists() for p in targets)
    workdir = results[3].stdout.strip()
    assert "ftstudio-grader-" in workdir
    if found.disk_quota:  # the working dir is a private tmpfs: what the row wrote never reached the real one
        assert not os.path.exists(os.path.join(workdir, "mine.txt"))


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


def test_no_native_subprocess_outlives_the_row(mode):
    daemon, token = sleeper("native_daemon")
    try:
        with PythonGraderPool(SOURCE, workers=1, timeout=5) as p:
            found = layers(p)
            require_any(found, "pid_namespace", "seccomp")
            results = p.run([row("ok"), daemon, row("ok")])
            # Only the sandboxed process itself is left in its namespace.
            assert namespace_sizes(p.worker_pids()) == ([1] if found.pid_namespace else [])
        if found.pid_namespace:
            assert results[1].details.startswith("grade() left processes running; they were killed")
        else:
            assert "fork: Operation not permitted" in results[1].details, results[1].details
        assert_rest_ok(results, bad=[1])
        assert processes_with(token) == []
    finally:
        for pid in processes_with(token):  # only if the test failed: nothing escapes the test either
            os.kill(pid, 9)


def test_fork_bomb_fails_fast(pool):
    results = pool.run([row("fork_bomb"), row("ok"), row("ok")])
    assert "creating processes is not allowed in a python grader (os.fork)" in results[0].details
    assert_rest_ok(results, bad=[0])
    assert all(size == 1 for size in namespace_sizes(pool.worker_pids()))


def test_native_fork_bomb_fails_fast(pool):
    found = layers(pool)
    if not (found.pid_namespace and found.max_processes or found.seccomp):
        require_any(found, "seccomp")  # never run a fork bomb that only rlimits of root could stop
    results = pool.run([row("native_fork_bomb"), row("ok"), row("ok")])
    details = results[0].details
    # Stopped by RLIMIT_NPROC (its processes killed after the row) or by seccomp at the first fork,
    # not by the 2 s wall limit.
    assert "did not finish" not in details
    if found.pid_namespace:
        assert "Resource temporarily unavailable" in details
        assert "grade() left processes running; they were killed" in details
    else:
        assert "fork failed after 0 processes: Operation not permitted" in details, details
    assert_rest_ok(results, bad=[0])
    workers = pool.worker_pids()
    if found.pid_namespace:
        sizes = namespace_sizes(workers)  # the bomb's worker is among them: it ran a row
        assert sizes and all(size == 1 for size in sizes)
    pool.close()
    assert not any(os.path.exists(f"/proc/{w}") for w in workers)


# --- disk -----------------------------------------------------------------------------------------

def test_disk_quota(mode):
    with PythonGraderPool(SOURCE, workers=1, timeout=5, disk_limit=8 * MB) as p:
        require_any(layers(p), "disk_quota")
        results = p.run([row("fill_disk"), row("big_file", mb=16), row("big_file", mb=6), row("write_here")])
    for r in results[:2]:
        assert "grade() ran out of disk space (a python grader may write at most 8 MiB" in r.details
        assert "No space left on device" in r.details or "File too large" in r.details
    # Each row starts with an empty working dir: the full disk of the rows before harms none of them.
    assert_rest_ok(results, bad=[0, 1])


def test_oversized_file_fails_in_every_mode(mode):
    with PythonGraderPool(SOURCE, workers=1, timeout=5, disk_limit=4 * MB) as p:
        results = p.run([row("big_file", mb=8), row("big_file", mb=2)])
        if mode == "audit_hook":
            assert p.protections().mode == "audit_hook" and p.protections().disk_quota is None
    assert "ran out of disk space" in results[0].details
    assert "File too large" in results[0].details or "No space left on device" in results[0].details
    assert_rest_ok(results, bad=[0])


# --- memory, time ---------------------------------------------------------------------------------

def test_memory_limit(roomy_pool):
    results = roomy_pool.run([row("hog"), row("ok"), row("raise_memory_limit"), row("ok")])
    assert "grade() ran out of memory (limit 300 MiB)" in results[0].details
    assert "changing resource limits is not allowed in a python grader" in results[2].details
    assert_rest_ok(results, bad=[0, 2])


def test_memory_limit_cannot_be_raised_by_native_code(roomy_pool):
    require_any(layers(roomy_pool), "no_new_privileges")
    results = roomy_pool.run([row("native_raise_memory_limit"), row("hog"), row("ok")])
    assert "Operation not permitted" in results[0].details
    assert "grade() ran out of memory (limit 300 MiB)" in results[1].details
    assert_rest_ok(results, bad=[0, 1])


def test_default_memory_limit_is_2_gib(mode):
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
    with PythonGraderPool(SOURCE, workers=1, timeout=2) as p:
        require_any(layers(p), "pid_namespace")
        [worker] = p.worker_pids()
        ns = os.readlink(f"/proc/{worker}/ns/pid_for_children")
        results = p.run([row("immortal"), row("ok")])
        assert "did not finish within 2 s" in results[0].details
        assert_rest_ok(results, bad=[0])
        assert not any(_in(name, ns) for name in os.listdir("/proc") if name.isdigit())


# --- the parent -----------------------------------------------------------------------------------

def test_parent_cannot_be_killed(pool, canary):
    me = {"pid": os.getpid(), "pgid": os.getpgid(0)}
    results = pool.run([row("kill_ppid"), row("ok"), row("kill_pid", **me), row("killpg", **me), row("ok")])
    for i in (0, 2, 3):
        assert "signalling other processes is not allowed in a python grader" in results[i].details
    assert_rest_ok(results, bad=[0, 2, 3])
    assert canary.poll() is None


def test_parent_cannot_be_killed_by_native_code(pool, canary):
    found = layers(pool)
    require_any(found, "pid_namespace", "seccomp")
    results = pool.run([row("native_kill", pid=os.getpid(), canary=canary.pid), row("ok"), row("ok")])
    # Neither the parent nor another process of the user exists in the worker's pid namespace; the
    # seccomp filter lets the worker signal only itself.
    assert ("No such process" if found.pid_namespace else "Operation not permitted") in results[0].details
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


NON_ROOT_SCRIPT = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from ftstudio.sandbox import protections, run_python_grader
from ftstudio.sandbox import _process
_process.ISOLATION = sys.argv[2]
found = protections()
job = json.load(sys.stdin)
results = run_python_grader(job["source"], job["rows"], workers=1, timeout=5)
print(json.dumps({"mode": found and found.mode, "notes": found and found.notes, "uid": os.getuid(),
                  "landlock": found and found.landlock, "seccomp": found and found.seccomp,
                  "results": [[r.reward, r.error, r.details] for r in results]}))
"""


def run_as_nobody(rows, isolation="auto"):
    """Run rows as an unprivileged user (uid 65534), in a process of its own: a developer's machine."""
    if os.geteuid() != 0:
        pytest.skip("needs root to start a process as another user")
    python = "/usr/bin/python3"
    if not os.path.exists(python):
        pytest.skip(f"{python} (an interpreter other users may run) is not installed")
    job = {"source": SOURCE, "rows": rows}
    done = subprocess.run([python, "-I", "-c", NON_ROOT_SCRIPT, str(PROJECT), isolation], user=65534, group=65534,
                          extra_groups=[], cwd="/", env={"PATH": "/usr/bin:/bin"}, input=json.dumps(job),
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        pytest.skip(f"{python} cannot run the project as uid 65534: {(done.stderr.strip() or '?').splitlines()[-1]}")
    return json.loads(done.stdout)


def test_real_non_root_user_gets_user_namespaces(listening, targets):
    """The same code run by an unprivileged user (uid 65534): the mode a developer's machine gives."""
    port = listening.getsockname()[1]
    out = run_as_nobody([row("native_connect", port=port), row("native_write", path=str(targets[2])), row("ok")])
    if out["mode"] != "user_namespace":
        pytest.skip(f"unprivileged user namespaces are refused here: {out['notes']}")
    assert out["uid"] == 65534
    (_, error0, details0), (_, error1, details1), ok = out["results"]
    assert error0 == RUNTIME and "Network is unreachable" in details0
    # /tmp is writable by every user: only the read-only mount namespace stops this write.
    assert error1 == RUNTIME and "Read-only file system" in details1
    assert ok == [1.0, None, None]
    assert no_connection_arrived(listening) and not targets[2].exists()


def test_real_non_root_user_in_audit_hook_mode(listening, targets, canary):
    """Where a non-root user gets no namespaces (a container, a locked-down distribution), Landlock and
    seccomp need no privilege: native code still cannot write /tmp, connect, or signal the user's
    other processes (canary runs as root here, so only the filter's own refusal is checked for it)."""
    port = listening.getsockname()[1]
    out = run_as_nobody([row("native_connect", port=port), row("native_write", path=str(targets[2])),
                         row("native_kill", pid=1, canary=canary.pid), row("ok")], isolation="audit_hook")
    assert out["mode"] == "audit_hook" and out["uid"] == 65534
    if not (out["landlock"] and out["seccomp"]):
        pytest.skip(f"Landlock or seccomp is not available here: {out['notes']}")
    (_, e0, d0), (_, e1, d1), (_, e2, d2), ok = out["results"]
    assert e0 == RUNTIME and "socket: Operation not permitted" in d0
    assert e1 == RUNTIME and "Permission denied" in d1
    assert e2 == RUNTIME and "Operation not permitted" in d2
    assert ok == [1.0, None, None]
    assert no_connection_arrived(listening) and not targets[2].exists() and canary.poll() is None
