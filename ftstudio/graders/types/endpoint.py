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
import threading
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple

from ftstudio.core import ErrorCode, RowErrors, RowStatus, Stage, Unavailable, json_object

from .._light import Field
from .._models import GraderModel
from ._type import (
    CANCELLED,
    GENERIC_FIX,
    Checker,
    GraderType,
    Path,
    Rows,
    Scored,
    ScoringContext,
    Translation,
    as_is,
    is_cancelled,
)

if TYPE_CHECKING:
    from ._endpoint_http import Poster


class EndpointGrader(GraderModel):
    """Azure Foundry's endpoint grader: Azure POSTs {sample, item, trace_id} to url, expects {"score": n}."""

    type: Literal["endpoint"] = "endpoint"
    name: str | None = None
    url: str
    headers: dict[str, str] | None = None
    rate_limit: Annotated[int, Field(ge=1)] | None = None
    pass_threshold: int | float | None = None


def default(name: str) -> EndpointGrader:
    return EndpointGrader(name=name, url="https://<your grading service>/score")

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


def _status(status: int) -> str:
    """'HTTP 404 (Not Found)': the status and its standard reason, never the endpoint's own words.

    Whatever an endpoint answers can end up in front of whoever sent the grader (ftstudio serve returns row
    errors), so its body, and the reason phrase it chose, are not repeated: an endpoint on an internal
    network would otherwise be readable through the grader.
    """
    try:
        return f"HTTP {status} ({HTTPStatus(status).phrase})"
    except ValueError:
        return f"HTTP {status}"


class Posted(NamedTuple):
    """One row's answer: a score, or an error (code, details) with the row's status."""

    score: float | None
    error: tuple[str, str] | None = None
    status: RowStatus = RowStatus.FAILED


def post_score(poster: Poster, body: dict[str, Any], retries: int, spacer: _Spacer, cancel: Any = None) -> Posted:
    """One row, retried on timeouts, unreachable endpoints, answers that are not HTTP, 408/429/5xx."""
    import random
    import urllib.error
    from http.client import HTTPException

    from ._endpoint_http import BadURL

    timeout = poster.timeout

    last = Posted(None, (ErrorCode.OTHER, "not sent"))
    for attempt in range(retries + 1):
        if is_cancelled(cancel):
            return Posted(None, (ErrorCode.OTHER, CANCELLED), RowStatus.NOT_RUN if attempt == 0 else RowStatus.CANCELLED)
        if attempt:
            time.sleep(min(8.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random()))
        spacer.wait()
        try:
            status, text = poster.post(body)
        except TimeoutError:
            last = Posted(None, (ErrorCode.UNRESPONSIVE_REWARD, f"the endpoint did not answer within {timeout:g}s"),
                          RowStatus.TIMED_OUT)
            continue
        except BadURL as exc:  # not retried: no attempt can change it
            return Posted(None, (ErrorCode.OTHER, f"the grader's url can't be used: {exc}; give an http(s) URL "
                                 "with a host, e.g. https://HOST/score"))
        except HTTPException as exc:  # an answer that is not HTTP (a status line, headers), or cut short
            last = Posted(None, (ErrorCode.UNRESPONSIVE_REWARD,
                                 f"the endpoint's answer is not HTTP ({type(exc).__name__})"))
            continue
        except (urllib.error.URLError, OSError, ValueError) as exc:
            # Only urllib's wrapper is unwrapped: an SSLError's `reason` is a word, not the error.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            timed_out = isinstance(reason, TimeoutError)
            kind = "timed out" if timed_out else type(reason if isinstance(reason, BaseException) else exc).__name__
            last = Posted(None, (ErrorCode.UNRESPONSIVE_REWARD, f"could not reach the endpoint ({kind})"),
                          RowStatus.TIMED_OUT if timed_out else RowStatus.FAILED)
            continue
        if status in _RETRY_STATUS:
            last = Posted(None, (ErrorCode.UNRESPONSIVE_REWARD, f"the endpoint answered {_status(status)}"))
            continue
        if status >= 300:
            return Posted(None, (ErrorCode.OTHER, f"the endpoint answered {_status(status)}"))
        return Posted(*_read_score(text))
    code, details = last.error or (ErrorCode.OTHER, "not sent")
    return last._replace(error=(code, details + f" (after {retries + 1} attempts)"))


