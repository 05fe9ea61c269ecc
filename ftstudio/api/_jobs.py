"""Submit a job: upload the files, create the job from the exported body, follow it.

A creation that fails after the upload keeps the uploaded file ids (SubmitError.uploaded), so a
retry passes those ids instead of uploading again. Everything is plain dicts from the API.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ftstudio.config import JobConfig, to_data
from ftstudio.core.records import datarecord, field

from ._calls import ApiError, call, raw_json
from ._endpoint import Endpoint

TERMINAL = {"succeeded", "failed", "cancelled"}


class SubmitError(Exception):
    def __init__(self, message: str, uploaded: dict[str, str] | None = None):
        super().__init__(message)
        self.message, self.uploaded = message, uploaded or {}


class _Progress:
    """A file wrapper that reports bytes read, so big uploads show progress."""

    def __init__(self, fh, total: int, callback: Callable[[int, int], None] | None):
        self.fh, self.total, self.callback, self.sent = fh, total, callback, 0
        self.name = getattr(fh, "name", "upload.jsonl")

    def read(self, size: int = -1) -> bytes:
        chunk = self.fh.read(size)
        self.sent += len(chunk)
        if self.callback:
            self.callback(self.sent, self.total)
        return chunk

    def __getattr__(self, item):
        return getattr(self.fh, item)


def is_file_id(value: str) -> bool:
    return value.startswith("file-") and not os.path.exists(value)


def upload(endpoint: Endpoint, source, *, progress=None, **kw) -> dict:
    """Upload a .jsonl with purpose fine-tune. `source`: a path, or (name, binary file object)."""
    if isinstance(source, tuple):
        name, fh = source
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(0)
        opener = lambda: _Borrowed(fh)  # the caller owns the file object
    else:
        p = Path(source)
        name = p.name
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise SubmitError(f"cannot read {p}: {exc.strerror or exc}") from None
        opener = lambda: p.open("rb")
    if not name.lower().endswith(".jsonl"):
        raise SubmitError(f"{name}: fine-tuning accepts .jsonl files only; convert it first "
                          "(the Test grading page and `ftstudio check-data` read .json and .csv)")

    def send(client):
        with opener() as fh:
            fh.seek(0)
            return client.files.with_raw_response.create(file=(name, _Progress(fh, size, progress)),
                                                         purpose="fine-tune")

    return raw_json(call(endpoint, send, what=f"upload {name}", **kw))


class _Borrowed:
    """A context manager around a file object that must stay open afterwards."""

    def __init__(self, fh):
        self.fh = fh

    def __enter__(self):
        return self.fh

    def __exit__(self, *exc):
        return False


# The SDK's create() parameters; any other top-level field (a provider extension such as Azure's
# trainingType) goes in extra_body, so the body is sent as the user wrote it.
_CREATE_PARAMS = {"model", "training_file", "validation_file", "suffix", "seed", "metadata", "integrations",
                  "method", "hyperparameters"}


def create_job(endpoint: Endpoint, body: dict, **kw) -> dict:
    args = {k: v for k, v in body.items() if k in _CREATE_PARAMS}
    extra = {k: v for k, v in body.items() if k not in _CREATE_PARAMS}
    if extra:
        args["extra_body"] = extra
    return raw_json(call(endpoint, lambda c: c.fine_tuning.jobs.with_raw_response.create(**args),
                         what="create the fine-tuning job", model=body.get("model"), **kw))


@datarecord
class Submission:
    job: dict
    uploaded: dict[str, str] = field(default_factory=dict)  # role -> file id uploaded by this call


KEEP = "keep the config's validation_file"


# What a file to upload can be: a path, (name, binary file object) as an uploader gives it, or a file id.
FileSource = str | os.PathLike[str] | tuple[str, Any]


def submit(endpoint: Endpoint, config: JobConfig | dict, train: FileSource | None,
           validation: FileSource | None = KEEP, *,
           progress: Callable[[str, int, int], None] | None = None, **kw) -> Submission:
    """Upload (or reuse file ids), then create the job with the exported body.

    `train` / `validation`: a .jsonl path, (name, file object), or an uploaded file id.
    `validation=KEEP` uses the config's validation_file; None sends none.
    """
    uploaded: dict[str, str] = {}
    ids: dict[str, str | None] = {"training_file": None, "validation_file": None}
    for role, source in (("training_file", train), ("validation_file", validation)):
        if not source or source is KEEP:
            continue
        if isinstance(source, str) and is_file_id(source):
            ids[role] = source
            continue
        try:
            obj = upload(endpoint, source, progress=(lambda s, t, r=role: progress(r, s, t)) if progress else None,
                         **kw)
        except (ApiError, SubmitError) as exc:
            raise SubmitError(getattr(exc, "message", str(exc)), uploaded) from None
        ids[role] = uploaded[role] = obj["id"]
    body = to_data(config)
    body["training_file"] = ids["training_file"] or body.get("training_file")
    if ids["validation_file"]:
        body["validation_file"] = ids["validation_file"]
    elif validation is not KEEP:
        body.pop("validation_file", None)
    try:
        job = create_job(endpoint, body, **kw)
    except ApiError as exc:
        kept = ", ".join(f"{k.split('_')[0]} {v}" for k, v in uploaded.items())
        hint = f" Uploaded files are kept ({kept}); retry with those ids instead of the paths." if uploaded else ""
        raise SubmitError(exc.message + "." + hint, uploaded) from None
    return Submission(job, uploaded)


def retrieve(endpoint: Endpoint, job_id: str, **kw) -> dict:
    return raw_json(call(endpoint, lambda c: c.fine_tuning.jobs.with_raw_response.retrieve(job_id),
                         what=f"read job {job_id}", **kw))


def events(endpoint: Endpoint, job_id: str, limit: int = 50, **kw) -> list[dict]:
    """The job's events, oldest first."""
    body = raw_json(call(endpoint, lambda c: c.fine_tuning.jobs.with_raw_response.list_events(job_id, limit=limit),
                         what=f"read events of {job_id}", **kw))
    # The API lists newest first; reverse, then a stable sort keeps same-second events in order.
    return sorted(reversed(body.get("data", [])), key=lambda e: e.get("created_at", 0))


