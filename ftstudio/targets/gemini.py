"""gemini: Google's Gemini reinforcement tuning, whose reward config is built from the grader tree.

Every grader type has a translation: a scorer Gemini runs (string match, code execution, autorater)
where its types can say what ours says, else the Cloud Run scorer that `ftstudio serve` answers at
POST /gemini (`_gemini_types.py` per type, `_gemini.py` for the tree; what changes is reported as
rules with evidence). The translation of a tree is the whole reward config, whatever its root's type.
"""

from __future__ import annotations

from typing import Any

from ftstudio.graders import Translator

from ._target import Target


def reward_config(grader: Any, target: Translator) -> dict[str, Any]:
    """{"singleRewardConfig": ...} or {"compositeRewardConfig": ...}, wire form (camelCase)."""
    from ._gemini import export_gemini  # the tree's export: imported when used (issue 23, start-up)

    return export_gemini(grader).document


TARGET = Target(
    name="gemini", title="Google Gemini (reinforcement tuning)", order=50,
    about="Gemini reinforcement tuning's reward config", job_body=False,
    # Every type, through `_gemini_types.TRANSLATIONS` (a test holds it to the registry's types); named by `every`
    # rather than listed here, so that declaring the target imports no type's module (issue 23, start-up).
    every=reward_config,
)
