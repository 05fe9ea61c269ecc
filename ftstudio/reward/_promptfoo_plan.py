"""How a grader tree maps onto promptfoo assertions (`ftstudio export --format promptfoo`).

- string_check whose input is exactly `{{ sample.output_text }}` and whose reference reads only the item:
  promptfoo's own assertion (eq: equals, ne: not-equals, like: contains, ilike: icontains), the reference
  rendered per row by our engine into a var. Exact: both score 1 or 0 on the same strings.
- text_similarity with a metric promptfoo has (bleu: bleu; rouge_1 .. rouge_5: rouge-n): promptfoo's own
  assertion, marked approximate (promptfoo computes the metric its own way).
- anything else (python, model graders, our other metrics, a string_check over another field): a python
  assertion calling `grader.py`, which grades with ftstudio: exact.
- multi whose calculate_output is a weighted average (non-negative weights summing to 1): an assert-set of
  its children with those weights (promptfoo takes the weighted mean), else one python assertion for the
  whole tree.
- pass_threshold: the test's threshold.

A row whose native reference can't be rendered is a row ftstudio scores 0 with an error: that row's test
gets the one python assertion instead, so its score is ftstudio's too.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ftstudio.core.records import datarecord, field
from ftstudio.graders import Grader, MultiGrader, RenderError, Sample, StringCheckGrader, TextSimilarityGrader, render

from ._trl import weights_of

OUTPUT_VAR = "ftstudio_output"
ROW_VAR = "ftstudio_row"
_OUTPUT_ONLY = re.compile(r"^\{\{\s*sample\.output_text\s*\}\}$")
STRING_OPS = {"eq": "equals", "ne": "not-equals", "like": "contains", "ilike": "icontains"}
# metric: (promptfoo assertion type, its extra fields)
SIMILARITY: dict[str, tuple[str, dict[str, int]]] = {
    "bleu": ("bleu", {}), **{f"rouge_{n}": ("rouge-n", {"n": n}) for n in range(1, 6)}}


@datarecord
class Part:
    """One assertion of the plan: a node mapped natively (`assertion`), or graded by grader.py (`function`)."""

    key: str  # the child key in the multi ('' for the whole tree)
    label: str
    weight: float = 1.0
    assertion: dict[str, Any] | None = None  # native: the assertion without its value
    reference: str | None = None  # native: the reference template, rendered per row into a var
    function: str = "get_assert"  # python: grader.py's function
    exact: bool = True
    note: str = ""


@datarecord
class Plan:
    name: str  # the tree's
    parts: list[Part]
    is_set: bool  # the parts form an assert-set (a multi with a weighted average)
    threshold: float | None
    notes: list[str] = field(default_factory=list[str])  # what is approximate, for the YAML and the summary

    @property
    def natives(self) -> list[Part]:
        return [p for p in self.parts if p.assertion is not None]


def _reads_sample(template: str) -> bool:
    return "sample." in template or "sample[" in template


def _native(node: Grader, key: str, label: str, weight: float) -> Part | None:
    if isinstance(node, (StringCheckGrader, TextSimilarityGrader)):
        if not _OUTPUT_ONLY.match(node.input) or _reads_sample(node.reference):
            return None
    if isinstance(node, StringCheckGrader):
        return Part(key, label, weight, {"type": STRING_OPS[node.operation], "metric": label}, node.reference)
    if isinstance(node, TextSimilarityGrader) and node.evaluation_metric in SIMILARITY:
        kind, extra = SIMILARITY[node.evaluation_metric]
        note = (f"{label}: text_similarity {node.evaluation_metric} -> promptfoo {kind}, computed by promptfoo "
                "(tokenisation and smoothing differ from ftstudio's), so its score is approximate")
        return Part(key, label, weight, {"type": kind, "metric": label, **extra}, node.reference, exact=False,
                    note=note)
    return None


def _function(key: str, index: int) -> str:
    return f"get_assert_{index}_{re.sub(r'[^0-9A-Za-z_]', '_', key)}"


def _linear_weights(grader: MultiGrader) -> dict[str, float] | None:
    try:
        weights = weights_of(grader)
    except ValueError:
        return None
    if any(w < 0 for w in weights.values()) or not math.isclose(sum(weights.values()), 1.0, abs_tol=1e-9):
        return None
    return weights


def plan_for(grader: Grader) -> Plan:
    threshold: float | None = getattr(grader, "pass_threshold", None)
    name = grader.name or grader.type
    if isinstance(grader, MultiGrader):
        weights = _linear_weights(grader)
        if weights is None:
            return Plan(name, [Part("", name)], False, threshold,
                        [f"{name}: calculate_output {grader.calculate_output!r} is not a weighted average of the "
                         "children (non-negative weights summing to 1): one python assertion grades the tree"])
        parts: list[Part] = []
        for i, (key, weight) in enumerate(weights.items()):
            child = grader.graders[key]
            label = child.name or key
            parts.append(_native(child, key, label, weight) or Part(key, label, weight, function=_function(key, i)))
        plan = Plan(name, parts, True, threshold)
        if any(p.assertion is not None for p in parts) and any(p.assertion is None for p in parts):
            plan.notes.append(f"{name}: a row where a python-graded child fails scores 0 in ftstudio; here the "
                              "natively mapped children still count")
    else:
        part = _native(grader, "", name, 1.0)
        plan = Plan(name, [part or Part("", name)], False, threshold)
    plan.notes += [p.note for p in plan.parts if p.note]
    return plan


def references(plan: Plan, row: dict[str, Any], output: str) -> list[str] | None:
    """Each native part's reference rendered for this row, or None when one can't be (ftstudio's error row)."""
    out: list[str] = []
    for part in plan.natives:
        try:
            out.append(render(part.reference or "", row, Sample(output)))
        except RenderError:
            return None
    return out
