"""Every kind of finding the tool reports has the one Finding shape (ftstudio.core): code, severity,
message and a place."""

from ftstudio.core import Finding, Issue
from ftstudio.datasets import Problem
from ftstudio.graders import templates
from ftstudio.sandbox import static_check


def test_every_finding_type_has_the_shared_shape_and_a_place():
    issue = Issue(path="method.type", severity="error", code="schema_literal", message="m")
    row = Problem("warning", "weight_invalid", "m", row=3, line=5, path="messages[2].weight")
    whole_file = Problem("info", "file_note", "m")
    template = templates.parse("{{ nope.x }}").problems[0]
    source = static_check("def grade(sample, item:\n")[0]
    findings = [issue, row, whole_file, template, source]
    assert all(isinstance(f, Finding) for f in findings)
    assert [f.where() for f in findings] == ["method.type", "row 3 (line 5) messages[2].weight", "", "position 0",
                                             "line 1"]
    assert [f.severity for f in findings] == ["error", "warning", "info", "error", "error"]
    assert template.code == "template_namespace" and source.code == "python_syntax_error"
