"""OpenAI-compatible calls for model graders and embeddings: concurrent, bounded, retried, cached.

Uses the openai SDK over real HTTP. Retries are ours (the SDK's are switched off) so the count is
visible. Every answer is cached on disk keyed by the exact request and the endpoint's URL (never
the key), so an unchanged rerun costs nothing. Keys never reach the cache, logs or messages.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3


from ftstudio.core import DEFAULT_CONCURRENCY, ROW_ERROR, cache_dir, log_failure, redact
from ftstudio.core.records import datarecord, field, replace

from ._endpoint import Endpoint
from ._http_errors import describe, retry_after

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
# The details of a request a cancel kept from being sent; CallResult.cancelled is what code reads.
NOT_SENT = "cancelled before the request was sent"


@datarecord
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    requests: int = 0
    cache_hits: int = 0

    def add(self, other: TokenUsage) -> None:
        for k in ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "requests", "cache_hits"):
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@datarecord
class CallResult:
    value: dict[str, Any] | None = None  # {"content", "refusal", "model"} or {"embedding"}
    error: tuple[str, str] | None = None  # (code, details)
    usage: TokenUsage = field(default_factory=TokenUsage)
    model: str = ""
    cached: bool = False
    cancelled: bool = False  # a cancel came before the request was sent (the error says so to people)
    timed_out: bool = False  # the last attempt ran past the client's timeout


_OPENING = threading.Lock()


def _use_wal(conn: sqlite3.Connection, attempts: int = 600) -> None:
    """PRAGMA journal_mode=WAL, again while another process holds the lock (up to about 30 s, as connect's timeout)."""
    import sqlite3

    busy = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) not in busy or attempt == attempts - 1:
                raise
            threading.Event().wait(0.05)


