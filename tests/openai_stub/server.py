"""OpenAIStub: a stdlib HTTP server speaking enough of the OpenAI API for the real `openai` SDK.

Each connection gets its own daemon thread (ThreadingHTTPServer), so added latency never serialises
requests; HTTP/1.1 keep-alive is on. All control methods are thread-safe.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any

from . import _graders
from ._batches import Batches
from ._files_jobs import Store
from ._handler import RecordedRequest, _api_path, _Handler

__all__ = ["DEFAULT_API_KEY", "OpenAIStub", "RecordedRequest"]

DEFAULT_API_KEY = "sk-test-stub-0123456789abcdefABCDEF"


@dataclass
class _Fault:
    kind: str                     # "status" | "malformed" | "slow" | "hold"
    times: int
    path: str | None
    status: int = 0
    body: Any = None
    retry_after: float | None = None
    seconds: float = 0.0
    skip: int = 0                 # matching requests to let through first

    def matches(self, kind: str, api_path: str) -> bool:
        return self.kind == kind and self.times > 0 and (self.path is None or api_path.startswith(self.path))


def _norm_filter(path: str | None) -> str | None:
    if path is None:
        return None
    api_path, _ = _api_path(path)
    return api_path or path


class OpenAIStub:
    """Start with .start() (or use as a context manager); .base_url is ".../v1"."""

    def __init__(self, *, api_key: str = DEFAULT_API_KEY, delay: float = 0.0, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.api_key = api_key
        self._default_delay = delay
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.store = Store()
        self.batches_store = Batches(self.store)
        self._init_controls()

    def _init_controls(self) -> None:
        self._held = threading.Event()  # set by release(): held requests go on
        self._delay = self._default_delay
        self._faults: list[_Fault] = []
        self._requests: list[RecordedRequest] = []
        self.unknown_models: set[str] = set()
        self.grader_reward_offset = 0.0
        self.grader_reward_overrides: dict[str, float] = {}
        self.token_usage_style = "int"
        self.allow_top_level_label_model = False
        self.judge_obeys_injection = False  # the judge gives the maximum score when a message tells it to
        self.judge_mode: str | None = None  # "careful", "gullible" or "fickle": a scripted judge (_judge.py)
        self._times_asked: dict[str, int] = {}  # messages digest -> how many times asked (the fickle judge)
        self.distinct_choices = False       # n > 1: each choice (and each seed) gets its own text
        self.ignore_n = False               # answer one choice whatever n asks (as Ollama does)
        self.model_fields: dict[str, dict[str, Any]] = {}  # GET /models: extra fields per id (a listed id is added)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> OpenAIStub:
        stub = self

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128  # a burst of new connections must not hit a full listen backlog

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # client hang-ups mid-keep-alive are normal

        class Handler(_Handler):
            owner = stub

        self._server = Server((self._host, self._port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="openai-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "stub not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def azure_base_url(self) -> str:
        """Azure v1 style: openai.OpenAI(base_url=stub.azure_base_url, api_key=stub.api_key)."""
        return f"{self.url}/openai/v1"

    @property
    def azure_endpoint(self) -> str:
        """For openai.AzureOpenAI(azure_endpoint=..., api_version=...): /openai/deployments/{model}/..."""
        return self.url

    # ------------------------------------------------------------------ controls
    @property
    def delay(self) -> float:
        with self._lock:
            return self._delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        with self._lock:
            self._delay = float(seconds)

    def fail_next(self, status: int, times: int = 1, path: str | None = None, body: Any = None,
                  retry_after: float | None = None, skip: int = 0) -> None:
        """The next `times` matching requests get `status` with OpenAI's error JSON (or `body`), after
        letting `skip` matching requests through (e.g. fail the second page of a list)."""
        with self._lock:
            self._faults.append(_Fault("status", times, _norm_filter(path), status=status, body=body,
                                       retry_after=retry_after, skip=skip))

    def malformed_next(self, times: int = 1, path: str | None = None) -> None:
        with self._lock:
            self._faults.append(_Fault("malformed", times, _norm_filter(path)))

    def slow_next(self, seconds: float, times: int = 1, path: str | None = None) -> None:
        with self._lock:
            self._faults.append(_Fault("slow", times, _norm_filter(path), seconds=seconds))

    def hold_next(self, times: int = 1, path: str | None = None, skip: int = 0) -> None:
        """The next `times` matching requests (after `skip`) are recorded, then wait for release() before
        being answered: a test can act while a request is known to be in flight, without a timed delay."""
        with self._lock:
            self._held.clear()
            self._faults.append(_Fault("hold", times, _norm_filter(path), skip=skip))

    def release(self) -> None:
        self._held.set()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests whose api_path starts with `path` ("/chat/completions", "/v1/files", ...)."""
        wanted = _norm_filter(path) or path
        return [r for r in self.requests if r.api_path.startswith(wanted) and (method is None or r.method == method)]

    def reset(self) -> None:
        self.release()  # never leave a request of the previous test waiting
        with self._lock:
            self._init_controls()
        self.store = Store()
        self.batches_store = Batches(self.store)

    # files and jobs
    @property
    def files(self) -> dict[str, dict[str, Any]]:
        """id -> file object plus "_content" (bytes)."""
        with self.store.lock:
            return copy.deepcopy(self.store.files)

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        with self.store.lock:
            return copy.deepcopy(self.store.jobs)

    @property
    def job_bodies(self) -> dict[str, dict[str, Any]]:
        """id -> the exact JSON body of POST /fine_tuning/jobs."""
        with self.store.lock:
            return copy.deepcopy(self.store.job_bodies)

    @property
    def auto_advance_jobs(self) -> bool:
        return self.store.auto_advance

    @auto_advance_jobs.setter
    def auto_advance_jobs(self, value: bool) -> None:
        self.store.auto_advance = bool(value)

    def add_jobs(self, jobs: list[dict[str, Any]], *, list_ids: bool = False) -> None:
        """Seed job objects as the API returns them (see _account.account_jobs). `list_ids=False` lists
        them as the real API does: {object, data, has_more}, no first_id/last_id."""
        for job in jobs:
            self.store.add_job(job)
        self.store.list_ids = list_ids

    @property
    def batches(self) -> dict[str, dict[str, Any]]:
        with self.batches_store.lock:
            return {k: self.batches_store._public(v) for k, v in self.batches_store.batches.items()}

    @property
    def auto_advance_batches(self) -> bool:
        return self.batches_store.auto_advance

    @auto_advance_batches.setter
    def auto_advance_batches(self, value: bool) -> None:
        self.batches_store.auto_advance = bool(value)

    @property
    def azure_batches(self) -> bool:
        """Azure global batch quirks: "" for missing file ids, null request counts while validating."""
        return self.batches_store.azure_style

    @azure_batches.setter
    def azure_batches(self, value: bool) -> None:
        self.batches_store.azure_style = bool(value)

    def set_job_status(self, job_id: str, status: str, error: dict[str, Any] | None = None) -> dict[str, Any]:
        """Force a status (e.g. "failed" with error={"code", "message"}); events are added as for a poll."""
        return self.store.set_status(job_id, status, error)

    # ------------------------------------------------------------------ request plumbing (handler threads)
    def _asked(self, messages: Any) -> int:
        """How many times these messages were asked before (then counts this time)."""
        key = json.dumps(messages, sort_keys=True, ensure_ascii=False)
        with self._lock:
            seen = self._times_asked.get(key, 0)
            self._times_asked[key] = seen + 1
        return seen

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _take(self, kind: str, api_path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(kind, api_path) and fault.skip > 0:
                    fault.skip -= 1
                elif fault.matches(kind, api_path):
                    fault.times -= 1
                    return copy.copy(fault)
        return None

    def _grader_settings(self) -> _graders.GraderSettings:
        with self._lock:
            return _graders.GraderSettings(
                unknown_models=frozenset(self.unknown_models), reward_offset=float(self.grader_reward_offset),
                reward_overrides=dict(self.grader_reward_overrides), token_usage_style=self.token_usage_style,
                allow_top_level_label_model=self.allow_top_level_label_model)

    def _unknown(self, model: Any) -> bool:
        with self._lock:
            return model in self.unknown_models
