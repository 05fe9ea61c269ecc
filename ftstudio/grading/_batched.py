"""Model graders at Batch scale: the engine's own model requests go through the Batch API, and the
answers land in the model runner's disk cache under exactly those requests. The grade that follows is
the ordinary one: it finds every answer in the cache, so it scores exactly as a live run would.

custom_id is the request's cache key, so a batch can be picked up again (`--batch-id`) from nothing but
its id: each output line says which request it answers. Lines the batch failed are not cached; the
grade sends those live, with the usual retries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ftstudio.api import (
    Endpoint,
    ModelCache,
    batch_lines,
    batch_url,
    cache_key,
    chat_cache_entry,
    create_batch,
    result_lines,
    retrieve_batch,
    wait_batch,
)

from ._model_plan import model_requests


@dataclass
class BatchOutcome:
    batch: dict[str, Any] | None  # the final batch object; None when nothing needed sending
    requests: int = 0             # model requests the grade needs
    already_cached: int = 0
    stored: int = 0               # answers put into the cache
    failed: list[tuple[str, str]] = field(default_factory=list)  # (custom_id, why)

    def text(self) -> str:
        if self.batch is None:
            return f"all {self.requests:,} model requests already answered in the cache: no batch needed"
        status = self.batch.get("status")
        out = f"batch {self.batch.get('id')} {status}: {self.stored:,} answers stored"
        if self.failed:
            out += f"; {len(self.failed):,} failed in the batch and are sent live (e.g. {self.failed[0][1]})"
        return out


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


def collect(endpoint: Endpoint, batch: dict[str, Any], cache: ModelCache | None = None,
            **kw: Any) -> tuple[int, list[tuple[str, str]]]:
    """Store a finished batch's answers in the cache; (stored, failed lines)."""
    cache = cache or ModelCache()
    entries: dict[str, dict] = {}
    failed: list[tuple[str, str]] = []
    for line in result_lines(endpoint, batch, **kw):
        cid = str(line.get("custom_id"))
        response = line.get("response") or {}
        entry = chat_cache_entry(response.get("body") or {}) if response.get("status_code") == 200 else None
        if entry is None:
            err = line.get("error") or (response.get("body") or {}).get("error") or {}
            status = response.get("status_code")
            failed.append((cid, f"{'HTTP ' + str(status) + ': ' if status else ''}{err.get('message') or err}"[:300]))
            continue
        entries[cid] = entry
    cache.put_many(entries)
    return len(entries), failed


def run_batch(grader: Any, chunks: Iterable[Any], sample_field: str, endpoint: Endpoint, *,
              batch_id: str | None = None, poll: float = 30.0,
              on_status: Callable[[dict[str, Any]], None] | None = None,
              on_created: Callable[[dict[str, Any]], None] | None = None, **kw: Any) -> BatchOutcome:
    """Send the model requests a grade needs as one batch (or pick up `batch_id`), wait, cache the answers."""
    cache = ModelCache()
    if batch_id:
        batch = retrieve_batch(endpoint, batch_id, **kw)
        outcome = BatchOutcome(batch)
    else:
        pending, cached = pending_requests(grader, chunks, sample_field, endpoint, cache)
        if not pending:
            return BatchOutcome(None, cached, cached)
        batch = submit(endpoint, pending, metadata={"created_by": "ftstudio grade --batch"}, **kw)
        outcome = BatchOutcome(batch, len(pending) + cached, cached)
        if on_created:
            on_created(batch)
    batch = wait_batch(endpoint, batch["id"], poll=poll, on_status=on_status, **kw)
    outcome.batch = batch
    outcome.stored, outcome.failed = collect(endpoint, batch, cache, **kw)
    return outcome
