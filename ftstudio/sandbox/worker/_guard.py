"""The audit hook of a python-grader worker (PEP 578): a Python-level guard installed before user code.

Loaded by `_main.py` after the kernel isolation (`_isolation.py`, `_confine.py`). It refuses process
creation, sockets and DNS, signals to other processes, reading /proc/<other pid>/..., writes outside
the working directory, symbolic links, changing directory, rlimit changes, tracing, sub-interpreters,
ctypes look-ups of libc symbols that do those things, and imports of modules that write files or
start processes in C without raising an audit event.

User code runs in the same interpreter, so it can reach every Python object (gc.get_objects,
frames, __closure__ cells, module globals) and patch every module (os.path.realpath, os.getpid,
builtins). The hook therefore holds no state that Python code can change: it and its helpers are
functions rebuilt from their code with an empty globals dict, whose only data is one positional
default, a tuple of immutable values (str, int, frozenset, tuple, built-in functions and types). There
is nothing to empty, patch or rebind; replacing their code or defaults raises an audit event the hook
refuses, and they catch no exception, so anything that goes wrong inside them refuses the operation.
Native code (a C extension, ctypes with raw addresses) never passes through an audit hook: that is
what the kernel layers are for; tests/test_sandbox_security.py attacks the hook both ways.

C functions that act without an audit event are replaced in their modules (the originals are dropped,
not wrapped), after every built-in module has been imported and `_imp.create_builtin`, which would
make a fresh copy of a built-in module, has been replaced too.
"""

import _stat
import os
import resource
import sys
import types

