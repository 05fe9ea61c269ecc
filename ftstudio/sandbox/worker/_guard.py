"""The audit hook of a python-grader worker (PEP 578): a Python-level guard installed before user code.

Loaded by `_main.py` after the kernel isolation (`_isolation.py`). It refuses
process creation, sockets and DNS, signals to other processes, reading /proc/<other pid>/...,
writes outside the working directory, rlimit changes, ctypes look-ups of libc symbols that create
processes, sockets or change privileges, and re-imports of _posixsubprocess (whose fork_exec
raises no audit event, so the cached module is disarmed). A hook cannot be removed once added,
but native code (a C extension, ctypes with raw addresses) never passes through it: it is the only
barrier in "audit_hook" mode and defence in depth in the namespace modes.
"""

import os
import resource
import sys
import types

# Process creation and network, as audit events (PEP 578). The hook cannot be removed once added.
_BLOCKED_EVENTS = frozenset({
    "os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
    "subprocess.Popen", "socket.__new__", "socket.connect", "socket.bind",
    "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.sendto",
    "socket.sethostname", "os.setns", "os.unshare", "resource.prlimit",
})
# Events that change the file system: (positions of paths, positions of dir_fd arguments).
_WRITE_EVENTS = {
    "os.mkdir": ((0,), (2,)), "os.rmdir": ((0,), (1,)), "os.remove": ((0,), (1,)),
    "os.rename": ((0, 1), (2, 3)), "os.symlink": ((1,), (2,)), "os.link": ((0, 1), (2, 3)),
    "os.truncate": ((0,), ()), "os.chmod": ((0,), (2,)), "os.chown": ((0,), (3,)),
    "os.utime": ((0,), (3,)), "os.setxattr": ((0,), ()), "os.removexattr": ((0,), ()),
    "os.chflags": ((0,), ()),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# ctypes gives raw libc: refuse to look up the symbols that create processes or sockets.
_BLOCKED_SYMBOLS = frozenset({
    "fork", "vfork", "_Fork", "__fork", "clone", "clone3", "syscall", "system", "popen",
    "posix_spawn", "posix_spawnp", "execve", "execv", "execvp", "execvpe", "execl", "execlp",
    "execle", "fexecve", "daemon", "forkpty", "socket", "socketpair", "connect", "bind",
    "kill", "killpg", "tgkill", "tkill", "sigqueue", "pidfd_open", "pidfd_send_signal", "setsid",
    "unshare", "setns", "ptrace", "process_vm_readv", "prctl", "capset", "setuid", "setresuid",
    "mount", "umount", "umount2", "setrlimit", "prlimit", "prlimit64",
})


def install(protections, timeout, workdir):
    import _posixsubprocess  # fork_exec raises no audit event: disarm the cached module

    def refused(*_args, **_kwargs):
        raise PermissionError("creating processes is not allowed in a python grader")
    _posixsubprocess.fork_exec = refused
    sys.addaudithook(_Guard(protections, timeout, workdir).hook)


class _Guard:
    """One check per audit event, looked up in a dict: the hook runs on every event of user code."""

    def __init__(self, protections, timeout, workdir):
        self.own_pid = str(os.getpid())
        self.timeout, self.workdir, self.inside = timeout, workdir, workdir + "/"
        # As pid 1 of its own pid namespace, kill(-1) reaches only processes of this worker.
        self.kill_all_ok = protections["pid_namespace"]
        checks = {event: self._on_write_event for event in _WRITE_EVENTS}
        checks.update({
            "open": self._on_open, "ctypes.dlsym": self._on_dlsym, "ctypes.dlsym/handle": self._on_dlsym,
            "import": self._on_import, "os.kill": self._on_kill, "os.killpg": self._on_kill,
            "resource.setrlimit": self._on_setrlimit,
        })
        checks.update({event: self._on_blocked for event in _BLOCKED_EVENTS})
        self.checks = types.MappingProxyType(checks)  # read-only to code that finds this object

    def hook(self, event, args):
        check = self.checks.get(event)
        if check is None and event.startswith("ctypes.dlsym"):
            check = self._on_dlsym
        if check is not None:
            check(event, args)

    def check_write(self, path, dir_fd=-1):
        if isinstance(path, int):
            return  # an open descriptor: opening it for writing was checked
        if dir_fd not in (-1, None) and not os.path.isabs(path):
            raise PermissionError("writing relative to a directory descriptor is not allowed in a python grader")
        target = os.path.realpath(path)
        if not (target.startswith(self.inside) or target == self.workdir or target == "/dev/null"):
            raise PermissionError(f"writing outside the working directory ({self.workdir}) is not allowed in a "
                                  f"python grader: {target}")

    def _on_blocked(self, event, _args):
        what = "network access" if event.startswith("socket.") else "creating processes"
        if event == "resource.prlimit":
            what = "changing resource limits"
        raise PermissionError(f"{what} is not allowed in a python grader ({event})")

    def _on_open(self, _event, args):
        path = args[0]
        if not isinstance(path, (str, bytes)):
            return
        path = os.fsdecode(path)
        if "proc" in path:
            parts = os.path.realpath(path).split("/")
            if len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit() and parts[2] != self.own_pid:
                raise PermissionError("reading other processes is not allowed in a python grader")
        if len(args) > 2 and isinstance(args[2], int) and args[2] & _WRITE_FLAGS:
            self.check_write(path)

    def _on_write_event(self, event, args):
        paths, dir_fds = _WRITE_EVENTS[event]
        dir_fd = next((args[i] for i in dir_fds if args[i] not in (-1, None)), -1)
        for i in paths:
            self.check_write(os.fsdecode(args[i]) if isinstance(args[i], bytes) else args[i], dir_fd)

    def _on_dlsym(self, _event, args):
        # "ctypes.dlsym": (library, name); "ctypes.dlsym/handle": (handle, name)
        for name in args:
            if isinstance(name, str) and name in _BLOCKED_SYMBOLS:
                raise PermissionError(f"ctypes access to {name}() is not allowed in a python grader")

    def _on_import(self, _event, args):
        if args[0] == "_posixsubprocess":
            raise PermissionError("creating processes is not allowed in a python grader")

    def _on_kill(self, event, args):
        if not (event == "os.kill" and (args[0] == os.getpid() or args[0] == -1 and self.kill_all_ok)):
            raise PermissionError("signalling other processes is not allowed in a python grader")

    def _on_setrlimit(self, _event, args):
        # Only the CPU backstop may move, and no further than the worker itself moves it.
        which, limits = args
        if which != resource.RLIMIT_CPU or self.kill_all_ok or limits[1] != resource.getrlimit(which)[1]:
            raise PermissionError("changing resource limits is not allowed in a python grader")
        used = resource.getrusage(resource.RUSAGE_SELF)
        if limits[0] < 0 or limits[0] > used.ru_utime + used.ru_stime + self.timeout + 6:
            raise PermissionError("changing resource limits is not allowed in a python grader")
