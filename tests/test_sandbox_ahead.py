"""The pool's throughput path (issue 23): a batch's JSON goes on the worker's shared page (a frame announces it)
unless it does not fit there, the parent encodes the next batches while the workers grade (_encode.Ahead), and
workers run under SCHED_BATCH. None of it may change a row's result: rows given back to the queue go before the
batches encoded ahead, a batch too big for the page still arrives whole, and a page the system refuses falls
back to the frame. Real workers; runs big enough (thousands of rows, two workers) that batches are encoded
ahead."""

from __future__ import annotations

import os
from collections import deque

import pytest

from ftstudio.sandbox import PythonGraderPool, _process
from ftstudio.sandbox._encode import Ahead, encode_rows

RUNTIME = "python_grader_runtime_error"
N = 3000  # rows of a run: batches up to MAX_BATCH_ROWS, several encoded ahead per worker
SOURCE = '''
import math, os

def grade(sample, item):
    k = item.get("k")
    if k == "exit":
        os._exit(3)
    if k == "raise":
        raise ValueError("row %d" % item["i"])
    if k == "nan":
        return 2.0 if math.isnan(item["v"][0]) else -2.0
    return item["i"] / 10000
'''


def rows(**special: str) -> list[tuple[dict, dict]]:
    kinds = {int(k[1:]): v for k, v in special.items()}
    out = []
    for i in range(N):
        kind = kinds.get(i)
        item = {"i": i, "k": kind}
        if kind == "nan":
            item["v"] = [float("nan")]  # a nested NaN: orjson would write null, so this batch goes row by row
        out.append(({"output_text": f"answer {i}", "output_json": None}, item))
    return out


def check(results, **special: str) -> None:
    bad = {int(k[1:]): v for k, v in special.items()}
    assert len(results) == N
    for i, r in enumerate(results):
        if bad.get(i) == "nan":
            assert (r.reward, r.error) == (2.0, None), (i, r)
        elif i not in bad:
            assert (r.reward, r.error, r.stdout) == (i / 10000, None, None), (i, r)


def test_a_big_run_on_two_workers_grades_every_row_in_order():
    with PythonGraderPool(SOURCE, workers=2) as pool:
        for _ in range(3):  # warm runs too: the workers read with orjson then
            check(pool.run(rows()))


def test_rows_given_back_by_a_crash_go_before_the_batches_encoded_ahead():
    """A worker that dies gives its rows after the crash back to the front of the queue: the batches encoded
    ahead of them are dropped, not sent first, so every row is graded once and keeps its own result."""
    with PythonGraderPool(SOURCE, workers=2) as pool:
        results = pool.run(rows(r1700="exit", r2600="exit"))
        for bad in (1700, 2600):
            assert results[bad].error == RUNTIME and "exit code 3" in (results[bad].details or "")
        check(results, r1700="exit", r2600="exit")
        check(pool.run(rows()))  # the pool goes on with new workers


def test_errors_and_rows_encoded_one_by_one_inside_a_big_run():
    """A batch ahead that encode_rows refuses (a NaN orjson would write as null) is encoded row by row when it
    is sent: the NaN arrives as NaN; a row that raises is its own error, in place."""
    special = {"r900": "nan", "r2200": "raise", "r2999": "nan"}
    with PythonGraderPool(SOURCE, workers=2) as pool:
        results = pool.run(rows(**special))
    assert results[2200].error == RUNTIME and "ValueError: row 2200" in (results[2200].details or "")
    check(results, **special)


