"""The python grader runner: real worker processes, provoked failures, no mocks."""

from __future__ import annotations

import os
import threading

import pytest

from ftstudio.sandbox import (
    MAX_SOURCE_BYTES,
    PythonCallResult,
    PythonGraderPool,
    SourceProblem,
    run_python_grader,
    static_check,
)

RUNTIME = "python_grader_runtime_error"
MB = 1024 ** 2

# One source, many behaviours: each row picks one through item["k"].
SOURCE = '''
import os, sys

def grade(sample, item):
    k = item.get("k")
    if k == "value":
        return item["v"]
    if k == "raise":
        return helper(item)
    if k == "loop":
        while True:
            pass
    if k == "hog":
        hoard = []
        while True:
            hoard.append(bytearray(10 * 1024 * 1024))
    if k == "os_exit":
        os._exit(3)
    if k == "sys_exit":
        sys.exit(2)
    if k == "print_flood":
        for n in range(100_000):
            print("line", n)
        sys.stderr.write("to stderr\\n")
        return 0.25
    if k == "fd_flood":
        for _ in range(200):
            os.write(1, b"x" * 10_000)
        os.write(2, b"fd2\\n")
        return 0.5
    if k == "close_stdio":
        sys.stdin.close()
        os.close(0)
        sys.stdout.close()
        os.close(1)
        return 0.75
    if k == "print":
        print("hello from", sample["output_text"])
        return 1.0
    if k == "fork_bomb":
        while True:
            os.fork()
    if k == "ctypes_fork":
        import ctypes
        ctypes.CDLL(None).fork()
    if k == "subprocess":
        import subprocess
        subprocess.run(["true"])
    if k == "connect":
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(("127.0.0.1", 9))
    if k == "parent_environ":
        open("/proc/%d/environ" % os.getppid(), "rb").read()
    if k == "env":
        print(sorted(os.environ), os.getcwd(), os.environ.get("HOME"))
        return 0.0 if "OPENAI_API_KEY" in os.environ else 1.0
    if k == "segfault":
        import ctypes
        ctypes.string_at(0)
    if k == "light":
        heavy = [m for m in ("numpy", "pydantic", "ftstudio", "streamlit") if m in sys.modules]
        print(heavy)
        return 0.0 if heavy else 1.0
    return 1.0

def helper(item):
    raise ValueError("bad item %r" % item["id"])
'''


