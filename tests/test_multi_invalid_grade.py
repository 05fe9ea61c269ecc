"""Azure's `invalid_grade` on a multi grader: accepted at --target azure with its evidence in the rules
registry, an unknown field elsewhere, and graded as the reward of a row whose sub-grader errors or whose
calculate_output can't be evaluated (its error flags stay)."""

from __future__ import annotations

import json

from ftstudio.cli import main
from ftstudio.grading import grade
from ftstudio.validation import SOURCES, check, check_grader, errors, rule


def multi(invalid_grade=0.25, formula="a / b"):
    g = {"type": "multi", "name": "m", "calculate_output": formula, "graders": {
        "a": {"type": "string_check", "name": "a", "input": "{{ sample.output_text }}", "reference": "{{ item.want }}",
              "operation": "eq"},
        "b": {"type": "string_check", "name": "b", "input": "{{ item.flag }}", "reference": "on", "operation": "eq"}}}
    if invalid_grade is not None:
        g["invalid_grade"] = invalid_grade
    return g


ROWS = [
    {"model_sample": "x", "want": "x", "flag": "on"},   # a=1, b=1: 1.0
    {"model_sample": "x", "want": "y", "flag": "on"},   # a=0, b=1: 0.0, a real zero
    {"model_sample": "x", "want": "x", "flag": "off"},  # b=0: division by zero, the formula can't be evaluated
    {"model_sample": "x", "flag": "on"},                # item.want missing: the sub-grader errors
]


def test_azure_accepts_it_other_targets_call_it_an_unknown_field():
    assert not [i for i in check_grader(multi(), target="azure") if "invalid_grade" in i.path]
    for target, severity in (("openai", "error"), ("bedrock", "warning"), ("compatible", "warning")):
        found = [i for i in check_grader(multi(), target=target) if i.path == "invalid_grade"]
        assert [(i.code, i.severity) for i in found] == [("multi_invalid_grade", severity)], target
        assert "unknown field 'invalid_grade'" in found[0].message and "--target azure" in found[0].hint
    body = {"model": "o4-mini-2025-04-16", "training_file": "file-a", "validation_file": "file-b",
            "method": {"type": "reinforcement", "reinforcement": {"grader": multi()}}}
    assert not errors(check(body, target="azure"))
    assert [i.path for i in errors(check(body, target="openai"))] == ["method.reinforcement.grader.invalid_grade"]
    assert [i.code for i in check_grader(multi("high"), target="azure") if i.severity == "error"][:1] == ["schema_float"]


def test_the_rule_records_azures_documentation():
    r = rule("multi_invalid_grade")
    assert r is not None and r.severity_for("azure") is None and r.severity_for("openai") == "error"
    sources = {e.source: e for e in r.evidence}
    assert '"invalid_grade": float' in sources["AZ-RFT-2025-05"].quote
    assert "reinforcement-fine-tuning.md" in SOURCES["AZ-RFT-2025-05"]
    assert "fallback" in sources["AZ-QA-MULTI"].quote and sources["OAI-SPEC"].kind == "spec"


def test_grading_gives_invalid_grade_to_rows_that_error_or_whose_formula_fails():
    result = grade(multi(0.25), ROWS)
    assert list(result.rewards) == [1.0, 0.0, 0.25, 0.25]
    assert [r["errors"] for r in result.records()] == [[], [], ["formula_parse_error"], ["invalid_variable_error"]]
    assert list(grade(multi(None), ROWS).rewards) == [1.0, 0.0, 0.0, 0.0]  # unset: 0, as before
    negative = grade(multi(-1), ROWS)
    assert list(negative.rewards) == [1.0, 0.0, -1.0, -1.0] and negative.summary()["mean"] == -0.25


def test_cli_validates_at_azure_and_grades_with_it(tmp_path, capsys):
    path = tmp_path / "g.json"
    path.write_text(json.dumps(multi(0.5)))
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    assert main(["validate", "--target", "azure", str(path)]) == 0
    assert main(["validate", "--target", "openai", str(path)]) == 1
    assert "unknown field 'invalid_grade'" in capsys.readouterr().out
    out = tmp_path / "out.jsonl"
    assert main(["grade", "--target", "azure", str(path), str(data), "--out", str(out)]) == 0
    assert "would reject" not in capsys.readouterr().err
    assert [json.loads(line)["reward"] for line in out.read_text().splitlines()] == [1.0, 0.0, 0.5, 0.5]
    assert main(["export", "--target", "azure", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["invalid_grade"] == 0.5


def test_a_job_with_it_round_trips_through_the_typed_config():
    from ftstudio.config import to_data
    from ftstudio.validation import from_json

    body = {"model": "o4-mini-2025-04-16", "training_file": "file-a", "validation_file": "file-b",
            "method": {"type": "reinforcement", "reinforcement": {"grader": multi(0.0)}}}
    assert to_data(from_json(body))["method"]["reinforcement"]["grader"]["invalid_grade"] == 0.0
