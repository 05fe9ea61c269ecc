"""Clipped n-gram match counts, the core of BLEU, GLEU and ROUGE-N.

Per order n they all need  sum over distinct n-grams g of min(count_in_a(g), count_in_b(g)).
The reference libraries build a Counter of n-gram tuples per text in Python loops; here
the per-element work runs in C (map, zip, set, dict) and Python only loops over the rare
repeated tokens.

`clipped_counts` (orders 1..n, for BLEU and GLEU) builds no n-grams at all. Every token
a[i] gets the bitmask of the positions of `b` that hold the same token. The n-gram starting
at a[i] occurs at b[j] iff bit j is set in mask[i], bit j+1 in mask[i+1], and so on, so
    window(n, i) = window(n-1, i) & window(n-1, i+1) >> 1        (AND is idempotent).
Packed into one integer, a slot per position of `a`, an order costs one shift and one AND.
Distinct n-grams occur at disjoint positions of `b`, so a window's popcount is the count of
its n-gram in `b`, and two windows of `a` hold the same n-gram iff their masks are equal.
The clipped count then follows from SWAR counts of the non-zero slots, the popcount and the
union of all slots; only n-grams repeating on both sides (rare beyond single words) are
counted window by window.

`clipped_count` (one order, for ROUGE-N) is cheaper with n-gram tuples in sets.
"""

from __future__ import annotations

from collections import Counter
from itertools import compress, count, repeat
from operator import and_, lshift, ne, rshift

try:  # the C helper behind Counter(); fall back to Counter where it is absent
    from collections import _count_elements  # pyright: ignore[reportAttributeAccessIssue] - CPython-only, not in the stubs
except ImportError:  # pragma: no cover - CPython always has it
    def _count_elements(mapping, iterable):
        mapping.update(Counter(iterable))

# Beyond this many tokens in the shorter text the masks get wide (cost ~ len(a) * len(b))
# so sets of n-gram tuples are cheaper.
_MASK_LIMIT = 150
_BITS = [1 << j for j in range(_MASK_LIMIT)]
_bit_count = int.bit_count


def _counts_with_tuples(a: list, b: list, max_n: int) -> list[int]:
    out = []
    for n in range(1, max_n + 1):
        out.append(_clipped_count(a, b, n))
        if not out[-1]:
            break
    out.extend([0] * (max_n - len(out)))
    return out


def _swar_constants(slots: int, width: int) -> tuple[int, int]:
    """(2**(width-1) - 1, 2**(width-1)) repeated in every slot."""
    key = (slots, width)
    constants = _swar.get(key)
    if constants is None:
        if len(_swar) > 4096:
            _swar.clear()
        ones = ((1 << (slots * width)) - 1) // ((1 << width) - 1)  # 1 at every slot start
        constants = _swar[key] = (((1 << (width - 1)) - 1) * ones, (1 << (width - 1)) * ones)
    return constants


_swar: dict[tuple[int, int], tuple[int, int]] = {}


def _union_popcount(packed: int, slots: int, width: int) -> int:
    """Popcount of the OR of all slots: how many positions of `b` start a matched n-gram."""
    span, total = width, slots * width
    while span < total:
        packed |= packed >> span
        span <<= 1
    return (packed & ((1 << width) - 1)).bit_count()


def _clip_order(masks: list[int], n: int) -> int:
    """Exact clipped count of order n, window by window (for repeats on both sides)."""
    windows = masks
    for k in range(1, n):
        windows = list(map(and_, windows, map(rshift, masks[k:], repeat(k))))
    counts: dict[int, int] = {}
    _count_elements(counts, windows)
    return sum(map(min, counts.values(), map(_bit_count, counts)))  # mask 0 adds min(c, 0)


def _token_masks(b: list) -> tuple[dict, list]:
    """{token: bit mask of its positions in b}, and the tokens that repeat in b."""
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
    return table, repeated_in_b


