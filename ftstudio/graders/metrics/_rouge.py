"""ROUGE-N and ROUGE-L F-measure as `rouge_score.RougeScorer([...], use_stemmer=False)`.

`RougeScorer.score(target=reference, prediction=input)`. Its default tokenizer lowercases
with `str.lower()`, turns every run of characters outside [a-z0-9] into a separator and
keeps the remaining runs. So non-ASCII letters split words ("naïve" -> "na", "ve"), a text
without ASCII letters or digits has no tokens at all (score 0.0), and `str.lower()` can
make ASCII out of non-ASCII ("İ" -> "i" + U+0307, Kelvin sign -> "k"), just as in
rouge_score. We produce the same runs as bytes: after lowering, every non-ASCII character
is a separator anyway, so encoding with "?" for them and mapping bytes outside [a-z0-9] to
spaces before `bytes.split()` is exact and several times faster than the regex.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._ngram import clipped_count

_SEPARATORS = bytes(c if 48 <= c <= 57 or 97 <= c <= 122 else 32 for c in range(256))


def tokenize(text: str) -> list[bytes]:
    return text.lower().encode("ascii", "replace").translate(_SEPARATORS).split()


def _fmeasure(precision: float, recall: float) -> float:
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def rouge_n_tokens(prediction: list[bytes], target: list[bytes], n: int) -> float:
    overlap = clipped_count(prediction, target, n)
    if not overlap:
        return 0.0
    prediction_count = len(prediction) - n + 1
    target_count = len(target) - n + 1
    precision = overlap / (prediction_count if prediction_count > 1 else 1)
    recall = overlap / (target_count if target_count > 1 else 1)
    return _fmeasure(precision, recall)


def lcs_length(a: list[bytes], b: list[bytes]) -> int:
    """Longest common subsequence length, bit-parallel (Hyyrö 2004) over masks of `b`."""
    if len(b) > len(a):
        a, b = b, a
    table: dict[bytes, int] = {}
    get = table.get
    bit = 1
    for token in b:
        table[token] = get(token, 0) | bit
        bit <<= 1
    full = bit - 1
    v = full
    for token in a:
        u = v & get(token, 0)
        v = (v + u) | (v - u)
    return len(b) - (v & full).bit_count()


def rouge_l_tokens(prediction: list[bytes], target: list[bytes]) -> float:
    if not prediction or not target:
        return 0.0
    lcs = lcs_length(prediction, target)
    precision = lcs / len(prediction)
    recall = lcs / len(target)
    return _fmeasure(precision, recall)


def rouge_n(input: str, reference: str, n: int) -> float:
    return rouge_n_tokens(tokenize(input), tokenize(reference), n)


def rouge_l(input: str, reference: str) -> float:
    return rouge_l_tokens(tokenize(input), tokenize(reference))


def rouge_n_many(inputs: Sequence[str], references: Sequence[str], n: int) -> list[float]:
    return [rouge_n_tokens(tokenize(i), tokenize(r), n) for i, r in zip(inputs, references)]


def rouge_l_many(inputs: Sequence[str], references: Sequence[str]) -> list[float]:
    return [rouge_l_tokens(tokenize(i), tokenize(r)) for i, r in zip(inputs, references)]
