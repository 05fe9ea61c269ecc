"""Rows travel in batches (one frame each way, rewards on a shared page) and a fast worker checks the
rows' environment every few milliseconds instead of after each row: every guarantee of a row must hold
inside a big batch exactly as for a row alone. Real workers, no mocks, no timing assumptions (the
time limits below only bound rows that hang on purpose)."""

from __future__ import annotations

import math

import pytest

from ftstudio.sandbox import PythonGraderPool

RUNTIME = "python_grader_runtime_error"
N = 300  # rows of one run: several batches, each far bigger than one row
BAD = 150

SOURCE = '''
import io, os, sys

def grade(sample, item):
    left = sorted(n for n in os.listdir('.') if n != '.output')
    if left:
        return -1.0  # something an earlier row made is still here
    k = item.get("k")
    if k == "exit":
        os._exit(3)
    if k == "loop":
        while True:
            pass
    if k == "file":
        open("leftover", "w").write("x")
    if k == "print":
        print("row", item["i"])
    if k == "swap":
        sys.stdout = io.StringIO()
    if k == "say":
        print("after the swap")
    if k == "raise":
        raise ValueError("row %d" % item["i"])
    if k == "close":
        sys.stdin.close()
        os.close(0)
        sys.stdout.close()
        os.close(1)
    return item["i"] / 1000
'''


def rows(**special: str) -> list[tuple[dict, dict]]:
    kinds = {int(k[1:]): v for k, v in special.items()}
    return [({}, {"i": i, "k": kinds.get(i)}) for i in range(N)]


def rewards_except(results, *bad: int) -> None:
    for i, r in enumerate(results):
        if i not in bad:
            assert (r.reward, r.error, r.stdout) == (i / 1000, None, None), (i, r)


def test_a_crash_inside_a_batch_harms_only_its_row():
    with PythonGraderPool(SOURCE, workers=1) as pool:
        results = pool.run(rows(r150="exit"))
    assert results[BAD].error == RUNTIME and "exit code 3" in results[BAD].details
    assert not results[BAD].timed_out
    rewards_except(results, BAD)


def test_a_hang_inside_a_batch_times_out_that_row_only():
    with PythonGraderPool(SOURCE, workers=1, timeout=1.5) as pool:
        results = pool.run(rows(r150="loop"))
    assert results[BAD].timed_out and "did not finish within 1.5 s" in results[BAD].details
    assert sum(r.timed_out for r in results) == 1
    rewards_except(results, BAD)


def test_what_a_row_leaves_is_gone_for_the_rows_after_it_in_its_batch():
    with PythonGraderPool(SOURCE, workers=1) as pool:
        results = pool.run(rows(r150="file", r151="file"))
        again = pool.run(rows())  # the pool now checks every row: still the same results
    assert [r.reward for r in results] == [i / 1000 for i in range(N)]
    assert [r.reward for r in again] == [i / 1000 for i in range(N)]


def test_output_belongs_to_the_row_that_wrote_it():
    with PythonGraderPool(SOURCE, workers=1) as pool:
        results = pool.run(rows(r150="print", r200="swap", r201="say"))
    assert results[BAD].stdout == "row 150\n" and results[201].stdout == "after the swap\n"
    rewards_except(results, BAD, 201)
    assert (results[201].reward, results[201].error) == (0.201, None)


def test_a_row_that_closes_stdio_is_graded_as_it_would_be_alone():
    """Rows graded again after a check found something run on the descriptors they first ran on."""
    with PythonGraderPool(SOURCE, workers=1) as pool:
        results = pool.run(rows(r150="close", r151="print"))
    assert results[151].stdout == "row 151\n"
    rewards_except(results, 151)


def test_errors_keep_their_rows_and_order():
    with PythonGraderPool(SOURCE, workers=2) as pool:
        results = pool.run(rows(r3="raise", r150="raise", r299="raise"))
    for i in (3, 150, 299):
        assert results[i].error == RUNTIME and f"ValueError: row {i}" in results[i].details
    rewards_except(results, 3, 150, 299)


def test_a_reward_that_user_code_forges_on_the_page_is_refused():
    """The page is the worker's memory, so user code can write there: a reward that is not a number is a
    malformed message, for the rows it covers, and never reaches a result."""
    source = ('import mmap, struct, sys\n'
              'def grade(sample, item):\n'
              '    page = mmap.mmap(int(sys.argv[4]), 0)\n'
              '    page[24:32] = struct.pack("d", float("nan"))\n'
              '    return 1.0\n')
    with PythonGraderPool(source, workers=1) as pool:
        results = pool.run([({}, {})] * 3)
    assert all(r.error == RUNTIME and "malformed" in r.details for r in results)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.0, 2 ** 70, "\udcff"])
