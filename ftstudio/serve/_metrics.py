"""Prometheus metrics: requests, rows, latency, request errors by code and row errors by flag.

One registry per app. With several worker processes `ftstudio serve` sets PROMETHEUS_MULTIPROC_DIR, every
process writes its values there, and /metrics (whichever worker answers) sums them.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from ftstudio.grading import GradeResults

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple, tuple] = {}
        r = self.registry
        self.requests = Counter("ftstudio_serve_requests", "HTTP requests", ["method", "path", "status"], registry=r)
        self.rows = Counter("ftstudio_serve_rows", "rows graded", ["path"], registry=r)
        self.latency = Histogram("ftstudio_serve_request_seconds", "request latency (seconds)", ["path"],
                                 buckets=_BUCKETS, registry=r)
        self.request_errors = Counter("ftstudio_serve_request_errors", "requests refused, by error code",
                                      ["code"], registry=r)
        self.row_errors = Counter("ftstudio_serve_row_errors", "graded rows with an error, by error flag",
                                  ["code"], registry=r)

    def observe(self, method: str, path: str, status: int, rows: int, seconds: float, code: str | None) -> None:
        self.observe_many([(method, path, status, rows, seconds, code)])

    def observe_many(self, ended: Iterable[tuple[Any, ...]]) -> None:
        """Requests as (method, path, status, rows, seconds, code, ...): summed per label set first, so a
        counter (a lock, and a file write with several workers) is touched once per set, not per request."""
        sums: dict[tuple[str, str, int], list[Any]] = {}
        codes: dict[str, int] = {}
        for method, path, status, rows, seconds, code, *_ in ended:
            key = (method, path, status)
            acc = sums.get(key)
            if acc is None:
                acc = sums[key] = [0, 0, 0.0, [0] * (len(_BUCKETS) + 1)]
            acc[0] += 1
            acc[1] += rows
            acc[2] += seconds
            acc[3][bisect_left(_BUCKETS, seconds)] += 1  # le: a value equal to a bound counts in its bucket
            if code:
                codes[code] = codes.get(code, 0) + 1
        for key, (n, rows, total, buckets) in sums.items():
            children = self._children.get(key)
            if children is None:  # label lookups cost more than the increments; the label sets are few
                method, path, status = key
                children = self._children[key] = (self.requests.labels(method, path, str(status)),
                                                   self.latency.labels(path), self.rows.labels(path))
            children[0].inc(n)
            _observe_counts(children[1], total, buckets)
            if rows:
                children[2].inc(rows)
        for code, n in codes.items():
            self.request_errors.labels(code).inc(n)

    def graded(self, results: GradeResults) -> None:
        counts: dict[str, int] = {}
        for e in results.errors.values():
            for code in e.codes:
                counts[code] = counts.get(code, 0) + 1
        for code, n in counts.items():
            self.row_errors.labels(code).inc(n)

    def exposition(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


def _observe_counts(histogram: Histogram, total: float, buckets: list[int]) -> None:
    """Histogram.observe for many values at once: the sum once, each bucket's count once. prometheus_client
    keeps a histogram child's values as `_sum` and `_buckets` (non-cumulative; the last is +Inf)."""
    values = histogram._buckets
    for i, n in enumerate(buckets):
        if n:
            values[i].inc(n)
    histogram._sum.inc(total)
