"""Grading fidelity (issue 10 §5): what python graders see, error details that name the value found,
NUL bytes in some lines, and exit codes for over-deep graders."""

from __future__ import annotations

import json

import pytest

from ftstudio.cli._main import main
from ftstudio.datasets import read_dataset
from ftstudio.graders import Sample
from ftstudio.grading import grade

SC = {"type": "string_check", "name": "s", "input": "{{ sample.output_json.answer }}", "reference": "{{ item.a }}",
      "operation": "eq"}


def test_python_sample_lists_are_empty_not_none():
    assert Sample("plain text").as_dict() == {"output_text": "plain text", "output_json": None, "output_tools": [],
                                              "choices": [], "output_audio": None}
    data = Sample(json.dumps({"output_tools": [{"name": "f"}]})).as_dict()
    assert data["output_tools"] == [{"name": "f"}] and data["choices"] == []


def test_error_details_name_the_value_found():
    res = grade(SC, [{"a": "x", "model_sample": "65"}, {"a": "x", "model_sample": '{"b": 1}'},
                     {"a": "x", "model_sample": '["answer"]'}])
    assert "the output parsed to the number 65, not an object with 'answer'" in res.errors[0].codes[
        "invalid_variable_error"]
    assert "an object with keys 'b'" in res.errors[1].codes["invalid_variable_error"]
    assert "a list of 1 item, not an object with 'answer'" in res.errors[2].codes["invalid_variable_error"]


def test_nul_bytes_in_some_lines_are_error_rows(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"a": "x", "model_sample": "x"}\n{"a": "y\x00", "model_sample": "y"}\n'
                     b'{"a": "z", "model_sample": "z"}\n')
    ds = read_dataset(str(path))
    assert len(ds.rows) == 2 and [e.line for e in ds.errors] == [2] and "NUL" in ds.errors[0].message
    sc = dict(SC, input="{{ sample.output_text }}")
    res = grade(sc, ds)
    assert list(res.rewards) == [1.0, 0.0, 1.0] and set(res.errors) == {1}


def test_binary_only_when_mostly_not_text(tmp_path):
    from ftstudio.datasets import DatasetError

    path = tmp_path / "b.jsonl"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(DatasetError, match="not a text file"):
        read_dataset(str(path))
    zipped = tmp_path / "w.jsonl"
    zipped.write_bytes(b"PK\x03\x04" + b"x" * 100)
    with pytest.raises(DatasetError, match="Excel"):
        read_dataset(str(zipped))


def test_grader_nested_past_the_limit_exits_1(tmp_path, capsys):
    g = dict(SC)
    for _ in range(120):
        g = {"type": "multi", "name": "m", "graders": {"a": g}, "calculate_output": "a"}
    cfg = tmp_path / "deep.json"
    cfg.write_text(json.dumps(g))
    data = tmp_path / "d.jsonl"
    data.write_text('{"a": "x", "model_sample": "x"}\n')
    assert main(["grade", str(cfg), str(data)]) == 1
    assert main(["validate", str(cfg)]) == 1
    (tmp_path / "deeper.json").write_text("[" * 20000 + "]" * 20000)
    assert main(["validate", str(tmp_path / "deeper.json")]) == 1
    assert "nests" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "missing.json")]) == 2
