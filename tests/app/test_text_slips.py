"""Issue 25, item 12: counts say their noun in the right number; the dataset card and the preview count the same
rows; the chosen method card's mark sits on its button (in the heading it wrapped onto a line of its own)."""

from __future__ import annotations

from app_util import new_app, preset_config

from components.app_state import AppState
from ftstudio.core import counted
from tests.app.app_util import texts
from tests.app.test_test_grading_page import QUIZ, _isolated, open_page, preset  # noqa: F401


def test_one_unreadable_line_and_the_same_count_on_card_and_preview():
    at = open_page(preset("rft-exact-match.json"))
    bad = QUIZ.replace(b"\n", b"\n{broken\n", 1)
    at.file_uploader(key="tg.upload").set_value(("quiz.jsonl", bad, "application/octet-stream")).run()
    ds = AppState(at.session_state).dataset
    assert len(ds.rows) == 32 and len(ds.errors) == 1
    shown = texts(at)
    assert "1 line could not be read" in shown and "1 lines" not in shown
    assert "**quiz.jsonl** · 33 rows (1 unreadable)" in shown
    assert any(e.label.endswith("· 0 warnings · 1 note") for e in at.expander)  # the format report's summary
    preview = next(e.label for e in at.expander if e.label.startswith("Preview"))
    assert preview == "Preview: the first 20 of 33 rows (1 unreadable)"
    assert not at.exception


def test_the_chosen_method_is_marked_on_its_button_not_in_the_heading(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, preset_config("rft-exact-match"), page="app_pages/method.py")
    headings = [m.value for m in at.markdown if m.value.startswith("##### ")]
    assert ":material/target: Reinforcement (RFT)" in [h[6:] for h in headings]
    assert not any("check" in h for h in headings)
    chosen = at.button(key="method.pick.reinforcement")
    assert chosen.label == "Selected" and chosen.disabled and chosen.proto.icon == ":material/check_circle:"


def test_counted():
    assert counted(1, "line") == "1 line" and counted(2, "line") == "2 lines" and counted(1200, "row") == "1,200 rows"
    assert counted(3, "child", "children") == "3 children"