def control(endpoint: Endpoint, job_id: str, action: str, **kw) -> dict:
    if action not in ("cancel", "pause", "resume"):
        raise ValueError(action)
    return raw_json(call(endpoint, lambda c: getattr(c.fine_tuning.jobs.with_raw_response, action)(job_id),
                         what=f"{action} job {job_id}", **kw))


def follow(endpoint: Endpoint, job_id: str, *, on_event: Callable[[dict], None] | None = None,
           on_status: Callable[[dict], None] | None = None, stop: Callable[[], bool] | None = None,
           first_interval: float = 1.0, max_interval: float = 30.0, sleep: Callable[[float], None] = time.sleep,
           **kw) -> dict:
    """Poll until the job ends (or `stop()`), with backoff that resets whenever something changes."""
    seen: set[str | None] = set()
    interval, last_status = first_interval, None
    while True:
        job = retrieve(endpoint, job_id, **kw)
        changed = job.get("status") != last_status
        if changed and on_status:
            on_status(job)
        last_status = job.get("status")
        for ev in events(endpoint, job_id, **kw):
            if ev.get("id") not in seen:
                seen.add(ev.get("id"))
                changed = True
                if on_event:
                    on_event(ev)
        if last_status in TERMINAL or (stop and stop()):
            return job
        interval = first_interval if changed else min(max_interval, interval * 2)
        sleep(interval)


def list_models(endpoint: Endpoint, **kw) -> list[dict]:
    """GET /v1/models: the provider's model objects, as plain dicts (extra fields such as shutdown_date kept)."""
    body = raw_json(call(endpoint, lambda c: c.models.with_raw_response.list(), what="list models", **kw))
    data = body.get("data") if isinstance(body, dict) else None
    return [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)] if isinstance(data, list) else []
