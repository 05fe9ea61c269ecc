"""Read every fine-tuning job of an account and turn each one back into the body that created it.

Listing follows every page of `GET /fine_tuning/jobs` (cursor: the last id of a page) and keeps
the raw JSON: the SDK's models parse a multi grader's `graders` map as a StringCheckGrader
(api_shapes §1) and drop fields they don't know (`user_provided_suffix`, Azure's extras).

A job object is its create body plus what happened to it. `job_body` keeps the first part and
`job_record` the second, so between them nothing the API returned is dropped: a configuration
field this package doesn't model stays in the body as it came (validation then says whether
the target accepts it).

The listing is bounded (a server may never stop saying `has_more`, drip its bytes, or send a gzip
bomb): at most `max_pages` pages, `deadline` seconds for the whole listing, `max_bytes` decompressed
and JSON nested no deeper than a config may be. A bound ends it with ListingStopped, which carries
the jobs of the pages read before.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ftstudio.core import PULL_DEADLINE_SECONDS, PULL_MAX_PAGES
from ftstudio.core.records import datarecord

from ._bounded import ACCEPT_ENCODING, Budget, StopCause, Stopped, read_json
from ._endpoint import Endpoint

PAGE_SIZE = 100
# Decompressed bytes of the whole listing: a real account's job list is a few MB (a job with a 256 kB
# python grader is the largest kind); this stops a bomb long before memory runs out.
MAX_BYTES = 256 * 1024 * 1024


@datarecord(frozen=True)
class ListingLimits:
    max_pages: int = PULL_MAX_PAGES
    deadline: float = PULL_DEADLINE_SECONDS  # seconds for the whole listing, retries and slow reads included
    max_bytes: int = MAX_BYTES


class ListingStopped(Exception):  # a bound was reached, what was read is kept
    """A bound ended the listing early: `cause` names it, `pages` were read whole, their jobs are `jobs`."""

    def __init__(self, cause: StopCause, limits: ListingLimits, pages: int, jobs: list[dict[str, Any]]):
        super().__init__(cause)
        self.cause, self.limits, self.pages, self.jobs = cause, limits, pages, jobs

# What happened to the job (its status and results): these go to the index, never to the body.
RESULT_FIELDS = ("id", "status", "created_at", "finished_at", "fine_tuned_model", "trained_tokens", "error",
                 "organization_id", "result_files", "estimated_finish", "usage_metrics", "shared_with_openai")
# The index entry's fields, in order (`model` is the base model).
INDEX_FIELDS = ("id", "status", "created_at", "finished_at", "model", "fine_tuned_model", "trained_tokens", "error")
# Read and restated: `object` is the type tag, `user_provided_suffix` becomes `suffix`, and the
# top-level `hyperparameters` mirror the method's (see _legacy_hyperparameters).
_RESTATED = ("object", "user_provided_suffix", "hyperparameters", "method", "suffix")
_COPIED = ("model", "training_file", "validation_file", "seed", "metadata", "integrations")


def list_jobs(endpoint: Endpoint, *, created_after: int | None = None, page_size: int = PAGE_SIZE,
              on_page: Callable[[int, int], None] | None = None, limits: ListingLimits | None = None,
              **kw: Any) -> list[dict[str, Any]]:
    """Every job of the account as raw JSON, newest first, following `has_more` / `after`.

    `created_after` (epoch seconds) stops paging at the first page that reaches older jobs (the API
    lists newest first); the older jobs of that page are still returned, callers filter. `on_page(pages,
    jobs)` reports progress. Raises ApiError (nothing is returned half-way) or ListingStopped (a bound:
    the jobs of the whole pages read before come with it).
    """
    limits = limits or ListingLimits()
    budget = Budget(limits.deadline, limits.max_bytes)
    jobs: list[dict[str, Any]] = []
    seen: set[str] = set()
    after: str | None = None
    pages = 0
    while True:
        if pages >= limits.max_pages:
            raise ListingStopped("max_pages", limits, pages, jobs)
        params: dict[str, Any] = {"limit": page_size}
        if after:
            params["after"] = after
        try:
            page = read_json(endpoint, lambda c, timeout, p=params: _list_request(c, p, timeout), budget,
                             what="list fine-tuning jobs", **kw)
        except Stopped as exc:
            raise ListingStopped(exc.cause, limits, pages, jobs) from None
        data = page.get("data") if isinstance(page, dict) else None
        if not isinstance(data, list):
            raise ValueError("the job list is not an OpenAI list object ({object, data, has_more})")
        pages += 1
        fresh = [j for j in data if isinstance(j, dict) and isinstance(j.get("id"), str) and j["id"] not in seen]
        seen.update(j["id"] for j in fresh)
        jobs += fresh
        if on_page:
            on_page(pages, len(jobs))
        # A server that repeats a page would loop forever; the cursor is the last id (no last_id on the wire).
        if not page.get("has_more") or not fresh:
            return jobs
        if created_after is not None and _int(fresh[-1].get("created_at")) < created_after:
            return jobs  # newest first: every later page is older still
        after = fresh[-1]["id"]


def _list_request(client, params: dict[str, Any], timeout: float):
    # The raw JSON, streamed: the SDK's models parse a multi's graders map as a string_check.
    return client.fine_tuning.jobs.with_streaming_response.list(
        **params, timeout=timeout, extra_headers={"Accept-Encoding": ACCEPT_ENCODING})


def job_body(job: dict[str, Any]) -> dict[str, Any]:
    """The create-job body of a job object: model, files, method (grader exactly as reported), suffix,
    seed, metadata, integrations, and any configuration field the API sent that we don't model."""
    body: dict[str, Any] = {}
    for key in _COPIED:
        value = job.get(key)
        if value is not None and value != [] and value != {}:
            body[key] = copy.deepcopy(value)
    suffix = job.get("user_provided_suffix") or job.get("suffix")
    if suffix:
        body["suffix"] = suffix
    method = _method(job)
    if method is not None:
        body["method"] = method
    legacy = _legacy_hyperparameters(job, method)
    if legacy is not None:
        body["hyperparameters"] = legacy
    for key, value in job.items():
        if key in RESULT_FIELDS or key in _RESTATED or key in _COPIED or value is None:
            continue
        body[key] = copy.deepcopy(value)  # unknown configuration: kept as it came
    return _ordered(body)


