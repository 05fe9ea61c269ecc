"""Prometheus metrics: requests, rows, latency, request errors by code and row errors by flag.

One registry per app. With several worker processes `ftstudio serve` sets PROMETHEUS_MULTIPROC_DIR, every
process writes its values there, and /metrics (whichever worker answers) sums them.
"""

from __future__ import annotations

import os

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
        key = (method, path, status)
        children = self._children.get(key)
        if children is None:  # label lookups cost more than the increments; the label sets are few
            children = self._children[key] = (self.requests.labels(method, path, str(status)),
                                               self.latency.labels(path), self.rows.labels(path))
        children[0].inc()
        children[1].observe(seconds)
        if rows:
            children[2].inc(rows)
        if code:
            self.request_errors.labels(code).inc()

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
