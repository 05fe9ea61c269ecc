import pytest
from pydantic import TypeAdapter, ValidationError

from ftstudio.graders import Grader, MultiGrader, ScoreModelGrader, template_fields, walk

A = TypeAdapter(Grader)


def test_discriminated_union():
    g = A.validate_python({"type": "string_check", "name": "n", "input": "a", "reference": "b", "operation": "ilike"})
    assert g.operation == "ilike"
    with pytest.raises(ValidationError):
        A.validate_python({"type": "string_check", "name": "n", "input": "a", "reference": "b", "operation": "neq"})
    with pytest.raises(ValidationError):
        A.validate_python({"type": "nope", "name": "n"})


def test_multi_map_and_nesting_accepted():
    inner = {"type": "multi", "name": "inner", "calculate_output": "x",
             "graders": {"x": {"type": "python", "name": "p", "source": "def grade(s, i):\n  return 1"}}}
    g = A.validate_python({"type": "multi", "name": "outer", "calculate_output": "a + b",
                           "graders": {"a": inner, "b": {"type": "text_similarity", "name": "t", "input": "i",
                                                          "reference": "r", "evaluation_metric": "bleu"}}})
    assert isinstance(g.graders["a"], MultiGrader)
    assert [p for p, _ in walk(g)] == [(), ("a",), ("a", "x"), ("b",)]
    with pytest.raises(ValidationError):  # keys are formula variables
        A.validate_python({"type": "multi", "name": "m", "calculate_output": "1", "graders": {
            "1bad": {"type": "python", "name": "p", "source": "x"}}})


def test_model_grader_content_forms():
    msgs = [
        {"role": "user", "content": "plain {{ sample.output_text }}"},
        {"role": "system", "content": {"type": "input_text", "text": "t"}},
        {"role": "developer", "type": "message", "content": [
            "s", {"type": "output_text", "text": "o"}, {"type": "input_image", "image_url": "{{ item.img }}", "detail": "low"},
            {"type": "input_audio", "input_audio": {"data": "{{ item.audio }}", "format": "wav"}}]},
    ]
    g = A.validate_python({"type": "score_model", "name": "s", "model": "gpt-4.1", "input": msgs, "range": [0, 5],
                           "sampling_params": {"seed": 1, "top_p": 0.5, "temperature": 0, "max_completions_tokens": 9,
                                               "reasoning_effort": "xhigh"}})
    assert isinstance(g, ScoreModelGrader)
    assert [p for p, _ in template_fields(g)] == [
        ("input", 0, "content"), ("input", 1, "content", "text"), ("input", 2, "content", 0),
        ("input", 2, "content", 1, "text"), ("input", 2, "content", 2, "image_url"),
        ("input", 2, "content", 3, "input_audio", "data")]
    for bad in ({"range": [0]}, {"sampling_params": {"max_completions_tokens": 0}},
                {"input": [{"role": "tool", "content": "x"}]}):
        with pytest.raises(ValidationError):
            A.validate_python({"type": "score_model", "name": "s", "model": "m", "input": msgs, **bad})


def test_label_model_fields():
    g = A.validate_python({"type": "label_model", "name": "l", "model": "m", "input": [{"role": "user", "content": "x"}],
                           "labels": ["a", "b"], "passing_labels": ["a"]})
    assert g.passing_labels == ["a"]
