"""Kernel-level isolation of a python-grader worker (Linux), set up before any user code runs.

Loaded by `_main.py` from its own folder (the worker runs with -I, stdlib only). The
strongest mode this machine allows is used; `isolate()` reports what is active:

- "root" (the app runs as root): new mount, network and pid namespaces; the whole file system
  read-only; a size-limited tmpfs on the working dir; user code runs as a uid of its own
  (UID_BASE + the worker's pid, so RLIMIT_NPROC counts this worker only) with no capabilities,
  no_new_privs and no supplementary groups. Folders of the interpreter that only root may enter
  (e.g. a pyenv under /root) are made reachable by a tmpfs over the blocking folder with the
  needed subtrees bound back read-only, which also hides the rest of that folder.
- "user_namespace" (not root, unprivileged user namespaces allowed): the same namespaces, owned
  by a new user namespace; user code keeps the user's uid but has no capabilities.
- "audit_hook" (namespaces refused): only the worker's audit hook and rlimits.

With a pid namespace the worker forks once: the original process (the "outer", outside the
namespace) only waits, mirrors the sandboxed child's exit status for the parent, and kills the
child if the parent goes away; the child is pid 1 of the namespace, so when it dies every
process user code managed to create dies with it, and the parent's pid is not visible from it.
"""

import _signal as signal  # not the signal module: its enums cost a cold start several ms
import ctypes
import os
import resource
import select
import sys

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x10000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
# Syscalls added after Linux 4.20 have one number on every architecture.
SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC, AT_RECURSIVE, AT_FDCWD = 1, 0o2000000, 0x8000, -100
MOVE_MOUNT_F_EMPTY_PATH, MOUNT_ATTR_RDONLY = 4, 1
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 4, 24, 38, 47
UID_BASE = 1_900_000_000   # above every range distributions and systemd hand out; no account has it
MAX_TASKS = 32             # processes + threads of one worker when it has a uid of its own
MAX_FILES = 10_000         # inodes of the working-dir tmpfs

_libc = None  # libc, only while isolate() runs: no resolved native function outlives it


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _check(result, what):
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def _mount(source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else os.fsencode(s)
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def _prctl(option, arg):
    return _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option:d}")


def isolate(config, workdir, channel_fds):
    """Enter the strongest mode allowed; returns the report (a dict sent to the parent).

    In the namespace modes this forks: only the sandboxed child returns, the outer process stays
    in `_supervise` until the child ends and then exits the same way.
    """
    global _libc
    if not sys.platform.startswith("linux"):
        return dict(_empty_report(), notes=["kernel isolation is implemented for Linux only"])
    _libc = ctypes.CDLL(None, use_errno=True)
    _libc.syscall.restype = ctypes.c_long
    try:
        return _isolate(config, workdir, channel_fds)
    finally:
        _libc = None


def _empty_report():
    return {"mode": "audit_hook", "network_namespace": False, "pid_namespace": False,
            "read_only_filesystem": False, "disk_quota": None, "separate_uid": False,
            "uid": os.getuid(), "no_new_privileges": False, "max_processes": None, "landlock": None,
            "seccomp": False, "notes": []}


def _isolate(config, workdir, channel_fds):
    report = _empty_report()
    requested = config.get("isolation", "auto")
    notes = report["notes"]
    # Counted on the host's /proc, before a pid namespace hides the user's other processes.
    tasks = _user_task_count() if os.geteuid() != 0 else 0
    plan = []
    if requested in ("auto", "root") and os.geteuid() == 0:
        plan.append("root")
    if requested in ("auto", "user_namespace"):
        plan.append("user_namespace")
    uid = None
    for mode in plan:
        try:
            uid = _enter_namespaces(mode, report)
        except OSError as exc:
            notes.append("{} mode is not available: {}".format(mode.replace("_", " "), exc))
            continue
        report["mode"] = mode
        break
    if report["mode"] == "audit_hook":
        _set_nproc(report, None, tasks)
        return report
    try:
        _prepare_files(report, workdir, config["disk_limit"], uid)
    except OSError as exc:
        notes.append(f"the file system could not be restricted: {exc}")
    child = os.fork()
    if child:
        _supervise(child, channel_fds)
    _inside(report, workdir, uid, tasks)
    return report


def _enter_namespaces(mode, report):
    if mode == "root":
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID), "unshare")
        uid = UID_BASE + os.getpid()
    else:
        uid, gid = os.getuid(), os.getgid()
        _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID), "unshare")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid:d} {uid:d} 1"),
                           ("gid_map", f"{gid:d} {gid:d} 1")):
            with open("/proc/self/" + name, "w") as f:
                f.write(text)
    report["network_namespace"] = report["pid_namespace"] = True
    return uid


