"""Clipped n-gram match counts, the core of BLEU, GLEU and ROUGE-N.

Per order n they all need  sum over distinct n-grams g of min(count_in_a(g), count_in_b(g)).
The reference libraries build a Counter of n-gram tuples per text in Python loops; here
the per-element work runs in C (map, zip, set, dict) and Python only loops over the rare
repeated tokens.

`clipped_counts` (all orders up to n, for BLEU and GLEU) avoids n-grams altogether. Every
token a[i] gets the bitmask of the positions in `b` holding the same token, shifted left by
len(a) - i; after that shift the n-gram starting at a[i] occurs at b[j] exactly when one
and the same bit is set in the masks of a[i] .. a[i+n-1], so the windows of order n are
one AND of neighbouring windows of order n - 1. Shifted back, a window's mask says where
its n-gram occurs in `b`: distinct n-grams occur at disjoint positions, so two windows of
`a` hold the same n-gram iff they hold the same non-zero mask, and the mask's popcount is
the count of that n-gram in `b`.

`clipped_count` (one order, for ROUGE-N) is cheaper with n-gram tuples in sets.
"""

from __future__ import annotations

from collections import Counter
from itertools import compress, count, repeat
from operator import and_, lshift, ne, rshift

try:  # the C helper behind Counter(); fall back to Counter where it is absent
    from collections import _count_elements
except ImportError:  # pragma: no cover - CPython always has it
    def _count_elements(mapping, iterable):
        mapping.update(Counter(iterable))

# Beyond this many tokens in the shorter text the masks get wide (cost ~ len(a) * len(b))
# so sets of n-gram tuples are cheaper.
_MASK_LIMIT = 150
_BITS = [1 << j for j in range(_MASK_LIMIT)]
_bit_count = int.bit_count


def _masks(a: list, b: list) -> list[int]:
    table = dict(zip(b, _BITS))  # a repeated token keeps only its last position here...
    if len(table) < len(b):
        # ...so OR in the others: the positions whose bit differs from the stored one.
        for token, bit in compress(zip(b, _BITS), map(ne, map(table.__getitem__, b), _BITS)):
            table[token] |= bit
    return list(map(table.get, a, repeat(0)))


def _clip(windows: list[int], may_repeat: bool) -> tuple[int, bool]:
    """(clipped count, whether a matched n-gram may repeat in `a`) of unshifted windows."""
    matched = len(windows) - windows.count(0)
    if not matched or not may_repeat:
        return matched, False
    counts: dict[int, int] = {}
    _count_elements(counts, windows)
    if len(counts) - (0 in counts) == matched:
        return matched, False  # no matched n-gram repeats in `a`: min(1, count_b) == 1
    # The zero mask contributes min(count, 0) == 0.
    return sum(map(min, counts.values(), map(_bit_count, counts))), True


def _counts_with_tuples(a: list, b: list, max_n: int) -> list[int]:
    out = []
    for n in range(1, max_n + 1):
        out.append(clipped_count(a, b, n))
        if not out[-1]:
            break
    out.extend([0] * (max_n - len(out)))
    return out


def _swar_constants(slots: int, width: int) -> tuple[int, int]:
    key = (slots, width)
    constants = _swar.get(key)
    if constants is None:
        if len(_swar) > 4096:
            _swar.clear()
        ones = ((1 << (slots * width)) - 1) // ((1 << width) - 1)  # 1 at every slot start
        constants = _swar[key] = (((1 << (width - 1)) - 1) * ones, (1 << (width - 1)) * ones)
    return constants


_swar: dict[tuple[int, int], tuple[int, int]] = {}


