"""The Batch API: upload a JSONL of requests (purpose "batch"), create the batch, poll it, read its files.

Objects are read as raw JSON: Azure global batch sends loose ones (`"endpoint": null`, `""` file ids,
null request counts) that strict parsing rejects. `""` means "no file", null counts mean 0. Works with
OpenAI, Azure (both the /openai/v1 base and the api-version style, whose line URL is `/chat/completions`)
and any server that implements the files and batches endpoints.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import IO, Any, TypeVar

from ._calls import ApiError, call, raw_json
from ._endpoint import Endpoint

T = TypeVar("T")
TERMINAL = ("completed", "failed", "expired", "cancelled")
COMPLETION_WINDOW = "24h"


def batch_url(endpoint: Endpoint) -> str:
    """The `url` of each line and the batch's `endpoint`: Azure's api-version API wants no /v1 prefix."""
    return "/chat/completions" if endpoint.kind == "azure" and endpoint.api_version else "/v1/chat/completions"


def batch_lines(requests: dict[str, dict], url: str) -> bytes:
    """JSONL input: one {custom_id, method, url, body} per request (custom_id -> chat body)."""
    return "".join(json.dumps({"custom_id": cid, "method": "POST", "url": url, "body": body}, ensure_ascii=False)
                   + "\n" for cid, body in requests.items()).encode("utf-8")


def create_batch(endpoint: Endpoint, content: bytes | IO[bytes], url: str, *, name: str = "ftstudio-batch.jsonl",
                 metadata: dict[str, str] | None = None, **kw: Any) -> dict[str, Any]:
    """Upload the input file (bytes, or a binary file read from its start: sent as it is read, not copied
    whole) and create the batch; the batch object as JSON."""

    def upload(c: Any) -> Any:
        if not isinstance(content, bytes):
            content.seek(0)  # each attempt sends the whole file
        return c.files.with_raw_response.create(file=(name, content), purpose="batch")

    file = raw_json(call(endpoint, upload, what="upload the batch input", **kw))
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


def result_files(batch: dict[str, Any]) -> list[str]:
    """The ids of a finished batch's output and error files (None, or Azure's "", means no file)."""
    return [file_id for key in ("output_file_id", "error_file_id") if (file_id := batch.get(key))]


def read_result_file(endpoint: Endpoint, batch_id: str, file_id: str, consume: Callable[[Iterator[dict[str, Any]]], T],
                     **kw: Any) -> T:
    """consume(entries) over one result file's JSON lines, read as the file downloads: a file of 50,000 answers
    (hundreds of MB as parsed JSON) is never held whole (issue 23). A download that breaks off is retried, as
    any call, from the file's first line with a new consume call, so consume starts from nothing each time."""

    def attempt(c: Any) -> T:
        with c.files.with_streaming_response.content(file_id) as response:
            return consume(_entries(_downloaded(response), batch_id, file_id))

    return call(endpoint, attempt, what=f"download {file_id}", **kw)


def _downloaded(response: Any) -> Iterator[bytes]:
    """The file's lines as they arrive, split at "\n" only (JSONL's separator: a JSON string may hold a raw U+2028,
    which str.splitlines would split at). A failure while reading them is a connection error, which call()
    retries (the SDK raises its own errors only for what happens before the body is read)."""
    import openai

    chunks, pending = response.iter_bytes(), []  # pending: the parts of a line not ended yet
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            break
        except Exception as exc:  # the HTTP stack's read errors (httpx's or the SDK's vendored copy's)
            raise openai.APIConnectionError(message=f"the download broke off ({type(exc).__name__})",
                                            request=response.http_request) from exc
        if b"\n" not in chunk:
            pending.append(chunk)
            continue
        lines = (b"".join(pending) + chunk).split(b"\n")
        pending = [lines.pop()]
        yield from lines
    if any(pending):
        yield b"".join(pending)


def _entries(lines: Iterator[bytes], batch_id: str, file_id: str) -> Iterator[dict[str, Any]]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise ApiError(f"batch {batch_id}: line {n} of {file_id} is not JSON") from None
        if isinstance(entry, dict):
            yield entry


def result_lines(endpoint: Endpoint, batch: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
    """Every output and error line of a finished batch, in one list (results come in no particular order).
    For big batches, read_result_file hands them over as they download."""
    out: list[dict[str, Any]] = []
    for file_id in result_files(batch):
        out += read_result_file(endpoint, str(batch.get("id")), file_id, list, **kw)
    return out
