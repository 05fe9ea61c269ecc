"""Warm grading sessions: one for the server's own grader, and a small LRU for graders sent in requests
(keyed by canonical JSON), so repeated requests reuse parsed graders and warm python worker pools.
The key is orjson's sorted-keys encoding (a tenth of the stdlib's cost, paid on every request); what orjson
refuses (integers past 64 bits) takes the stdlib's. Graders come from orjson.loads, which admits no NaN and no
lone surrogate, so the two encodings never meet on one grader.

These caches are the only state the server keeps between requests.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import orjson

from ftstudio.core import json_issue
from ftstudio.core.records import datarecord, field
from ftstudio.graders import grader_type, walk
from ftstudio.grading import GradeOptions, GradingSession, InvalidGrader
from ftstudio.sandbox import PythonGraderPool

from ._config import ServeConfig
from ._errors import ApiProblem, issue_problem
from ._policy import RequestPolicy

LRU_SIZE = 16


@datarecord
class Entry:
    session: GradingSession
    inline: bool
    users: int = 0
    evicted: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def release(self) -> None:
        with self.lock:
            self.users -= 1
            close = self.evicted and self.users == 0
        if close:
            self.session.close()


class Sessions:
    def __init__(self, config: ServeConfig, server_grader: dict[str, Any] | None):
        self.config = config
        self.options = GradeOptions(python_timeout=config.python_timeout,
                                    python_memory=config.python_memory_mb * 1024 * 1024)
        self.server_grader = server_grader
        self.policy = RequestPolicy(config)
        self.server: Entry | None = _entry(server_grader, self.options, "grader") if server_grader else None
        self._lru: OrderedDict[bytes | str, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.ready = threading.Event()

    def warm(self) -> None:
        """Start the python workers of the server's grader (readyz says ready afterwards)."""
        try:
            if self.server is not None:
                for pool in _pools(self.server.session):
                    pool.run([({"output_text": "", "output_json": None, "output_tools": None, "choices": None,
                                "output_audio": None}, {})])
        finally:
            self.ready.set()

    def acquire_server(self) -> Entry:
        if self.server is None:
            raise ApiProblem(400, "This server was started without a grader, so it has none to score with here: "
                             "start it with `ftstudio serve GRADER.json`, or send the grader in the request to "
                             "/v1/grade or /v1/fine_tuning/alpha/graders/run.", param=None, code="no_server_grader")
        with self.server.lock:
            self.server.users += 1
        return self.server

    def acquire(self, grader: Any, param: str = "grader") -> Entry:
        """The warm session for a grader sent in a request; ApiProblem if it is invalid or not allowed."""
        if not isinstance(grader, dict):
            raise ApiProblem(400, f"Invalid type for '{param}': expected an object.", param=param, code="invalid_type")
        key = _key(grader)
        if key is None:
            bad = json_issue(grader)
            if bad is not None:
                raise issue_problem(bad, param)
            raise ApiProblem(400, "The grader is not plain JSON data.", param=param, code="invalid_type")
        with self._lock:
            entry = self._lru.get(key)
            if entry is not None:
                self._lru.move_to_end(key)
                with entry.lock:
                    entry.users += 1
                return entry
        bad = json_issue(grader)  # lone surrogates and the like, checked once per new grader
        if bad is not None:
            raise issue_problem(bad, param)
        self.policy.check(grader, param)  # 403 for what only the operator's flags allow
        entry = _entry(grader, self.options, param)
        with self._lock:
            self._lru[key] = entry
            entry.users += 1
            while len(self._lru) > LRU_SIZE:
                _, old = self._lru.popitem(last=False)
                with old.lock:
                    old.evicted = True
                    close = old.users == 0
                if close:
                    old.session.close()
        return entry

    def close(self) -> None:
        with self._lock:
            entries = list(self._lru.values()) + ([self.server] if self.server else [])
            self._lru.clear()
        for e in entries:
            e.session.close()


def _key(grader: dict[str, Any]) -> bytes | str | None:
    """The grader's canonical JSON (the LRU's key); None when it is not plain JSON data."""
    try:
        return orjson.dumps(grader, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError: integers past 64 bits, lone surrogates, nesting past 254
        pass
    try:
        return json.dumps(grader, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        return None


def _entry(grader: Any, options: GradeOptions, param: str) -> Entry:
    try:
        session = GradingSession(grader, options=options)
    except InvalidGrader as exc:
        raise issue_problem(exc.issues[0], param) from None
    except (ValueError, TypeError) as exc:  # parse_grader refusing what the checks let through
        raise ApiProblem(400, f"The grader can't be evaluated: {str(exc).splitlines()[0]}", param=param,
                         code="invalid_grader") from None
    nodes = [node for _, node in walk(session.grader)]
    _pools(session)  # create the pools now: sessions are shared between request threads
    # Cheap enough to grade on the event loop (no thread hand-off) when every node's type says so.
    return Entry(session, inline=all(grader_type(n.type).inline for n in nodes))


def _pools(session: GradingSession) -> list[PythonGraderPool]:
    return [session.python_pool(node) for _, node in walk(session.grader) if grader_type(node.type).runs_code]
