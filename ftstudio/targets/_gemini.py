"""Target gemini: a grader tree as Google's reinforcement tuning reward config (google-genai 3.6.1).

The export is one object with exactly one key, in the wire form (camelCase):
- `singleRewardConfig` for a single grader (or a tree only the Cloud Run scorer can compute);
- `compositeRewardConfig` for a multi whose calculate_output is a weighted sum or average of its
  children: `{weightedRewardConfigs: [{rewardConfig, weight}]}`, which Gemini combines as
  sum(weight * reward) / sum(weight) (the type's docstring).

Gemini clips every scorer's reward to [-1, 1]. When the tree's range lies outside it, one affine map
takes the range onto [-1, 1]; the summary says which, and every part applies it: each child of a
composite gets its own map so that the weighted average of the children's Gemini rewards equals the
mapped tree reward (weights are each child's share of the range, so no child leaves [-1, 1]).
`ftstudio serve` answers the Cloud Run parts at POST /gemini (the whole tree) and POST /gemini/KEY (one
child of a composite) with the same maps (`GeminiExport.affine_for`).
"""

from __future__ import annotations

import math

from ftstudio.core import Unavailable
from ftstudio.core.records import datarecord, field
from ftstudio.graders import MultiGrader, label
from ftstudio.graders import formula as F

from ._gemini_types import TRANSLATIONS, Translated
from ._translation import Affine, Change, RewardRange, onto, reward_range

CLOUD_RUN_PLACEHOLDER = "https://YOUR-SERVICE.a.run.app/gemini"
CLIP = (-1.0, 1.0)


@datarecord(frozen=True)
class Part:
    key: str | None  # the composite child's key; None for the whole tree
    affine: Affine  # this part's reward (ftstudio's) -> its Gemini reward
    scorer: str  # stringMatch | codeExecution | autorater | cloudRun
    exact: bool
    config: dict
    weight: float | None = None


@datarecord(frozen=True)
class GeminiExport:
    document: dict  # {"singleRewardConfig": ...} or {"compositeRewardConfig": ...}
    affine: Affine  # the whole tree's map onto [-1, 1] (identity when its range lies inside)
    range: RewardRange
    parts: tuple[Part, ...]
    changes: tuple[Change, ...] = field(default=())

    @property
    def key(self) -> str:
        return next(iter(self.document))

    @property
    def exact(self) -> bool:
        return all(p.exact for p in self.parts)

    def affine_for(self, key: str | None) -> Affine | None:
        """The map a Cloud Run part applies (None: no such part)."""
        return next((p.affine for p in self.parts if p.key == key and p.scorer == "cloudRun"), None)

    def summary(self) -> str:
        lines = [f"Gemini reward config: {self.key} ({len(self.parts)} scorer{'s' if len(self.parts) != 1 else ''})"]
        lo, hi = self.range.lo, self.range.hi
        lines.append(f"- reward range of the tree: [{lo:g}, {hi:g}]" + (
            f" (assumed [0, 1] for {', '.join(self.range.assumed)})" if self.range.assumed else ""))
        lines.append("- affine map onto Gemini's [-1, 1]: " + (
            "none (the range lies inside)" if self.affine.identity else self.affine.text()))
        for p in self.parts:
            where = f"{p.key}: " if p.key else ""
            weight = f", weight {p.weight:.6g}" if p.weight is not None else ""
            lines.append(f"- {where}{p.scorer}{weight}" + ("" if p.affine.identity else f", reward {p.affine.text()}"))
        lines.append("- references: non-string item values are JSON-encoded by `ftstudio convert --to gemini`, "
                     "which names them per row in references._ftstudio_json_keys; the generated code and "
                     "`ftstudio serve`'s /gemini decode exactly those keys")
        if any(p.scorer == "cloudRun" for p in self.parts):
            lines.append("- Cloud Run: run `ftstudio serve GRADER.json` behind the service URL and put it in "
                         "cloudRunUri (it answers POST /gemini and /gemini/KEY)")
        for c in self.changes:
            lines.append(f"- [{c.rule}] {c.line()}")
        return "\n".join(lines)


def _cloud_run(key: str | None, name: str, aff: Affine, uri: str) -> Part:
    target = uri.rstrip("/") + (f"/{key}" if key else "")
    return Part(key, aff, "cloudRun", True, {"rewardName": name, "cloudRunRewardScorer": {"cloudRunUri": target}})


def _translate(node, key: str | None, name: str, aff: Affine, uri: str, path: str,
               changes: list[Change]) -> Part:
    result = TRANSLATIONS[node.type](node, name, aff)
    if isinstance(result, Unavailable):
        changes.append(Change(path, result.rule, f"{node.type} → Cloud Run scorer (ftstudio serve): {result.reason}",
                              "exact, once the service runs", lost=False))
        return _cloud_run(key, name, aff, uri)
    assert isinstance(result, Translated)
    changes.extend(Change(_join(path, c.path), c.rule, c.message, c.hint, c.lost) for c in result.changes)
    return Part(key, aff, result.scorer, result.exact, result.config)