def test_values_json_cannot_carry_fast_arrive_as_before(value):
    source = "import math\ndef grade(sample, item):\n    return 1.0 if repr(item['v']) == item['r'] else 0.0\n"
    with PythonGraderPool(source, workers=1) as pool:
        [r] = pool.run([({}, {"v": value, "r": repr(value)})])
    assert (r.reward, r.error) == (1.0, None)


def test_grader_imports_from_site_packages():
    """The worker starts without `site` (-S) and puts the site-packages folders on sys.path itself."""
    source = "import orjson\ndef grade(sample, item):\n    return float(orjson.loads(b'1.5'))\n"
    with PythonGraderPool(source, workers=1) as pool:
        [r] = pool.run([({}, {})])
    assert (r.reward, r.error) == (1.5, None)


def test_grader_imports_a_package_installed_through_a_pth_import_line():
    """An editable install is found through the `import` line of its .pth file (this project is installed
    that way for the tests): the worker runs such lines when an import first misses, as `site` would."""
    import ftstudio
    if "site-packages" in (ftstudio.__file__ or ""):
        pytest.skip("ftstudio is not an editable install here")
    source = "def grade(sample, item):\n    import ftstudio.core\n    return 2.0\n"
    with PythonGraderPool(source, workers=1) as pool:
        [r] = pool.run([({}, {})])
    assert (r.reward, r.error) == (2.0, None), r


def test_signal_imported_by_user_code_has_no_pidfd_side_door():
    """The worker no longer imports the signal module itself: imported later by user code, it copies
    _signal's names, which the guard replaced (pidfd_send_signal raises no audit event)."""
    source = ("def grade(sample, item):\n"
              "    import signal\n"
              "    try:\n"
              "        signal.pidfd_send_signal(0, signal.SIGKILL)\n"
              "    except PermissionError as exc:\n"
              "        return 1.0 if 'not allowed in a python grader' in str(exc) else 0.5\n"
              "    except OSError:\n"
              "        return 0.0\n"
              "    return 0.0\n")
    with PythonGraderPool(source, workers=1) as pool:
        [r] = pool.run([({}, {})])
    assert (r.reward, r.error) == (1.0, None)


@pytest.mark.parametrize("sample", [
    {"output_json": None, "nested": {"v": float("nan")}},           # a None beside a nested NaN
    {"output_json": float("inf"), "output_audio": None},           # the top level itself
    {"output_text": "null", "output_json": None, "x": [float("-inf")]},  # the word null in a string
])
def test_a_sample_holding_nulls_and_non_finite_floats_arrives_as_it_was(sample):
    source = "def grade(sample, item):\n    return 1.0 if repr(sample) == item['r'] else 0.0\n"
    with PythonGraderPool(source, workers=1) as pool:
        [r] = pool.run([(sample, {"r": repr(sample)})])
    assert (r.reward, r.error) == (1.0, None)


def test_a_small_run_goes_to_one_worker_in_one_batch():
    """A trainer's call of 64 rows wakes one worker, not each idle one (a wake-up costs more than the rows);
    a big run still spreads over the pool."""
    source = "import os\nME = float(int.from_bytes(os.urandom(6), \"big\"))\n\ndef grade(sample, item):\n    return ME\n"
    with PythonGraderPool(source, workers=2) as pool:
        pids: set[float] = set()
        for _ in range(500):  # until both workers have graded (and are idle): the second may still be starting
            pids = {r.reward for r in pool.run([({"output_text": "x"}, {"i": i}) for i in range(N)])}
            if len(pids) == 2:
                break
        for _ in range(3):
            small = pool.run([({"output_text": "x"}, {"i": i}) for i in range(64)])
            assert all(r.error is None for r in small)
            assert len({r.reward for r in small}) == 1


CLEAN = [({"output_text": "x", "output_json": None, "output_audio": None}, {"a": 1, "b": None}),
         ({"output_text": "nil", "output_json": {"k": [1, 2.5, "é"]}}, {"s": "nul", "n": -0.0}),
         ("plain", [1, "two"])]


def test_rows_encoded_together_are_the_bytes_of_each_row_encoded_alone():
    from ftstudio.sandbox._encode import encode, encode_rows

    assert encode_rows(CLEAN) == (b"[" + b",".join(encode(s, i)[0] for s, i in CLEAN) + b"]", 3)  # 3 top-level Nones


@pytest.mark.parametrize("value", [float("nan"), [None], 2 ** 70, "\udcff", "null"])
def test_rows_encoded_together_leave_what_orjson_would_change_to_each_rows_encoding(value):
    """A row orjson refuses, or may write differently (NaN as null; a null that is not a top-level None: more
    nulls than the worker is told to find, so it hands the batch back), goes to the row-by-row encoding, which
    walks or uses the stdlib: every row arrives as it was."""
    from ftstudio.sandbox._encode import encode_rows

    row = ({"output_json": None}, {"v": value})
    encoded = encode_rows([*CLEAN, row])
    assert encoded is None or encoded[0].count(b"null") != encoded[1]
    source = "def grade(sample, item):\n    return 1.0 if repr((sample, item['v'])) == item['r'] else 0.0\n"
    rows = [(s, {"v": i, "r": repr((s, i))}) for s, i in CLEAN + [(row[0], value)]]
    with PythonGraderPool(source, workers=1) as pool:
        results = pool.run(rows)
    assert [(r.reward, r.error) for r in results] == [(1.0, None)] * 4