def test_a_batch_too_big_for_the_page_arrives_whole_in_its_frame():
    """Rows whose batch is bigger than the page's room (MAX_BATCH_BYTES) go in the frame, as one row bigger
    than the room does: each arrives intact."""
    source = "def grade(sample, item):\n    return float(len(sample['output_text'])) if sample['output_text'] == item['c'] * item['n'] else -1.0\n"
    big = _process.MAX_BATCH_BYTES
    sizes = [big // 3, big // 3, big // 3, big // 3, big + 1000, 10, big // 2]
    calls = [({"output_text": chr(97 + k) * n}, {"c": chr(97 + k), "n": n}) for k, n in enumerate(sizes)]
    with PythonGraderPool(source, workers=1) as pool:
        results = pool.run(calls)
    assert [(r.reward, r.error) for r in results] == [(float(n), None) for n in sizes]


def test_a_page_the_system_refuses_sends_the_batch_in_its_frame(monkeypatch):
    monkeypatch.setattr(_process, "_put", lambda fd, data, at: False)
    with PythonGraderPool(SOURCE, workers=2) as pool:
        check(pool.run(rows(r10="raise")), r10="raise")


def test_put_writes_the_batch_where_the_worker_reads_it():
    fd = _process._page()
    try:
        encoded = encode_rows([({"output_text": "x"}, {"i": i}) for i in range(100)])
        assert encoded is not None
        body = encoded[0]
        assert _process._put(fd, body, _process.REQUEST_AT)
        assert os.pread(fd, len(body), _process.REQUEST_AT) == body
        assert os.fstat(fd).st_size == _process.PAGE_BYTES
    finally:
        os.close(fd)


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="SCHED_BATCH is Linux's")
def test_workers_run_under_sched_batch():
    with PythonGraderPool("def grade(sample, item):\n    return 1.0\n", workers=1) as pool:
        assert pool.run([({}, {})])[0].error is None
        [pid] = pool.worker_pids()
        assert os.sched_getscheduler(pid) == os.SCHED_BATCH
    assert os.sched_getscheduler(0) != os.SCHED_BATCH  # the parent is left as it was


def test_ahead_gives_a_batch_only_while_the_queue_starts_with_its_rows():
    calls = [({"output_text": str(i)}, {"i": i}) for i in range(10)]
    queue = deque(range(10))
    ahead = Ahead()
    ahead.add(queue, calls, 3)
    ahead.add(queue, calls, 4)
    assert (len(ahead), ahead.rows) == (2, 7)
    taken = ahead.take(queue)
    assert taken is not None
    fresh, body = taken
    assert fresh == [0, 1, 2] and body == encode_rows(calls[:3])
    for _ in fresh:
        queue.popleft()
    queue.extendleft([1])  # a row given back goes first
    assert ahead.take(queue) is None
    assert (len(ahead), ahead.rows) == (0, 0)  # every batch ahead is dropped
    ahead.add(queue, calls, 2)
    assert ahead.take(queue) == ([1, 3], encode_rows([calls[1], calls[3]]))


def test_ahead_keeps_a_batch_encode_rows_refuses_as_none():
    calls = [({"output_json": None}, {"v": [2 ** 70]}), ({}, {"v": 1})]  # orjson refuses integers past 64 bits
    queue = deque(range(2))
    ahead = Ahead()
    ahead.add(queue, calls, 2)
    assert ahead.take(queue) == ([0, 1], None)


def test_a_batch_handed_back_after_a_row_started_is_a_malformed_message():
    """A worker may hand a batch back (["nulls"]) only before its first row: user code that forges the message
    while its row runs has its worker stopped as for any malformed message (rows not final are graded again,
    one of them may carry the error); no row gets a reward that is not its own."""
    source = ('import os, sys\n'
              'def grade(sample, item):\n'
              '    if item["i"] == 700:\n'
              '        message = b\'["nulls"]\'\n'
              '        os.write(int(sys.argv[2]), len(message).to_bytes(4, "big") + message)\n'
              '    return item["i"] / 10000\n')
    warm = [({"output_text": "x"}, {"i": N + i}) for i in range(N)]  # no row 700: nothing forged
    with PythonGraderPool(source, workers=2) as pool:
        for _ in range(100):  # until both workers are there: a run does not wait for a second one to start
            pool.run(warm)
            if len(pool.worker_pids()) == 2:
                break
        before = set(pool.worker_pids())
        assert len(before) == 2
        results = pool.run([({"output_text": "x"}, {"i": i}) for i in range(N)])
        after = set(pool.worker_pids())
    assert before - after  # the worker that sent it was stopped (one that started meanwhile may remain)
    for i, r in enumerate(results):
        assert (r.reward, r.error) == (i / 10000, None) or (r.error == RUNTIME and "malformed" in (r.details or "")), r
