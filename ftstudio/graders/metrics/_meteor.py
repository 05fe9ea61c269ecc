"""METEOR as nltk `meteor_score([reference.split()], input.split())`.

nltk's defaults: lowercase with `str.lower`, align in three stages (exact word, Porter
stem, WordNet synonym of the stem), alpha=0.9, beta=3.0, gamma=0.5. Each stage walks the
still-unmatched input words from last to first and takes the last still-unmatched
reference word that fits; note that the synonym stage compares *stems* (nltk passes the
stemmed leftovers on), e.g. synonyms of "happili" rather than of "happily".

Speed comes from caching, per distinct word, its stem and its WordNet lemma names, and from
a WordNet reader that loads in well under a second (see _wordnet.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from itertools import chain, compress

from ._wordnet import WordNet, wordnet

_ALPHA = 0.9
_BETA = 3.0
_GAMMA = 0.5
# Bound the per-word caches so a huge vocabulary cannot grow memory without limit.
_CACHE_LIMIT = 500_000

_stems: dict[str, str] = {}
_synonyms: dict[str, frozenset[str]] = {}
_stemmer = None
_lock = threading.Lock()


def _porter():
    global _stemmer
    if _stemmer is None:
        with _lock:
            if _stemmer is None:
                from nltk.stem.porter import PorterStemmer

                _stemmer = PorterStemmer()
    return _stemmer


def _stem(word: str) -> str:
    stem = _stems.get(word)
    if stem is None:
        if len(_stems) >= _CACHE_LIMIT:
            _stems.clear()
        stem = _stems[word] = _porter().stem(word)
    return stem


def _synonyms_of(word: str, reader: WordNet) -> frozenset[str]:
    names = _synonyms.get(word)
    if names is None:
        if len(_synonyms) >= _CACHE_LIMIT:
            _synonyms.clear()
        found = reader.lemma_names(word)
        names = frozenset(n for n in found if "_" not in n) | {word}
        _synonyms[word] = names
    return names


def meteor_tokens(hypothesis: list[str], reference: list[str], reader: WordNet) -> float:
    hyp = list(map(str.lower, hypothesis))
    ref = list(map(str.lower, reference))
    if not hyp or not ref:
        return 0.0  # nltk: ZeroDivisionError, caught, 0.0
    matches, left, positions = _exact_matches(hyp, ref)
    if left and len(matches) < len(ref):
        leftover, by_stem = _stem_matches(hyp, ref, left, positions, matches)
        if leftover and len(matches) < len(ref):
            _synonym_matches(leftover, by_stem, matches, reader)
    return _score(matches, len(hyp), len(ref))


def _exact_matches(hyp: list[str], ref: list[str]) -> tuple[list[tuple[int, int]], list[int], dict[str, list[int]]]:
    """Stage 1, exact: (matches, unmatched input positions last first, unmatched reference positions by word)."""
    positions: dict[str, list[int]] = {}
    get = positions.get
    for j, word in enumerate(ref):
        found = get(word)
        if found is None:
            positions[word] = [j]
        else:
            found.append(j)
    matches: list[tuple[int, int]] = []
    left: list[int] = []
    for i in range(len(hyp) - 1, -1, -1):
        found = get(hyp[i])
        if found:
            matches.append((i, found.pop()))
        else:
            left.append(i)
    return matches, left, positions


def _stem_matches(hyp: list[str], ref: list[str], left: list[int], positions: dict[str, list[int]],
                  matches: list[tuple[int, int]]) -> tuple[list[tuple[int, str]], dict[str, list[int]]]:
    """Stage 2, Porter stems of what is left on both sides; adds to `matches`, returns what is still left."""
    stems = _stems
    by_stem: dict[str, list[int]] = {}
    get = by_stem.get
    for j in sorted(chain.from_iterable(positions.values())):
        word = ref[j]
        stem = stems.get(word) or _stem(word)
        found = get(stem)
        if found is None:
            by_stem[stem] = [j]
        else:
            found.append(j)
    leftover: list[tuple[int, str]] = []
    for i in left:
        word = hyp[i]
        stem = stems.get(word) or _stem(word)
        found = get(stem)
        if found:
            matches.append((i, found.pop()))
        else:
            leftover.append((i, stem))
    return leftover, by_stem


def _synonym_matches(leftover: list[tuple[int, str]], by_stem: dict[str, list[int]],
                     matches: list[tuple[int, int]], reader: WordNet) -> None:
    """Stage 3, WordNet: a leftover input stem matches a leftover reference stem that is one of its
    synonyms (or itself), the last such one."""
    available = set(compress(by_stem, by_stem.values()))
    synonyms = _synonyms
    for i, stem in leftover:
        names = synonyms.get(stem) or _synonyms_of(stem, reader)
        candidates = available.intersection(names)
        if not candidates:
            continue
        if len(candidates) == 1:
            word = candidates.pop()
        else:
            word = max(candidates, key=lambda w: by_stem[w][-1])
        found = by_stem[word]
        matches.append((i, found.pop()))
        if not found:
            available.discard(word)
            if not available:
                break


def _score(matches: list[tuple[int, int]], hyp_len: int, ref_len: int) -> float:
    count = len(matches)
    if not count:
        return 0.0
    matches.sort()
    chunks = 1
    previous_i, previous_j = matches[0]
    for i, j in matches[1:]:
        if i != previous_i + 1 or j != previous_j + 1:
            chunks += 1
        previous_i, previous_j = i, j

    precision = float(count) / hyp_len
    recall = float(count) / ref_len
    fmean = (precision * recall) / (_ALPHA * precision + (1 - _ALPHA) * recall)
    frag_frac = float(chunks) / count
    penalty = _GAMMA * frag_frac**_BETA
    return (1 - penalty) * fmean


def prepare() -> WordNet:
    _porter()
    return wordnet()


def meteor(input: str, reference: str) -> float:
    return meteor_tokens(input.split(), reference.split(), prepare())


def meteor_many(inputs: Sequence[str], references: Sequence[str]) -> list[float]:
    reader = prepare()
    return [meteor_tokens(i.split(), r.split(), reader) for i, r in zip(inputs, references)]
