"""`ftstudio import-promptfoo promptfooconfig.yaml -o grader.json`: exact equivalents become a grader tree
that scores rows as promptfoo would (weighted mean, threshold); the rest is listed with the reason."""

from __future__ import annotations

import json

import pytest

from ftstudio.cli import main as ftstudio
from ftstudio.reward import Reward
from ftstudio.validation import check_grader, errors

CONFIG = """\
description: capitals
prompts: ["{{question}}"]
providers: [echo]
tests:
  - vars: {question: "capital of France?", answer: Paris}
    assert:
      - {type: starts-with, value: P}
defaultTest:
  threshold: 0.5
  assert:
    - {type: equals, value: "{{answer}}", weight: 2, metric: exact}
    - {type: icontains, value: "{{ answer }}"}
    - {type: regex, value: "^[A-Z]"}
    - {type: python, value: file://grader.py}
    - {type: contains, value: "{{ answer | lower }}"}
"""


def test_exact_assertions_become_a_weighted_mean(tmp_path, capsys):
    (tmp_path / "promptfooconfig.yaml").write_text(CONFIG)
    out = tmp_path / "grader.json"
    assert ftstudio(["import-promptfoo", str(tmp_path / "promptfooconfig.yaml"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    grader = json.loads(out.read_text())
    assert grader["type"] == "multi" and grader["pass_threshold"] == 0.5
    assert grader["graders"]["exact"] == {"type": "string_check", "name": "exact", "operation": "eq",
                                          "input": "{{ sample.output_text }}", "reference": "{{ item.answer }}"}
    assert grader["graders"]["icontains_1"]["operation"] == "ilike"
    assert not errors(check_grader(grader))
    for where in ("defaultTest.assert[2]: regex", "defaultTest.assert[3]: python",
                  "defaultTest.assert[4]: contains: its value is not text", "tests[0].assert[0]: starts-with"):
        assert f"not imported: {where}" in err
    assert "imported 2 assertion(s); 4 not imported" in err
    with Reward.load(grader) as reward:  # promptfoo's score: (2 * equals + icontains) / 3
        assert reward.score(["Paris", "paris", "Lyon"], [{"answer": "Paris"}] * 3) == pytest.approx([1.0, 1 / 3, 0.0])


def test_one_assertion_is_that_grader(tmp_path, capsys):
    (tmp_path / "p.yaml").write_text('defaultTest:\n  assert:\n    - {type: not-equals, value: "no"}\n')
    assert ftstudio(["import-promptfoo", str(tmp_path / "p.yaml")]) == 0
    assert json.loads(capsys.readouterr().out) == {"type": "string_check", "name": "not-equals_0", "operation": "ne",
                                                   "input": "{{ sample.output_text }}", "reference": "no"}


def test_nothing_exact_is_exit_1_and_bad_yaml_exit_2(tmp_path, capsys):
    (tmp_path / "p.yaml").write_text("defaultTest:\n  assert:\n    - {type: llm-rubric, value: be nice}\n")
    assert ftstudio(["import-promptfoo", str(tmp_path / "p.yaml"), "-o", str(tmp_path / "g.json")]) == 1
    assert "no assertion has an exact grader equivalent" in capsys.readouterr().err
    assert not (tmp_path / "g.json").exists()
    (tmp_path / "bad.yaml").write_text("defaultTest: [\n")
    assert ftstudio(["import-promptfoo", str(tmp_path / "bad.yaml")]) == 2
    assert "bad.yaml: line" in capsys.readouterr().err


def test_an_assert_that_is_not_a_list_is_listed_not_a_crash(tmp_path, capsys):
    # promptfoo's `assert` is a list; a scalar there used to crash the import (an int) or list each character
    (tmp_path / "p.yaml").write_text("defaultTest:\n  assert: 3\ntests:\n  - assert: equals\n")
    assert ftstudio(["import-promptfoo", str(tmp_path / "p.yaml")]) == 1
    err = capsys.readouterr().err
    assert "not imported: defaultTest.assert: int: not a list of assertions" in err
    assert "not imported: tests[0].assert: str: not a list of assertions" in err
