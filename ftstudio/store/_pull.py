"""`pull`: save every fine-tuning job of an account as a create-job body, before the provider closes.

Two steps, so a failing API leaves nothing half-written: `fetch` reads every page and turns each
job into a body checked by validation (no disk); `save` writes DIR/<job id>.json and
DIR/index.json, each atomically and only when its content changed, so reruns are cheap.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftstudio.api import INDEX_FIELDS, Endpoint, grader_type, job_body, job_record, list_jobs
from ftstudio.config import catalog
from ftstudio.core import Issue, redact_data
from ftstudio.validation import check, errors

from ._files import atomic_write

STATUSES = ("succeeded", "failed", "cancelled", "all")
DEFAULT_OUT = "pulled"
INDEX = "index.json"
RETIRING_DAYS = 60



@dataclass
class PulledJob:
    """One job: its index entry (status, results, file, problems) and the body written for it."""

    entry: dict[str, Any]
    body: dict[str, Any]
    problems: list[Issue] = field(default_factory=list)
    change: str = ""  # after save: "new" | "updated" | "unchanged"

    @property
    def id(self) -> str:
        return self.entry["id"]

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def method(self) -> str:
        method = self.body.get("method")
        return method.get("type", "?") if isinstance(method, dict) else "supervised"

    @property
    def grader_type(self) -> str | None:
        return grader_type(self.body)

    def stops_serving(self) -> dt.date | None:
        """When the fine-tuned model stops answering: its base model's retirement (None: unknown)."""
        return retirement(self.entry.get("model"))


@dataclass
class PullResult:
    out: Path
    jobs: list[PulledJob]
    index: list[dict[str, Any]]

    def counts(self) -> dict[str, int]:
        c = {"saved": len(self.jobs), "new": 0, "updated": 0, "unchanged": 0,
             "invalid": sum(not j.valid for j in self.jobs)}
        for j in self.jobs:
            c[j.change] = c.get(j.change, 0) + 1
        return c


def retirement(model: Any) -> dt.date | None:
    """The retirement date the model table gives for a (base or fine-tuned) model id."""
    info = catalog.lookup(model) if isinstance(model, str) and model.strip() else None
    return info.retired if info is not None else None


def retiring(jobs: list[PulledJob], days: int = RETIRING_DAYS,
             today: dt.date | None = None) -> list[tuple[PulledJob, dt.date]]:
    """Jobs whose fine-tuned model stops serving within `days` (already stopped ones excluded), soonest first."""
    today = today or catalog.today()
    out = []
    for job in jobs:
        when = job.stops_serving()
        if job.entry.get("fine_tuned_model") and when is not None and 0 <= (when - today).days <= days:
            out.append((job, when))
    return sorted(out, key=lambda pair: (pair[1], pair[0].id))


def convert(job: dict[str, Any]) -> PulledJob:
    """A raw job object as a checked create body (secrets masked) and its index entry."""
    raw_body = job_body(job)
    problems = errors(check(raw_body))  # secret-looking values included: they are written masked
    record = job_record(job)
    entry = {key: record.pop(key) for key in INDEX_FIELDS}
    entry.update(file=file_name(job.get("id", "")), valid=not problems,
                 problems=[{"path": p.path, "code": p.code, "message": p.message, "hint": p.hint} for p in problems])
    entry.update(record)  # the other status/result fields, as the API named them
    return PulledJob(entry, redact_data(raw_body), problems)


def fetch(endpoint: Endpoint, *, since: dt.date | None = None, status: str = "all", **kw) -> list[PulledJob]:
    """Every job of the account (newest first), filtered by creation date and status; raises ApiError."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    after = int(dt.datetime.combine(since, dt.time(), dt.UTC).timestamp()) if since else None
    out = []
    for job in list_jobs(endpoint, created_after=after, **kw):
        created = job.get("created_at")
        if after is not None and not (isinstance(created, int) and created >= after):
            continue
        if status != "all" and job.get("status") != status:
            continue
        out.append(convert(job))
    return out


def save(jobs: list[PulledJob], out: str | os.PathLike = DEFAULT_OUT) -> PullResult:
    """Write each body and the index; unchanged files are left alone. Raises OSError."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for job in jobs:
        job.change = _write_if_changed(folder / job.entry["file"], _dump(job.body))
    index = _merged_index(folder, [j.entry for j in jobs])
    _write_if_changed(folder / INDEX, _dump(index))
    return PullResult(folder, jobs, index)


def pull(endpoint: Endpoint, out: str | os.PathLike = DEFAULT_OUT, *, since: dt.date | None = None,
         status: str = "all", **kw) -> PullResult:
    """fetch, then save: an API failure raises before anything is written."""
    return save(fetch(endpoint, since=since, status=status, **kw), out)


def file_name(job_id: str) -> str:
    """DIR/<job id>.json, with anything that isn't safe in a file name replaced (ids come from a server)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", str(job_id)).lstrip(".") or "job"
    return ("job-" + safe if safe == "index" else safe) + ".json"


def read_index(out: str | os.PathLike = DEFAULT_OUT) -> list[dict[str, Any]]:
    """The index of an earlier pull ([] when there is none or it can't be read)."""
    try:
        data = json.loads((Path(out) / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [e for e in data if isinstance(e, dict) and isinstance(e.get("id"), str)] if isinstance(data, list) else []


def _merged_index(folder: Path, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This pull's entries, plus earlier ones (another --status or --since) whose files are still there."""
    ids = {e["id"] for e in entries}
    kept = [e for e in read_index(folder)
            if e["id"] not in ids and isinstance(e.get("file"), str) and (folder / e["file"]).is_file()]
    merged = entries + kept
    return sorted(merged, key=lambda e: (-(e.get("created_at") or 0) if isinstance(e.get("created_at"), int) else 0,
                                         e["id"]))


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _write_if_changed(path: Path, text: str) -> str:
    try:
        if path.read_text(encoding="utf-8") == text:
            return "unchanged"
        change = "updated"
    except FileNotFoundError:
        change = "new"
    except (OSError, UnicodeDecodeError):
        change = "updated"
    atomic_write(path, text, f".{path.name}.")
    return change
