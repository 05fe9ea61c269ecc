"""The Batch API: upload a JSONL of requests (purpose "batch"), create the batch, poll it, read its files.

Objects are read as raw JSON: Azure global batch sends loose ones (`"endpoint": null`, `""` file ids,
null request counts) that strict parsing rejects. `""` means "no file", null counts mean 0. Works with
OpenAI, Azure (both the /openai/v1 base and the api-version style, whose line URL is `/chat/completions`)
and any server that implements the files and batches endpoints.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ._calls import ApiError, call, raw_json
from ._endpoint import Endpoint

TERMINAL = ("completed", "failed", "expired", "cancelled")
COMPLETION_WINDOW = "24h"


def batch_url(endpoint: Endpoint) -> str:
    """The `url` of each line and the batch's `endpoint`: Azure's api-version API wants no /v1 prefix."""
    return "/chat/completions" if endpoint.kind == "azure" and endpoint.api_version else "/v1/chat/completions"


def batch_lines(requests: dict[str, dict], url: str) -> bytes:
    """JSONL input: one {custom_id, method, url, body} per request (custom_id -> chat body)."""
    return "".join(json.dumps({"custom_id": cid, "method": "POST", "url": url, "body": body}, ensure_ascii=False)
                   + "\n" for cid, body in requests.items()).encode("utf-8")


def create_batch(endpoint: Endpoint, content: bytes, url: str, *, name: str = "ftstudio-batch.jsonl",
                 metadata: dict[str, str] | None = None, **kw: Any) -> dict[str, Any]:
    """Upload the input file and create the batch; the batch object as JSON."""
    file = raw_json(call(endpoint, lambda c: c.files.with_raw_response.create(file=(name, content), purpose="batch"),
                         what="upload the batch input", **kw))
    extra = {"metadata": metadata} if metadata else {}
    return raw_json(call(endpoint, lambda c: c.batches.with_raw_response.create(
        input_file_id=file["id"], endpoint=url, completion_window=COMPLETION_WINDOW, **extra),
        what="create the batch", **kw))


def retrieve_batch(endpoint: Endpoint, batch_id: str, **kw: Any) -> dict[str, Any]:
    return raw_json(call(endpoint, lambda c: c.batches.with_raw_response.retrieve(batch_id),
                         what=f"read batch {batch_id}", **kw))


def cancel_batch(endpoint: Endpoint, batch_id: str, **kw: Any) -> dict[str, Any]:
    return raw_json(call(endpoint, lambda c: c.batches.with_raw_response.cancel(batch_id),
                         what=f"cancel batch {batch_id}", **kw))


def file_text(endpoint: Endpoint, file_id: str, **kw: Any) -> str:
    return call(endpoint, lambda c: c.files.content(file_id), what=f"download {file_id}", **kw).text


def counts(batch: dict[str, Any]) -> tuple[int, int, int]:
    """(total, completed, failed), null counts read as 0."""
    rc = batch.get("request_counts") or {}
    return int(rc.get("total") or 0), int(rc.get("completed") or 0), int(rc.get("failed") or 0)


def wait_batch(endpoint: Endpoint, batch_id: str, *, poll: float = 30.0,
               on_status: Callable[[dict[str, Any]], None] | None = None, sleep: Callable[[float], None] = time.sleep,
               **kw: Any) -> dict[str, Any]:
    """Poll until the batch reaches a terminal status; returns the last batch object."""
    while True:
        batch = retrieve_batch(endpoint, batch_id, **kw)
        if on_status:
            on_status(batch)
        if batch.get("status") in TERMINAL:
            return batch
        sleep(poll)


def result_lines(endpoint: Endpoint, batch: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
    """Every output and error line of a finished batch (results come in no particular order)."""
    out: list[dict[str, Any]] = []
    for key in ("output_file_id", "error_file_id"):
        file_id = batch.get(key)
        if not file_id:  # None, or Azure's ""
            continue
        for n, line in enumerate(file_text(endpoint, file_id, **kw).splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                raise ApiError(f"batch {batch.get('id')}: line {n} of {file_id} is not JSON") from None
            if isinstance(entry, dict):
                out.append(entry)
    return out