class ModelCache:
    """A small sqlite key-value store under the cache dir; safe across threads and processes."""

    def __init__(self, path: Path | None = None):
        self.path = path or cache_dir() / "model_calls.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as c:
            c.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # Switching a new file to WAL takes an exclusive lock, and sqlite answers SQLITE_BUSY at once there (its
            # busy timeout doesn't wait for it): two sessions of one process opening the cache together (TRL's
            # gathered async reward functions) failed with "database is locked". One thread opens at a time here;
            # another process is waited for below.
            import sqlite3  # here, not at import: a grade without model graders never opens the cache

            with _OPENING:
                conn = sqlite3.connect(self.path, timeout=30)
                _use_wal(conn)
            self._local.conn = conn
        return conn

    def get_many(self, keys: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        conn = self._conn()
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = conn.execute(f"SELECT key, value FROM calls WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            out.update((k, json.loads(v)) for k, v in rows)
        return out

    def put_many(self, items: dict[str, dict]) -> None:
        if items:
            with self._conn() as c:
                c.executemany("INSERT OR REPLACE INTO calls VALUES (?, ?)",
                              [(k, json.dumps(v, ensure_ascii=False)) for k, v in items.items()])


def cache_key(endpoint: Endpoint, kind: str, request: dict) -> str:
    payload = json.dumps({"url": endpoint.label, "kind": kind, "request": request}, sort_keys=True, ensure_ascii=False)
    import hashlib  # with OpenSSL: imported when a model grader first runs (issue 23, start-up)

    return hashlib.sha256(payload.encode()).hexdigest()


@datarecord
class RunStats:
    retries: int = 0
    requests: int = 0
    cache_hits: int = 0


class ModelRunner:
    """Runs many chat / embedding requests with bounded concurrency from synchronous code."""

    def __init__(self, endpoint: Endpoint, *, concurrency: int = DEFAULT_CONCURRENCY, max_retries: int = 4, use_cache: bool = True,
                 cache: ModelCache | None = None, on_retry: Callable[[int, str], None] | None = None):
        self.endpoint = endpoint
        self.concurrency = max(1, int(concurrency))
        self.max_retries = max_retries
        self.cache = (cache or ModelCache()) if use_cache else None
        self.stats = RunStats()
        self.on_retry = on_retry

    # -- public -----------------------------------------------------------------------------
    def chat(self, requests: list[dict[str, Any]], progress: Callable[[int, int], object] | None = None,
             cancel: Any = None) -> list[CallResult]:
        return self._run("chat", requests, progress, cancel)

    def embed(self, requests: list[dict[str, Any]], progress: Callable[[int, int], object] | None = None,
              cancel: Any = None) -> list[CallResult]:
        return self._run("embed", requests, progress, cancel)

    # -- machinery --------------------------------------------------------------------------
    def _run(self, kind: str, requests: list[dict], progress, cancel) -> list[CallResult]:
        if not requests:
            return []
        keys = [cache_key(self.endpoint, kind, r) for r in requests]
        hits = self.cache.get_many(sorted(set(keys))) if self.cache else {}
        results: list[CallResult | None] = [None] * len(requests)
        todo: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            if key in hits:
                results[i] = _from_cache(hits[key])
            else:
                todo.setdefault(key, []).append(i)
        self.stats.cache_hits += len(requests) - sum(len(v) for v in todo.values())
        done = len(requests) - sum(len(v) for v in todo.values())
        if progress:
            progress(done, len(requests))
        if todo:
            fresh = _run_async(self._gather(kind, todo, requests, results, progress, cancel, done, len(requests)))
            if self.cache:
                self.cache.put_many(fresh)
        return [r or CallResult(error=(ROW_ERROR.OTHER, NOT_SENT), cancelled=True) for r in results]

    async def _gather(self, kind, todo, requests, results, progress, cancel, done, total) -> dict[str, dict]:
        import asyncio  # here: a grade without model graders never starts an event loop (issue 23, start-up)

        client = self.endpoint.async_client()
        sem = asyncio.Semaphore(self.concurrency)
        fresh: dict[str, dict] = {}
        counter = {"done": done}

        async def one(key: str, idx: list[int]) -> None:
            async with sem:
                if _cancelled(cancel):
                    return
                res = await self._call(client, kind, requests[idx[0]])
            if res.error is None:
                fresh[key] = {"value": res.value, "usage": res.usage.to_dict(), "model": res.model}
            for j, i in enumerate(idx):
                # Identical requests share one answer; only the first pays for it.
                results[i] = res if j == 0 else replace(res, usage=TokenUsage())
            counter["done"] += len(idx)
            if progress:
                progress(counter["done"], total)

        try:
            await asyncio.gather(*(one(k, v) for k, v in todo.items()))
        finally:
            await client.close()
        return fresh

    async def _call(self, client, kind: str, request: dict) -> CallResult:
        import openai

        attempt = 0
        while True:
            self.stats.requests += 1
            try:
                if kind == "chat":
                    # The client's own post() (the SDK's documented call for any path), cast_to=object: the JSON
                    # body as the server sent it, read by the same code as a Batch API line. The same request,
                    # headers, Azure deployment route and errors as chat.completions.create, without the params
                    # transform and the response model, which were two thirds of a call's CPU (issue 23).
                    body = await client.post("/chat/completions", body=request, cast_to=object)
                    return _chat_result(body, request)
                resp = await client.embeddings.create(**request)
                return _embed_result(resp, request)
            except openai.APIStatusError as exc:
                status = exc.status_code
                if status in RETRY_STATUS and attempt < self.max_retries:
                    attempt += 1
                    await self._backoff(attempt, f"HTTP {status}", retry_after(exc))
                    continue
                return CallResult(error=(ROW_ERROR.MODEL_SERVER,
                                         describe(exc, self.endpoint.label, model=request.get("model"))))
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                if attempt < self.max_retries:
                    attempt += 1
                    await self._backoff(attempt, type(exc).__name__, None)
                    continue
                timed_out = isinstance(exc, openai.APITimeoutError)
                what = "timed out" if timed_out else "could not connect"
                return CallResult(error=(ROW_ERROR.MODEL_SERVER,
                                         redact(f"{what} to {self.endpoint.label} after {attempt + 1} attempts")),
                                  timed_out=timed_out)
            except (ValueError, json.JSONDecodeError) as exc:  # a 200 whose body isn't JSON: a server glitch
                if attempt < self.max_retries:
                    attempt += 1
                    await self._backoff(attempt, "unreadable response", None)
                    continue
                return CallResult(error=(ROW_ERROR.MODEL_SERVER, redact(f"unreadable response: {exc}")[:300]))
            except Exception as exc:  # never let one row take the batch down; keep the traceback in the log
                log_failure("model request", exc)
                return CallResult(error=(ROW_ERROR.OTHER, redact(f"{type(exc).__name__}: {exc}")[:300]))

    async def _backoff(self, attempt: int, why: str, retry_after: float | None) -> None:
        self.stats.retries += 1
        if self.on_retry:
            self.on_retry(self.stats.retries, why)
        import asyncio
        import random

        delay = retry_after if retry_after is not None else min(8.0, 0.25 * 2 ** (attempt - 1))
        await asyncio.sleep(min(30.0, delay) * (0.8 + 0.4 * random.random()))


def _cancelled(cancel) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if hasattr(cancel, "is_set") else bool(cancel())


def _run_async(coro):
    """asyncio.run in a private thread: the caller may already be inside an event loop."""
    import asyncio

    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=target, name="ftstudio-model-calls", daemon=True)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _usage(resp) -> TokenUsage:
    u = getattr(resp, "usage", None)
    if u is None:
        return TokenUsage(requests=1)
    details = getattr(u, "prompt_tokens_details", None)
    return TokenUsage(prompt_tokens=getattr(u, "prompt_tokens", 0) or 0,
                      completion_tokens=getattr(u, "completion_tokens", 0) or 0,
                      total_tokens=getattr(u, "total_tokens", 0) or 0,
                      cached_tokens=(getattr(details, "cached_tokens", 0) or 0) if details else 0, requests=1)


def _chat_result(body, request) -> CallResult:
    """A live chat answer (its JSON body; text when the server said it is not JSON) as a result."""
    parts = _chat_parts(body, request.get("model", ""))
    if parts is None:
        usage = _body_usage(body.get("usage") if isinstance(body, dict) else None)
        return CallResult(error=(ROW_ERROR.MODEL_SERVER, "the response has no choices"), usage=usage)
    value, usage, model = parts
    return CallResult(value=value, usage=usage, model=model)


def chat_cache_entry(body: dict[str, Any], request_model: str = "") -> dict[str, Any] | None:
    """The cache entry a live call would have stored, from a chat.completion JSON body (a Batch API output
    line); None when the body has no choices."""
    parts = _chat_parts(body, request_model)
    if parts is None:
        return None
    value, usage, model = parts
    return {"value": value, "usage": usage.to_dict(), "model": model}


def _chat_parts(body, request_model: str) -> tuple[dict[str, Any], TokenUsage, str] | None:
    """(value, usage, model) of a chat.completion body, live or from a batch; None when it has no choices. The
    first choice by index is the answer; with n > 1 every choice, in index order."""
    choices = body.get("choices") if isinstance(body, dict) else None
    ordered = sorted((c for c in choices if isinstance(c, dict)), key=_index) \
        if isinstance(choices, list) else []
    if not ordered:
        return None
    msgs = [m if isinstance(m := c.get("message"), dict) else {} for c in ordered]
    value: dict[str, Any] = {"content": msgs[0].get("content"), "refusal": msgs[0].get("refusal")}
    if len(msgs) > 1:
        value["choices"] = [{"content": m.get("content"), "refusal": m.get("refusal")} for m in msgs]
    return value, _body_usage(body.get("usage")), body.get("model") or request_model


def _index(choice: dict) -> int:
    index = choice.get("index")  # a server's odd index (a string, null) sorts first rather than failing the row
    return index if isinstance(index, int) else 0


def _body_usage(u) -> TokenUsage:
    u = u if isinstance(u, dict) else {}
    details = u.get("prompt_tokens_details")
    return TokenUsage(prompt_tokens=u.get("prompt_tokens") or 0, completion_tokens=u.get("completion_tokens") or 0,
                      total_tokens=u.get("total_tokens") or 0,
                      cached_tokens=(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0,
                      requests=1)


def _embed_result(resp, request) -> CallResult:
    data = sorted(resp.data, key=lambda d: d.index)
    return CallResult(value={"embeddings": [list(d.embedding) for d in data]}, usage=_usage(resp),
                      model=getattr(resp, "model", None) or request.get("model", ""))


def _from_cache(entry: dict) -> CallResult:
    usage = TokenUsage(cache_hits=1)
    return CallResult(value=entry["value"], usage=usage, model=entry.get("model", ""), cached=True)
