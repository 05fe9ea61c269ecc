"""text_similarity: the metrics package column-wise; cosine through the endpoint's embeddings."""

from __future__ import annotations

from typing import cast

from ftstudio.core import ROW_ERROR
from ftstudio.graders import TextSimilarityGrader

from . import metrics
from ._context import GradingContext, Scored
from ._progress import Stage
from ._results import RowErrors, RowStatus, call_status
from ._string_check import two_columns

# fuzzy_match and rouge_l are quadratic in text length; past this a single row could take
# minutes, so such rows get an error instead of a score (ordinary answers are far shorter).
MAX_SIMILARITY_CHARS = 200_000


def score(node: TextSimilarityGrader, ctx: GradingContext, rows: list[int]) -> Scored:
    a, b, errs = two_columns(node, ctx.batch, rows)
    clean = not errs and None not in a and None not in b
    # The longest input plus the longest reference within the limit: no row can be over it.
    if not (clean and a and max(map(len, cast(list[str], a))) + max(map(len, cast(list[str], b)))
            <= MAX_SIMILARITY_CHARS):
        _too_long(a, b, rows, errs)
    if not errs:  # every row renders and fits (the common case): whole columns, no copies
        ok, ins, refs = range(len(rows)), cast(list[str], a), cast(list[str], b)
    else:
        ok = [j for j, r in enumerate(rows) if r not in errs]
        # Rows whose input or reference did not render carry an error, so these texts are all strings.
        ins, refs = cast(list[str], [a[j] for j in ok]), cast(list[str], [b[j] for j in ok])
    out = [0.0] * len(rows)
    if not ok:
        return out, errs
    if node.evaluation_metric == "cosine":
        scores, failures = _cosine(ctx, ins, refs)
        for k, j in enumerate(ok):
            if failures[k]:
                errs.setdefault(rows[j], RowErrors()).add(*failures[k])
    else:
        ctx.report(0, len(ok), Stage.SCORING, node.evaluation_metric)
        try:
            scores = metrics.score_many(node.evaluation_metric, ins, refs)
        except metrics.WordNetUnavailableError as exc:  # meteor without its WordNet files
            for j in ok:
                errs.setdefault(rows[j], RowErrors()).add(ROW_ERROR.OTHER, str(exc))
            return out, errs
        ctx.report(len(ok), len(ok), Stage.SCORING, node.evaluation_metric)
    if not errs and len(ok) == len(rows):
        return list(map(float, scores)), errs
    for k, j in enumerate(ok):
        out[j] = 0.0 if rows[j] in errs else float(scores[k])
    return out, errs


def _too_long(a: list, b: list, rows: list[int], errs: dict) -> None:
    for j, r in enumerate(rows):
        x, y = a[j], b[j]
        if x is not None and y is not None and len(x) + len(y) > MAX_SIMILARITY_CHARS:
            errs.setdefault(r, RowErrors()).add(
                ROW_ERROR.OTHER, f"input and reference are {len(x) + len(y):,} characters together; "
                f"text_similarity handles at most {MAX_SIMILARITY_CHARS:,} per row")


def _cosine(ctx: GradingContext, ins: list[str], refs: list[str]):
    """Cosine similarity of embeddings from the configured endpoint (evals-only metric)."""
    endpoint = ctx.session.endpoint
    if not endpoint.configured:
        msg = ("cosine needs embeddings from an OpenAI-compatible endpoint: set OPENAI_API_KEY (and OPENAI_BASE_URL) "
               "or configure one in the app")
        return [0.0] * len(ins), [(ROW_ERROR.OTHER, msg)] * len(ins)
    texts = sorted(set(ins) | set(refs))
    model = ctx.session.options.embedding_model
    batches = [texts[i:i + 128] for i in range(0, len(texts), 128)]
    results = ctx.session.runner().embed([{"model": model, "input": t} for t in batches],
                                   progress=lambda d, t: ctx.report(d, t, Stage.REQUESTS, "embeddings"), cancel=ctx.cancel)
    vectors: dict[str, list[float]] = {}
    failed: dict[str, tuple[str, str, RowStatus]] = {}
    for texts_i, res in zip(batches, results):
        ctx.add_usage(res.model or model, res.usage)
        if res.error:
            if res.cancelled:
                ctx.cancelled = True
            why = (ROW_ERROR.MODEL_SERVER, f"embeddings: {res.error[1]}", call_status(res))
            failed.update(dict.fromkeys(texts_i, why))
        else:
            vectors.update(zip(texts_i, (res.value or {})["embeddings"]))
    scores, failures = [], []
    for x, y in zip(ins, refs):
        err = failed.get(x) or failed.get(y)
        if err:
            scores.append(0.0)
            failures.append(err)
        else:
            scores.append(metrics.cosine_similarity(vectors[x], vectors[y]))
            failures.append(None)
    return scores, failures
