"""What a run sends its workers (see _scheduler.py): batches taken off its queue of rows, encoded in one piece
(_encode.encode_rows), ahead of time while the workers grade (_encode.Ahead), or row by row (_encode.encode)
when that fails or a worker handed the batch back. The run owns the queue: rows a worker gives back go to its
head, and go again from here."""

from __future__ import annotations

import itertools
import math
from collections import deque

from ._encode import Ahead, encode, encode_rows
from ._process import MAX_BATCH_BYTES

Batch = tuple[list[int], bytes, bool, "int | None", list[tuple[int, str]]]


class BatchSource:
    def __init__(self, queue: deque[int], calls) -> None:
        self.queue, self.calls = queue, calls
        self.parts: dict[int, bytes] = {}  # the encoded call of each row sent row by row (a row given back goes again)
        self.stdlib: set[int] = set()  # rows the stdlib encoded
        self.ahead = Ahead()  # batches encoded while the workers grade (see prepare)
        self.walk = 0  # rows at the head of the queue to encode one by one (see hand_back)

    def prepare(self, workers: int, limit: int, tail: int) -> bool:
        """Encode one more batch ahead of `limit` rows at most, at most one per worker while they grade; not in a
        run's last `tail` rows, which the run splits among its workers as they come (nor for a small run). True
        if it did: the run then only looks at its workers (one that is done is served before the next batch
        is encoded)."""
        queue, ahead = self.queue, self.ahead
        left = len(queue) - ahead.rows
        if left <= tail or len(ahead) >= workers or self.walk:
            return False
        ahead.add(queue, self.calls, max(1, min(limit, math.ceil(left / (2 * workers)))))
        return True

    def hand_back(self, rows: list[int]) -> None:
        """Rows a worker graded none of, as it counted more nulls in their JSON than their top-level Nones (see
        _encode.encode_rows): back to the head of the queue, to be encoded one by one."""
        self.queue.extendleft(reversed(rows))
        self.walk += len(rows)

    def take(self, rows: int) -> Batch:
        """Up to `rows` rows off the queue (a batch encoded ahead, if the queue starts with it): the rows, their
        JSON array, whether the stdlib encoded one of them, the nulls the worker is to count (None: the rows
        were encoded one by one, each looked at here), and the rows no encoding takes, with why."""
        queue, calls = self.queue, self.calls
        fresh, encoded = [], None
        if self.walk:
            rows = min(rows, self.walk)
        else:
            ready = self.ahead.take(queue)
            if ready is not None:
                fresh, encoded = ready
                rows = len(fresh)  # the same rows, should the loop below encode them
            else:
                fresh = list(itertools.islice(queue, rows))
                encoded = encode_rows([calls[i] for i in fresh])
        if encoded is not None and len(encoded[0]) < MAX_BATCH_BYTES:  # the rows the loop below would take, as it would send them
            if len(fresh) == len(queue):
                queue.clear()
            else:
                for _ in fresh:
                    queue.popleft()
            return fresh, encoded[0], False, encoded[1], []
        batch, parts, size, cache, refused = [], [], 0, self.parts, []
        stdlib, taken = False, 0
        while queue and taken < rows and size < MAX_BATCH_BYTES:
            i = queue.popleft()
            taken += 1
            part = cache.get(i)
            if part is None:
                try:
                    sample, item = calls[i]
                    part, std = encode(sample, item)
                    cache[i] = part
                    if std:
                        self.stdlib.add(i)
                except (TypeError, ValueError, RecursionError) as exc:
                    refused.append((i, f"this row cannot be passed to grade(): {exc}"))
                    continue
            batch.append(i)
            parts.append(part)
            size += len(part)
            stdlib = stdlib or i in self.stdlib
        self.walk = max(0, self.walk - taken)
        return batch, b"[" + b",".join(parts) + b"]" if batch else b"", stdlib, None, refused