# Refused outright: (events, what) pairs; the message is "<what> is not allowed in a python grader (<event>)".
_REFUSED = (
    (frozenset({"os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen",
                "os.setns", "os.unshare"}), "creating processes"),
    (frozenset({"socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname",
                "socket.gethostbyaddr", "socket.getnameinfo", "socket.sendto", "socket.sethostname"}),
     "network access"),
    (frozenset({"resource.prlimit"}), "changing resource limits"),
    (frozenset({"sys.settrace", "sys.setprofile", "sys._settraceallthreads", "sys._setprofileallthreads",
                "sys.monitoring.register_callback"}), "tracing or profiling"),
    (frozenset({"cpython.PyInterpreterState_New"}), "creating sub-interpreters"),
    (frozenset({"os.symlink"}), "creating symbolic links"),
    (frozenset({"os.chdir"}), "changing the working directory"),
    (frozenset({"syslog.openlog", "syslog.syslog"}), "writing to the system log"),
    (frozenset({"sqlite3.enable_load_extension", "sqlite3.load_extension", "fcntl.ioctl"}), "native device or "
     "extension access"),
)
# Events that change the file system: (event, positions of paths, positions of dir_fd arguments).
_WRITE_EVENTS = (
    ("os.mkdir", (0,), (2,)), ("os.rmdir", (0,), (1,)), ("os.remove", (0,), (1,)),
    ("os.rename", (0, 1), (2, 3)), ("os.link", (0, 1), (2, 3)), ("os.truncate", (0,), ()),
    ("os.chmod", (0,), (2,)), ("os.chown", (0,), (3,)), ("os.utime", (0,), (3,)),
    ("os.setxattr", (0,), ()), ("os.removexattr", (0,), ()), ("os.chflags", (0,), ()),
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# ctypes gives raw libc: refuse to look up the symbols that create processes, sockets or files, signal,
# or change privileges (a raw address still gets past this; see the module docstring).
_BLOCKED_SYMBOLS = frozenset({
    "fork", "vfork", "_Fork", "__fork", "clone", "clone3", "syscall", "system", "popen",
    "posix_spawn", "posix_spawnp", "execve", "execv", "execvp", "execvpe", "execl", "execlp",
    "execle", "fexecve", "daemon", "forkpty", "socket", "socketpair", "connect", "bind",
    "kill", "killpg", "tgkill", "tkill", "sigqueue", "pidfd_open", "pidfd_send_signal", "setsid",
    "unshare", "setns", "ptrace", "process_vm_readv", "prctl", "capset", "setuid", "setresuid",
    "mount", "umount", "umount2", "setrlimit", "prlimit", "prlimit64",
    "open", "open64", "openat", "openat64", "creat", "creat64", "fopen", "fopen64", "freopen", "freopen64",
    "unlink", "unlinkat", "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
    "mkdir", "mkdirat", "rmdir", "truncate", "truncate64", "chmod", "fchmodat", "chown", "lchown", "fchownat",
    "mknod", "mknodat", "mkfifo", "mkfifoat", "chdir", "dlsym", "dlvsym", "dlopen", "__libc_dlsym",
})
# Modules refused at import (by the last part of their name), and why. _posixsubprocess: a fresh copy
# would bring back fork_exec; the others write files, start processes or reach into the interpreter in
# C without an audit event.
_PROCESS_MODULES = frozenset({"_posixsubprocess"})
_HIDDEN_MODULES = frozenset({
    "readline", "_dbm", "_gdbm", "_tkinter", "_testcapi", "_testinternalcapi", "_xxsubinterpreters",
    "_xxinterpchannels", "_interpreters", "_interpchannels", "_interpqueues",
})
# Function attributes whose change would change what the hook does (each raises an audit event).
_FUNCTION_STATE = frozenset({"__code__", "__defaults__", "__kwdefaults__"})


def install(protections, timeout, workdir):
    _disarm()
    own_pid = os.getpid()
    handlers = (
        (frozenset({"open"}), _on_open), (frozenset(e for e, _, _ in _WRITE_EVENTS), _on_write),
        (frozenset({"import"}), _on_import), (frozenset({"os.kill", "os.killpg"}), _on_kill),
        (frozenset({"resource.setrlimit"}), _on_setrlimit), (frozenset({"sqlite3.connect"}), _on_sqlite),
        (frozenset({"object.__setattr__", "object.__delattr__"}), _on_attribute),
        (frozenset({"ctypes.dlsym", "ctypes.dlsym/handle"}), _on_dlsym),
    )
    watched = frozenset().union(*(events for events, _ in _REFUSED + handlers))
    # The hook's one default, C: (watched events, refusals, handlers, S, B, H), all immutable.
    tables = (_WRITE_EVENTS, _WRITE_FLAGS, _BLOCKED_SYMBOLS, _PROCESS_MODULES, _HIDDEN_MODULES, _FUNCTION_STATE,
              frozenset({_hook.__code__.co_filename}), own_pid, str(own_pid), bool(protections["pid_namespace"]),
              workdir, workdir + "/", float(timeout))
    builtins = (PermissionError, ModuleNotFoundError, type, str, bytes, int, tuple, issubclass, len,
                types.FunctionType, os.fspath, os.lstat, os.readlink, os.getcwd, os.access, os.F_OK,
                _stat.S_ISLNK, resource.getrlimit, resource.getrusage, resource.RLIMIT_CPU, resource.RUSAGE_SELF,
                sys.getfilesystemencoding())
    helpers = tuple(_frozen(f) for f in (_text_of, _resolve, _check_write))
    state = (watched, _REFUSED, tuple((events, _frozen(f)) for events, f in handlers), tables, builtins, helpers)
    sys.addaudithook(_frozen(_hook, state))


def _frozen(template, state=None):
    """The template's code as a new function: empty globals, no closure, `state` as its last default."""
    defaults = (state,) if state is not None else None
    return types.FunctionType(template.__code__, {"__builtins__": {}}, template.__name__, defaults)


def _disarm():
    """Replace the C functions that act without an audit event; make sure no fresh copy can be made."""
    import _imp
    import _posixsubprocess
    import _signal
    import posix
    signal = sys.modules.get("signal")  # not imported for this: a later import copies _signal's patched names
    import warnings
    with warnings.catch_warnings():  # a few built-in modules warn that they are deprecated
        warnings.simplefilter("ignore")
        for name in sys.builtin_module_names:
            if name not in sys.modules and name not in _HIDDEN_MODULES:
                try:
                    __import__(name)
                except ImportError:
                    pass

    def no_processes(*_args, **_kwargs):
        raise PermissionError("creating processes is not allowed in a python grader")

    def no_special_files(*_args, **_kwargs):
        raise PermissionError("creating special files (FIFOs, device nodes) is not allowed in a python grader")

    def no_pidfd(*_args, **_kwargs):
        raise PermissionError("signalling other processes is not allowed in a python grader")

    def no_fresh_module(spec, *_args, **_kwargs):
        raise ImportError(f"a fresh copy of the built-in module {getattr(spec, 'name', spec)!r} cannot be made "
                          "in a python grader")
    _posixsubprocess.fork_exec = no_processes
    for module in (posix, os):
        module.mkfifo = module.mknod = no_special_files
        if hasattr(module, "pidfd_open"):
            module.pidfd_open = no_pidfd
    for module in (_signal, signal) if signal is not None else (_signal,):
        if hasattr(module, "pidfd_send_signal"):
            module.pidfd_send_signal = no_pidfd
    _imp.create_builtin = _imp.exec_builtin = no_fresh_module


# --- templates: rebuilt by _frozen, so they may use only their parameters (no globals, no closures) ----


def _hook(event, args, C):
    if event not in C[0]:
        return
    for events, what in C[1]:
        if event in events:
            raise C[4][0](f"{what} is not allowed in a python grader ({event})")
    for events, handler in C[2]:
        if event in events:
            return handler(event, args, C)


def _on_open(event, args, C):
    (_, _, _, _, _, _, _, _, own_pid_text, _, _, _, _), B, (text_of, resolve, check_write) = C[3:]
    text = text_of(args[0], C)
    if text is None:
        return  # an open descriptor: opening it was checked
    if args[1] is None and not text.startswith("/"):
        # os.open's event does not carry its dir_fd, so a relative path could be relative to anything.
        raise B[0]("os.open() with a relative path is not allowed in a python grader; pass an absolute path "
                   "or use open()")
    parts = resolve(text, C).split("/")
    if B[8](parts) > 2 and parts[1] == "proc" and parts[2].isdigit() and parts[2] != own_pid_text:
        raise B[0]("reading other processes is not allowed in a python grader")
    flags = args[2]
    if B[2](flags) is not B[5] or flags & C[3][1]:
        check_write(text, -1, C)


def _on_write(event, args, C):
    for name, paths, dir_fds in C[3][0]:
        if event == name:
            dir_fd = -1
            for i in dir_fds:
                if args[i] is not None and args[i] != -1:
                    dir_fd = args[i]
            for i in paths:
                C[5][2](args[i], dir_fd, C)


def _on_import(event, args, C):
    (_, _, _, process_modules, hidden_modules, _, _, _, _, _, _, _, _), B = C[3], C[4]
    name = C[5][0](args[0], C)
    last = name.rpartition(".")[2] if name is not None else ""
    if last in process_modules:
        raise B[0]("creating processes is not allowed in a python grader")
    if last in hidden_modules:
        raise B[1](f"the module {name} is not available in a python grader (it can write files, start processes "
                   "or change the interpreter without the sandbox seeing it)", name=name)


def _on_kill(event, args, C):
    (_, _, _, _, _, _, _, own_pid, _, kill_all_ok, _, _, _), B = C[3], C[4]
    pid = args[0]
    if event != "os.kill" or not (B[2](pid) is B[5] and (pid == own_pid or pid == -1 and kill_all_ok)):
        raise B[0]("signalling other processes is not allowed in a python grader")


def _on_setrlimit(event, args, C):
    # Only the CPU backstop may move, and no further than the worker itself moves it.
    (_, _, _, _, _, _, _, _, _, kill_all_ok, _, _, timeout), B = C[3], C[4]
    type_, int_, getrlimit, getrusage, rlimit_cpu = B[2], B[5], B[17], B[18], B[19]
    which, limits = args
    if (type_(which) is not int_ or which != rlimit_cpu or kill_all_ok or type_(limits) is not B[6]
            or B[8](limits) != 2 or type_(limits[0]) is not int_ or limits[1] != getrlimit(which)[1]):
        raise B[0]("changing resource limits is not allowed in a python grader")
    used = getrusage(B[20])
    if limits[0] < 0 or limits[0] > used.ru_utime + used.ru_stime + timeout + 6:
        raise B[0]("changing resource limits is not allowed in a python grader")


def _on_attribute(event, args, C):
    (_, _, _, _, _, function_state, protected_files, _, _, _, _, _, _), B = C[3], C[4]
    target, attribute = args[0], args[1]
    if (B[2](target) is B[9] and B[2](attribute) is B[3] and attribute in function_state
            and target.__code__.co_filename in protected_files):
        raise B[0]("changing the sandbox's audit hook is not allowed in a python grader")


def _on_sqlite(event, args, C):
    database = C[5][0](args[0], C)
    if database is not None and database != "" and database != ":memory:":
        if database.startswith("file:"):
            raise C[4][0]("sqlite URIs are not allowed in a python grader; pass a file name")
        C[5][2](database, -1, C)


def _on_dlsym(event, args, C):
    # "ctypes.dlsym": (library, name); "ctypes.dlsym/handle": (handle, name)
    for name in args:
        if C[4][2](name) is C[4][3] and name in C[3][2]:
            raise C[4][0](f"ctypes access to {name}() is not allowed in a python grader")


def _text_of(path, C):
    """A path argument as an exact str (a subclass could answer startswith or == its own way), or None
    for a descriptor. A path object (os.PathLike) is asked once more through __fspath__."""
    B = C[4]
    type_, str_, bytes_, int_, issubclass_, fspath, encoding = B[2], B[3], B[4], B[5], B[7], B[10], B[21]
    kind = type_(path)
    if kind is str_:
        return path
    if kind is not bytes_ and issubclass_(kind, int_):
        return None
    if kind is not bytes_ and not issubclass_(kind, str_) and not issubclass_(kind, bytes_):
        path = fspath(path)
        kind = type_(path)
    if issubclass_(kind, str_):
        return str_.__str__(path)  # on a subclass: a plain copy of the characters
    return bytes_.decode(path, encoding, "surrogateescape")


def _resolve(path, C):
    """The absolute path with every symbolic link resolved (what os.path.realpath gives, from C functions
    only); a part that does not exist is kept as written. OSError on a symlink loop."""
    B = C[4]
    lstat, readlink, getcwd, access, exists, is_link = B[11], B[12], B[13], B[14], B[15], B[16]
    rest = path if path.startswith("/") else getcwd() + "/" + path
    done, hops = "", 0
    while rest:
        name, _, rest = rest.partition("/")
        if name == "" or name == ".":
            continue
        if name == "..":
            done = done.rpartition("/")[0]
            continue
        here = done + "/" + name
        if access(here, exists, follow_symlinks=False) and is_link(lstat(here).st_mode):
            hops += 1
            if hops > 40:
                raise B[0](f"too many levels of symbolic links: {path}")
            target = readlink(here)
            if target.startswith("/"):
                done = ""
            rest = target + "/" + rest
        else:
            done = here
    return done or "/"


def _check_write(path, dir_fd, C):
    B, (text_of, resolve, _) = C[4], C[5]
    text = text_of(path, C)
    if text is None:
        return  # an open descriptor: opening it for writing was checked
    if dir_fd != -1 and not text.startswith("/"):
        raise B[0]("writing relative to a directory descriptor is not allowed in a python grader")
    target = resolve(text, C)
    workdir, inside = C[3][10], C[3][11]
    if not (target.startswith(inside) or target == workdir or target == "/dev/null"):
        raise B[0](f"writing outside the working directory ({workdir}) is not allowed in a python grader: {target}")
