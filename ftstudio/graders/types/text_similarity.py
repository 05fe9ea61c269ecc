"""text_similarity: the metrics package column-wise; cosine through the endpoint's embeddings (facts §7.2)."""

from __future__ import annotations

from typing import Any, Literal, cast

from ftstudio.core import ROW_ERROR, RowErrors, RowStatus, Stage, json_object

from .. import metrics
from .._models import GraderModel
from . import _pair
from ._pair import two_columns
from ._type import Checker, GraderType, PairScore, Path, Scored, ScoringContext, call_status


class TextSimilarityGrader(GraderModel):
    type: Literal["text_similarity"] = "text_similarity"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    input: str
    reference: str
    evaluation_metric: Literal[
        "cosine", "fuzzy_match", "bleu", "gleu", "meteor",
        "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l",
    ]
    pass_threshold: int | float | None = None


def default(name: str) -> TextSimilarityGrader:
    return TextSimilarityGrader(name=name, input="{{ sample.output_text }}", reference="{{ item.reference }}",
                                evaluation_metric="fuzzy_match")

# fuzzy_match and rouge_l are quadratic in text length; past this a single row could take
# minutes, so such rows get an error instead of a score (ordinary answers are far shorter).
MAX_SIMILARITY_CHARS = 200_000


def score(node: TextSimilarityGrader, ctx: ScoringContext, rows: list[int]) -> Scored:
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
        for failure, j in zip(failures, ok):
            if failure:
                errs.setdefault(rows[j], RowErrors()).add(*failure)
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


def plain(node: TextSimilarityGrader) -> PairScore | None:
    """The scorer's values for rows that all render, by the same metric code; None for cosine (embeddings
    from a server). A row past the length limit, or meteor without WordNet, is left to the scorer."""
    metric = node.evaluation_metric
    if metric == "cosine":
        return None

    def scores(ins: list[str], refs: list[str]) -> list[float] | None:
        if ins and max(map(len, ins)) + max(map(len, refs)) > MAX_SIMILARITY_CHARS:
            return None
        try:
            return list(map(float, metrics.score_many(metric, ins, refs)))
        except metrics.WordNetUnavailableError:
            return None

    return scores


def _too_long(a: list[str | None], b: list[str | None], rows: list[int], errs: dict[int, RowErrors]) -> None:
    for j, r in enumerate(rows):
        x, y = a[j], b[j]
        if x is not None and y is not None and len(x) + len(y) > MAX_SIMILARITY_CHARS:
            errs.setdefault(r, RowErrors()).add(
                ROW_ERROR.OTHER, f"input and reference are {len(x) + len(y):,} characters together; "
                f"text_similarity handles at most {MAX_SIMILARITY_CHARS:,} per row")


def _cosine(ctx: ScoringContext, ins: list[str],
            refs: list[str]) -> tuple[list[float], list[tuple[str, str, RowStatus] | None]]:
    """Cosine similarity of embeddings from the configured endpoint (evals-only metric)."""
    endpoint = ctx.session.endpoint
    if not endpoint.configured:
        msg = ("cosine needs embeddings from an OpenAI-compatible endpoint: set OPENAI_API_KEY (and OPENAI_BASE_URL) "
               "or configure one in the app")
        return [0.0] * len(ins), [(ROW_ERROR.OTHER, msg, RowStatus.FAILED)] * len(ins)
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
            vectors.update(zip(texts_i, (json_object(res.value) or {})["embeddings"]))
    scores: list[float] = []
    failures: list[tuple[str, str, RowStatus] | None] = []
    for x, y in zip(ins, refs):
        err = failed.get(x) or failed.get(y)
        if err:
            scores.append(0.0)
            failures.append(err)
        else:
            scores.append(metrics.cosine_similarity(vectors[x], vectors[y]))
            failures.append(None)
    return scores, failures


def check(c: Checker, g: dict[str, Any], path: Path, depth: int) -> None:
    c.templates(g, path, _pair.FIELDS)
    if c.reinforcement and g.get("evaluation_metric") == "cosine":
        c.add(path + ("evaluation_metric",), "cosine_in_reinforcement",
              "cosine is documented for evals only, not for reinforcement fine-tuning",
              "use fuzzy_match, bleu, gleu, meteor or rouge_*; local grading still computes cosine "
              "with embeddings from your endpoint")


_SIMILARITY = {
    "pad": "`{metric}` rewards overlap, and padding adds overlap: score a normalised answer, or multiply by a "
           "length penalty in a python grader (e.g. min(1, len(reference) / len(output)))",
    "repeat": "`{metric}` counts repeated words as more overlap: deduplicate in a python grader or use "
              "`fuzzy_match` on the extracted answer",
    "case": "`{metric}` scores upper-cased text higher than the genuine answer: normalise case on both sides",
    "extra_keys": "`{metric}` rewards extra JSON fields: compare the fields you need, in a python grader",
    "hedge": "`{metric}` gives a hedged list partial credit: extract one answer before comparing",
    "echo_prompt": "`{metric}` gives credit for echoing the prompt: the reference shares words with the prompt; "
                   "compare with the answer only, or add a check that the output differs from the prompt",
}


def fix(node: TextSimilarityGrader, probe: str) -> str:
    text = _SIMILARITY.get(probe, "`{metric}` gives this probe credit: add a check on the extracted answer")
    return text.format(metric=node.evaluation_metric)


TYPE = GraderType(
    name="text_similarity", model=TextSimilarityGrader, order=20, default=default, remote=False,
    calls_model=False, inline=False,
    # cosine compares embeddings from the configured endpoint.
    needs_endpoint=lambda node: node.evaluation_metric == "cosine",
    score=score, plain=plain, check=check, explain=_pair.explain, fix=fix, templates=_pair.templates,
)
