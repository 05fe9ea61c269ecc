"""The chat requests a grading run will send to model graders, known before anything is sent.

Used to show the request count and token estimate up front (probes, `sample`) and to send the same
requests through the Batch API: the engine later finds the batch's answers in the model runner's
cache under exactly these requests, so a batched grade and a live one share one scoring path.
"""

from __future__ import annotations

import json
from typing import Any

from ftstudio.core import DEFAULT_SAMPLE_FIELD
from ftstudio.core.records import datarecord, field
from ftstudio.graders import MODEL_TYPES, build_requests, walk

from ._context import prepare
from ._prices import ASSUMED_COMPLETION_TOKENS, price_of


def model_requests(grader: Any, rows: Any, sample_field: str = DEFAULT_SAMPLE_FIELD) -> list[dict]:
    """Every chat request the engine would send for these rows (one per model node and renderable row),
    identical requests kept once, in a stable order."""
    from ._engine import to_grader

    grader = to_grader(grader)
    batch = prepare(rows, sample_field)
    active = [i for i in range(len(batch)) if i not in batch.base_errors]
    seen: set[str] = set()
    out: list[dict] = []
    for _path, node in walk(grader):
        if node.type not in MODEL_TYPES:
            continue
        requests, _errs = build_requests(node, batch, active)
        for req in requests:
            if req is None:
                continue
            key = json.dumps(req, sort_keys=True, ensure_ascii=False)
            if key not in seen:
                seen.add(key)
                out.append(req)
    return out


@datarecord
class RequestEstimate:
    requests: int
    prompt_tokens: int
    models: list[str]
    cached: int | None = None  # how many already have an answer in the disk cache
    # model -> (requests to send, their prompt tokens): what the cost is computed from (cached ones are free)
    to_send: dict[str, tuple[int, int]] = field(default_factory=dict)

    def cost(self, input_price: float | None = None, output_price: float | None = None) -> float:
        """Estimated USD for the requests not yet cached (see _prices.py for the table and assumptions)."""
        total = 0.0
        for model, (count, tokens) in self.to_send.items():
            p = price_of(model, input_price, output_price)
            total += (tokens * p.input + count * ASSUMED_COMPLETION_TOKENS * p.output) / 1e6
        return total

    def unlisted(self, input_price: float | None = None, output_price: float | None = None) -> list[str]:
        return [m for m in self.to_send if not price_of(m, input_price, output_price).listed]

    def text(self, input_price: float | None = None, output_price: float | None = None) -> str:
        if not self.requests:
            return "no model-grader requests"
        cached = f"; {self.cached:,} already answered in the cache" if self.cached else ""
        out = (f"{self.requests:,} model-grader requests to {', '.join(self.models)}, about "
               f"{self.prompt_tokens:,} prompt tokens{cached}; estimated cost ${self.cost(input_price, output_price):,.4f}")
        unlisted = self.unlisted(input_price, output_price)
        if unlisted:
            out += f" (no list price for {', '.join(unlisted)}: priced as the dearest model; pass --input-price/--output-price)"
        return out + unverified_note(self.unverified(input_price, output_price))

    def unverified(self, input_price: float | None = None, output_price: float | None = None) -> list[str]:
        """Models priced from a list price nobody confirmed on the provider's page (see _prices.py)."""
        prices = {m: price_of(m, input_price, output_price) for m in self.to_send}
        return [m for m, p in prices.items() if p.listed and not p.verified]


@datarecord(frozen=True)
class CostEstimate:
    """What a run will cost before anything is sent: one pass over `requests` (answers already in the cache
    are free), then `repeats` passes that bypass the cache and send every request again (self-consistency).
    The CLI's cost gate and the app show this one figure; `over(max_cost)` is the `--max-cost` check."""

    first: RequestEstimate
    again: RequestEstimate | None = None  # every request, nothing cached: the price of one repeat
    repeats: int = 0
    input_price: float | None = None
    output_price: float | None = None

    @property
    def repeat_requests(self) -> int:
        return self.repeats * self.again.requests if self.again else 0

    @property
    def cost(self) -> float:
        prices = (self.input_price, self.output_price)
        again = self.again.cost(*prices) if self.again else 0.0
        return self.first.cost(*prices) + self.repeats * again

    def over(self, max_cost: float | None) -> bool:
        return max_cost is not None and self.cost > max_cost

    def text(self) -> str:
        """The first pass's line; the repeats' list prices are flagged too when only they are paid for."""
        prices = (self.input_price, self.output_price)
        out = self.first.text(*prices)
        if self.again and self.repeats and not self.first.unverified(*prices):
            out += unverified_note(self.again.unverified(*prices))
        return out


def unverified_note(models: list[str]) -> str:
    if not models:
        return ""
    return (f" (estimate; price unverified for {', '.join(models)}: not confirmed on the provider's pricing page; "
            "pass --input-price/--output-price)")


def estimate_cost(requests: list[dict], endpoint: Any = None, repeats: int = 0, input_price: float | None = None,
                  output_price: float | None = None) -> CostEstimate:
    """The estimate of `requests` sent once (cached answers free when `endpoint` is given) plus `repeats` times."""
    again = estimate_requests(requests) if repeats and requests else None
    return CostEstimate(estimate_requests(requests, endpoint), again, repeats, input_price, output_price)


def estimate_requests(requests: list[dict], endpoint: Any = None) -> RequestEstimate:
    """Request count and prompt tokens (o200k_base, offline; the response_format schema counted as text)."""
    from ftstudio.core import compact_json
    from ftstudio.datasets import count_rows, get_encoding

    if not requests:
        return RequestEstimate(0, 0, [])
    counts = count_rows([{"messages": r["messages"]} for r in requests], "reinforcement")
    enc = get_encoding()
    fmt_tokens = {}
    per_request = []
    for r, c in zip(requests, counts):
        fmt = compact_json(r.get("response_format")) if r.get("response_format") else ""
        if fmt not in fmt_tokens:
            fmt_tokens[fmt] = len(enc.encode_ordinary(fmt)) if fmt else 0
        per_request.append(c + fmt_tokens[fmt])
    models = sorted({str(r.get("model")) for r in requests})
    cached = None
    hit: set[int] = set()
    if endpoint is not None:
        from ftstudio.api import ModelCache, cache_key

        keys = [cache_key(endpoint, "chat", r) for r in requests]
        found = ModelCache().get_many(keys)
        hit = {i for i, k in enumerate(keys) if k in found}
        cached = len(hit)
    to_send: dict[str, tuple[int, int]] = {}
    for i, (r, tokens) in enumerate(zip(requests, per_request)):
        if i not in hit:
            count, total = to_send.get(str(r.get("model")), (0, 0))
            to_send[str(r.get("model"))] = (count + 1, total + tokens)
    return RequestEstimate(len(requests), sum(per_request), models, cached, to_send)
