import pytest

from ftstudio.graders import MultiGrader, PythonGrader, StringCheckGrader
from ftstudio.store import trust


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path))


def tree(code="def grade(sample, item):\n    return 1.0\n"):
    py = PythonGrader(name="p", source=code)
    sc = StringCheckGrader(name="s", input="a", reference="a", operation="eq")
    return MultiGrader(name="m", graders={"p": py, "s": sc}, calculate_output="p + s")


def test_imported_code_needs_one_confirmation_per_config():
    g = tree()
    assert trust.pending(g) == []  # code the user typed is never held back
    assert trust.mark_untrusted(g) == 1
    assert trust.pending(g) == [g.graders["p"].source]
    trust.confirm(g)
    assert trust.pending(g) == []
    assert trust.mark_untrusted(g) == 0  # once confirmed, re-importing the same code asks nothing


def test_a_different_source_asks_again():
    trust.mark_untrusted(tree())
    trust.confirm(tree())
    other = tree("import os\ndef grade(sample, item):\n    return 0.0\n")
    trust.mark_untrusted(other)
    assert len(trust.pending(other)) == 1


def test_non_python_and_missing_graders():
    assert trust.mark_untrusted(None) == 0
    assert trust.pending(StringCheckGrader(name="s", input="a", reference="a", operation="eq")) == []
