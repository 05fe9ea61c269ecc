"""preflight(grader, rows, sample_field): what the grader reads that the data doesn't hold."""

import json

from ftstudio.cli import main
from ftstudio.datasets import read_dataset
from ftstudio.grading import preflight

MULTI = {"type": "multi", "name": "maths", "calculate_output": "0.7*a + 0.3*b", "graders": {
    "a": {"type": "string_check", "name": "exact answer", "input": "{{ sample.output_json.answer }}",
          "reference": "{{ item.answer }}", "operation": "eq"},
    "b": {"type": "python", "name": "partial", "source": "def grade(sample, item):\n    return 1.0\n"}}}


def rows(n=50, json_out=0, lacking=0):
    out = []
    for i in range(n):
        row = {"model_sample": json.dumps({"answer": "4"}) if i < json_out else "The answer is 4", "answer": "4"}
        if i < lacking:
            del row["answer"]
        out.append(row)
    return out


def test_outputs_that_are_not_json_objects_are_named_with_counts():
    issues = preflight(MULTI, rows(50))
    assert [i.message for i in issues] == ["the grader reads `sample.output_json`; 0 of 50 outputs are JSON objects"]
    assert issues[0].path == "graders.a.input" and issues[0].severity == "warning"


def test_items_lacking_a_field_are_counted():
    issues = preflight(MULTI, rows(50, json_out=50, lacking=3))
    assert [i.message for i in issues] == ["the grader reads `item.answer`; 3 of 50 rows lack it"]
    assert issues[0].path == "graders.a.reference"


def test_clean_data_has_no_findings_and_a_grader_model_works_too():
    from ftstudio.graders import parse_grader

    assert preflight(parse_grader(MULTI), rows(20, json_out=20)) == []


def test_missing_output_field_and_other_sample_field():
    data = rows(4, json_out=4)
    data[0] = {"answer": "4"}
    assert [i.code for i in preflight(MULTI, data)] == ["preflight_sample_field"]
    moved = [{"completion": r["model_sample"], "answer": "4"} for r in rows(4, json_out=4)]
    assert preflight(MULTI, moved, "completion") == []


def test_output_json_paths_that_json_outputs_lack():
    data = rows(5, json_out=5)
    data[0]["model_sample"] = json.dumps({"other": 1})
    assert [i.message for i in preflight(MULTI, data)] == [
        "the grader reads `sample.output_json.answer`; 1 of 5 outputs lack it"]


def test_invalid_grader_or_no_rows_is_quiet_and_dataset_bad_lines_are_not_counted_twice(tmp_path):
    assert preflight({"type": "nonsense"}, rows(3)) == []
    assert preflight(MULTI, []) == []
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows(3, json_out=3)) + "\n{broken\n")
    assert preflight(MULTI, read_dataset(str(path))) == []


def test_cli_grade_prints_the_preflight_before_the_summary_and_in_json(tmp_path, capsys):
    g, d = tmp_path / "g.json", tmp_path / "d.jsonl"
    g.write_text(json.dumps(MULTI))
    d.write_text("\n".join(json.dumps(r) for r in rows(50, json_out=0, lacking=3)) + "\n")
    assert main(["grade", str(g), str(d)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["preflight: the grader reads `sample.output_json`; 0 of 50 outputs are JSON objects",
                       "preflight: the grader reads `item.answer`; 3 of 50 rows lack it"]
    assert out[2].startswith("graded 50 rows")
    assert main(["grade", str(g), str(d), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["preflight"] == ["the grader reads `sample.output_json`; 0 of 50 outputs are JSON objects",
                                "the grader reads `item.answer`; 3 of 50 rows lack it"]


def test_the_hint_tells_not_json_from_json_that_is_not_an_object():
    data = rows(4, json_out=2)
    data[2]["model_sample"] = "391"  # JSON, a number
    issue = preflight(MULTI, data)[0]
    assert issue.message == "the grader reads `sample.output_json`; 2 of 4 outputs are JSON objects"
    assert issue.hint == ("1 will be graded as sample_parse_error (not JSON); "
                          "1 as invalid_variable_error (JSON, not an object)")
