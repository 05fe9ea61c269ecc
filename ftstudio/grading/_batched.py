"""Model graders at Batch scale: the engine's own model requests go through the Batch API, and the
answers land in the model runner's disk cache under exactly those requests. The grade that follows is
the ordinary one: it finds every answer in the cache, so it scores exactly as a live run would.

custom_id is the request's cache key, so a batch can be picked up again (`--batch-id`) from nothing but
its id: each output line says which request it answers. Requests stream into as many batches as the
per-batch limits need, so millions of rows never sit in memory at once. Lines the batch failed are not cached; the
grade sends those live, with the usual retries.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ftstudio.api import (
    Endpoint,
    ModelCache,
    batch_counts,
    batch_lines,
    batch_url,
    cache_key,
    chat_cache_entry,
    create_batch,
    read_result_file,
    result_files,
    retrieve_batch,
    wait_batch,
)
from ftstudio.core.records import datarecord, field

from ._model_plan import RequestEstimate, estimate_requests, model_requests

# Per batch: OpenAI takes at most 50,000 requests and a 200 MB input file (Azure 100,000 lines); bigger
# gradings go out as several batches.
MAX_BATCH_REQUESTS = 50_000
MAX_BATCH_BYTES = 190 * 1024 * 1024


@datarecord
class BatchOutcome:
    batches: list[dict[str, Any]]  # the final batch objects; empty when nothing needed sending
    requests: int = 0              # model requests the grade needs
    already_cached: int = 0
    stored: int = 0                # answers put into the cache
    failed: list[tuple[str, str]] = field(default_factory=list)  # (custom_id, why)

    @property
    def unfinished(self) -> list[dict[str, Any]]:
        return [b for b in self.batches if b.get("status") != "completed"]

    def text(self) -> str:
        if not self.batches:
            return "every model request is already answered in the cache: no batch needed"
        states = ", ".join(f"{b.get('id')} {b.get('status')}" for b in self.batches)
        out = f"batch {states}: {self.stored:,} answers stored"
        if self.failed:
            out += f"; {len(self.failed):,} failed in the batch and are sent live (e.g. {self.failed[0][1]})"
        return out


class _Seen:
    """The requests met so far, in a private temporary sqlite database (on disk, deleted when closed): as a set of
    keys, 10,000,000 requests would hold 1.3 GB; this holds sqlite's page cache. A request is kept as 64 bits of
    its key (a hash): two requests that share them (about one chance in 370,000 at 10,000,000 requests) count as
    one, and the one left out of the batch is sent live by the grade that follows, as a line a batch failed is."""

    def __init__(self) -> None:
        import sqlite3

        self.db = sqlite3.connect("")  # "": a temporary database of this connection's own
        # Nothing to recover after a crash; 16 MB of pages: 5 µs a request at 2,000,000 requests, not 9.
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-16384"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("CREATE TABLE seen (key INTEGER PRIMARY KEY)")
        self.count = 0

    def new(self, keys: list[str]) -> list[bool]:
        """For each key in order, whether it is met here for the first time (a repeat in `keys` is not)."""
        cursor, fresh = self.db.cursor(), []
        for key in keys:
            cursor.execute("INSERT OR IGNORE INTO seen VALUES (?)", (int(key[:16], 16) - (1 << 63),))
            fresh.append(cursor.rowcount == 1)
        self.count += sum(fresh)
        return fresh

    def close(self) -> None:
        self.db.close()


def _requests(grader: Any, chunks: Iterable[Any], sample_field: str, endpoint: Endpoint, cache: ModelCache,
              stats: dict[str, int] | None = None) -> Iterator[tuple[str, dict]]:
    """Yield (custom_id, request) for every request not yet in the cache, once each; streams chunk by chunk,
    in memory that does not grow with the rows. `stats["unique"]` counts every distinct request seen, cached
    or not."""
    seen = _Seen()
    try:
        for chunk in chunks:
            reqs = model_requests(grader, chunk, sample_field)
            keys = [cache_key(endpoint, "chat", req) for req in reqs]
            keyed = {key: req for key, req, fresh in zip(keys, reqs, seen.new(keys)) if fresh}
            if stats is not None:
                stats["unique"] = seen.count
            hits = cache.get_many(list(keyed))
            for key, req in keyed.items():
                if key not in hits:
                    yield key, req
    finally:
        seen.close()


def plan_batch(grader: Any, chunks: Iterable[Any], sample_field: str, endpoint: Endpoint,
               cache: ModelCache | None = None) -> RequestEstimate:
    """What --batch will send, known before anything is sent: the uncached requests (count, prompt tokens,
    models) and, in `cached`, how many are answered already. Holds one block of requests at a time."""
    cache = cache or ModelCache()
    stats: dict[str, int] = {"unique": 0}
    total = tokens = 0
    models: set[str] = set()
    block: list[dict] = []
    for _key, req in _requests(grader, chunks, sample_field, endpoint, cache, stats):
        total += 1
        block.append(req)
        if len(block) >= 2000:
            est = estimate_requests(block)
            tokens, block = tokens + est.prompt_tokens, []
            models.update(est.models)
    if block:
        est = estimate_requests(block)
        tokens += est.prompt_tokens
        models.update(est.models)
    return RequestEstimate(total, tokens, sorted(models), stats["unique"] - total)


def pending_requests(grader: Any, chunks: Iterable[Any], sample_field: str, endpoint: Endpoint,
                     cache: ModelCache | None = None) -> tuple[dict[str, dict], int]:
    """(custom_id -> chat body for the requests not yet answered in the cache, how many were cached)."""
    cache = cache or ModelCache()
    wanted: dict[str, dict] = {}
    for chunk in chunks:
        for req in model_requests(grader, chunk, sample_field):
            wanted.setdefault(cache_key(endpoint, "chat", req), req)
    hits = cache.get_many(list(wanted))
    return {k: v for k, v in wanted.items() if k not in hits}, len(hits)


def submit(endpoint: Endpoint, requests: dict[str, dict], metadata: dict[str, str] | None = None,
           **kw: Any) -> dict[str, Any]:
    """Upload the requests as a Batch API JSONL and create the batch."""
    url = batch_url(endpoint)
    return create_batch(endpoint, batch_lines(requests, url), url, metadata=metadata, **kw)


def submit_all(grader: Any, chunks: Iterable[Any], sample_field: str, endpoint: Endpoint, *,
               cache: ModelCache | None = None, on_created: Callable[[dict[str, Any]], None] | None = None,
               max_requests: int = MAX_BATCH_REQUESTS, max_bytes: int = MAX_BATCH_BYTES,
               **kw: Any) -> list[dict[str, Any]]:
    """Stream the uncached requests into as many batches as the per-batch limits need; the created batches."""
    cache = cache or ModelCache()
    url = batch_url(endpoint)
    created: list[dict[str, Any]] = []
    buf = io.BytesIO()  # the next batch's JSONL, uploaded from here as it is read (one copy of it, not three)
    lines = 0

    def send() -> None:
        nonlocal buf, lines
        if lines:
            batch = create_batch(endpoint, buf, url, name=f"ftstudio-batch-{len(created) + 1}.jsonl",
                                 metadata={"created_by": "ftstudio grade --batch"}, **kw)
            created.append(batch)
            if on_created:
                on_created(batch)
            buf, lines = io.BytesIO(), 0

    for key, req in _requests(grader, chunks, sample_field, endpoint, cache):
        line = batch_lines({key: req}, url)
        if lines and (lines >= max_requests or buf.tell() + len(line) > max_bytes):
            send()
        buf.write(line)
        lines += 1
    send()
    return created


def collect(endpoint: Endpoint, batch: dict[str, Any], cache: ModelCache | None = None,
            **kw: Any) -> tuple[int, list[tuple[str, str]]]:
    """Store a finished batch's answers in the cache as its files download, a block at a time; (stored, failed
    lines)."""
    cache = cache or ModelCache()
    stored = 0
    failed: list[tuple[str, str]] = []
    for file_id in result_files(batch):
        s, f = read_result_file(endpoint, str(batch.get("id")), file_id, lambda lines: _store(lines, cache), **kw)
        stored += s
        failed += f
    return stored, failed


STORE_EVERY = 2_000  # answers put into the cache at a time while a result file downloads


def _store(lines: Iterator[dict[str, Any]], cache: ModelCache) -> tuple[int, list[tuple[str, str]]]:
    """Put a result file's answers into the cache, STORE_EVERY at a time; (stored, failed lines)."""
    entries: dict[str, dict] = {}
    failed: list[tuple[str, str]] = []
    stored = 0
    for line in lines:
        cid = str(line.get("custom_id"))
        response = line.get("response") or {}
        entry = chat_cache_entry(response.get("body") or {}) if response.get("status_code") == 200 else None
        if entry is None:
            err = line.get("error") or (response.get("body") or {}).get("error") or {}
            status = response.get("status_code")
            failed.append((cid, f"{'HTTP ' + str(status) + ': ' if status else ''}{err.get('message') or err}"[:300]))
            continue
        entries[cid] = entry
        if len(entries) >= STORE_EVERY:
            cache.put_many(entries)
            stored, entries = stored + len(entries), {}
    cache.put_many(entries)
    return stored + len(entries), failed


def run_batch(grader: Any, chunks: Iterable[Any], sample_field: str, endpoint: Endpoint, *,
              batch_ids: list[str] | None = None, poll: float = 30.0,
              on_status: Callable[[dict[str, Any]], None] | None = None,
              on_created: Callable[[dict[str, Any]], None] | None = None, **kw: Any) -> BatchOutcome:
    """Send the model requests a grade needs as batches (or pick up `batch_ids`), wait, cache the answers."""
    cache = ModelCache()
    if batch_ids:
        batches = [retrieve_batch(endpoint, b, **kw) for b in batch_ids]
    else:
        batches = submit_all(grader, chunks, sample_field, endpoint, cache=cache, on_created=on_created, **kw)
    outcome = BatchOutcome([])
    for batch in batches:
        done = wait_batch(endpoint, batch["id"], poll=poll, on_status=on_status, **kw)
        outcome.batches.append(done)
        stored, failed = collect(endpoint, done, cache, **kw)
        outcome.stored += stored
        outcome.failed.extend(failed)
        outcome.requests += batch_counts(done)[0]
    return outcome
