"""`pull`: save every fine-tuning job of an account as a create-job body, before the provider closes.

Two steps, so a failing API leaves nothing half-written: `fetch` reads every page and turns each
job into a body checked by validation (no disk); `save` writes DIR/<job id>.json and
DIR/index.json, each atomically and only when its content changed, so reruns are cheap.

The listing is bounded (pages, a deadline, decompressed bytes, nesting); when a bound stops it,
`fetch` raises PullIncomplete with the jobs read before, which are still worth saving. Everything
written (bodies, the index, file names) has secrets masked: a server may echo the key anywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from ftstudio.api import INDEX_FIELDS, Endpoint, ListingStopped, grader_type, job_body, job_record, list_jobs
from ftstudio.config import catalog
from ftstudio.core import MAX_NESTING, Issue, json_list, json_object, redact, redact_data
from ftstudio.core.records import datarecord, field
from ftstudio.validation import check, errors

from ._files import atomic_write

STATUSES = ("succeeded", "failed", "cancelled", "all")
DEFAULT_OUT = "pulled"
INDEX = "index.json"
RETIRING_DAYS = 60
MAX_NAME = 100  # characters of a job id kept in its file name (names may have 255 bytes)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@datarecord
class PulledJob:
    """One job: its index entry (status, results, file, problems) and the body written for it."""

    entry: dict[str, Any]
    body: dict[str, Any]
    problems: list[Issue] = field(default_factory=list[Issue])
    change: str = ""  # after save: "new" | "updated" | "unchanged"

    @property
    def id(self) -> str:
        return self.entry["id"]

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def method(self) -> str:
        method = json_object(self.body.get("method"))
        return str(method.get("type", "?")) if method is not None else "supervised"

    @property
    def grader_type(self) -> str | None:
        return grader_type(self.body)

    def stops_serving(self) -> dt.date | None:
        """When the fine-tuned model stops answering: its base model's retirement (None: unknown)."""
        return retirement(self.entry.get("model"))


class PullIncomplete(Exception):  # what was read is kept; the caller decides how it ends
    """A bound stopped the listing: `message` names it, `jobs` were read before it (newest first).

    `cause` is the bound (max_pages, deadline, too_large, too_deep); `pages` the pages read whole.
    `pull()` sets `result` after saving those jobs.
    """

    def __init__(self, stopped: ListingStopped, jobs: list[PulledJob]):
        self.cause, self.pages, self.jobs = stopped.cause, stopped.pages, jobs
        self.message = _stop_message(stopped)
        self.result: PullResult | None = None
        super().__init__(self.message)


def _stop_message(stopped: ListingStopped) -> str:
    limits, page = stopped.limits, stopped.pages + 1
    return {
        "max_pages": f"the server still said has_more after {stopped.pages:,} pages, the page limit",
        "deadline": f"the listing took longer than its deadline of {limits.deadline:g} s (while reading page {page})",
        "too_large": f"the job list passed {limits.max_bytes / 2**20:g} MiB decompressed (on page {page}); a real "
                     "account's is a few MB",
        "too_deep": f"page {page} of the job list nests JSON more than {MAX_NESTING} levels deep, deeper than any "
                    "job config",
    }[stopped.cause]


@datarecord
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
    out: list[tuple[PulledJob, dt.date]] = []
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
    # A server may echo the key in any field (the id, an error message): the index is masked like the body.
    return PulledJob(redact_data(entry), redact_data(raw_body), problems)


