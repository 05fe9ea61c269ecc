import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftstudio.graders import RenderError, Sample, parse, render

ITEM = {"answer": "42", "a": {"b": [7, {"c": "x"}]}, "n": 3.5, "flag": True, "none": None, "my key": "spaced",
        "uni": "é✓"}


@pytest.mark.parametrize("src,out", [
    ("{{ item.answer }}", "42"), ("{{item.answer}}", "42"), ("{{   item.answer   }}", "42"),
    ("{{ item.a.b[0] }}", "7"), ("{{ item.a.b[1].c }}", "x"), ("{{ item.a.b[-1] }}", '{"c":"x"}'),
    ("{{ item.a }}", '{"b":[7,{"c":"x"}]}'), ("{{ item.n }}", "3.5"), ("{{ item.flag }}", "true"),
    ("{{ item.none }}", "null"), ('{{ item["my key"] }}', "spaced"), ("{{ item.uni }}", "é✓"),
    ("A={{item.answer}}, B={{ sample.output_text }}!", "A=42, B={\"label\": \"yes\", \"n\": [1]}!"),
    ("{{ sample.output_json.label }}", "yes"), ("{{ sample.output_json.n }}", "[1]"),
    ('literal {"json": {"nested": 1}} stays', 'literal {"json": {"nested": 1}} stays'),
    ("", ""),
])
def test_render(src, out):
    assert render(src, ITEM, Sample('{"label": "yes", "n": [1]}')) == out


@pytest.mark.parametrize("src,code", [
    ("{{ item.missing }}", "invalid_variable_error"), ("{{ item.a.b[5] }}", "invalid_variable_error"),
    ("{{ item.answer.x }}", "invalid_variable_error"), ("{{ sample.output_tools }}", "invalid_variable_error"),
    ("{{ sample.output_json.label }}", "sample_parse_error"),
])
def test_render_errors(src, code):
    with pytest.raises(RenderError) as exc:
        render(src, ITEM, Sample("not json"))
    assert exc.value.code == code


def test_output_tools_and_choices_from_json_object():
    s = Sample('{"output_tools": [{"function": {"arguments": "{}"}}], "choices": [1]}')
    assert render("{{ sample.output_tools[0].function.arguments }}", {}, s) == "{}"
    assert render("{{ sample.choices }}", {}, s) == "[1]"
    assert s.as_dict()["output_tools"] == [{"function": {"arguments": "{}"}}]
    # [] when the output holds none: code written for the official service does len(sample["output_tools"])
    assert Sample("plain").as_dict() == {"output_text": "plain", "output_json": None, "output_tools": [],
                                         "choices": [], "output_audio": None}


@pytest.mark.parametrize("src,code", [
    ("{{ item.x", "template_malformed"), ("{{ }}", "template_malformed"), ("{{ item..x }}", "template_malformed"),
    ("{{ {{ item.x }}", "template_malformed"), ("{{ items.x }}", "template_namespace"),
    ("{{ sample.output }}", "template_sample_field"), ("{{ sample }}", "template_sample_field"),
    ("{{ item.x[abc] }}", "template_malformed"),
])
def test_parse_problems(src, code):
    tpl = parse(src)
    assert [p.code for p in tpl.problems][:1] == [code]
    with pytest.raises(ValueError):
        render(src, {}, Sample(""))


def test_refs_and_positions():
    tpl = parse("x {{ item.a }} y {{sample.output_json.k[0]}}")
    assert [(r.namespace, r.path, r.start) for r in tpl.refs] == [("item", ("a",), 2), ("sample", ("output_json", "k", 0), 17)]
    assert tpl.refs[1].dotted == "sample.output_json.k[0]"


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_parse_never_raises(text):
    tpl = parse(text)
    if tpl.ok:
        try:
            tpl.render({}, Sample(text))
        except RenderError:
            pass


def test_problems_are_capped():
    tpl = parse("{{ " * 1000)
    assert len(tpl.problems) == 21 and "more problems" in tpl.problems[-1].message


@pytest.mark.parametrize("text", ["true", " false", "null", "NaN", "\nInfinity", "-Infinity", "tru", "nan", "Inf",
                                  "the answer is 4", "  fine", "no", "Nope", "In short", "[1]", "4 apples", "{}"])
def test_output_json_as_json_loads_decides(text):
    import json
    try:
        expected, ok = json.loads(text), True
    except ValueError:
        expected, ok = None, False
    d = Sample(text).as_dict()
    assert d["output_json"] == expected or (expected != expected and d["output_json"] != d["output_json"])
    assert (Sample(text).field("output_json") is not None or expected is None) if ok else True


def test_prose_starting_like_a_json_word_is_not_parsed(monkeypatch):
    """Prose that begins with t/f/n/N/I ("the answer ...") skips json.loads: it is JSON only as true, false,
    null, NaN or Infinity (a failed json.loads costs an exception per row)."""
    import ftstudio.graders._templates as T

    class Refuse:
        @staticmethod
        def loads(text):
            raise AssertionError(f"json.loads called on {text!r}")

    monkeypatch.setattr(T, "json", Refuse)
    for text in ["the model answer", "  fine", "no", "Nope", "In short", "tru", "nan"]:
        assert Sample(text).as_dict()["output_json"] is None


def test_the_python_graders_sample_of_prose_builds_no_render_error(monkeypatch):
    """as_dict runs for every row sent to a python grader: output_json None for prose without raising and
    catching a RenderError per row (it cost more than the dict itself)."""
    import ftstudio.graders._templates as T

    class Unbuildable(Exception):
        def __init__(self, *args):
            raise AssertionError("a RenderError was built")

    s = Sample('{"choices": [1]}')
    monkeypatch.setattr(T, "RenderError", Unbuildable)
    for text in ["is correct because", "the answer", "{not json", "42 apples"]:
        assert Sample(text).as_dict() == {"output_text": text, "output_json": None, "output_tools": [],
                                          "choices": [], "output_audio": None}
    assert s.as_dict()["choices"] == [1] and s.field("choices") == [1]
