"""string_check: eq / ne / like / ilike over the rendered input and reference (facts §7.1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from .._models import GraderModel
from . import _pair
from ._type import GraderType, PairScore, Scored, ScoringContext


class StringCheckGrader(GraderModel):
    type: Literal["string_check"] = "string_check"
    # The SDK types require name; the API validates and trains nameless graders (validation warns).
    name: str | None = None
    input: str
    reference: str
    operation: Literal["eq", "ne", "like", "ilike"]
    # Accepted and ignored by fine-tuning (rule pass_threshold_ignored); kept so export is lossless.
    pass_threshold: int | float | None = None


def default(name: str) -> StringCheckGrader:
    return StringCheckGrader(name=name, input="{{ sample.output_text }}", reference="{{ item.answer }}",
                             operation="eq")


def _eq(a: Sequence[str | None], b: Sequence[str | None]) -> list[float]:
    return [1.0 if x == y else 0.0 for x, y in zip(a, b)]


def _ne(a: Sequence[str | None], b: Sequence[str | None]) -> list[float]:
    return [1.0 if x != y else 0.0 for x, y in zip(a, b)]


def _like(a: Sequence[str | None], b: Sequence[str | None]) -> list[float]:
    return [1.0 if x is not None and y is not None and y in x else 0.0 for x, y in zip(a, b)]


def _ilike(a: Sequence[str | None], b: Sequence[str | None]) -> list[float]:  # substring after casefold()
    return [1.0 if x is not None and y is not None and y.casefold() in x.casefold() else 0.0 for x, y in zip(a, b)]


# One comparison per operation, for the scorer and for the engine's small-call plan alike.
COMPARE = {"eq": _eq, "ne": _ne, "like": _like, "ilike": _ilike}


def score(node: StringCheckGrader, ctx: ScoringContext, rows: list[int]) -> Scored:
    a, b, errs = _pair.two_columns(node, ctx.batch, rows)
    out = COMPARE[node.operation](a, b)
    if errs:
        for j, r in enumerate(rows):
            if r in errs:
                out[j] = 0.0
    return out, errs


def plain(node: StringCheckGrader) -> PairScore:
    return COMPARE[node.operation]


_LIKE = "`{op}` passes any output that contains the reference: {what}; use `eq` or a python grader that parses one answer"
_LIKE_WHAT = {
    "hedge": "a hedged list passes", "pad": "padding around the answer passes",
    "repeat": "the answer repeated passes", "inject": "extra text after the answer passes",
    "echo_prompt": "echoing the prompt passes when it contains the reference",
    "empty": "an empty output passes when the reference renders empty", "case": "changing case passes",
    "extra_keys": "added fields pass", "format_only": "an empty skeleton passes when the reference is empty",
    "whitespace": "whitespace passes when the reference renders empty", "truncate": "half an answer passes",
}


def fix(node: StringCheckGrader, probe: str) -> str:
    op = node.operation
    if op in ("like", "ilike"):
        return _LIKE.format(op=op, what=_LIKE_WHAT.get(probe, f"the {probe} probe passes"))
    if op == "ne":
        return "`ne` passes anything that differs from the reference, including this probe; use `eq`"
    return (f"`eq` passes the {probe} probe: the reference renders to the same text for these rows "
            "(check the reference template)")


TYPE = GraderType(
    name="string_check", model=StringCheckGrader, order=10, default=default, remote=False, calls_model=False,
    # Pure string comparisons: serve grades them on the event loop.
    inline=True,
    score=score, plain=plain, check=_pair.check, explain=_pair.explain, fix=fix, templates=_pair.templates,
)
