"""A batch's rows as bytes, for the python-grader worker (see _process.py), and the batches encoded ahead of
a run's queue (Ahead).

Rows go as one JSON text per batch: a JSON array of [sample, item] pairs, each encoded once by orjson (the
stdlib encodes what orjson refuses: integers past 64 bits, keys that are not strings, lone surrogates),
and a row that holds NaN or an infinity, which orjson would write as null), so grade() receives what a
stdlib JSON round trip gives, as it always did.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
from collections import deque


def encode(sample, item) -> tuple[bytes, bool]:
    """One row's [sample, item] as JSON, and whether the stdlib wrote it: orjson, or the stdlib for what
    orjson refuses or would change (it writes NaN and infinities as null: a part whose JSON holds a null is
    walked for them). A batch with a row the stdlib wrote is read by the stdlib (orjson reads integers past
    64 bits as floats). TypeError/ValueError for what neither can encode."""
    if orjson is not None:
        try:
            # Two parts: the walk then covers only the one with a null (a sample always has some; an item,
            # a dataset row, often none).
            a, b = orjson.dumps(sample, option=_ORJSON_OPTIONS), orjson.dumps(item, option=_ORJSON_OPTIONS)
        except TypeError:
            pass
        else:
            if _no_lost_floats(a, sample) and _no_lost_floats(b, item):
                return b"[" + a + b"," + b + b"]", False
    # ASCII escapes carry lone surrogates (valid in a Python str, not in UTF-8) through intact.
    return json.dumps([sample, item]).encode("ascii"), True


def encode_rows(calls: list) -> tuple[bytes, int] | None:
    """Several rows' [sample, item] in one orjson call: a JSON array, exactly "[" + their encode() parts joined
    by commas + "]" (sent as it is: no copy of a batch's bytes), and the nulls it must hold: the rows' parts'
    top-level Nones. None when orjson refuses a row (the rows are then encoded one by one). One call instead of
    two a row is most of the parent's cost of a trainer's small batch.

    Each part holds at least its top-level Nones' nulls, so the same total means every part passes
    _no_lost_floats' count; more means a NaN or an infinity that orjson wrote as null, or a nested None or
    "null" in a string, which need encode()'s own look. The worker counts them (in its time: the parent is the
    pool's busiest process) and hands such a batch back, graded by none of its rows (see _scheduler)."""
    if orjson is None or set(map(type, calls)) - {tuple} or set(map(len, calls)) - {2}:
        return None
    try:
        data = orjson.dumps(calls, option=_ORJSON_OPTIONS)
    except TypeError:
        return None
    return data, _parts_top_nones(calls)


class Ahead:
    """Batches encoded ahead of a run's queue while its workers grade (see _batches.BatchSource.prepare): a worker that
    is done then waits only for its results to be read and its next batch to be sent, not for the encoding of
    its rows, the parent's largest cost a row. A batch is used only while the queue still starts with its rows:
    rows given back to the queue go first, and every batch ahead is dropped."""

    def __init__(self):
        self.batches: deque[tuple[list[int], tuple[bytes, int] | None]] = deque()  # (rows, encode_rows')
        self.rows = 0  # the rows in self.batches

    def __len__(self) -> int:
        return len(self.batches)

    def add(self, queue: deque, calls: list, rows: int) -> None:
        """Encode the `rows` rows of the queue after those already ahead."""
        fresh = list(itertools.islice(queue, self.rows, self.rows + rows))
        self.batches.append((fresh, encode_rows([calls[i] for i in fresh])))
        self.rows += len(fresh)

    def take(self, queue: deque) -> tuple[list[int], tuple[bytes, int] | None] | None:
        """The first batch ahead (its rows and what encode_rows gave), if the queue starts with its rows (they
        stay in the queue: the caller takes them); else None."""
        if self.batches:
            fresh, body = self.batches[0]
            if len(fresh) <= len(queue) and list(itertools.islice(queue, len(fresh))) == fresh:
                self.batches.popleft()
                self.rows -= len(fresh)
                return fresh, body
            self.batches.clear()
            self.rows = 0
        return None


def _top_nones(obj, _is=operator.is_, _none=itertools.repeat(None)) -> int:
    # identity, not ==: a value that claims to equal None must not stand for a null orjson wrote
    return sum(map(_is, obj.values(), _none)) if type(obj) is dict else 0


def _parts_top_nones(calls, _dict=dict, _flat=itertools.chain.from_iterable) -> int:
    """sum(_top_nones(part)) over every sample and item. A plain loop: C iterators over each dict's values view
    (map, chain) measured a third slower on a trainer's call."""
    nones = 0
    for part in _flat(calls):
        if type(part) is _dict:
            for value in part.values():
                if value is None:  # identity, as _top_nones
                    nones += 1
    return nones


def _no_lost_floats(data: bytes, obj) -> bool:
    """orjson wrote no NaN or infinity (as null) in `data`: no null at all, or exactly as many as obj's
    top-level values that are None (a sample's usual nulls: any other null, a nested None or the word in a
    string, makes the count differ), else a walk of obj."""
    nulls = data.count(b"null")
    if not nulls:
        return True
    if type(obj) is dict and nulls == _top_nones(obj):
        return True
    return _finite(obj)


def _finite(obj, _str=str, _dict=dict, _list=list, _float=float, _type=type, _isfinite=math.isfinite) -> bool:
    """No float in obj (walked as orjson walks it) is NaN or infinite."""
    stack = [obj]
    pop, extend = stack.pop, stack.extend
    while stack:
        o = pop()
        kind = _type(o)
        if kind is _str or o is None:
            continue
        if kind is _dict:
            extend(o.values())
        elif kind is _list:
            extend(o)
        elif kind is _float:
            if not _isfinite(o):
                return False
        elif isinstance(o, float):  # subclasses too
            if not _isfinite(o):
                return False
        elif isinstance(o, dict):
            extend(o.values())
        elif isinstance(o, (list, tuple)):
            extend(o)
    return True


try:
    import orjson
except ImportError:  # orjson is a dependency; without it the stdlib does all of it
    orjson = None
# Dataclasses and datetimes are refused by the stdlib: refused here too, so such a row stays an error.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME if orjson is not None else 0
