"""Inline nested multi graders into one multi the API accepts (no multi inside a multi, facts §7.6).

A nested multi under key `k` with children `a`, `b` and formula `F(a, b)` becomes children
`k__a`, `k__b` of the parent, and every `k` in the parent's formula becomes `(F(k__a, k__b))`.
Rewards stay identical row for row, except where the nested formula itself fails at run time
(a nested failure scores 0 for its key; a flattened one fails the whole formula).
"""

from __future__ import annotations

from typing import Any

from ftstudio.graders import MultiGrader
from ftstudio.graders import formula as F

from ._job import JobConfig

SEPARATOR = "__"


def is_nested(grader: Any) -> bool:
    return isinstance(grader, MultiGrader) and any(isinstance(c, MultiGrader) for c in grader.graders.values())


def flatten(grader: Any) -> Any:
    """A grader with no multi nested in a multi; the input is not modified.

    Raises formula.FormulaError when a formula on the way does not parse (nothing sound can be
    composed from it); validation reports that case first.
    """
    if not isinstance(grader, MultiGrader):
        return grader
    children: dict[str, Any] = {}
    replacements: dict[str, F.Node] = {}
    taken = set(grader.graders)
    for key, child in grader.graders.items():
        if not isinstance(child, MultiGrader):
            children[key] = child
            continue
        flat = flatten(child)
        mapping: dict[str, str] = {}
        for sub_key, sub in flat.graders.items():
            new_key = _unique(f"{key}{SEPARATOR}{sub_key}", taken | set(children))
            mapping[sub_key] = new_key
            children[new_key] = sub
        taken |= set(mapping.values())
        inner = F.rename(F.parse(flat.calculate_output), lambda name, m=mapping: m.get(name, name))
        replacements[key] = inner
    if not replacements:
        return grader.model_copy(deep=True)
    outer = F.substitute(F.parse(grader.calculate_output), replacements)
    return MultiGrader(name=grader.name, graders={k: v.model_copy(deep=True) for k, v in children.items()},
                       calculate_output=F.to_source(outer))


def _unique(candidate: str, taken: set[str]) -> str:
    if candidate not in taken:
        return candidate
    n = 2
    while f"{candidate}_{n}" in taken:
        n += 1
    return f"{candidate}_{n}"


def flatten_config(config: JobConfig) -> JobConfig:
    """The config with its reinforcement grader flattened (other configs unchanged)."""
    grader = config.grader
    out = config.model_copy(deep=True)
    rl = out.method.reinforcement if out.method else None
    if grader is not None and rl is not None:
        rl.grader = flatten(grader)
    return out
