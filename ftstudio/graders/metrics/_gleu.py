"""GLEU as nltk `sentence_gleu([reference], input)` (n-grams of order 1..4).

tp / max(n-grams in input, n-grams in reference), 0.0 when both are empty; tp is the
clipped count of all n-grams of orders 1..4 together.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._ngram import clipped_counts


def _ngram_total(length: int) -> int:
    """Number of n-grams of orders 1..4 in `length` tokens."""
    return 4 * length - 6 if length >= 3 else (3 if length == 2 else length)


def gleu_tokens(hypothesis: list[str], reference: list[str]) -> float:
    hyp_total = _ngram_total(len(hypothesis))
    ref_total = _ngram_total(len(reference))
    n_all = hyp_total if hyp_total > ref_total else ref_total
    if not hyp_total or not ref_total:
        return 0.0  # nothing can match (and nltk returns 0.0 when n_all == 0)
    return sum(clipped_counts(hypothesis, reference, 4)) / n_all


def gleu(input: str, reference: str) -> float:
    return gleu_tokens(input.split(), reference.split())


def gleu_many(inputs: Sequence[str], references: Sequence[str]) -> list[float]:
    return [gleu_tokens(i.split(), r.split()) for i, r in zip(inputs, references)]
