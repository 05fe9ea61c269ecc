"""One key scheme for widgets, built by one function: no widget key in the app is written by hand."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from app_util import new_app, preset_config

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "components").glob("*.py"))]
# area.part.part (a part may be empty: the grader tree's root has the empty path), then the counters of
# the re-keys it follows once one moved, then the parts of a compound widget.
SCHEME = re.compile(r"^[a-z]+(\.[^.@]*)+(@\d+(\.\d+)*)?(\.[^.@]+)*$")


def test_no_widget_key_is_a_literal_or_an_f_string():
    """A `key=` argument is state.key(...) or a key it built, never text spelled out in place."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "key" and isinstance(kw.value, (ast.Constant, ast.JoinedStr, ast.BinOp)):
                        found.append(f"{path.name}:{kw.value.lineno}")
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "form" and node.args \
                        and isinstance(node.args[0], (ast.Constant, ast.JoinedStr)):
                    found.append(f"{path.name}:{node.lineno}")
    assert not found, found


def test_every_page_draws_keys_of_the_scheme(monkeypatch, tmp_path):
    for page in ("method", "hyperparameters", "graders", "test_grading", "export"):
        at = new_app(monkeypatch, tmp_path / page, preset_config("rft-fuzzy-similarity"), page=f"app_pages/{page}.py")
        keys = [w.key for kind in ("button", "text_input", "text_area", "selectbox", "toggle", "number_input",
                                   "radio", "checkbox", "multiselect", "slider")
                for w in at.get(kind) if getattr(w, "key", None)]
        assert keys, page
        # A form's submit button is keyed by Streamlit after the form ("FormSubmitter:<form key>-<label>").
        bad = [k for k in keys if not SCHEME.match(k.removeprefix("FormSubmitter:").rsplit("-", 1)[0])]
        assert not bad, (page, bad)
