"""The chat requests a grading run will send to model graders, known before anything is sent.

Used to show the request count and token estimate up front (probes, `sample`) and to send the same
requests through the Batch API: the engine later finds the batch's answers in the model runner's
cache under exactly these requests, so a batched grade and a live one share one scoring path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ftstudio.core import DEFAULT_SAMPLE_FIELD
from ftstudio.graders import MODEL_TYPES, build_requests, walk

from ._context import prepare


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


@dataclass
class RequestEstimate:
    requests: int
    prompt_tokens: int
    models: list[str]
    cached: int | None = None  # how many already have an answer in the disk cache

    def text(self) -> str:
        if not self.requests:
            return "no model-grader requests"
        cached = f"; {self.cached:,} already answered in the cache" if self.cached else ""
        return (f"{self.requests:,} model-grader requests to {', '.join(self.models)}, about "
                f"{self.prompt_tokens:,} prompt tokens{cached}")


def estimate_requests(requests: list[dict], endpoint: Any = None) -> RequestEstimate:
    """Request count and prompt tokens (o200k_base, offline; the response_format schema counted as text)."""
    from ftstudio.core import compact_json
    from ftstudio.datasets import count_rows, get_encoding

    if not requests:
        return RequestEstimate(0, 0, [])
    counts = count_rows([{"messages": r["messages"]} for r in requests], "reinforcement")
    enc = get_encoding()
    fmt_tokens = {}
    total = 0
    for r, c in zip(requests, counts):
        fmt = compact_json(r.get("response_format")) if r.get("response_format") else ""
        if fmt not in fmt_tokens:
            fmt_tokens[fmt] = len(enc.encode_ordinary(fmt)) if fmt else 0
        total += c + fmt_tokens[fmt]
    models = sorted({str(r.get("model")) for r in requests})
    cached = None
    if endpoint is not None:
        from ftstudio.api import ModelCache, cache_key

        keys = [cache_key(endpoint, "chat", r) for r in requests]
        cached = len(ModelCache().get_many(keys))
    return RequestEstimate(len(requests), total, models, cached)