def test_rows_encoded_together_count_nones_by_identity():
    """A value that claims to equal None is no None: beside it, a NaN's null still sends the batch row by row."""
    from ftstudio.sandbox._encode import encode_rows

    class Claims(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    assert encode_rows([({"output_json": None}, {"a": Claims("x"), "b": [float("nan")]})]) == (
        b'[[{"output_json":null},{"a":"x","b":[null]}]]', 1)  # two nulls: the worker hands the batch back
    assert encode_rows([({"output_json": None}, {"a": Claims("x"), "b": [1.5]})]) == (
        b'[[{"output_json":null},{"a":"x","b":[1.5]}]]', 1)


def test_a_row_no_encoding_takes_fails_alone_in_a_batch():
    source = "def grade(sample, item):\n    return 1.0\n"
    with PythonGraderPool(source, workers=1) as pool:
        results = pool.run([({}, {"v": 1}), ({}, {"v": {1, 2}}), ({}, {"v": 3})])
    assert [r.error for r in results] == [None, "other_error", None]
    assert "cannot be passed to grade()" in (results[1].details or "")


def test_a_warm_worker_reads_small_batches_as_a_cold_one():
    """After its first batch a worker reads every batch with orjson (imported while idle, not at start): the
    values only the stdlib reads as they were still arrive as before."""
    source = ("import math, sys\n"
              "def grade(sample, item):\n"
              "    if 'v' not in item:\n"
              "        return 1.0 if 'orjson' in sys.modules else 0.0\n"
              "    return 1.0 if repr(item['v']) == item['r'] else 0.0\n")
    values = [float("nan"), float("inf"), -0.0, 2 ** 70, "\udcff", "null", None, [None, 1.5]]
    with PythonGraderPool(source, workers=1) as pool:
        [cold] = pool.run([({}, {})])
        [warm] = pool.run([({}, {})])
        rows = pool.run([({}, {"v": v, "r": repr(v)}) for v in values])
    assert (cold.reward, warm.reward) == (0.0, 1.0)
    assert [(r.reward, r.error) for r in rows] == [(1.0, None)] * len(values)


def test_results_keep_their_reward_and_sign_across_runs_of_a_pool():
    """A pool keeps one result per reward for its runs: 0.0 and -0.0 stay apart, every run gets its own rewards."""
    source = "def grade(sample, item):\n    return item['r']\n"
    with PythonGraderPool(source, workers=1) as pool:
        first = pool.run([({}, {"r": 0.0}), ({}, {"r": -0.0}), ({}, {"r": 0.5})])
        second = pool.run([({}, {"r": -0.0}), ({}, {"r": 0.0}), ({}, {"r": 0.25})])
    assert [(r.reward, math.copysign(1.0, r.reward), r.error) for r in first] == [
        (0.0, 1.0, None), (0.0, -1.0, None), (0.5, 1.0, None)]
    assert [(r.reward, math.copysign(1.0, r.reward), r.error) for r in second] == [
        (0.0, -1.0, None), (0.0, 1.0, None), (0.25, 1.0, None)]


def test_the_results_a_pool_keeps_are_bounded():
    from ftstudio.sandbox import PythonCallResult
    from ftstudio.sandbox._intake import CLEAN_RESULTS, clean_result

    clean: dict[object, object] = {}
    for i in range(CLEAN_RESULTS + 10):
        assert clean_result(clean, i + 0.5, PythonCallResult) == PythonCallResult(i + 0.5)
        assert len(clean) <= CLEAN_RESULTS


def test_output_left_in_a_stream_made_buffered_again_belongs_to_its_row():
    """The worker's sys.stdout/stderr are unbuffered, so its row loop does not flush them after each row; user
    code that makes one buffered again (reconfigure) has it flushed after each of its rows: text it left
    there is its own, not the next row's, even when the next row runs long (the watcher's look does not
    flush)."""
    source = ("import sys, time\n"
              "def grade(sample, item):\n"
              "    if item['i'] == 3:\n"
              "        sys.stdout.reconfigure(write_through=False)\n"
              "        print('row three', end='')\n"
              "    if item['i'] == 4:\n"
              "        time.sleep(0.3)\n"
              "    return item['i'] / 1000\n")
    with PythonGraderPool(source, workers=1) as pool:
        results = pool.run([({}, {"i": i}) for i in range(6)])
    assert [(r.reward, r.error) for r in results] == [(i / 1000, None) for i in range(6)]
    assert results[3].stdout == "row three"
    assert [r.stdout for i, r in enumerate(results) if i != 3] == [None] * 5