_KINDS: dict[type[Any], str] = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
          int: "a number", float: "a number"}


def _read_score(text: str) -> tuple[float | None, tuple[str, str] | None]:
    """The score of a 2xx answer; an error describes the answer's shape, never its content."""
    try:
        data: object = json.loads(text)
    except (ValueError, RecursionError):
        return None, (ErrorCode.OTHER, f"the endpoint's answer ({len(text):,} characters) is not JSON; "
                      "it must be {\"score\": <number>}")
    answer = json_object(data)
    if answer is None or "score" not in answer:
        what = "an object without 'score'" if answer is not None else _KINDS.get(type(data), "another value")
        return None, (ErrorCode.OTHER, f"the endpoint answered {what}, not {{\"score\": <number>}}")
    score: object = answer["score"]
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        return None, (ErrorCode.OTHER, f"the endpoint's 'score' is {_KINDS.get(type(score), 'another value')}, "
                      "not a number")
    try:
        value = float(score)
    except OverflowError:  # an integer of hundreds of digits
        value = math.inf
    if not math.isfinite(value):
        return None, (ErrorCode.OTHER, f"the endpoint's score is {value}, not a finite number")
    return value, None


def score(node: EndpointGrader, ctx: ScoringContext, rows: list[int]) -> Scored:
    import uuid
    from concurrent.futures import ThreadPoolExecutor  # imported when an endpoint grader runs (issue 23, start-up)

    b, o = ctx.batch, ctx.session.options
    headers = dict(node.headers or {})
    spacer = _Spacer(node.rate_limit)
    out: list[float] = [0.0] * len(rows)
    errs: dict[int, RowErrors] = {}
    done = [0]

    from ._endpoint_http import Poster  # http.client and ssl: imported when an endpoint grader runs

    def one(j: int):
        r = rows[j]
        sample = b.samples[r]  # never None here: rows with a base error are not scored
        body: dict[str, Any] = {"sample": sample.as_dict() if sample is not None else {}, "item": b.items[r],
                                "trace_id": f"trace_{uuid.uuid4().hex}"}
        result = post_score(poster, body, o.max_retries, spacer, ctx.cancel)
        done[0] += 1
        ctx.report(done[0], len(rows), Stage.REQUESTS, f"endpoint {node.name or node.url[:30]}")
        return result

    with Poster(node.url, headers, o.endpoint_timeout) as poster, \
            ThreadPoolExecutor(max_workers=max(1, min(o.concurrency, len(rows) or 1))) as pool:
        results = list(pool.map(one, range(len(rows))))
    for j, (value, error, status) in enumerate(results):
        if error is not None:
            if status.stopped:
                ctx.cancelled = True
            errs[rows[j]] = RowErrors({error[0]: error[1]}, status)
        else:
            out[j] = value if value is not None else 0.0
    return out, errs


_HINT = "Azure POSTs {sample, item, trace_id} to the url and expects {\"score\": number}"


def check(c: Checker, g: dict[str, Any], path: Path, depth: int) -> None:
    if c.target == "azure":
        c.add(path, "endpoint_grader", "endpoint grader: an Azure Foundry private preview (access required)", _HINT)
    url = g.get("url")
    if c.is_placeholder(url):
        c.add(path + ("url",), "model_placeholder", f"url {url!r} is a placeholder to replace")
    elif isinstance(url, str) and not url.startswith(("https://", "http://")):
        c.add(path + ("url",), "schema_value", f"url {url!r} is not an http(s) URL", "the grader POSTs to it", True)


def explain(node: EndpointGrader, batch: Rows) -> dict[str, Any]:
    return {}  # the body is the row itself: {sample, item, trace_id}


def _elsewhere(target: str) -> Unavailable:
    return Unavailable(f"endpoint graders are an Azure Foundry preview; the {target} target doesn't take them",
                       "endpoint_grader", _HINT)


_TARGETS: dict[str, Translation | Unavailable] = {"azure": as_is}
_TARGETS.update({t: _elsewhere(t) for t in ("openai", "bedrock", "compatible")})

TYPE = GraderType(
    name="endpoint", model=EndpointGrader, order=70, default=default, remote=True, calls_model=False, inline=False,
    posts_to=lambda node: node.url,
    score=score, check=check, explain=explain, fix=lambda node, probe: GENERIC_FIX.get(probe, "tighten the grader"),
    targets=_TARGETS,
)
