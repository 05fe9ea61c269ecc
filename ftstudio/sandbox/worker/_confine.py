"""Kernel layers of the "audit_hook" mode: what a process can still do to itself without namespaces.

Loaded by `_main.py` (stdlib only) and applied after the rlimits, before the audit hook and user code.
Each layer is used where the kernel offers it; what is missing is said in the report's notes:

- capabilities: the bounding and ambient sets are emptied and capset drops the rest, so a worker of an
  app that runs as root can no longer override file permissions, trace processes or raise hard limits;
  then no_new_privs.
- Landlock (Linux 5.13+; the ABI in force is reported): writes and file creation only beneath the
  working dir (and writes to /dev/null); execve of nothing; TCP bind/connect refused (ABI 4+);
  signals and abstract unix sockets only within the worker (ABI 6+). In every ABI a Landlock domain
  may not ptrace-access processes outside it, so /proc/<pid>/environ and mem of the app and of the
  user's other processes cannot be opened.
- seccomp (x86_64 and aarch64): socket() and socketpair() refused; no new processes (fork, vfork,
  clone without CLONE_THREAD, execve, execveat; clone3 answers ENOSYS, so threads fall back to clone);
  signals only to the worker itself; ptrace, process_vm_*, pidfd_*, io_uring, bpf, userfaultfd,
  perf_event_open, unshare and setns refused; rlimits may be read, and only RLIMIT_CPU of the worker
  itself set (the per-call CPU backstop).
"""

import ctypes
import errno
import os
import resource
import sys

PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 22, 24, 38, 47
SECCOMP_MODE_FILTER = 2
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION, LANDLOCK_RULE_PATH_BENEATH = 1, 1
# Landlock file-system rights, and the ABI that introduced each one.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
FS_CHANGES = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12)
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15      # ABI 2, 3, 5
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2                                # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2                     # ABI 6

# Syscall numbers: (x86_64, aarch64); aarch64 has no fork or vfork (glibc uses clone).
SYSCALLS = {
    "socket": (41, 198), "socketpair": (53, 199), "fork": (57, None), "vfork": (58, None),
    "clone": (56, 220), "clone3": (435, 435), "execve": (59, 221), "execveat": (322, 281),
    "kill": (62, 129), "tkill": (200, 130), "tgkill": (234, 131), "rt_sigqueueinfo": (129, 138),
    "rt_tgsigqueueinfo": (297, 240), "pidfd_send_signal": (424, 424), "pidfd_open": (434, 434),
    "pidfd_getfd": (438, 438), "ptrace": (101, 117), "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271), "io_uring_setup": (425, 425), "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427), "unshare": (272, 97), "setns": (308, 268), "prlimit64": (302, 261),
    "setrlimit": (160, 164), "bpf": (321, 280), "userfaultfd": (323, 282), "perf_event_open": (298, 241),
}
REFUSED = ("socket", "socketpair", "fork", "vfork", "execve", "execveat", "tkill", "pidfd_send_signal",
           "pidfd_open", "pidfd_getfd", "ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup",
           "io_uring_enter", "io_uring_register", "unshare", "setns", "bpf", "userfaultfd", "perf_event_open")
ARCHES = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}   # column in SYSCALLS, AUDIT_ARCH_*
X32_SYSCALL_BIT = 0x40000000
CLONE_THREAD = 0x00010000
# Classic BPF, as seccomp runs it over struct seccomp_data {int nr; u32 arch; u64 ip; u64 args[6]}.
LD_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
ALLOW, ERRNO = 0x7FFF0000, 0x00050000
NR, ARCH = 0, 4


def _arg(i, high=False):
    return 16 + 8 * i + (4 if high else 0)  # little-endian: the low half first


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _Libc:
    def __init__(self):
        self.lib = ctypes.CDLL(None, use_errno=True)
        self.lib.syscall.restype = ctypes.c_long

    def check(self, result, what):
        if result < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")
        return result

    def prctl(self, option, arg, what):
        return self.check(self.lib.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), what)


def confine(report, workdir):
    """Apply every layer the kernel allows; the report says which ones hold."""
    notes = report["notes"]
    if not sys.platform.startswith("linux"):
        return
    libc = _Libc()
    if os.geteuid() == 0:
        try:
            _drop_capabilities(libc)
        except OSError as exc:
            notes.append(f"capabilities could not be dropped: {exc}")
    try:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, "no_new_privs")
        report["no_new_privileges"] = True
    except OSError as exc:
        notes.append(f"{exc}; Landlock and seccomp need it")
        return
    try:
        report["landlock"] = _landlock(libc, workdir)
    except OSError as exc:
        notes.append(f"Landlock is not available, so only the audit hook guards files: {exc}")
    try:
        _seccomp(libc, os.getpid())
        report["seccomp"] = True
    except OSError as exc:
        notes.append(f"no seccomp filter, so only the audit hook guards sockets, processes and signals: {exc}")


