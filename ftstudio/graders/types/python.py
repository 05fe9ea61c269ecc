"""python: rows go to the sandbox's warm worker pool of this node; each call has its own deadline (facts §7.5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, cast

from ftstudio.core import ROW_ERROR, RowErrors, RowStatus, Stage

from .._models import PYTHON_IMAGE_TAGS, GraderModel
from .._templates import Sample
from ._type import CANCELLED, Checker, GraderType, Path, Scored, ScoringContext

if TYPE_CHECKING:  # the sandbox is imported when a python grader first runs
    from ftstudio.sandbox import PythonCallResult, PythonGraderPool

PYTHON_STUB = '''def grade(sample, item) -> float:
    """Return a score for one sample (usually 0..1).

    sample: {"output_text", "output_json", "output_tools", "choices", "output_audio"}
    item:   the dataset row (every field except the model output)
    """
    answer = sample["output_text"].strip()
    return 1.0 if answer == str(item.get("answer", "")).strip() else 0.0
'''


class PythonGrader(GraderModel):
    type: Literal["python"] = "python"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    source: str
    image_tag: str | None = None
    pass_threshold: int | float | None = None


def default(name: str) -> PythonGrader:
    return PythonGrader(name=name, source=PYTHON_STUB, image_tag="2025-05-08")

def score(node: PythonGrader, ctx: ScoringContext, rows: list[int]) -> Scored:
    b = ctx.batch
    # Rows without an output carry a base error and never reach a scorer.
    calls = [(cast(Sample, b.samples[r]).as_dict(), b.items[r]) for r in rows]
    pool = ctx.session.python_pool(node)
    results = pool.run(calls, progress=sandbox_progress(ctx, pool, f"python grader {node.name or ''}"), cancel=ctx.cancel)
    return pool_results(ctx, rows, results)


def sandbox_progress(ctx: ScoringContext, pool: PythonGraderPool, label: str) -> Callable[[int, int], None]:
    """The pool's progress as the context's: rows done, rows waiting on a slow call and rows that ran past
    the limit (with the limit, so the page can say when every finished row timed out, and what the limit is)."""

    def progress(done: int, total: int) -> None:
        waiting, timed_out = pool.waiting(), pool.timed_out()  # while the count stands still: say why
        ctx.report(done, total, Stage.SANDBOX, label, waiting, pool.timeout if waiting or timed_out else None,
                   timed_out)

    return progress


def pool_results(ctx: ScoringContext, rows: list[int], results: list[PythonCallResult]) -> Scored:
    """Sandbox pool results as a scorer's answer; rows a cancelled run never reached are cancelled errors."""
    out: list[float] = [0.0] * len(rows)
    errs: dict[int, RowErrors] = {}
    for j, (r, res) in enumerate(zip(rows, results)):
        if res.error:
            status = RowStatus.CANCELLED if res.cancelled else \
                RowStatus.TIMED_OUT if res.timed_out else RowStatus.FAILED
            if res.cancelled:
                ctx.cancelled = True
            errs[r] = RowErrors({res.error: res.details or ""}, status)
        else:
            out[j] = res.reward
    if len(results) < len(rows):  # a cancelled run may return fewer results
        ctx.cancelled = True
        for r in rows[len(results):]:
            errs[r] = RowErrors({ROW_ERROR.OTHER: CANCELLED}, RowStatus.CANCELLED)
    return out, errs


def check(c: Checker, g: dict[str, Any], path: Path, depth: int) -> None:
    source = g.get("source")
    if isinstance(source, str):
        from ftstudio.sandbox import static_check  # lazily: validation stays light for the CLI

        for p in static_check(source):
            c.add(path + ("source",), p.code, p.message, "", True)
    tag = g.get("image_tag")
    if isinstance(tag, str) and tag not in PYTHON_IMAGE_TAGS:
        c.add(path + ("image_tag",), "python_image_tag",
              f"image_tag {tag!r} is not a documented tag", "documented: 2025-05-08 (also 'alpha' in a guide)")


def explain(node: PythonGrader, batch: Any) -> dict[str, Any]:
    return {}  # the source is the node itself; nothing is rendered


FIX = ("the python grader gives this output credit: parse the output strictly (one answer, the expected "
       "fields, no extra text) and return 0 when it doesn't parse")


TYPE = GraderType(
    name="python", model=PythonGrader, order=50, default=default, remote=False, calls_model=False, inline=False,
    code=lambda node: node.source,
    score=score, check=check, explain=explain, fix=lambda node, probe: FIX,
)
