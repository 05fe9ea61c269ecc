"""In-memory Files API and fine-tuning jobs whose status advances one step per retrieve."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
import uuid
from email import policy
from email.parser import BytesParser
from typing import Any

from ._errors import ApiError

JOB_FLOW = ("validating_files", "queued", "running", "succeeded")
TERMINAL = ("succeeded", "failed", "cancelled")
_FLOW_MESSAGES = {
    "queued": "Files validated, moving job to queued state",
    "running": "Fine-tuning job started",
    "succeeded": "The job has successfully completed",
}
METRIC_STEPS = 3


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """name -> (filename, bytes) for a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ApiError(400, "Expected a multipart/form-data body.")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return fields


def _page(items: list[dict[str, Any]], query: dict[str, str], default_limit: int) -> dict[str, Any]:
    after = query.get("after")
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    try:
        limit = max(1, int(query.get("limit", default_limit)))
    except ValueError:
        limit = default_limit
    page = items[:limit]
    return {"object": "list", "data": page, "has_more": len(items) > limit,
            "first_id": page[0]["id"] if page else None, "last_id": page[-1]["id"] if page else None}


def _not_found(kind: str, ident: str, param: str = "id") -> ApiError:
    return ApiError(404, f"No such {kind}: {ident}", param=param)


