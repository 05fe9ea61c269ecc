"""The shapes every target's translation shares: Change, Affine and a grader's reward range (Unavailable is core's).

A target translates a grader type into its own form, or answers `Unavailable(reason, rule)`: the
reason is shown to the user and `rule` is the rules-registry id (with its evidence) that flags it.
A `Change` is one line of "what the export loses or changes", with its rule.
"""

from __future__ import annotations

import math

from ftstudio.core.records import datarecord
from ftstudio.graders import MultiGrader, ScoreModelGrader, TextSimilarityGrader, walk


@datarecord(frozen=True)
class Change:
    """One thing an export or a move loses or changes: where (a JSON path), which rule, what to do."""

    path: str
    rule: str
    message: str
    hint: str = ""
    lost: bool = True  # False for a rename or a translation that keeps the meaning

    def line(self) -> str:
        where = self.path or "(document)"
        return f"{where}: {self.message}" + (f" ({self.hint})" if self.hint else "")

    def to_dict(self) -> dict:
        return {"path": self.path, "rule": self.rule, "message": self.message, "hint": self.hint, "lost": self.lost}


@datarecord(frozen=True)
class Affine:
    """reward' = scale * reward + offset."""

    scale: float = 1.0
    offset: float = 0.0

    @property
    def identity(self) -> bool:
        return self.scale == 1.0 and self.offset == 0.0

    def __call__(self, x: float) -> float:
        return x if self.identity else self.scale * x + self.offset

    def text(self) -> str:
        return f"reward_gemini = {self.scale!r} * reward + {self.offset!r}"


# Graders whose value the engine takes from code or a remote service: nothing bounds it. The
# documented convention of python and endpoint graders is a score in [0, 1], so that is assumed.
UNBOUNDED_TYPES = ("python", "endpoint", "lambda")
ASSUMED = (0.0, 1.0)


@datarecord(frozen=True)
class RewardRange:
    lo: float
    hi: float
    assumed: tuple[str, ...] = ()  # JSON-path-like names of nodes whose range is assumed, not known

    @property
    def finite(self) -> bool:
        return math.isfinite(self.lo) and math.isfinite(self.hi)


def node_range(node) -> tuple[float, float]:
    """The interval a single (non-multi) grader's reward lies in, as the engine computes it."""
    if isinstance(node, ScoreModelGrader):
        lo, hi = node.range or [0.0, 1.0]
        return float(lo), float(hi)
    if isinstance(node, TextSimilarityGrader) and node.evaluation_metric == "cosine":
        return -1.0, 1.0
    return ASSUMED


def reward_range(grader) -> RewardRange:
    """The tree's reward interval: children's intervals through calculate_output's interval arithmetic."""
    assumed = tuple(".".join(p) or grader.type for p, n in walk(grader) if n.type in UNBOUNDED_TYPES)
    lo, hi = _range(grader)
    return RewardRange(lo, hi, assumed)


def _range(node) -> tuple[float, float]:
    if not isinstance(node, MultiGrader):
        return node_range(node)
    from ftstudio.graders import formula as F  # a multi's range only (issue 23, start-up)

    try:
        tree = F.parse(node.calculate_output)
    except F.FormulaError:
        return -math.inf, math.inf
    return F.bounds(tree, {k: _range(child) for k, child in node.graders.items()})


def onto(lo: float, hi: float, target: tuple[float, float] = (-1.0, 1.0)) -> Affine:
    """The affine map taking [lo, hi] onto `target`; the identity when [lo, hi] already lies inside it."""
    a, b = target
    if lo >= a and hi <= b:
        return Affine()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return Affine()
    if hi == lo:
        return Affine(1.0, (a + b) / 2 - lo)
    scale = (b - a) / (hi - lo)
    return Affine(scale, a - scale * lo)