def _counts(a: list, b: list, max_n: int) -> list[int]:
    if len(b) > len(a):
        a, b = b, a  # narrower masks
    if not b:
        return [0] * max_n
    if len(b) > _MASK_LIMIT:
        return _counts_with_tuples(a, b, max_n)
    table: dict = {}
    get = table.get
    repeated_in_b = []
    for token, bit in zip(b, _BITS):
        old = get(token)
        if old is None:
            table[token] = bit
        else:
            table[token] = old | bit
            repeated_in_b.append(token)
    masks = list(map(get, a, repeat(0)))
    matched = len(a) - masks.count(0)
    if not matched:
        return [0] * max_n
    # Unigrams: sum over common tokens w of min(count_a(w), count_b(w)). A mask stands for
    # its token, so each distinct mask counts 1, plus a correction for the few tokens that
    # repeat on both sides.
    distinct = set(masks)
    count = len(distinct) - (0 in distinct)
    may_repeat = count < matched  # some common token repeats in `a`
    if may_repeat:
        for token in set(repeated_in_b):
            mask = table[token]
            count_a = masks.count(mask)
            if count_a > 1:
                count_b = mask.bit_count()
                count += (count_a if count_a < count_b else count_b) - 1
    out = [count]
    length = len(a)
    if not count or max_n == 1:
        pass
    elif may_repeat:
        # A matched n-gram may repeat in `a`: keep windows in a list to look at each one.
        windows = list(map(lshift, masks, range(length, 0, -1)))
        for n in range(1, max_n):
            windows = list(map(and_, windows, windows[1:]))
            if may_repeat:
                count, may_repeat = _clip(list(map(rshift, windows, range(length, n, -1))), True)
            else:
                count = len(windows) - windows.count(0)
            out.append(count)
            if not count:
                break
    else:
        # Every window in one integer, one slot of `width` bits per position of `a`, so an
        # order costs a shift, an AND and a SWAR count of the non-zero slots. The slot's
        # top bit stays free: adding (2**(width-1) - 1) to every slot sets it iff non-zero.
        width = length + len(b) + 1
        step = width - 1  # slot i holds mask << (length - i), at bit i * width
        packed = sum(map(lshift, masks, range(length, length + length * step, step)))
        low, top = _swar_constants(length, width)
        for _ in range(1, max_n):
            packed &= packed >> width
            count = ((packed + low) & top).bit_count()
            out.append(count)
            if not count:
                break
    out.extend([0] * (max_n - len(out)))
    return out


def clipped_counts(a: list, b: list, max_n: int) -> list[int]:
    """Clipped match counts for orders 1..max_n (symmetric in a and b)."""
    if a == b:
        return [max(len(a) - k, 0) for k in range(max_n)]
    # A common prefix and suffix hold the same n-grams on both sides, and min(e + x, e + y)
    # == e + min(x, y): count the n-grams that lie wholly inside them directly and only
    # compare what is left (keeping max_n - 1 tokens of context around the middle).
    shortest = min(len(a), len(b))
    prefix = next(compress(count(), map(ne, a, b)), shortest)
    suffix = next(compress(count(), map(ne, reversed(a), reversed(b))), shortest)
    suffix = min(suffix, shortest - prefix)
    context = max_n - 1
    cut_prefix = prefix - context if prefix > context else 0
    cut_suffix = suffix - context if suffix > context else 0
    if not (cut_prefix or cut_suffix):
        return _counts(a, b, max_n)
    middle = _counts(a[cut_prefix:len(a) - cut_suffix], b[cut_prefix:len(b) - cut_suffix], max_n)
    return [cut_prefix + cut_suffix + c for c in middle]


def _grams(tokens: list, n: int):
    if n == 1:
        return tokens
    if n == 2:
        return zip(tokens, tokens[1:])
    if n == 3:
        return zip(tokens, tokens[1:], tokens[2:])
    return zip(*[tokens[k:] for k in range(n)])


def clipped_count(a: list, b: list, n: int) -> int:
    """Clipped match count for order n alone (symmetric in a and b)."""
    windows_a = len(a) - n + 1
    windows_b = len(b) - n + 1
    if windows_a <= 0 or windows_b <= 0:
        return 0
    if a == b:
        return windows_a
    distinct_a = set(_grams(a, n))
    common = distinct_a.intersection(_grams(b, n))
    if not common:
        return 0
    if len(distinct_a) == windows_a:
        return len(common)  # no n-gram repeats in `a`: min(1, count_b) == 1
    counts_b: dict = {}
    _count_elements(counts_b, _grams(b, n))
    if len(counts_b) == windows_b:
        return len(common)
    counts_a: dict = {}
    _count_elements(counts_a, _grams(a, n))
    return sum(map(min, map(counts_a.__getitem__, common), map(counts_b.__getitem__, common)))