def _counts(a: list, b: list, max_n: int) -> list[int]:
    if len(b) > len(a):
        a, b = b, a  # narrower masks
    if not b:
        return [0] * max_n
    if len(b) > _MASK_LIMIT:
        return _counts_with_tuples(a, b, max_n)
    table, repeated_in_b = _token_masks(b)
    masks = list(map(table.get, a, repeat(0)))
    matched = len(a) - masks.count(0)
    if not matched:
        return [0] * max_n
    # Unigrams: sum over common tokens w of min(count_a(w), count_b(w)). A mask stands for
    # its token, so each distinct mask counts 1, plus a correction for the few tokens that
    # repeat on both sides.
    distinct = set(masks)
    count = len(distinct) - (0 in distinct)
    unique_in_a = count == matched  # no matched n-gram repeats in `a` (nor longer ones)
    unique_in_b = not repeated_in_b  # ... in `b`
    if not unique_in_a:
        for token in set(repeated_in_b):
            mask = table[token]
            count_a = masks.count(mask)
            if count_a > 1:
                count_b = mask.bit_count()
                count += (count_a if count_a < count_b else count_b) - 1
    out = [count]
    if max_n > 1:
        # All windows in one integer, one slot of `width` bits per position of `a`; the
        # windows of the next order are an AND with the neighbouring slot shifted one bit
        # further. The two top bits of a slot stay clear, so adding 2**(width-1) - 1 to
        # every slot sets the top bit exactly in the non-zero ones (SWAR counting).
        slots, width = len(a), len(b) + 2
        packed = sum(map(lshift, masks, range(0, slots * width, width)))
        low, top = _swar_constants(slots, width)
        for n in range(2, max_n + 1):
            packed &= packed >> (width + 1)
            matched = ((packed + low) & top).bit_count()  # windows of `a` that match
            if not matched:
                break
            # sum_g min(count_a, count_b): matched = sum_g count_a, pairs = sum_g count_a *
            # count_b, union = sum_g count_b; when one side never repeats, min is the other.
            if unique_in_a:
                count = matched
            elif unique_in_b:
                count = _union_popcount(packed, slots, width)
            else:
                pairs = packed.bit_count()
                union = _union_popcount(packed, slots, width)
                if pairs == matched:
                    unique_in_b, count = True, union
                elif pairs == union:
                    unique_in_a, count = True, matched
                else:
                    count = _clip_order(masks, n)
            out.append(count)
    out.extend([0] * (max_n - len(out)))
    return out


def _trim(a: list, b: list, context: int) -> tuple[list, list, int]:
    """Drop a common prefix and suffix, less `context` tokens each; return what remains and
    how many n-grams (of any order up to context + 1) lay wholly inside the dropped part.

    Those n-grams are the same on both sides, and min(e + x, e + y) == e + min(x, y), so the
    clipped count of the whole is that number plus the clipped count of the rest.
    """
    shortest = min(len(a), len(b))
    if not shortest:
        return a, b, 0
    prefix = next(compress(count(), map(ne, a, b)), shortest) if a[0] == b[0] else 0
    suffix = 0
    if a[-1] == b[-1]:
        suffix = next(compress(count(), map(ne, reversed(a), reversed(b))), shortest)
        suffix = min(suffix, shortest - prefix)
    cut_prefix = prefix - context if prefix > context else 0
    cut_suffix = suffix - context if suffix > context else 0
    if not (cut_prefix or cut_suffix):
        return a, b, 0
    a = a[cut_prefix:len(a) - cut_suffix]
    b = b[cut_prefix:len(b) - cut_suffix]
    return a, b, cut_prefix + cut_suffix


def clipped_counts(a: list, b: list, max_n: int) -> list[int]:
    """Clipped match counts for orders 1..max_n (symmetric in a and b)."""
    if a == b:
        return [max(len(a) - k, 0) for k in range(max_n)]
    a, b, shared = _trim(a, b, max_n - 1)
    counts = _counts(a, b, max_n)
    return [shared + c for c in counts] if shared else counts


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
    a, b, shared = _trim(a, b, n - 1)
    return shared + _clipped_count(a, b, n)


def _clipped_count(a: list, b: list, n: int) -> int:
    windows_a = len(a) - n + 1
    windows_b = len(b) - n + 1
    if windows_a <= 0 or windows_b <= 0:
        return 0
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
