"""The capture of a row's output in the worker: what it wrote to fds 1/2, and whether it changed them.
Loaded by `_main.py`, which sets MAX_OUTPUT_BYTES from the init message (the parent cuts again).
"""

import io
import os
import sys

MAX_OUTPUT_BYTES = 0             # captured stdout/stderr returned per call


class Output:
    """Reads what a call wrote to fds 1/2 (one O_APPEND capture file) and repairs redirections."""

    def __init__(self, path):
        self.rfd = os.open(path, os.O_RDONLY)
        self.saved = os.dup(1)
        self.stdin = os.dup(0)  # /dev/null: put back before rows are graded again (see rewind)
        # Unbuffered: what a row writes is on the capture when the write returns, in the order it happened
        # beside os.write(1, ...), and the row loop need not flush after each row (two calls, a fifth of a fast
        # row's cost) unless user code made a stream buffered again (reconfigure: the loop then flushes).
        self._started = (sys.stdout, sys.stderr)  # kept: nothing of the start-up streams is closed or lost
        for name, stream in (("stdout", sys.stdout), ("stderr", sys.stderr)):
            stream.flush()
            unbuffered = io.TextIOWrapper(io.FileIO(fd_of(name), "w", closefd=False), encoding=stream.encoding,
                                          errors=stream.errors, write_through=True)
            setattr(sys, name, unbuffered)
            setattr(sys, f"__{name}__", unbuffered)
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

    def untouched(self, flush=True):
        """Nothing written since mark() or the last collect() (flushed first), fds 1/2 and sys.stdout/stderr
        unchanged. Reads only (fstat): the leftover check of a fast worker (see _Batches in _main.py)."""
        if sys.stdout is not self.stdout or sys.stderr is not self.stderr:
            return False
        try:
            if flush:
                self.stdout.flush()
                self.stderr.flush()
            one, two = os.fstat(1), os.fstat(2)
        except BaseException:  # closed by user code, or a descriptor that is gone
            return False
        return (one.st_ino == self.ino and one.st_dev == self.dev and two.st_ino == self.ino
                and two.st_dev == self.dev and one.st_size == self.start)

    def rewind(self):
        """Drop what was written since the last collect() and put fds 0-2 back, so that rows graded again
        run on the descriptors they first ran on."""
        self.collect()
        os.dup2(self.stdin, 0)
        os.ftruncate(self.saved, 0)
        self.start = 0

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
