"""fuzzy_match as rapidfuzz `fuzz.ratio(input, reference) / 100` (no preprocessing)."""

from __future__ import annotations

from collections.abc import Sequence

# Below this many rows the numpy round trip of process.cpdist costs more than it saves.
_BATCH_MIN = 128
# From here on both cores are worth waking.
_PARALLEL_MIN = 10_000


def fuzzy_match(input: str, reference: str) -> float:
    from rapidfuzz import fuzz

    return fuzz.ratio(input, reference) / 100


def fuzzy_match_many(inputs: Sequence[str], references: Sequence[str]) -> list[float]:
    from rapidfuzz import fuzz

    if len(inputs) < _BATCH_MIN:
        ratio = fuzz.ratio
        return [ratio(i, r) / 100 for i, r in zip(inputs, references)]
    import numpy as np
    from rapidfuzz import process

    workers = -1 if len(inputs) >= _PARALLEL_MIN else 1
    scores = process.cpdist(list(inputs), list(references), scorer=fuzz.ratio,
                            dtype=np.float64, workers=workers)
    return (scores / 100).tolist()