def _join(base: str, rel: str) -> str:
    return ".".join(p for p in (base, rel) if p)


def _composite(grader: MultiGrader, aff: Affine, uri: str, changes: list[Change]) -> list[Part] | Unavailable:
    """The composite's parts, or why the formula is not a weighted average Gemini can take."""
    try:
        terms, const = F.linear(F.parse(grader.calculate_output))
    except F.FormulaError as exc:
        return Unavailable(f"calculate_output does not parse: {exc.message}", "gemini_formula")
    except F.NotLinear as exc:
        return Unavailable(f"calculate_output {grader.calculate_output!r} is not a weighted sum ({exc})",
                           "gemini_formula")
    unknown = sorted(set(terms) - set(grader.graders))
    if unknown:
        return Unavailable(f"calculate_output uses {unknown[0]!r}, which is not a child grader", "gemini_formula")
    ranges = {k: _rng(c) for k, c in grader.graders.items()}
    share = {k: abs(aff.scale * c) * (ranges[k][1] - ranges[k][0]) for k, c in terms.items()}
    if not all(math.isfinite(v) for v in share.values()):
        return Unavailable("a child's range is unbounded, so no weights keep it inside [-1, 1]", "gemini_formula")
    total = math.fsum(share.values())
    if total <= 0:
        return Unavailable("calculate_output is a constant", "gemini_formula")
    low = aff(const + math.fsum(c * (ranges[k][0] if c > 0 else ranges[k][1]) for k, c in terms.items()))
    parts = []
    for k, c in terms.items():
        if share[k] == 0:
            continue
        lo, hi = ranges[k]
        step = total / (hi - lo)
        child = Affine(step, low - step * lo) if c > 0 else Affine(-step, low + step * hi)
        part = _translate(grader.graders[k], k, k, child, uri, f"graders.{k}", changes)
        parts.append(Part(part.key, part.affine, part.scorer, part.exact, part.config, share[k] / total))
    for k in grader.graders:
        if k not in terms or share.get(k) == 0:
            changes.append(Change(f"graders.{k}", "gemini_formula", f"{k} is left out: its value never changes the "
                                  "reward (calculate_output doesn't use it, or its range is one point)", lost=False))
    return parts


def _rng(node) -> tuple[float, float]:
    r = reward_range(node)
    return r.lo, r.hi


def export_gemini(grader, *, cloud_run_uri: str = CLOUD_RUN_PLACEHOLDER) -> GeminiExport:
    """The reward config of a grader tree (a parsed grader model), with what it changes."""
    rng = reward_range(grader)
    changes: list[Change] = []
    if rng.assumed:
        changes.append(Change("", "gemini_range_assumed", f"the range of {', '.join(rng.assumed)} is not known (code "
                              "or a remote service decides it): the export assumes [0, 1]; rewards outside it "
                              "are clipped by Gemini to [-1, 1] after the map", "keep python rewards in [0, 1]"))
    if not rng.finite:
        changes.append(Change("", "gemini_range_unbounded", "the tree's reward is unbounded (a division or a power "
                              "in calculate_output): Gemini clips it to [-1, 1]", "bound it with min() and max()"))
    aff = onto(rng.lo, rng.hi) if rng.finite else Affine()
    if not aff.identity:
        changes.append(Change("", "gemini_reward_mapped", f"rewards lie in [{rng.lo:g}, {rng.hi:g}], outside "
                              f"Gemini's [-1, 1]: the export maps them with {aff.text()}",
                              "read Gemini's rewards back with reward = (reward_gemini - offset) / scale",
                              lost=False))
    name = label(grader) if grader.name else grader.type
    if isinstance(grader, MultiGrader):
        parts = _composite(grader, aff, cloud_run_uri, changes)
        if not isinstance(parts, Unavailable):
            weighted = [{"rewardConfig": p.config, "weight": p.weight} for p in parts]
            return GeminiExport({"compositeRewardConfig": {"weightedRewardConfigs": weighted}}, aff, rng,
                                tuple(parts), tuple(changes))
        changes.append(Change("calculate_output", parts.rule, f"{parts.reason}: the whole tree goes to the Cloud "
                              "Run scorer (ftstudio serve)", "exact, once the service runs", lost=False))
        part = _cloud_run(None, name, aff, cloud_run_uri)
    else:
        part = _translate(grader, None, name, aff, cloud_run_uri, "", changes)
    return GeminiExport({"singleRewardConfig": part.config}, aff, rng, (part,), tuple(changes))