def row(k=None, **extra):
    sample = {"choices": [], "output_text": "answer", "output_json": None, "output_tools": [], "output_audio": None}
    return sample, {"k": k, "id": 7, **extra}


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def group_members(pgid: int) -> list[int]:
    """Living processes of a process group, in our pid namespace (a worker's sandboxed child lives
    in its own one, and is only briefly in the worker's group: between its fork and its setsid)."""
    ours, members = os.readlink("/proc/self/ns/pid"), []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(") ", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z" and _pid_namespace(name) == ours:
                members.append(int(name))
    return members


def _pid_namespace(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


@pytest.fixture
def pool():
    with PythonGraderPool(SOURCE, workers=2, timeout=1.5, memory_limit=300 * MB) as p:
        yield p


# --- results of grade() ------------------------------------------------------------------

def test_success_and_order_across_workers():
    calls = [row("value", v=i / 1000) for i in range(600)]
    results = run_python_grader(SOURCE, calls, workers=3)
    assert [r.reward for r in results] == [i / 1000 for i in range(600)]
    assert all(r.error is None and r.details is None for r in results)


def test_unicode_and_odd_strings_arrive_intact(pool):
    text = "caf\u00e9 \U0001F600 \udcff \x00"
    [r] = pool.run([({"output_text": text}, {"k": "value", "v": 0.5})])
    assert r.reward == 0.5
    source = "def grade(sample, item):\n    return 1.0 if sample['output_text'] == item['t'] else 0.0\n"
    assert run_python_grader(source, [({"output_text": text}, {"t": text})])[0].reward == 1.0


def test_exception_gives_user_traceback(pool):
    [r] = pool.run([row("raise")])
    assert (r.reward, r.error) == (0.0, RUNTIME)
    assert "ValueError: bad item 7" in r.details
    assert 'File "grader.py", line 9, in grade' in r.details and "in helper" in r.details
    assert "_sandbox_worker" not in r.details


@pytest.mark.parametrize("value,why", [
    ("abc", "float() raised ValueError"), (None, "NoneType"), (float("nan"), "not a finite number"),
    (float("inf"), "not a finite number"), ([0.5], "type list"),
])
def test_bad_return_values(pool, value, why):
    [r] = pool.run([row("value", v=value)])
    assert (r.reward, r.error) == (0.0, RUNTIME)
    assert r.details.startswith("grade() returned ") and why in r.details


def test_returns_accepted_like_float(pool):
    values = [True, "0.5", 3, -1.5, 2.5]
    results = pool.run([row("value", v=v) for v in values])
    assert [(r.reward, r.error) for r in results] == [(1.0, None), (0.5, None), (3.0, None), (-1.5, None), (2.5, None)]


def test_long_repr_is_truncated(pool):
    [r] = pool.run([row("value", v="x" * 5000)])
    assert r.error == RUNTIME and "chars)" in r.details and len(r.details) < 1000


# --- a bad row harms only itself ----------------------------------------------------------

@pytest.mark.slow
def test_infinite_loop_times_out_and_later_rows_continue():
    with PythonGraderPool(SOURCE, workers=1, timeout=1.5) as p:
        first = p.worker_pids()
        results = p.run([row("value", v=0.1), row("loop"), row("value", v=0.2), row("value", v=0.3)])
        assert results[1].error == RUNTIME and "did not finish within 1.5 s" in results[1].details
        assert results[1].timed_out and not any(r.timed_out for r in results[::2])  # a state, not the words
        assert [r.reward for r in results] == [0.1, 0.0, 0.2, 0.3]
        assert results[0].error is results[2].error is results[3].error is None
        assert first == [] and len(p.worker_pids()) == 1


def test_memory_hog():
    # Filling 300 MB can take seconds on a busy machine: the wall limit is not what this tests.
    with PythonGraderPool(SOURCE, workers=2, timeout=60, memory_limit=300 * MB) as pool:
        results = pool.run([row("hog"), row("value", v=0.5)])
    assert results[0].error == RUNTIME and "ran out of memory (limit 300 MiB)" in results[0].details
    assert (results[1].reward, results[1].error) == (0.5, None)


@pytest.mark.parametrize("kind,expected", [
    ("os_exit", "the worker process died (exit code 3) while grading this row"),
    ("sys_exit", "grade() called sys.exit(2)"),
    ("segfault", "the worker process died (killed by SIGSEGV) while grading this row"),
])
def test_exits_and_crashes(pool, kind, expected):
    results = pool.run([row("value", v=0.1), row(kind), row("value", v=0.2)] * 2)
    for bad in (results[1], results[4]):
        assert (bad.reward, bad.error) == (0.0, RUNTIME) and expected in bad.details
    assert [r.reward for r in results] == [0.1, 0.0, 0.2] * 2


def test_segfault_output_is_kept(pool):
    [r] = pool.run([row("segfault")])
    assert "Segmentation fault" in r.stdout and "string_at" in r.stdout


@pytest.mark.slow
def test_output_is_captured_and_never_corrupts_the_protocol():
    # A generous call limit: 100,000 prints take about a second on a quiet machine, several on a busy one.
    with PythonGraderPool(SOURCE, workers=2, timeout=60) as pool:
        results = pool.run([row("print_flood"), row("fd_flood"), row("close_stdio"), row("print"),
                            row("value", v=0.9)])
    assert [(r.reward, r.error) for r in results] == [(0.25, None), (0.5, None), (0.75, None), (1.0, None), (0.9, None)]
    flood = results[0].stdout
    assert flood.startswith("line 0\nline 1\n") and "more bytes of output not shown" in flood
    assert results[1].stdout.startswith("xxxx") and "more bytes" in results[1].stdout
    # Even after a row closed fds 0 and 1 in the same worker, later rows print normally.
    printed = [r.stdout for r in results[3:] if r.stdout]
    assert printed == ["hello from answer\n"]
    assert results[4].stdout is None


# A grader that raises the worker's own output limits from inside, then floods.
UNLIMITED = """
import gc, sys

def unlimit():
    # The config, and the globals of the worker's modules (loaded without sys.modules) that hold its limits.
    for o in gc.get_objects():
        if isinstance(o, dict) and "output_limit" in o:
            o.update(output_limit=10 ** 10, details_limit=10 ** 10)
        for name in ("MAX_OUTPUT_BYTES", "MAX_DETAILS_CHARS", "MAX_REPR_CHARS"):
            if isinstance(o, dict) and name in o:
                o[name] = 10 ** 10

def grade(sample, item):
    unlimit()
    if item["k"] == "print":
        sys.stdout.write("x" * item["n"])
    elif item["k"] == "raise":
        raise ValueError("y" * item["n"])
    return 1.0
"""


@pytest.mark.parametrize("kind", ["print", "raise"])
def test_output_caps_hold_in_the_parent(kind):
    """The worker's limits are the grader's to change; the parent never holds more than its own."""
    import tracemalloc
    with PythonGraderPool(UNLIMITED, workers=1, timeout=60) as p:
        p.run([({}, {"k": "ok"})])  # workers started: their pipes and buffers are not the run's
        tracemalloc.start()
        try:
            results = p.run([({}, {"k": kind, "n": 50 * MB}), ({}, {"k": kind, "n": 100 * 1024}),
                             ({}, {"k": "ok"})])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    big, small, ok = results
    assert (big.reward, big.error) == (0.0, RUNTIME)
    assert "the worker process sent a message of" in big.details and "the limit is 256 KiB" in big.details
    # Under the message limit but over the output limits: cut by the parent.
    if kind == "print":
        assert small.error is None and 8 * 1024 <= len(small.stdout) < 10 * 1024
        assert small.stdout.endswith("more characters cut by the sandbox)")
    else:
        assert small.error == RUNTIME and 8000 <= len(small.details) < 10_000
        assert small.details.startswith("... (details cut by the sandbox)")
    assert (ok.reward, ok.error) == (1.0, None)
    assert peak < 8 * MB, f"the parent held {peak / MB:.1f} MB"


# --- hardening ----------------------------------------------------------------------------

def test_fork_bomb_blocked_and_no_stray_processes(pool):
    results = pool.run([row("fork_bomb"), row("ctypes_fork"), row("value", v=1.0)])
    pids = pool.worker_pids()
    assert "creating processes is not allowed" in results[0].details
    assert "ctypes access to fork() is not allowed" in results[1].details
    assert results[2].reward == 1.0
    assert pids and all(pid_alive(p) for p in pids)
    assert all(group_members(p) == [p] for p in pids)  # nothing forked into the worker groups
    pool.close()
    assert not any(pid_alive(p) for p in pids)


def test_subprocess_blocked(pool):
    [r] = pool.run([row("subprocess")])
    assert r.error == RUNTIME and "creating processes is not allowed" in r.details


def test_network_blocked(pool):
    [r] = pool.run([row("connect")])
    assert r.error == RUNTIME and "PermissionError: network access is not allowed" in r.details


def test_parent_process_memory_and_environ_unreadable(pool):
    [r] = pool.run([row("parent_environ")])
    assert r.error == RUNTIME and "reading other processes is not allowed" in r.details


def test_scrubbed_environment_and_temp_dir(pool, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-must-not-leak")
    with PythonGraderPool(SOURCE, workers=1) as p:
        [r] = p.run([row("env")])
    assert (r.reward, r.error) == (1.0, None)
    assert "sk-test" not in r.stdout and "OPENAI_API_KEY" not in r.stdout
    names, cwd, home = r.stdout.rsplit(" ", 2)
    assert home.strip() == cwd and "ftstudio-grader-" in cwd
    assert not os.path.exists(cwd)  # removed at close


def test_what_a_row_writes_is_gone_for_the_next_row():
    source = ("import os\n"
              "def grade(sample, item):\n"
              "    if item['make']:\n"
              "        os.makedirs('d/e', exist_ok=True)\n"
              "        open('d/e/f', 'w').write('x')\n"
              "        open('g', 'w').write('x')\n"
              "        os.chmod('d/e', 0o500)\n"
              "    print(sorted(n for n in os.listdir('.') if n != '.output'))\n"
              "    return 1.0\n")
    with PythonGraderPool(source, workers=1) as p:
        made, after = p.run([({}, {"make": True}), ({}, {"make": False})])
    assert (made.stdout, after.stdout) == ("['d', 'g']\n", "[]\n")


def test_worker_imports_nothing_heavy(pool):
    [r] = pool.run([row("light")])
    assert (r.reward, r.stdout) == (1.0, "[]\n")


# --- sources that fail before any row -----------------------------------------------------

@pytest.mark.parametrize("source,expected", [
    ("def grade(sample, item)\n    return 1", "does not compile: expected ':' (line 1"),
    ("def score(sample, item):\n    return 1", "defines no function named grade"),
    ("def grade(sample):\n    return 1", "exactly two positional parameters"),
    ("def grade(a, b, c=1):\n    return 1", "it takes (a, b, c)"),
    ("async def grade(sample, item):\n    return 1", "async function"),
    ("grade = 3", "grade is an object of type int, not a function"),
    ("raise RuntimeError('at import')\ndef grade(s, i):\n    return 1", "RuntimeError: at import"),
    ("import os\nos._exit(4)", "died (exit code 4) while running the module-level code"),
])
def test_bad_source_fails_every_row(source, expected):
    results = run_python_grader(source, [row(), row()], workers=1)
    assert len(results) == 2 and results[0] == results[1]
    assert (results[0].reward, results[0].error) == (0.0, RUNTIME) and expected in results[0].details


def test_lambda_grade_runs():
    assert run_python_grader("grade = lambda sample, item: 0.5", [row()])[0] == PythonCallResult(0.5)


def test_oversized_source_starts_no_worker():
    source = "def grade(s, i):\n    return 1\n" + "#" * MAX_SOURCE_BYTES
    with PythonGraderPool(source, workers=1) as p:
        results = p.run([row(), row()])
        assert p.worker_pids() == []
    assert results[0].error == RUNTIME and "the limit is 262,144 bytes" in results[0].details


def test_worker_that_cannot_start_is_a_server_error():
    [r] = run_python_grader("def grade(s, i):\n    return 1", [row()], memory_limit=1 * MB)
    assert (r.reward, r.error) == (0.0, "python_grader_server_error") and "could not start" in r.details


def test_row_that_is_not_json_like():
    results = run_python_grader(SOURCE, [row("value", v=0.5), ({}, {"x": object()})])
    assert results[0].reward == 0.5
    assert results[1].error == "other_error" and "cannot be passed" in results[1].details


# --- progress, cancel, threads ------------------------------------------------------------

def test_progress_reports_to_the_end():
    seen = []
    run_python_grader(SOURCE, [row("value", v=0.5)] * 50, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 50) and seen[-1] == (50, 50)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_cancel_marks_unfinished_rows():
    source = "import time\ndef grade(sample, item):\n    time.sleep(item['s'])\n    return 1.0\n"
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done >= 2:
            cancel.set()
    calls = [({}, {"s": 0.0})] * 2 + [({}, {"s": 0.3})] * 2 + [({}, {"s": 60})]
    with PythonGraderPool(source, workers=1) as p:
        results = p.run(calls, progress=progress, cancel=cancel)
        assert p.worker_pids() == []  # the busy worker was stopped, not left sleeping
    assert len(results) == 5 and [r.reward for r in results[:2]] == [1.0, 1.0]
    assert results[-1] == PythonCallResult(0.0, "other_error", "cancelled", cancelled=True)


def test_cancel_callable_and_run_from_another_thread():
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("r", run_python_grader(
        SOURCE, [row("value", v=0.5)] * 3, cancel=lambda: False)))
    thread.start()
    thread.join(30)
    assert [r.reward for r in out["r"]] == [0.5] * 3
    assert run_python_grader(SOURCE, [row()] * 3, cancel=lambda: True) == [
        PythonCallResult(0.0, "other_error", "cancelled", cancelled=True)] * 3


def test_close_from_another_thread_stops_a_run():
    source = "import time\ndef grade(sample, item):\n    time.sleep(60)\n    return 1.0\n"
    p = PythonGraderPool(source, workers=1)
    timer = threading.Timer(0.5, p.close)
    timer.start()
    results = p.run([({}, {})] * 2)
    timer.join()
    assert [r.details for r in results] == ["cancelled", "cancelled"]
    assert p.run([({}, {})])[0].error == "python_grader_server_error"


def test_progress_that_raises_leaves_the_pool_usable():
    class Rerun(Exception):
        pass
    seen = []

    def progress(done, total):
        seen.append(done)
        if done:
            raise Rerun  # as Streamlit does in a script thread that is being rerun
    source = "import time\ndef grade(sample, item):\n    time.sleep(item['s'])\n    return item['v']\n"
    with PythonGraderPool(source, workers=2) as p:
        with pytest.raises(Rerun):
            p.run([({}, {"s": 0.05, "v": 0.5})] * 20, progress=progress)
        assert 0 < seen[-1] < 20  # it stopped mid-run, with rows in flight
        results = p.run([({}, {"s": 0, "v": i / 10}) for i in range(10)])
    assert [r.reward for r in results] == [i / 10 for i in range(10)]


def test_pool_is_reused_across_runs(pool):
    pool.run([row()])
    pids = pool.worker_pids()
    pool.run([row()] * 10)
    assert set(pool.worker_pids()) >= set(pids)


# --- static_check ---------------------------------------------------------------------------

def codes(source):
    return [(p.code, p.line) for p in static_check(source)]


def test_static_check_accepts_good_sources():
    assert static_check("def grade(sample, item):\n    return 1.0\n") == []
    assert static_check("grade = lambda sample, item: 1.0") == []
    assert static_check("def grade(sample, item, /):\n    return 1.0") == []
    assert static_check("try:\n    import numpy\nexcept ImportError:\n    pass\n"
                        "def grade(sample, item=None):\n    return 1.0") == []
    assert static_check("from mymodule import grade") == []  # judged when it runs


@pytest.mark.parametrize("source,expected", [
    ("def grade(sample, item)\n    return 1", [("python_syntax_error", 1)]),
    ("x = 1\n\ny = (", [("python_syntax_error", 3)]),
    ("def score(sample, item):\n    return 1", [("python_missing_grade", None)]),
    ("class C:\n    def grade(self, sample, item):\n        return 1", [("python_missing_grade", None)]),
    ("", [("python_missing_grade", None)]),
    ("def grade(sample):\n    return 1", [("python_grade_arity", 1)]),
    ("\ndef grade(a, b, c=1):\n    return 1", [("python_grade_arity", 2)]),
    ("def grade(a, b, *, c=1):\n    return 1", [("python_grade_arity", 1)]),
    ("def grade(*args):\n    return 1", [("python_grade_arity", 1)]),
    ("def grade(a, b, **kw):\n    return 1", [("python_grade_arity", 1)]),
    ("grade = lambda sample: 1.0", [("python_grade_arity", 1)]),
    ("async def grade(sample, item):\n    return 1", [("python_grade_async", 1)]),
    ("def grade(a, b):\n    return 1\nasync def grade(a, b):\n    return 1", [("python_grade_async", 3)]),
])
def test_static_check_problems(source, expected):
    assert codes(source) == expected


def test_static_check_messages_are_actionable():
    [p] = static_check("def grade(a, b, c=1):\n    return 1")
    assert "exactly two positional parameters" in p.message and "(a, b, c=1)" in p.message
    [p] = static_check("def grade(sample, item)\n    return 1")
    assert p.message.startswith("Line 1, column") and "expected ':'" in p.message


def test_static_check_size_limit_and_odd_input():
    body = "def grade(s, i):\n    return 1\n"
    assert static_check(body + "#" * (MAX_SOURCE_BYTES - len(body))) == []
    [p] = static_check(body + "é" * (MAX_SOURCE_BYTES // 2))  # 2 bytes of UTF-8 each
    assert p.code == "python_source_too_large" and "262,144 bytes" in p.message
    assert [p.code for p in static_check("x = '\0'\n" + body)] in ([], ["python_syntax_error"])
    assert static_check("(" * 10_000)[0].code == "python_syntax_error"
    assert static_check(None)[0].code == "python_syntax_error"  # type: ignore[arg-type]
    assert isinstance(static_check("\udcff")[0], SourceProblem)
