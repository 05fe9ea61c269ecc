"""Clipped n-gram match counts without building n-grams.

BLEU, GLEU and ROUGE-N all need, per order n, the clipped count
    sum over distinct n-grams g of min(count_in_a(g), count_in_b(g)).
Instead of hashing tuples, give every token of `a` a bitmask of the positions in `b` that
hold the same token. The n-gram starting at a[i] then occurs at b[j] exactly when bit j
survives  mask[i] & mask[i+1] >> 1 & ... & mask[i+n-1] >> (n-1).  Distinct n-grams occur
at disjoint positions of `b`, so two windows of `a` hold the same n-gram iff they hold the
same non-zero mask, and that mask's popcount is the n-gram's count in `b`. Everything but
the mask table runs in C (map/and/shift/list.count/set), which is what makes these metrics
several times faster than the reference libraries.
"""

from __future__ import annotations

from collections import Counter
from itertools import repeat
from operator import and_, rshift

# Beyond this many tokens in the shorter text the masks get wide (cost ~ len(a) * len(b)),
# so plain tuple Counters are cheaper.
_MASK_LIMIT = 2000


def _masks(a: list[str], b: list[str]) -> list[int]:
    table: dict[str, int] = {}
    get = table.get
    bit = 1
    for token in b:
        table[token] = get(token, 0) | bit
        bit <<= 1
    return list(map(get, a, repeat(0)))


def _clip(windows: list[int]) -> int:
    matched = len(windows) - windows.count(0)
    if not matched:
        return 0
    distinct = set(windows)
    if len(distinct) - (0 in distinct) == matched:
        return matched  # every matched n-gram occurs once in `a`: min(1, count_b) == 1
    total = 0
    for mask, count_a in Counter(windows).items():
        if mask:
            count_b = mask.bit_count()
            total += count_a if count_a < count_b else count_b
    return total


def _counts_with_tuples(a: list[str], b: list[str], orders: range) -> list[int]:
    out = []
    for n in orders:
        grams_a = Counter(zip(*(a[k:] for k in range(n))))
        grams_b = Counter(zip(*(b[k:] for k in range(n))))
        out.append(sum((grams_a & grams_b).values()))
    return out


def clipped_counts(a: list[str], b: list[str], max_n: int) -> list[int]:
    """Clipped match counts for orders 1..max_n (symmetric in a and b)."""
    if len(b) > len(a):
        a, b = b, a  # narrower masks
    if not b:
        return [0] * max_n
    if len(b) > _MASK_LIMIT:
        return _counts_with_tuples(a, b, range(1, max_n + 1))
    masks = _masks(a, b)
    out = [_clip(masks)]
    windows = masks
    for n in range(1, max_n):
        if not out[-1]:  # no n-gram matches, so no longer ones either
            out.extend([0] * (max_n - n))
            break
        windows = list(map(and_, windows, map(rshift, masks[n:], repeat(n))))
        out.append(_clip(windows))
    return out


def clipped_count(a: list[str], b: list[str], n: int) -> int:
    """Clipped match count for order n alone."""
    if len(b) > len(a):
        a, b = b, a
    if len(b) < n:
        return 0
    if len(b) > _MASK_LIMIT:
        return _counts_with_tuples(a, b, range(n, n + 1))[0]
    masks = _masks(a, b)
    windows = masks
    for k in range(1, n):
        windows = list(map(and_, windows, map(rshift, masks[k:], repeat(k))))
        if windows.count(0) == len(windows):
            return 0
    return _clip(windows)