def _drop_capabilities(libc):
    for cap in range(64):
        if libc.lib.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) < 0:
            break
    libc.lib.prctl(PR_CAP_AMBIENT, ctypes.c_ulong(4), 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)   # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()                  # effective, permitted, inheritable x 2: none
    libc.check(libc.lib.capset(header, data), "capset")


def _landlock(libc, workdir):
    syscall = libc.lib.syscall
    abi = libc.check(syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                             ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION)), "landlock_create_ruleset")
    handled = FS_EXECUTE | FS_WRITE_FILE | FS_CHANGES
    handled |= (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0) | (FS_IOCTL_DEV if abi >= 5 else 0)
    attr = _RulesetAttr(handled, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc.check(syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                                 ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        # Everything but execution beneath the working dir; writing (not creating) /dev/null.
        for path, allowed in ((workdir, handled & ~FS_EXECUTE), ("/dev/null", handled & (FS_WRITE_FILE | FS_TRUNCATE))):
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneath(allowed, fd)
                libc.check(syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule),
                                   ctypes.c_uint32(0)), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        libc.check(syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def _seccomp(libc, own_pid):
    machine = os.uname().machine.lower()
    if machine in ("amd64", "arm64"):
        machine = {"amd64": "x86_64", "arm64": "aarch64"}[machine]
    if machine not in ARCHES or sys.byteorder != "little":
        raise OSError(errno.ENOSYS, f"the filter is written for x86_64 and aarch64, not {machine}")
    program = _assemble(seccomp_program(machine, own_pid))
    filters = (_SockFilter * len(program))(*program)
    prog = _SockFprog(len(program), filters)
    libc.check(libc.lib.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(prog), 0, 0),
               "seccomp")


def seccomp_program(machine, own_pid):
    """The filter as (opcode, k, jump-if-true label, jump-if-false label) with labels, for _assemble."""
    column, audit_arch = ARCHES[machine]

    def nr(name):
        return SYSCALLS[name][column]
    deny, allow = ("ret", ERRNO | errno.EPERM), ("ret", ALLOW)
    pid = own_pid & 0xFFFFFFFF
    code = [("ld", ARCH), ("jeq", audit_arch, None, "deny"), ("ld", NR)]
    if machine == "x86_64":
        code += [("jge", X32_SYSCALL_BIT, "deny", None)]
    code += [("jeq", nr(name), "deny", None) for name in REFUSED if nr(name) is not None]
    code += [("jeq", nr("clone3"), "nosys", None)]

    def block(name, *body):
        end = f"after_{name}"
        return [("jeq", nr(name), None, end), *body, ("label", end)]
    # clone: threads only. kill: itself (its pid, its group: 0 or -pid). The others: its own thread group.
    code += block("clone", ("ld", _arg(0)), ("jset", CLONE_THREAD, "allow", "deny"))
    code += block("kill", ("ld", _arg(0)), ("jeq", pid, "allow", None), ("jeq", 0, "allow", None),
                  ("jeq", (-own_pid) & 0xFFFFFFFF, "allow", "deny"))
    for name in ("tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        code += block(name, ("ld", _arg(0)), ("jeq", pid, "allow", "deny"))
    # prlimit64(pid, resource, new, old): reading is free; setting only RLIMIT_CPU of itself (pid 0 or its own).
    code += block("prlimit64", ("ld", _arg(2)), ("jeq", 0, None, "set"), ("ld", _arg(2, high=True)),
                  ("jeq", 0, "allow", None), ("label", "set"), ("ld", _arg(1)),
                  ("jeq", resource.RLIMIT_CPU, None, "deny"), ("ld", _arg(0)), ("jeq", 0, "allow", None),
                  ("jeq", pid, "allow", "deny"))
    code += block("setrlimit", ("ld", _arg(0)), ("jeq", resource.RLIMIT_CPU, "allow", "deny"))
    return code + [allow, ("label", "allow"), allow, ("label", "deny"), deny, ("label", "nosys"),
                   ("ret", ERRNO | errno.ENOSYS)]


def _assemble(code):
    """Classic BPF from the list above: labels become forward jump offsets (at most 255 instructions)."""
    where, at = {}, 0
    for ins in code:
        if ins[0] == "label":
            where[ins[1]] = at
        else:
            at += 1
    out, at = [], 0
    for ins in code:
        op = ins[0]
        if op == "label":
            continue
        if op == "ld":
            out.append((LD_ABS, 0, 0, ins[1]))
        elif op == "ret":
            out.append((RET, 0, 0, ins[1]))
        else:
            jumps = []
            for target in ins[2:4]:
                offset = 0 if target is None else where[target] - at - 1
                if not 0 <= offset <= 255:
                    raise ValueError(f"seccomp jump to {target} out of range: {offset}")
                jumps.append(offset)
            out.append(({"jeq": JEQ, "jge": JGE, "jset": JSET}[op], jumps[0], jumps[1], ins[1]))
        at += 1
    return out
