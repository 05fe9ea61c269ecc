"""The model-answer cache opened by several sessions at once: TRL gathers async reward functions, each with its
own grading session, and their first model calls open the same sqlite file together."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from ftstudio.api import _model_client as mc


def test_threads_opening_a_new_cache_together_all_get_it(tmp_path):
    path = tmp_path / "calls.sqlite"
    start, errors, done = threading.Barrier(8), [], []

    def open_and_use(i: int) -> None:
        start.wait()
        try:
            cache = mc.ModelCache(path)
            cache.put_many({f"k{i}": {"v": i}})
            done.append(cache.get_many([f"k{i}"]) == {f"k{i}": {"v": i}})
        except Exception as exc:  # the failure this test is about: "database is locked" on opening
            errors.append(exc)

    threads = [threading.Thread(target=open_and_use, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and done == [True] * 8


def test_wal_waits_while_another_connection_holds_the_lock_then_gives_up(tmp_path):
    path = tmp_path / "calls.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of opening the file
    conn = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as caught:
        mc._use_wal(conn, attempts=3)  # busy each time: retried, then the error is the caller's
    assert caught.value.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    holder.execute("COMMIT")
    mc._use_wal(conn)  # free now: switched at once
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
