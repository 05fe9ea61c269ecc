"""What exporting the grader tree to a target beyond OpenAI's job body loses or changes, as Issues.

The target's own export decides (ftstudio.targets): each Change it reports carries its rule, so
`validate --target gemini` says exactly what `export --format gemini` will do, from the same code.
"""

from __future__ import annotations

from typing import Any

from ftstudio.core import Issue, join_path
from ftstudio.graders import parse_grader

from ._rules import issue


def tree_issues(grader: Any, prefix: tuple, target: str) -> list[Issue]:
    """The changes of the target's export of this grader (JSON form), at their paths under `prefix`."""
    if target != "gemini":
        return []
    from ftstudio.targets import export_gemini  # only for gemini (issue 23, start-up)

    try:
        model = parse_grader(grader)
    except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
        return []  # the schema issues already say why; nothing can be exported
    base = join_path(prefix)
    return [issue(".".join(p for p in (base, c.path) if p), c.rule, c.message, c.hint)
            for c in export_gemini(model).changes]


def config_issues(config: dict, target: str) -> list[Issue]:
    """Job-level changes of the target's export (bedrock-rft: base model, hyperparameters, job fields)."""
    if target != "bedrock-rft":
        return []
    from ftstudio.targets import bedrock_rft_changes

    return [issue(c.path, c.rule, c.message, c.hint) for c in bedrock_rft_changes(config)]
