"""endpoint (Azure Foundry): POST {sample, item, trace_id} to the grader's url, read {"score": number}.

The same body Azure sends during training, so a grading service can be tried before a job runs.
Rows go out concurrently (bounded by the session's concurrency, spaced by the grader's
rate_limit), failures are retried with backoff (connection errors, timeouts, 408/429/5xx), and
every failure is a row error, never an exception. Header values can be keys: they are sent and
nowhere else: not in messages, not in logs.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from ftstudio.core import ErrorCode, redact

from ._context import GradingContext, Scored
from ._results import RowErrors

_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class _Spacer:
    """At most `rate` requests per second across threads (the grader's rate_limit)."""

    def __init__(self, rate: int | None):
        self.gap = 1.0 / rate if rate else 0.0
        self.next = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.gap:
            return
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next)
            self.next = at + self.gap
        if at > now:
            time.sleep(at - now)


def _scrub(text: str, headers: dict[str, str]) -> str:
    for value in headers.values():
        if value and len(value) >= 4:
            text = text.replace(value, "[REDACTED]")
    return redact(text)


def post_score(client: httpx.Client, url: str, headers: dict[str, str], body: dict, retries: int,
               spacer: _Spacer, cancel=None) -> tuple[float | None, tuple[str, str] | None]:
    """One row: (score, None) or (None, (error code, details))."""
    from ._context import is_cancelled

    last: tuple[str, str] = (ErrorCode.OTHER, "not sent")
    for attempt in range(retries + 1):
        if is_cancelled(cancel):
            return None, (ErrorCode.OTHER, "cancelled")
        if attempt:
            time.sleep(min(8.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random()))
        spacer.wait()
        try:
            resp = client.post(url, json=body, headers=headers)
        except httpx.TimeoutException:
            last = (ErrorCode.UNRESPONSIVE_REWARD, f"the endpoint did not answer within {client.timeout.read}s")
            continue
        except httpx.HTTPError as exc:
            last = (ErrorCode.UNRESPONSIVE_REWARD, f"could not reach the endpoint: {type(exc).__name__}")
            continue
        if resp.status_code in _RETRY_STATUS:
            last = (ErrorCode.UNRESPONSIVE_REWARD, f"the endpoint answered HTTP {resp.status_code}"
                    + (f": {_scrub(resp.text[:200], headers)}" if resp.text else ""))
            continue
        if resp.status_code >= 400:
            return None, (ErrorCode.OTHER, f"the endpoint answered HTTP {resp.status_code}"
                          + (f": {_scrub(resp.text[:200], headers)}" if resp.text else ""))
        return _read_score(resp.text, headers)
    return None, (last[0], last[1] + f" (after {retries + 1} attempts)")


def _read_score(text: str, headers: dict[str, str]) -> tuple[float | None, tuple[str, str] | None]:
    try:
        data = json.loads(text)
    except ValueError:
        return None, (ErrorCode.OTHER, f"the endpoint's answer is not JSON: {_scrub(text[:120], headers)!r}")
    score = data.get("score") if isinstance(data, dict) else None
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        shown = _scrub(json.dumps(data)[:120], headers)
        return None, (ErrorCode.OTHER, f"the endpoint answered {shown}, not {{\"score\": <number>}}")
    if not math.isfinite(score):
        return None, (ErrorCode.OTHER, f"the endpoint's score is {score}, not a finite number")
    return float(score), None


def score(node, ctx: GradingContext, rows: list[int]) -> Scored:
    b, o = ctx.batch, ctx.session.options
    headers = dict(node.headers or {})
    spacer = _Spacer(node.rate_limit)
    out, errs = [0.0] * len(rows), {}
    done = [0]

    def one(j: int, client: httpx.Client):
        r = rows[j]
        body: dict[str, Any] = {"sample": b.samples[r].as_dict(), "item": b.items[r],
                                "trace_id": f"trace_{uuid.uuid4().hex}"}
        result = post_score(client, node.url, headers, body, o.max_retries, spacer, ctx.cancel)
        done[0] += 1
        ctx.report(done[0], len(rows), f"endpoint {node.name or node.url[:30]}")
        return result

    with httpx.Client(timeout=o.endpoint_timeout, follow_redirects=False) as client, \
            ThreadPoolExecutor(max_workers=max(1, min(o.concurrency, len(rows) or 1))) as pool:
        results = list(pool.map(lambda j: one(j, client), range(len(rows))))
    for j, (value, error) in enumerate(results):
        if error is not None:
            if error[1] == "cancelled":
                ctx.cancelled = True
            errs[rows[j]] = RowErrors({error[0]: error[1]})
        else:
            out[j] = value if value is not None else 0.0
    return out, errs
