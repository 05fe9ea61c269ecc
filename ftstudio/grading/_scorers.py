"""The explicit {grader type: scorer} map. A scorer grades one node over a column of rows."""

from __future__ import annotations

from typing import Any

from . import _endpoint, _lambda, _model, _multi, _python, _string_check, _text_similarity
from ._context import Scorer

SCORERS: dict[str, Scorer[Any]] = {
    "string_check": _string_check.score,
    "text_similarity": _text_similarity.score,
    "python": _python.score,
    "score_model": _model.score,
    "label_model": _model.score,
    "multi": _multi.score,
    "endpoint": _endpoint.score,
    "lambda": _lambda.score,
}
