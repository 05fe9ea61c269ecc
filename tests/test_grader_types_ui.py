"""The UI side of the grader types (components/grader_types.py): every entry complete, none for a type the
domain doesn't know, and a type without an entry edited as JSON, by design."""

from __future__ import annotations

import dataclasses

from components import grader_tree, grader_types
from components.grader_types import JSON_ONLY, UI, GraderUi, icons, ui_for, ui_gaps
from ftstudio.graders import grader_types as domain_types


def test_every_entry_is_complete_and_names_a_registered_type():
    assert ui_gaps() == []
    for t in domain_types():
        ui = ui_for(t.name)
        assert ui.icon.startswith(":material/") and ui.help and callable(ui.editor), t.name
    assert grader_tree.ICONS == icons() and set(icons()) == {t.name for t in domain_types()}


def test_a_missing_facet_or_a_stale_entry_is_detected(monkeypatch):
    broken = dict(UI, python=dataclasses.replace(UI["python"], icon=""),
                  multi=dataclasses.replace(UI["multi"], editor=None),  # type: ignore[arg-type]
                  gone=GraderUi(":material/help:", "a type removed from the domain", UI["python"].editor))
    monkeypatch.setattr(grader_types, "UI", broken)
    assert sorted(ui_gaps()) == ["gone: no such grader type", "multi: no editor", "python: no icon"]


def test_a_type_without_an_entry_is_edited_as_json():
    assert ui_for("a type nobody registered") is JSON_ONLY
    assert JSON_ONLY.help == "edited as JSON" and callable(JSON_ONLY.editor)
