import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from strategies import multi_grader

from ftstudio.config import flatten, flatten_config, is_nested
from ftstudio.graders import Grader, MultiGrader
from ftstudio.graders import formula as F
from ftstudio.validation import check_grader

A = TypeAdapter(Grader)


def leaf(name):
    return {"type": "string_check", "name": name, "input": "{{ sample.output_text }}", "reference": name, "operation": "eq"}


def nested_score(g, leaf_scores, path=()):
    if not isinstance(g, MultiGrader):
        return leaf_scores[path]
    env = {k: nested_score(c, leaf_scores, path + (k,)) for k, c in g.graders.items()}
    return F.evaluate(g.calculate_output, env)


def leaf_paths(g, path=()):
    if not isinstance(g, MultiGrader):
        return [path]
    return [p for k, c in g.graders.items() for p in leaf_paths(c, path + (k,))]


def test_example():
    g = A.validate_python({"type": "multi", "name": "root", "calculate_output": "0.5 * a + 0.5 * inner", "graders": {
        "a": leaf("a"), "inner": {"type": "multi", "name": "inner", "calculate_output": "x - y",
                                  "graders": {"x": leaf("x"), "y": leaf("y")}}}})
    assert is_nested(g)
    flat = flatten(g)
    assert not is_nested(flat) and list(flat.graders) == ["a", "inner__x", "inner__y"]
    assert flat.calculate_output == "0.5 * a + 0.5 * (inner__x - inner__y)"
    assert flat.graders["inner__x"].name == "x" and flat.name == "root"
    assert not [i for i in check_grader(flat) if i.code == "multi_nested"]
    assert is_nested(g)  # input untouched


def test_key_collision():
    g = A.validate_python({"type": "multi", "name": "r", "calculate_output": "m__x + m", "graders": {
        "m__x": leaf("p"), "m": {"type": "multi", "name": "m", "calculate_output": "x", "graders": {"x": leaf("x")}}}})
    flat = flatten(g)
    assert set(flat.graders) == {"m__x", "m__x_2"} and flat.calculate_output == "m__x + m__x_2"


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(multi_grader(nested=True), st.randoms(use_true_random=False))
def test_scores_identical(data, rnd):
    g = A.validate_python(data)
    flat = flatten(g)
    assert all(not isinstance(c, MultiGrader) for c in flat.graders.values())
    # Map each flattened key back to the nested leaf it came from by walking both in order.
    nested_paths = leaf_paths(g)
    assert len(nested_paths) == len(flat.graders)
    scores = {p: rnd.random() for p in nested_paths}
    flat_env = dict(zip(flat.graders, (scores[p] for p in nested_paths)))
    try:
        want = nested_score(g, scores)
    except F.FormulaRuntimeError:
        return
    assert F.evaluate(flat.calculate_output, flat_env) == want or abs(F.evaluate(flat.calculate_output, flat_env) - want) < 1e-9


def test_flatten_config_and_non_multi():
    from ftstudio.config import JobConfig
    data = json.load(open("presets/rft-exact-match.json"))["config"]
    cfg = JobConfig.model_validate(data)
    assert flatten_config(cfg) == cfg
    assert flatten(cfg.grader) is cfg.grader