def fetch(endpoint: Endpoint, *, since: dt.date | None = None, status: str = "all", **kw: Any) -> list[PulledJob]:
    """Every job of the account (newest first), filtered by creation date and status; raises ApiError."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    after = int(dt.datetime.combine(since, dt.time(), dt.UTC).timestamp()) if since else None
    stopped = None
    try:
        listed = list_jobs(endpoint, created_after=after, **kw)
    except ListingStopped as exc:
        listed, stopped = exc.jobs, exc
    out: list[PulledJob] = []
    for job in listed:
        created = job.get("created_at")
        if after is not None and not (isinstance(created, int) and created >= after):
            continue
        if status != "all" and job.get("status") != status:
            continue
        out.append(convert(job))
    if stopped is not None:
        raise PullIncomplete(stopped, out)
    return out


def save(jobs: list[PulledJob], out: str | os.PathLike[str] = DEFAULT_OUT) -> PullResult:
    """Write each body and the index; unchanged files are left alone. Raises OSError.

    When a body can't be written, the index still lists every body that was, then the error is raised.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    earlier = _earlier_entries(folder, {j.id for j in jobs})
    _assign_files(jobs, earlier)
    written: list[PulledJob] = []
    try:
        for job in jobs:
            job.change = _write_if_changed(folder / job.entry["file"], _dump(job.body))
            written.append(job)
    finally:
        index = _sorted_index([j.entry for j in written] + earlier)
        _write_if_changed(folder / INDEX, _dump(redact_data(index)))
    return PullResult(folder, jobs, index)


def pull(endpoint: Endpoint, out: str | os.PathLike[str] = DEFAULT_OUT, *, since: dt.date | None = None,
         status: str = "all", **kw: Any) -> PullResult:
    """fetch, then save: an API failure raises before anything is written; a bound (PullIncomplete)
    saves the jobs read before it, then raises with `result` set."""
    try:
        jobs = fetch(endpoint, since=since, status=status, **kw)
    except PullIncomplete as exc:
        exc.result = save(exc.jobs, out)
        raise
    return save(jobs, out)


def file_name(job_id: str) -> str:
    """DIR/<job id>.json when the id is a plain file name as it is (letters, digits, _ . -, at most MAX_NAME,
    not hidden, not the index). Any other id (ids come from a server) keeps its safe part, cut to MAX_NAME,
    plus "~" and a hash of the whole id: "~" never occurs in a plain name, so different ids get different
    names, and the same id always the same. A secret in the id is masked before any of it is used."""
    text = str(job_id)
    shown = redact(text)
    safe = _UNSAFE.sub("_", shown)
    if safe == text and 0 < len(safe) <= MAX_NAME and not safe.startswith(".") and safe.lower() != "index":
        return safe + ".json"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{safe.lstrip('.')[:MAX_NAME] or 'job'}~{digest}.json"


def _assign_files(jobs: list[PulledJob], earlier: list[dict[str, Any]]) -> None:
    """Each job's file: its file_name, or with ~2, ~3, ... when that name is taken (by the index, a job pulled
    earlier, or a name differing only in case, for case-insensitive file systems). Deterministic: names are
    handed out in name order."""
    taken = {INDEX.lower()} | {e["file"].lower() for e in earlier}
    for job in sorted(jobs, key=lambda j: (j.entry["file"], j.id)):
        stem = job.entry["file"].removesuffix(".json")
        name, n = job.entry["file"], 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}~{n}.json"
        taken.add(name.lower())
        job.entry["file"] = name


def read_index(out: str | os.PathLike[str] = DEFAULT_OUT) -> list[dict[str, Any]]:
    """The index of an earlier pull ([] when there is none or it can't be read)."""
    try:
        data = json.loads((Path(out) / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = [json_object(e) for e in json_list(data)]
    return [e for e in entries if e is not None and isinstance(e.get("id"), str)]


def _earlier_entries(folder: Path, ids: set[str]) -> list[dict[str, Any]]:
    """Entries of earlier pulls (another --status or --since) not in this one, whose files are still there."""
    return [e for e in read_index(folder) if e["id"] not in ids and isinstance(e.get("file"), str)
            and _plain(e["file"]) and (folder / e["file"]).is_file()]


def _plain(name: str) -> bool:
    """A file directly in the folder (an index from disk may have been edited), not the index itself."""
    return name == Path(name).name and name not in ("", ".", "..", INDEX)


def _sorted_index(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda e: (-(e.get("created_at") or 0) if isinstance(e.get("created_at"), int) else 0,
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
