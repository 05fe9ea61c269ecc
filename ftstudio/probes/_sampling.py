"""Sample generation: several answers per prompt from the configured OpenAI-compatible chat endpoint.

K answers per row (one request with n=K; servers that return fewer choices, such as Ollama, get follow-up
requests that differ by `seed`), through the model runner: bounded concurrency, retries and the disk cache
of the model graders. Each output row is the input row with `model_sample` filled and a `group` id (the
input row number), so calibration can measure the reward variance within each group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from ftstudio.api import CallResult, Endpoint, ModelRunner
from ftstudio.core import DEFAULT_SAMPLE_FIELD, json_list, json_object
from ftstudio.core.records import datarecord, field

GROUP_FIELD = "group"
ASSUMED_COMPLETION_TOKENS = 256  # per sample, when neither --max-tokens nor an existing answer says more


def prompt_messages(row: Any) -> list[dict[str, Any]] | None:
    """The row's `messages` up to the last user message (a trailing assistant answer is what we generate)."""
    found = json_object(row)
    messages = [json_object(m) for m in json_list(found.get("messages") if found is not None else None)]
    last_user = max((i for i, m in enumerate(messages) if m is not None and m.get("role") == "user"), default=None)
    if last_user is None:
        return None
    return [m for m in messages[:last_user + 1] if m is not None]


def sample_request(messages: list[dict[str, Any]], model: str, n: int, max_tokens: int | None = None,
                   temperature: float | None = None, seed: int | None = None) -> dict[str, Any]:
    req: dict[str, Any] = {"model": model, "messages": messages}
    if n > 1:
        req["n"] = n
    if max_tokens:
        req["max_completion_tokens"] = max_tokens
    if temperature is not None:
        req["temperature"] = temperature
    if seed is not None:
        req["seed"] = seed
    return req


@datarecord
class SampleEstimate:
    rows: int
    skipped: int            # rows without a user message
    requests: int
    prompt_tokens: int
    completion_tokens: int  # an estimate: max_tokens, or the rows' existing answers, or an assumption
    cost: float | None      # USD, when prices are given

    def text(self) -> str:
        out = (f"{self.requests:,} requests for {self.rows:,} rows: about {self.prompt_tokens:,} prompt tokens and "
               f"{self.completion_tokens:,} completion tokens")
        if self.skipped:
            out += f"; {self.skipped:,} rows have no user message and are skipped"
        out += (f"; estimated cost ${self.cost:,.4f}" if self.cost is not None
                else "; cost: pass --input-price and --output-price (USD per 1M tokens) to estimate it")
        return out


def estimate(rows: list[Any], n: int, max_tokens: int | None = None, input_price: float | None = None,
             output_price: float | None = None, sample_field: str = DEFAULT_SAMPLE_FIELD) -> SampleEstimate:
    from ftstudio.datasets import count_rows, get_encoding

    prompts = [prompt_messages(r) for r in rows]
    usable = [(cast(dict[str, Any], r), m) for r, m in zip(rows, prompts) if m is not None]
    prompt = sum(count_rows([{"messages": m} for _r, m in usable], "reinforcement")) if usable else 0
    enc = get_encoding()
    completion = 0
    for r, _m in usable:
        existing = r.get(sample_field)  # a row with messages is an object
        per = max_tokens or (len(enc.encode_ordinary(existing)) if isinstance(existing, str) and existing
                             else ASSUMED_COMPLETION_TOKENS)
        completion += per * n
    cost = None
    if input_price is not None and output_price is not None:
        cost = (prompt * input_price + completion * output_price) / 1e6
    return SampleEstimate(len(usable), len(rows) - len(usable), len(usable), prompt, completion, cost)


@datarecord
class SampleRun:
    rows: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])  # K per input row that succeeded
    failed: list[tuple[int, str]] = field(default_factory=list[tuple[int, str]])  # (input row, why)
    skipped: list[int] = field(default_factory=list[int])
    cancelled: bool = False
    not_sent: set[int] = field(default_factory=set[int])  # the failed rows a cancel kept from being sampled


def _failed(out: SampleRun, row: int, res: CallResult) -> None:
    out.failed.append((row, res.error[1] if res.error else ""))
    if res.cancelled:
        out.cancelled = True
        out.not_sent.add(row)


def generate(rows: list[Any], model: str, n: int = 1, *, endpoint: Endpoint | None = None,
             runner: ModelRunner | None = None, max_tokens: int | None = None, temperature: float | None = None,
             sample_field: str = DEFAULT_SAMPLE_FIELD, concurrency: int = 8,
             progress: Callable[[int, int], None] | None = None, cancel: Any = None) -> SampleRun:
    """K samples per row; rows in input order, each row's samples together."""
    runner = runner or ModelRunner(endpoint or Endpoint.from_env(), concurrency=concurrency)
    out = SampleRun()
    index: list[int] = []
    requests: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        messages = prompt_messages(row)
        if messages is None:
            out.skipped.append(i)
            continue
        index.append(i)
        requests.append(sample_request(messages, model, n, max_tokens, temperature))
    results = runner.chat(requests, progress=progress, cancel=cancel)
    texts: dict[int, list[str]] = {}
    missing: list[tuple[int, int]] = []  # (input row, seed) for servers that ignore n
    for i, res in zip(index, results):
        if res.error:
            _failed(out, i, res)
            continue
        got = _choices(res.value)
        texts[i] = got
        missing.extend((i, s) for s in range(len(got), n))
    if missing and not _is_set(cancel):
        extra = [sample_request(prompt_messages(rows[i]) or [], model, 1, max_tokens, temperature, seed=s)
                 for i, s in missing]
        for (i, _s), res in zip(missing, runner.chat(extra, cancel=cancel)):
            if res.error:
                texts.pop(i, None)
                _failed(out, i, res)
            elif i in texts:
                texts[i].extend(_choices(res.value)[:1])
    for i in index:
        if i not in texts:
            continue
        base = {k: v for k, v in rows[i].items() if k not in (sample_field, GROUP_FIELD)}
        for text in texts[i][:n]:
            out.rows.append({**base, sample_field: text, GROUP_FIELD: i})
    return out


def _choices(value: dict[str, Any] | None) -> list[str]:
    if not value:
        return []
    choices = [json_object(c) for c in json_list(value.get("choices"))] or [value]
    texts = [c.get("content") for c in choices if c is not None]
    return [t for t in texts if isinstance(t, str)]  # a refusal is no sample


def _is_set(cancel: Any) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if hasattr(cancel, "is_set") else bool(cancel())