def _prepare_files(report, workdir, disk_limit, uid):
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    if report["mode"] == "root":
        try:
            _expose_interpreter(uid, workdir)
            report["separate_uid"] = True
        except OSError as exc:
            report["notes"].append("user code keeps uid 0 (without capabilities): the interpreter "
                                   f"could not be made reachable for another uid: {exc}")
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    try:
        _check(_libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, b"/", AT_RECURSIVE, ctypes.byref(attr),
                             ctypes.sizeof(attr)), "mount_setattr")
        report["read_only_filesystem"] = True
    except OSError as exc:
        report["notes"].append(f"the file system stays writable where permissions allow: {exc}")
    owner = f",uid={uid:d},gid={uid:d}" if report["separate_uid"] else ""
    size = max(4096, int(disk_limit))
    _mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
           f"size={size:d},nr_inodes={MAX_FILES:d},mode=0700{owner}")
    report["disk_quota"] = size


def _can_enter(st, uid):
    return bool(st.st_mode & (0o100 if st.st_uid == uid else 0o001))


def _expose_interpreter(uid, workdir):
    """Make the folders Python imports from reachable for `uid`, inside this mount namespace only.

    The highest folder on the way that `uid` may not enter is covered by a small tmpfs (mode 0711:
    enter, not list) into which the needed subtrees are bound back; nested cases take more rounds.
    Nothing is created on the real file system: folders are only made inside the fresh tmpfs.
    """
    needed = {os.path.realpath(p) for p in (*sys.path, sys.prefix, sys.base_prefix, sys.exec_prefix,
                                            os.path.dirname(sys.executable)) if p and os.path.isdir(p)}
    for _ in range(4):
        covers = {}  # highest blocking folder -> (subtrees to bind back, empty folders to make)
        for path in sorted(needed | {workdir}):
            parts = path.strip("/").split("/")
            chain = ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]
            blocked = [p for p in chain[:-1] if not _can_enter(os.stat(p), uid)]
            if blocked:
                binds, empty = covers.setdefault(blocked[0], (set(), set()))
                if path == workdir:
                    empty.add(path)  # the working-dir tmpfs is mounted there later
                else:
                    binds.add(chain[chain.index(blocked[-1]) + 1])
        if not covers:
            break
        for top, (binds, empty) in covers.items():
            # A subtree inside another one is bound in a later round, into a tmpfs of its own.
            binds = [b for b in sorted(binds) if not any(b.startswith(o + "/") for o in binds)]
            trees = [(b, _check(_libc.syscall(SYS_OPEN_TREE, AT_FDCWD, os.fsencode(b),
                                              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE),
                                f"open_tree {b}")) for b in binds]
            _mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "size=65536,mode=0711")
            old = os.umask(0o066)
            try:
                for sub, fd in trees:
                    os.makedirs(sub, exist_ok=True)
                    _check(_libc.syscall(SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, os.fsencode(sub),
                                         MOVE_MOUNT_F_EMPTY_PATH), f"move_mount {sub}")
                    os.close(fd)
                for path in empty:
                    if not any(path.startswith(b + "/") for b in binds):
                        os.makedirs(path, exist_ok=True)
            finally:
                os.umask(old)
    for path in needed:
        st = os.stat(path)
        if not (st.st_mode & 0o005 == 0o005 or st.st_uid == uid):
            raise OSError(13, f"{path} may not be read by other users")


def _supervise(child, channel_fds):
    """The outer process: wait for the child, kill it if the parent goes away, exit like it."""
    request_fd = channel_fds[0]
    watch = os.dup(request_fd)  # POLLHUP once the parent's end is closed (it exited or gave up on us)
    for fd in channel_fds:
        os.close(fd)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    poller = select.poll()
    try:
        pidfd = os.pidfd_open(child)  # Linux 5.3+; without it the parent's kill alone stops the child
    except OSError:
        pidfd = None
    poller.register(watch, 0)
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    while pidfd is not None:
        events = dict(poller.poll())
        if pidfd in events:
            break
        if watch in events:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
            poller.unregister(watch)
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _inside(report, workdir, uid, tasks):
    """The sandboxed child: pid 1 of the new pid namespace. Drops every privilege for good."""
    os.setsid()  # its own group: a kill(0) of user code reaches nothing outside
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError as exc:
        report["notes"].append(f"/proc still shows the host's processes: {exc}")
    os.chdir(workdir)
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) < 0:
            break
    _libc.prctl(PR_CAP_AMBIENT, ctypes.c_ulong(4), 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
    if report["separate_uid"]:
        try:
            # The capture file (fds 1 and 2, opened by the parent): so that reopening
            # /dev/stdout or /dev/stderr works for the new uid. Its folder stays the parent's.
            os.fchown(1, uid, uid)
        except OSError:
            pass
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from uid 0 to another: every capability is cleared
        # The uid change made the process non-dumpable, which gives its /proc/self files to root;
        # nothing else runs as this uid, so dumpable again only lets user code read its own.
        _prctl(PR_SET_DUMPABLE, 1)
    else:
        _drop_capabilities()
    report["uid"] = os.getuid()
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    report["no_new_privileges"] = True
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # set after the uid change, which clears it
    _set_nproc(report, uid if report["separate_uid"] else None, tasks)


def _drop_capabilities():
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)   # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()                  # effective, permitted, inheritable x 2: none
    _check(_libc.capset(header, data), "capset")