def job_record(job: dict[str, Any]) -> dict[str, Any]:
    """What happened to the job: its status and results, for the index (error {} or all-null is None)."""
    record = {key: copy.deepcopy(job.get(key)) for key in INDEX_FIELDS}
    error = job.get("error")
    record["error"] = copy.deepcopy(error) if isinstance(error, dict) and error.get("message") else None
    for key in RESULT_FIELDS:
        if key not in record and key in job:
            record[key] = copy.deepcopy(job[key])
    return record


def grader_type(body: dict[str, Any]) -> str | None:
    """The type of the job's grader (reinforcement only), from the raw body."""
    method = body.get("method")
    block = method.get("reinforcement") if isinstance(method, dict) else None
    grader = block.get("grader") if isinstance(block, dict) else None
    return grader.get("type") if isinstance(grader, dict) else None


def _method(job: dict[str, Any]) -> dict[str, Any] | None:
    method = job.get("method")
    if not isinstance(method, dict):
        hp = _clean(job.get("hyperparameters"))
        # Jobs from before `method` existed were supervised, configured by the top-level block.
        return {"type": "supervised", "supervised": {"hyperparameters": hp}} if hp else None
    out: dict[str, Any] = {}
    for key, value in method.items():
        if value is None:
            continue  # the other methods' blocks come back as null
        if key == method.get("type") and isinstance(value, dict):
            value = {k: (_clean(v) if k == "hyperparameters" else copy.deepcopy(v))
                     for k, v in value.items() if v is not None}
            # The grader is kept exactly as reported; only a null response_format/hyperparameters means "unset".
            if "hyperparameters" in value and not value["hyperparameters"]:
                del value["hyperparameters"]
        out[key] = copy.deepcopy(value)
    return out


def _legacy_hyperparameters(job: dict[str, Any], method: dict[str, Any] | None) -> dict[str, Any] | None:
    """Top-level hyperparameters, unless they only mirror the method's (they do on supervised jobs)."""
    hp = _clean(job.get("hyperparameters"))
    if not hp or not isinstance(job.get("method"), dict):
        return None  # absent, or already turned into method.supervised by _method
    kind = (method or {}).get("type")
    block = (method or {}).get(kind) if isinstance(kind, str) else None
    inner = block.get("hyperparameters") if isinstance(block, dict) else None
    if isinstance(hp, dict) and isinstance(inner, dict) and all(inner.get(k) == v for k, v in hp.items()):
        return None
    return hp


def _clean(hp: Any) -> Any:
    """Hyperparameters without null values (null means "not set"; the create body omits them)."""
    if isinstance(hp, dict):
        return {k: copy.deepcopy(v) for k, v in hp.items() if v is not None}
    return copy.deepcopy(hp)


_ORDER = ("model", "training_file", "validation_file", "suffix", "seed", "metadata", "integrations", "method",
          "hyperparameters")


def _ordered(body: dict[str, Any]) -> dict[str, Any]:
    """The export's key order (JobConfig's field order), unknown fields after."""
    known = {k: body[k] for k in _ORDER if k in body}
    return {**known, **{k: v for k, v in body.items() if k not in known}}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
