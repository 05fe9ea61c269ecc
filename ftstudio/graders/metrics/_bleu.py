"""BLEU as nltk `sentence_bleu([reference], input, smoothing_function=method1)`.

Tokens are `str.split()`; weights (0.25,)*4; a single reference, so the closest reference
length is the reference length. The arithmetic below mirrors nltk's operation for
operation (0.25 * log(p) per order, math.fsum, exp, times the brevity penalty), so the
floats are bit-identical, not merely close.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import exp, fsum, log

from ._ngram import clipped_counts

_EPSILON = 0.1  # nltk SmoothingFunction().method1 default
_WEIGHT = 0.25


def bleu_tokens(hypothesis: list[str], reference: list[str]) -> float:
    hyp_len = len(hypothesis)
    ref_len = len(reference)
    if not hyp_len or not ref_len:
        return 0.0
    counts = clipped_counts(hypothesis, reference, 4)
    if not counts[0]:
        return 0.0  # nltk: no unigram match at all means 0, before any smoothing
    terms = []
    for n, numerator in enumerate(counts, 1):
        denominator = hyp_len - n + 1
        if denominator < 1:
            denominator = 1
        p = (numerator + _EPSILON) / denominator if numerator == 0 else numerator / denominator
        terms.append(_WEIGHT * log(p))
    penalty = 1.0 if hyp_len > ref_len else exp(1 - ref_len / hyp_len)
    return penalty * exp(fsum(terms))


def bleu(input: str, reference: str) -> float:
    return bleu_tokens(input.split(), reference.split())


def bleu_many(inputs: Sequence[str], references: Sequence[str]) -> list[float]:
    return [bleu_tokens(i.split(), r.split()) for i, r in zip(inputs, references)]