def _set_nproc(report, own_uid, tasks):
    if own_uid is not None:
        limit = MAX_TASKS
    elif os.geteuid() != 0:
        # RLIMIT_NPROC counts every task (thread) of the uid, not of this process: allow the
        # current count plus headroom, which caps a fork bomb.
        limit = tasks + 256
    else:
        return  # not enforced for root
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
        report["max_processes"] = limit
    except (ValueError, OSError):
        pass


def _user_task_count():
    uid, count = os.getuid(), 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat("/proc/" + name).st_uid == uid:
                    count += len(os.listdir(f"/proc/{name}/task"))
            except OSError:
                pass
    return count


# --- between rows ------------------------------------------------------------------------------

class RowCleaner:
    """Undoes what one row left behind, so the next row starts clean: processes it created (only
    countable with a pid namespace, where this process is pid 1) and files it added to the working
    dir (those written by the module-level code stay)."""

    def __init__(self, report, workdir):
        self.reap = report["pid_namespace"]
        self.workdir = workdir
        self.tmpfs = bool(report["disk_quota"])
        self.baseline, self.fd, self.mark = frozenset(), None, None

    def start(self):
        """Call once the module-level code has run: what is in the working dir now stays."""
        self.baseline = frozenset(os.listdir(self.workdir))
        if self.tmpfs:
            # On tmpfs a folder's size grows and shrinks with its entries, so one fstat per row
            # tells whether anything was added (a listdir costs several times more).
            self.fd = os.open(self.workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            self.mark = self._state()

    def _state(self):
        st = os.fstat(self.fd)
        return st.st_size, st.st_mtime_ns

    def changed(self):
        """Whether after_row() would find anything to undo (a child process, an entry added to the working
        dir), looked at without changing anything: rows that leave nothing behind need no cleaning each."""
        if self.reap:
            try:
                os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)  # WNOWAIT: reaps nothing
                return True
            except ChildProcessError:
                pass  # no child at all: as pid 1, nothing else lives in the namespace
        if self.fd is None:
            return not frozenset(os.listdir(self.workdir)) <= self.baseline  # after_row removes additions only
        return self._state() != self.mark

    def after_row(self):
        """Returns a note for the row's result if it left processes running, else None."""
        note = None
        if self.reap and self._stray_processes():
            note = ("grade() left processes running; they were killed (a python grader may not "
                    "create processes)")
        if self.fd is None or self._state() != self.mark:
            for name in os.listdir(self.workdir):
                if name not in self.baseline:
                    _remove(os.path.join(self.workdir, name))
            if self.fd is not None:
                self.mark = self._state()
        return note

    @staticmethod
    def _stray_processes():
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False  # no child at all: as pid 1, nothing else lives in the namespace
        try:
            os.kill(-1, signal.SIGKILL)  # as pid 1 of the namespace: every other process in it
        except ProcessLookupError:
            pass
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                return True


def _remove(path):
    """Delete a file or a whole folder by absolute paths (shutil.rmtree works relative to folder
    descriptors, which the audit hook refuses), making folders enterable and writable first."""
    def quietly(action, *args):
        try:
            action(*args)
        except OSError:
            pass
    if not os.path.isdir(path) or os.path.islink(path):
        quietly(os.unlink, path)
        return
    quietly(os.chmod, path, 0o700)
    for root, dirs, _files in os.walk(path):  # top down: a folder is opened up before it is listed
        for d in dirs:
            if not os.path.islink(os.path.join(root, d)):
                quietly(os.chmod, os.path.join(root, d), 0o700)
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            quietly(os.unlink, os.path.join(root, name))
        for d in dirs:
            target = os.path.join(root, d)
            quietly(os.unlink if os.path.islink(target) else os.rmdir, target)
    quietly(os.rmdir, path)
