"""In-memory Batch API: POST /batches, GET /batches[/{id}], POST /batches/{id}/cancel.

A batch advances one status per retrieve (validating → in_progress → finalizing → completed). On
reaching finalizing it runs every input line through the same chat logic as /chat/completions and writes
the output file (successes) and the error file (failed lines), joined by `custom_id`, in reverse order
(the real API promises no order). `azure_style` mimics Azure global batch: `/chat/completions` line URLs,
"" for a missing file id and null request counts while validating.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from ._errors import ApiError

FLOW = ("validating", "in_progress", "finalizing", "completed")
TERMINAL = ("completed", "failed", "expired", "cancelled")
ENDPOINTS = ("/v1/chat/completions", "/chat/completions", "/v1/embeddings", "/v1/responses")

# (body) -> (status_code, response body); raises nothing
ChatRunner = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


class Batches:
    def __init__(self, store: Any) -> None:
        self.store = store  # the Files store (input and result files)
        self.lock = threading.RLock()
        self.batches: dict[str, dict[str, Any]] = {}
        self.auto_advance = True
        self.azure_style = False

    def create(self, body: Any, run_chat: ChatRunner) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "We could not parse the JSON body of your request.")
        for field in ("input_file_id", "endpoint", "completion_window"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise ApiError(400, f"Missing required parameter: '{field}'.", param=field,
                               code="missing_required_parameter")
        if body["endpoint"] not in ENDPOINTS:
            raise ApiError(400, f"Invalid value for 'endpoint': {body['endpoint']!r}.", param="endpoint",
                           code="invalid_value")
        if body["completion_window"] != "24h":
            raise ApiError(400, "Invalid value for 'completion_window': only '24h' is supported.",
                           param="completion_window", code="invalid_value")
        record = self.store._file(body["input_file_id"])
        if record["purpose"] != "batch":
            raise ApiError(400, f"File {body['input_file_id']} has purpose '{record['purpose']}', expected 'batch'.",
                           param="input_file_id", code="invalid_file_purpose")
        now = int(time.time())
        batch = {"id": f"batch_{uuid.uuid4().hex[:24]}", "object": "batch", "endpoint": body["endpoint"],
                 "errors": None, "input_file_id": body["input_file_id"], "completion_window": "24h",
                 "status": "validating", "output_file_id": None, "error_file_id": None, "created_at": now,
                 "in_progress_at": None, "expires_at": now + 86400, "finalizing_at": None, "completed_at": None,
                 "failed_at": None, "expired_at": None, "cancelling_at": None, "cancelled_at": None,
                 "request_counts": {"total": 0, "completed": 0, "failed": 0}, "metadata": body.get("metadata")}
        lines, errors = self._parse(record["_content"], body["endpoint"])
        with self.lock:
            self.batches[batch["id"]] = batch
            batch["_lines"], batch["_run"] = lines, run_chat
            if errors:
                batch.update(status="failed", failed_at=now, errors={"object": "list", "data": errors})
            else:
                batch["request_counts"]["total"] = len(lines)
                if self.azure_style:
                    batch["request_counts"].update(completed=None, failed=None)
            return self._public(batch)

    def _parse(self, content: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        lines: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        seen: set[str] = set()
        text = content.decode("utf-8", errors="replace")
        if not text.strip():
            return [], [{"code": "empty_file", "message": "The input file is empty.", "param": None, "line": None}]
        for n, raw in enumerate(text.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                errors.append({"code": "invalid_json_line", "message": f"Line {n} is not valid JSON.", "param": None,
                               "line": n})
                continue
            cid = line.get("custom_id") if isinstance(line, dict) else None
            if not isinstance(cid, str) or not cid:
                errors.append({"code": "missing_required_parameter", "message": "custom_id is required.",
                               "param": "custom_id", "line": n})
                continue
            if cid in seen:
                errors.append({"code": "duplicate_custom_id", "message": f"The custom_id {cid!r} is not unique.",
                               "param": "custom_id", "line": n})
                continue
            seen.add(cid)
            if line.get("url") != endpoint:
                errors.append({"code": "url_mismatch", "message": f"The url {line.get('url')!r} does not match the "
                               f"batch endpoint {endpoint!r}.", "param": "url", "line": n})
                continue
            lines.append(line)
        return lines, errors

    def _public(self, batch: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy({k: v for k, v in batch.items() if not k.startswith("_")})

    def _get(self, batch_id: str) -> dict[str, Any]:
        batch = self.batches.get(batch_id)
        if batch is None:
            raise ApiError(404, f"No batch found with id '{batch_id}'.", param="batch_id", code="not_found")
        return batch

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        with self.lock:
            batch = self._get(batch_id)
            if self.auto_advance and batch["status"] in FLOW[:-1]:
                self._enter(batch, FLOW[FLOW.index(batch["status"]) + 1])
            elif batch["status"] == "cancelling":
                self._enter(batch, "cancelled")
            return self._public(batch)

    def cancel(self, batch_id: str) -> dict[str, Any]:
        with self.lock:
            batch = self._get(batch_id)
            if batch["status"] in TERMINAL:
                raise ApiError(400, f"Cannot cancel a batch with status '{batch['status']}'.", code="invalid_state")
            self._enter(batch, "cancelling")
            return self._public(batch)

    def list(self, query: dict[str, str]) -> dict[str, Any]:
        from ._files_jobs import _page

        with self.lock:
            items = [self._public(b) for b in reversed(list(self.batches.values()))]
        return _page(items, query, 20)

    def _enter(self, batch: dict[str, Any], status: str) -> None:
        now = int(time.time())
        batch["status"] = status
        batch[f"{status}_at"] = now
        if status == "finalizing":
            self._execute(batch, batch["_lines"])
        elif status == "cancelled":
            self._execute(batch, [], cancelled=batch["_lines"])

    def _execute(self, batch: dict[str, Any], lines: list[dict[str, Any]],
                 cancelled: list[dict[str, Any]] | None = None) -> None:
        out, err = [], []
        for line in lines:
            status, body = batch["_run"](line.get("body") if isinstance(line.get("body"), dict) else {})
            entry = {"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": line["custom_id"],
                     "response": {"status_code": status, "request_id": f"req_{uuid.uuid4().hex[:24]}", "body": body},
                     "error": None}
            (out if status == 200 else err).append(entry)
        for line in cancelled or []:
            err.append({"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": line["custom_id"], "response": None,
                        "error": {"code": "batch_cancelled", "message": "The batch was cancelled."}})
        out.reverse()
        counts = batch["request_counts"]
        counts.update(completed=len(out), failed=len(err))
        blank = "" if self.azure_style else None
        batch["output_file_id"] = self._write(batch, "output", out) if out else blank
        batch["error_file_id"] = self._write(batch, "error", err) if err or self.azure_style else blank

    def _write(self, batch: dict[str, Any], kind: str, entries: list[dict[str, Any]]) -> str:
        data = "".join(json.dumps(e) + "\n" for e in entries).encode()
        return self.store.add_file(f"{batch['id']}_{kind}.jsonl", f"batch_{kind}", data)["id"]
