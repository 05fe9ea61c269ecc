"""The leaf graders, each scored over a column of rows (see engine.py)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ._columns import render_column
from .results import RowErrors

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Batch, _Run


def _two_columns(node, batch: "Batch", rows: list[int]):
    inputs, e1 = render_column(node.input, batch, rows)
    refs, e2 = render_column(node.reference, batch, rows)
    errs: dict[int, RowErrors] = {}
    for source, e in (("input", e1), ("reference", e2)):
        for r, (code, msg) in e.items():
            errs.setdefault(r, RowErrors()).add(code, f"{source}: {msg}")
    return inputs, refs, errs


def string_check(node, batch: "Batch", rows: list[int]):
    a, b, errs = _two_columns(node, batch, rows)
    op = node.operation
    if op == "eq":
        out = [1.0 if x == y else 0.0 for x, y in zip(a, b)]
    elif op == "ne":
        out = [1.0 if x != y else 0.0 for x, y in zip(a, b)]
    elif op == "like":
        out = [1.0 if x is not None and y is not None and y in x else 0.0 for x, y in zip(a, b)]
    else:  # ilike: substring after casefold()
        out = [1.0 if x is not None and y is not None and y.casefold() in x.casefold() else 0.0 for x, y in zip(a, b)]
    if errs:
        for j, r in enumerate(rows):
            if r in errs:
                out[j] = 0.0
    return out, errs


# fuzzy_match and rouge_l are quadratic in text length; past this a single row could take
# minutes, so such rows get an error instead of a score (ordinary answers are far shorter).
MAX_SIMILARITY_CHARS = 200_000


def text_similarity(node, run: "_Run", rows: list[int]):
    a, b, errs = _two_columns(node, run.b, rows)
    for j, r in enumerate(rows):
        if a[j] is not None and b[j] is not None and len(a[j]) + len(b[j]) > MAX_SIMILARITY_CHARS:
            errs.setdefault(r, RowErrors()).add(
                "other_error", f"input and reference are {len(a[j]) + len(b[j]):,} characters together; "
                f"text_similarity handles at most {MAX_SIMILARITY_CHARS:,} per row")
    ok = [j for j, r in enumerate(rows) if r not in errs]
    out = [0.0] * len(rows)
    if not ok:
        return out, errs
    ins, refs = [a[j] for j in ok], [b[j] for j in ok]
    if node.evaluation_metric == "cosine":
        scores, failures = _cosine(run, ins, refs)
        for k, j in enumerate(ok):
            if failures[k]:
                errs.setdefault(rows[j], RowErrors()).add(*failures[k])
    else:
        from . import metrics

        run.report(0, len(ok), f"{node.evaluation_metric}")
        try:
            scores = metrics.score_many(node.evaluation_metric, ins, refs)
        except metrics.WordNetUnavailableError as exc:  # meteor without its WordNet files
            for j in ok:
                errs.setdefault(rows[j], RowErrors()).add("other_error", str(exc))
            return out, errs
        run.report(len(ok), len(ok), f"{node.evaluation_metric}")
    for k, j in enumerate(ok):
        out[j] = 0.0 if rows[j] in errs else float(scores[k])
    return out, errs


def _cosine(run: "_Run", ins: list[str], refs: list[str]):
    """Cosine similarity of embeddings from the configured endpoint (evals-only metric)."""
    from .metrics import cosine_similarity

    endpoint = run.s.endpoint
    if not endpoint.configured:
        msg = ("cosine needs embeddings from an OpenAI-compatible endpoint: set OPENAI_API_KEY (and OPENAI_BASE_URL) "
               "or configure one in the app")
        return [0.0] * len(ins), [("other_error", msg)] * len(ins)
    texts = sorted(set(ins) | set(refs))
    model = run.s.options.embedding_model
    batches = [texts[i:i + 128] for i in range(0, len(texts), 128)]
    results = run.s.runner().embed([{"model": model, "input": t} for t in batches],
                                   progress=lambda d, t: run.report(d, t, "embeddings"), cancel=run.cancel)
    vectors: dict[str, list[float]] = {}
    failed: dict[str, tuple[str, str]] = {}
    for texts_i, res in zip(batches, results):
        run.add_usage(res.model or model, res.usage)
        if res.error:
            failed.update({t: ("model_grader_server_error", f"embeddings: {res.error[1]}") for t in texts_i})
        else:
            vectors.update(zip(texts_i, res.value["embeddings"]))
    scores, failures = [], []
    for x, y in zip(ins, refs):
        err = failed.get(x) or failed.get(y)
        if err:
            scores.append(0.0)
            failures.append(err)
        else:
            scores.append(cosine_similarity(vectors[x], vectors[y]))
            failures.append(None)
    return scores, failures


def python(node, run: "_Run", rows: list[int]):
    b = run.b
    calls = [(b.samples[r].as_dict(), b.items[r]) for r in rows]
    pool = run.s.python_pool(node)
    results = pool.run(calls, progress=lambda d, t: run.report(d, t, f"python grader {node.name}"), cancel=run.cancel)
    out, errs = [0.0] * len(rows), {}
    for j, (r, res) in enumerate(zip(rows, results)):
        if res.error:
            if res.details == "cancelled":
                run.cancelled = True
            errs[r] = RowErrors({res.error: res.details or ""})
        else:
            out[j] = res.reward
    if len(results) < len(rows):  # a cancelled run may return fewer results
        run.cancelled = True
        for r in rows[len(results):]:
            errs[r] = RowErrors({"other_error": "cancelled"})
    return out, errs


def model_grader(node, run: "_Run", rows: list[int]):
    from ._model_graders import build_requests, interpret

    requests, render_errs = build_requests(node, run.b, rows)
    errs: dict[int, RowErrors] = {r: RowErrors({code: msg}) for r, (code, msg) in render_errs.items()}
    out = [0.0] * len(rows)
    todo = [j for j, req in enumerate(requests) if req is not None]
    endpoint = run.s.endpoint
    if todo and not endpoint.configured:
        msg = ("no model endpoint configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for other servers), "
               "or configure one in the app")
        for j in todo:
            errs[rows[j]] = RowErrors({"model_grader_server_error": msg})
        return out, errs
    results = run.s.runner().chat([requests[j] for j in todo],
                                  progress=lambda d, t: run.report(d, t, f"{node.type} {node.name}"),
                                  cancel=run.cancel)
    for j, res in zip(todo, results):
        r = rows[j]
        run.add_usage(res.model or node.model, res.usage)
        if res.error:
            if "cancelled" in res.error[1]:
                run.cancelled = True
            errs[r] = RowErrors({res.error[0]: res.error[1]})
            continue
        reward, err = interpret(node, res.value)
        if err:
            errs[r] = RowErrors({err[0]: err[1]})
        else:
            out[j] = reward if math.isfinite(reward) else 0.0
    return out, errs
