"""Grader models validated without pydantic (graders/_light.py, issue 23): a node whose values all have exactly their
declared types is validated by the model itself, anything else by pydantic's model of the same declaration (the
twin). The fast path must hold exactly what the twin holds, and take nothing the twin refuses or would coerce."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ftstudio.graders import GRADER_CLASSES, StringCheckGrader, parse_grader, validation_error

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("FTSTUDIO_CONFORMANCE_DIR") or ROOT.parent / "shared" / "conformance" / "external")


def _graders_in(doc):
    """Every grader tree a document holds: a bare grader, or a job's reinforcement grader."""
    if not isinstance(doc, dict):
        return []
    if isinstance(doc.get("type"), str) and doc["type"] in GRADER_CLASSES:
        return [doc]
    grader = ((doc.get("method") or {}).get("reinforcement") or {}).get("grader") if isinstance(doc.get("method"), dict) \
        else None
    return [grader] if isinstance(grader, dict) else []


def _nodes(tree):
    yield tree
    children = tree.get("graders") if tree.get("type") == "multi" else None
    if isinstance(children, dict):
        for child in children.values():
            if isinstance(child, dict):
                yield from _nodes(child)


def _corpus():
    docs = [json.loads(p.read_text()) for p in sorted((ROOT / "presets").glob("*.json"))]
    if (CORPUS / "configs").is_dir():
        for p in sorted((CORPUS / "configs").glob("*.json")):
            try:
                docs.append(json.loads(p.read_text()))
            except ValueError:
                continue
    return [node for doc in docs for tree in _graders_in(doc) for node in _nodes(tree)]


def _by_twin(model, data):
    """(the instance pydantic's model gives, as the model's own class) or None when pydantic refuses."""
    try:
        twin = model.pydantic_model().model_validate(data)
    except validation_error():
        return None
    obj = model.__new__(model)
    obj.__dict__.update({name: getattr(twin, name) for name in model.pydantic_model().model_fields})
    return obj


def _same(model, data) -> bool:
    """The fast path's answer is the twin's (or there is none); True when the fast path answered."""
    fast = model.fast_validate(data)
    if fast is None:
        return False
    twin = _by_twin(model, data)
    assert twin is not None, f"the fast path took what pydantic refuses: {data!r}"
    assert fast == twin, (fast, twin)
    for kw in ({}, {"mode": "json", "exclude_none": True}, {"mode": "json", "by_alias": True}):
        assert fast.model_dump(**kw) == twin.model_dump(**kw)
        assert json.dumps(fast.model_dump(**kw)) == json.dumps(model.pydantic_model().model_validate(data).model_dump(**kw))
    return True


NODES = _corpus()


def test_the_corpus_is_there_and_mostly_fast():
    assert len(NODES) >= 9
    fast = [n for n in NODES if isinstance(n.get("type"), str) and n["type"] in GRADER_CLASSES
            and GRADER_CLASSES[n["type"]].fast_validate(n) is not None]
    assert len(fast) >= len(NODES) // 2, (len(fast), len(NODES))


@pytest.mark.parametrize("node", NODES, ids=lambda n: str(n.get("name") or n.get("type")))
def test_fast_path_holds_what_pydantic_holds(node):
    model = GRADER_CLASSES.get(node.get("type"))
    if model is None:
        pytest.skip("not a registered type")
    _same(model, node)


_ODD = [True, False, 1, 0, 2.5, float("nan"), "x", "", None, [], {}, [1, "a"], {"a": 1}, 10 ** 30]


class _Str(str):
    pass


@pytest.mark.parametrize("node", [n for n in NODES if n.get("type") in GRADER_CLASSES
                                  and GRADER_CLASSES[n["type"]].fast_validate(n) is not None][:40],
                         ids=lambda n: str(n.get("name") or n.get("type")))
def test_fast_path_takes_nothing_pydantic_would_refuse_or_change(node):
    model = GRADER_CLASSES[node["type"]]
    for key in list(node):
        for odd in [*_ODD, _Str(str(node[key]))]:
            _same(model, {**node, key: odd})
        rest = {k: v for k, v in node.items() if k != key}
        _same(model, rest)
    _same(model, {**node, "unknown_field": 1})


def test_a_string_check_is_validated_without_pydantic_and_errors_are_pydantics(tmp_path):
    import subprocess
    import sys

    probe = ("import sys\nfrom ftstudio.graders import parse_grader\n"
             "g = parse_grader({'type': 'string_check', 'name': 'n', 'input': '{{ sample.output_text }}', "
             "'reference': '{{ item.answer }}', 'operation': 'eq'})\n"
             "print(type(g).__name__, 'pydantic' in sys.modules)\n"
             "parse_grader({'type': 'multi', 'graders': {'a': {'type': 'text_similarity', 'input': 'a', 'reference': 'b', "
             "'evaluation_metric': 'bleu'}}, 'calculate_output': 'a'})\n"
             "print('pydantic' in sys.modules)\n"
             "parse_grader({'type': 'string_check', 'input': 1, 'reference': 'b', 'operation': 'eq', 'pass_threshold': 1})\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT), HOME=str(tmp_path)), cwd=tmp_path)
    lines = out.stdout.splitlines()
    assert lines == ["StringCheckGrader False", "False"], out
    # what did not fit goes through the union, as it always did: pydantic's errors, with their paths
    assert "validation error for GraderRoot" in out.stderr and "grader.string_check.input" in out.stderr


def test_pydantic_models_hold_light_models_as_they_are():
    from ftstudio.config import JobConfig

    grader = StringCheckGrader(name="n", input="a", reference="b", operation="eq")
    config = JobConfig.model_validate({"model": "o4-mini-2025-04-16", "training_file": "file-x", "method": {
        "type": "reinforcement", "reinforcement": {"grader": grader}}})
    assert config.method.reinforcement.grader is grader
    dumped = config.model_dump(mode="json", exclude_none=True)["method"]["reinforcement"]["grader"]
    assert dumped == {"type": "string_check", "name": "n", "input": "a", "reference": "b", "operation": "eq"}
    again = JobConfig.model_validate(config.model_dump(mode="json"))
    assert type(again.method.reinforcement.grader) is StringCheckGrader and again == config
    assert parse_grader(dumped) == grader and grader.model_copy(update={"name": "m"}).name == "m"