class Store:
    """Files and jobs; every public method takes the lock, so handlers may call them from any thread."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.files: dict[str, dict[str, Any]] = {}       # id -> file object + "_content" bytes
        self.jobs: dict[str, dict[str, Any]] = {}        # id -> job object (the API shape)
        self.job_bodies: dict[str, dict[str, Any]] = {}  # id -> the exact create body
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.auto_advance = True
        self.list_ids = True  # first_id/last_id on job lists; the real API sends neither

    def add_job(self, job: dict[str, Any]) -> None:
        """Seed a job object exactly as given (no POST, no validation); it lists by created_at."""
        with self.lock:
            self.jobs[job["id"]] = copy.deepcopy(job)
            self.events.setdefault(job["id"], [])

    # ---------------------------------------------------------------- files
    def upload(self, content_type: str, body: bytes) -> dict[str, Any]:
        fields = parse_multipart(content_type, body)
        purpose = fields.get("purpose", (None, b""))[1].decode()
        if not purpose:
            raise ApiError(400, "Missing required parameter: 'purpose'.", param="purpose",
                           code="missing_required_parameter")
        if "file" not in fields:
            raise ApiError(400, "Missing required parameter: 'file'.", param="file", code="missing_required_parameter")
        filename, content = fields["file"]
        filename = filename or "upload"
        if purpose == "fine-tune" and not filename.lower().endswith(".jsonl"):
            raise ApiError(400, "Invalid file format for Fine-Tuning API. Must be .jsonl", param="file")
        return self.add_file(filename, purpose, content)

    def add_file(self, filename: str, purpose: str, content: bytes) -> dict[str, Any]:
        obj = {"id": f"file-{uuid.uuid4().hex[:24]}", "object": "file", "bytes": len(content),
               "created_at": int(time.time()), "filename": filename, "purpose": purpose,
               "status": "processed", "status_details": None, "expires_at": None}
        with self.lock:
            self.files[obj["id"]] = {**obj, "_content": content}
        return obj

    def _file(self, file_id: str) -> dict[str, Any]:
        with self.lock:
            record = self.files.get(file_id)
        if record is None:
            raise _not_found("File object", file_id)
        return record

    def file_object(self, file_id: str) -> dict[str, Any]:
        return {k: v for k, v in self._file(file_id).items() if k != "_content"}

    def file_content(self, file_id: str) -> bytes:
        return self._file(file_id)["_content"]

    def delete_file(self, file_id: str) -> dict[str, Any]:
        with self.lock:
            if self.files.pop(file_id, None) is None:
                raise _not_found("File object", file_id)
        return {"id": file_id, "object": "file", "deleted": True}

    def list_files(self, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            items = [self.file_object(fid) for fid in self.files]
        if query.get("purpose"):
            items = [f for f in items if f["purpose"] == query["purpose"]]
        if query.get("order", "desc") == "desc":
            items.reverse()
        return _page(items, query, 10000)

    # ---------------------------------------------------------------- jobs
    def create_job(self, body: Any, unknown_models: set[str]) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "We could not parse the JSON body of your request.")
        for field in ("model", "training_file"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise ApiError(400, f"Missing required parameter: '{field}'.", param=field,
                               code="missing_required_parameter")
        if body["model"] in unknown_models:
            raise ApiError(400, f"Model {body['model']} is not available for fine-tuning or does not exist.",
                           param="model", code="model_not_available")
        for field in ("training_file", "validation_file"):
            file_id = body.get(field)
            if file_id is None and field == "validation_file":
                continue
            with self.lock:
                record = self.files.get(file_id) if isinstance(file_id, str) else None
            if record is None:
                raise ApiError(400, f"invalid {field}: {file_id}", param=field, code="invalid_file")
            if record["purpose"] != "fine-tune":
                raise ApiError(400, f"File {file_id} has purpose '{record['purpose']}', expected 'fine-tune'.",
                               param=field, code="invalid_file_purpose")
        method = body.get("method")
        if method is not None:
            kind = method.get("type") if isinstance(method, dict) else None
            if kind not in ("supervised", "dpo", "reinforcement"):
                raise ApiError(400, "Invalid value for 'method.type': expected one of supervised, dpo, reinforcement.",
                               param="method.type", code="invalid_value")
            if kind == "reinforcement" and not isinstance((method.get("reinforcement") or {}).get("grader"), dict):
                raise ApiError(400, "Missing required parameter: 'method.reinforcement.grader'.",
                               param="method.reinforcement.grader", code="missing_required_parameter")
        suffix = body.get("suffix")
        if suffix is not None and (not isinstance(suffix, str) or not 1 <= len(suffix) <= 64):
            raise ApiError(400, "Invalid value for 'suffix': expected 1 to 64 characters.", param="suffix",
                           code="invalid_value")
        job = self._job_object(body)
        with self.lock:
            self.jobs[job["id"]] = job
            self.job_bodies[job["id"]] = copy.deepcopy(body)
            self.events[job["id"]] = []
            self._event(job["id"], f"Validating training file: {body['training_file']}")
        return copy.deepcopy(job)

    def _job_object(self, body: dict[str, Any]) -> dict[str, Any]:
        method = copy.deepcopy(body.get("method")) or {
            "type": "supervised", "supervised": {"hyperparameters": body.get("hyperparameters") or {}}}
        hyper: dict[str, Any] = {}
        if method["type"] == "supervised":
            given = (method.get("supervised") or {}).get("hyperparameters") or body.get("hyperparameters") or {}
            hyper = {k: given.get(k, "auto") for k in ("batch_size", "learning_rate_multiplier", "n_epochs")}
        seed = body.get("seed")
        if seed is None:
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            seed = int(digest[:7], 16)
        return {
            "id": f"ftjob-{uuid.uuid4().hex[:24]}", "object": "fine_tuning.job", "created_at": int(time.time()),
            "error": None, "fine_tuned_model": None, "finished_at": None, "hyperparameters": hyper,
            "model": body["model"], "organization_id": "org-stub", "result_files": [], "seed": seed,
            "status": "validating_files", "trained_tokens": None, "training_file": body["training_file"],
            "validation_file": body.get("validation_file"), "estimated_finish": None,
            "integrations": body.get("integrations"), "metadata": body.get("metadata"), "method": method,
            "user_provided_suffix": body.get("suffix"),
        }

    def _job(self, job_id: str) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"Could not find fine-tune: {job_id}", param="fine_tune_id", code="fine_tune_not_found")
        return job

    def _event(self, job_id: str, message: str, *, level: str = "info", type: str = "message",
               data: Any = None) -> None:
        self.events[job_id].append({"id": f"ftevent-{uuid.uuid4().hex[:24]}", "object": "fine_tuning.job.event",
                                    "created_at": int(time.time()), "level": level, "message": message,
                                    "data": data if data is not None else {}, "type": type})

    def retrieve_job(self, job_id: str) -> dict[str, Any]:
        with self.lock:
            job = self._job(job_id)
            if self.auto_advance and job["status"] in JOB_FLOW[:-1]:
                self._enter(job_id, JOB_FLOW[JOB_FLOW.index(job["status"]) + 1])
            return copy.deepcopy(job)

    def set_status(self, job_id: str, status: str, error: dict[str, Any] | None = None) -> dict[str, Any]:
        with self.lock:
            self._enter(job_id, status, error)
            return copy.deepcopy(self._job(job_id))

    def _enter(self, job_id: str, status: str, error: dict[str, Any] | None = None) -> None:
        job = self._job(job_id)
        job["status"] = status
        if status in _FLOW_MESSAGES:
            self._event(job_id, _FLOW_MESSAGES[status])
        if status == "running":
            self._metric_events(job_id, job)
        elif status == "succeeded":
            suffix = job.get("user_provided_suffix") or ""
            job["fine_tuned_model"] = f"ft:{job['model']}:stub-org:{suffix}:{job_id[-8:]}"
            job["finished_at"] = int(time.time())
            job["trained_tokens"] = 1000
            results = self.add_file("step_metrics.csv", "fine-tune-results", b"step,train_loss\n1,0.5\n")
            job["result_files"] = [results["id"]]
            self._event(job_id, f"New fine-tuned model created: {job['fine_tuned_model']}")
        elif status == "failed":
            job["error"] = {"code": "stub_failure", "message": "Failed (set by the test).", "param": None,
                            **(error or {})}
            job["finished_at"] = int(time.time())
            self._event(job_id, job["error"]["message"], level="error")
        elif status in ("cancelled", "paused"):
            self._event(job_id, f"Job {status}.")

    def _metric_events(self, job_id: str, job: dict[str, Any]) -> None:
        reinforcement = (job.get("method") or {}).get("type") == "reinforcement"
        for step in range(1, METRIC_STEPS + 1):
            if reinforcement:
                data: dict[str, Any] = {"step": step, "total_steps": METRIC_STEPS,
                                        "train_reward_mean": round(0.2 * step, 3),
                                        "valid_reward_mean": round(0.2 * step - 0.05, 3),
                                        "sample_parse_error_mean": 0.0, "invalid_variable_error_mean": 0.0}
            else:
                data = {"step": step, "total_steps": METRIC_STEPS, "train_loss": round(1.0 / step, 3),
                        "train_mean_token_accuracy": round(0.5 + 0.1 * step, 3)}
            self._event(job_id, f"Step {step}/{METRIC_STEPS}", type="metrics", data=data)

    def action(self, job_id: str, action: str) -> dict[str, Any]:
        with self.lock:
            job = self._job(job_id)
            if job["status"] in TERMINAL:
                raise ApiError(400, f"Job has already completed: {job_id}", param="fine_tune_id",
                               code="invalid_state")
            if action == "resume" and job["status"] != "paused":
                raise ApiError(400, f"Job is not paused: {job_id}", param="fine_tune_id", code="invalid_state")
            if action == "pause" and job["status"] == "paused":
                raise ApiError(400, f"Job is already paused: {job_id}", param="fine_tune_id", code="invalid_state")
            new = {"cancel": "cancelled", "pause": "paused", "resume": "running"}[action]
            if new == "running":
                job["status"] = "running"
                self._event(job_id, "Job resumed.")
            else:
                self._enter(job_id, new)
            return copy.deepcopy(job)

    def list_jobs(self, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            items = [copy.deepcopy(j) for j in reversed(list(self.jobs.values()))]
            list_ids = self.list_ids
        items.sort(key=lambda j: -j.get("created_at", 0))  # newest first; stable for same-second jobs
        for key, value in query.items():
            if key.startswith("metadata[") and key.endswith("]"):
                items = [j for j in items if (j.get("metadata") or {}).get(key[9:-1]) == value]
        page = _page(items, query, 20)
        if not list_ids:
            del page["first_id"], page["last_id"]
        return page

    def list_events(self, job_id: str, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            self._job(job_id)
            items = [copy.deepcopy(e) for e in reversed(self.events[job_id])]
        return _page(items, query, 20)
