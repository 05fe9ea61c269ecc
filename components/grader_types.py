"""The UI side of each grader type, in one registry: its icon, its one-line help and its form.

The domain's registry (`ftstudio.graders.grader_types()`) says which types exist; this says how the
editor shows them. A type without an entry here is edited as JSON, by design (`JSON_ONLY`): it is
still listed, added, graded and validated like the others. tests/test_grader_types_ui.py fails when an
entry lacks a facet or names a type the domain doesn't know.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from components import editors_basic, editors_model
from components import grader_edit as E
from ftstudio.core import redact
from ftstudio.graders import find, grader_types

Editor = Callable[[tuple, Any, E.IssueBag], None]


@dataclass(frozen=True)
class GraderUi:
    icon: str      # a Material icon, not an emoji: Debian's chromium (CI) has no emoji font
    help: str      # one line for the "Add grader" menu
    editor: Editor  # the form under the node's name: (path, node, issues not yet shown)


def json_form(caption: str) -> Editor:
    """A form that shows the node's JSON and sends the user to the JSON view below, where it is edited."""

    def form(path: tuple, node: Any, bag: E.IssueBag) -> None:
        st.caption(caption)
        st.code(redact(json.dumps(node.model_dump(mode="json", by_alias=True, exclude_none=True), indent=2)),
                language="json")

    return form


_REMOTE = json_form("Scored by your service (endpoint) or on Bedrock (lambda); edit it in the JSON view below.")

UI: dict[str, GraderUi] = {
    "string_check": GraderUi(":material/match_case:", "compare two strings: equal, not equal, contains",
                             editors_basic.string_check),
    "text_similarity": GraderUi(":material/straighten:", "a similarity score in [0, 1] (fuzzy, BLEU, ROUGE, METEOR...)",
                                editors_basic.text_similarity),
    "score_model": GraderUi(":material/target:", "a model returns a number in a range", editors_model.render),
    "label_model": GraderUi(":material/label:", "a model picks a label; passing labels score 1", editors_model.render),
    "python": GraderUi(":material/code:", "your own grade(sample, item) function", editors_basic.python),
    "multi": GraderUi(":material/account_tree:", "combine graders with a formula (a nested multi when inside a multi)",
                      editors_basic.multi),
    "endpoint": GraderUi(":material/public:", "Azure Foundry: your service scores each row", _REMOTE),
    "lambda": GraderUi(":material/function:", "Amazon Bedrock: a Lambda function scores each row", _REMOTE),
}

# Every grader type the UI has no entry for: listed and edited as JSON.
JSON_ONLY = GraderUi(":material/data_object:", "edited as JSON",
                     json_form("This grader type has no form here: edit it as JSON in the JSON view below."))


def ui_for(kind: str) -> GraderUi:
    return UI.get(kind, JSON_ONLY)


def icons() -> dict[str, str]:
    """The icon of every registered grader type."""
    return {t.name: ui_for(t.name).icon for t in grader_types()}


def ui_gaps() -> list[str]:
    """UI entries with a missing facet, or for a type the domain doesn't register (empty when complete)."""
    out = [f"{kind}: no such grader type" for kind in UI if find(kind) is None]
    for kind, ui in [*UI.items(), ("(json only)", JSON_ONLY)]:
        out += [f"{kind}: no {facet}" for facet in ("icon", "help") if not getattr(ui, facet)]
        if not callable(ui.editor):
            out.append(f"{kind}: no editor")
    return out
