import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftstudio.graders import formula as F


@pytest.mark.parametrize("text,env,value", [
    ("a + b", {"a": 1, "b": 2}, 3), ("0.7 * a + 0.3 * b", {"a": 1, "b": 0}, 0.7), ("-2^2", {}, -4),
    ("2^3^2", {}, 512), ("(a+b)/2", {"a": 1, "b": 0}, 0.5), ("min(a, b, 0.2)", {"a": 1, "b": 0.5}, 0.2),
    ("max(a)", {"a": 0.3}, 0.3), ("abs(-a)", {"a": 2}, 2), ("floor(2.7) + ceil(0.2)", {}, 3),
    ("exp(0) + sqrt(4) + log(1)", {}, 3), ("1e-3 * 1000", {}, 1), (".5 + 1.", {}, 1.5), ("- -a", {"a": 1}, 1),
    ("2 ^ -1", {}, 0.5), ("a - b - c", {"a": 1, "b": 1, "c": 1}, -1), ("a / b / c", {"a": 8, "b": 2, "c": 2}, 2),
])
def test_evaluate(text, env, value):
    assert F.evaluate(text, env) == pytest.approx(value)


@pytest.mark.parametrize("text,code,pos", [
    ("a ** 2", "formula_operator", 2), ("a % 2", "formula_operator", 2), ("a == b", "formula_operator", 2),
    ("pow(a, 2)", "formula_function", 0), ("abs(a, b)", "formula_function", 0), ("(a + b", "formula_parse_error", 6),
    ("a +", "formula_parse_error", 3), ("", "formula_parse_error", 0), ("a b", "formula_parse_error", 2),
    ("max", "formula_parse_error", 0), ("a, b", "formula_parse_error", 1), ("2 * (a + b))", "formula_parse_error", 11),
])
def test_parse_errors(text, code, pos):
    with pytest.raises(F.FormulaError) as exc:
        F.parse(text)
    assert (exc.value.code, exc.value.position) == (code, pos)
    assert str(pos) in exc.value.message or pos == 0


@pytest.mark.parametrize("text,env", [
    ("a / b", {"a": 1, "b": 0}), ("log(a)", {"a": 0}), ("sqrt(a)", {"a": -1}), ("9^9^9^9", {}),
    ("exp(1000)", {}), ("(-8) ^ 0.5", {}), ("a * 1e308 * 10", {"a": 1}),
])
def test_runtime_errors(text, env):
    with pytest.raises(F.FormulaRuntimeError):
        F.evaluate(text, env)


def test_hostile_inputs_are_bounded():
    for text in ("(" * 5000 + "a" + ")" * 5000, "-" * 5000 + "a", "+".join(["a"] * 4000), "x" * 200_000):
        with pytest.raises(F.FormulaError):
            F.parse(text)


def test_vector_matches_scalar():
    prog = F.compile_formula("log(a) + b / a - min(a, b) ^ 2 + sqrt(b - 0.5)")
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-0.5, 1.5, 500), rng.uniform(0, 1, 500)
    vec = prog.vector({"a": a, "b": b})
    for i in range(500):
        try:
            expected = prog({"a": a[i], "b": b[i]})
        except F.FormulaRuntimeError:
            assert not math.isfinite(vec[i])
        else:
            assert vec[i] == pytest.approx(expected, rel=1e-12, abs=1e-12)


EXPR = st.recursive(
    st.one_of(st.sampled_from(["a", "b", "c"]), st.integers(0, 9).map(str), st.just("0.5")),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^"]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        inner.map(lambda s: f"({s})"), inner.map(lambda s: f"-{s}"),
        st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(st.sampled_from(["abs", "floor", "exp", "sqrt", "log"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
    ), max_leaves=12)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(EXPR, st.floats(0, 2), st.floats(0, 2), st.floats(0, 2))
def test_to_source_round_trip(text, a, b, c):
    env = {"a": a, "b": b, "c": c}
    node = F.parse(text)
    again = F.parse(F.to_source(node))
    try:
        want = F.evaluate(node, env)
    except F.FormulaRuntimeError:
        with pytest.raises(F.FormulaRuntimeError):
            F.evaluate(again, env)
        return
    assert F.evaluate(again, env) == pytest.approx(want, rel=1e-12, abs=1e-12)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_parse_raises_only_formula_error(text):
    try:
        node = F.parse(text)
    except F.FormulaError:
        return
    env = {v.name: 0.5 for v in F.variables(node)}
    try:
        F.evaluate(node, env)
    except F.FormulaRuntimeError:
        pass


def test_vector_flags_intermediate_overflow_like_scalar():
    prog = F.compile_formula("1 / exp(a) + b")
    vec = prog.vector({"a": np.array([1000.0, 0.0]), "b": np.array([0.5, 0.5])})
    assert math.isnan(vec[0]) and vec[1] == pytest.approx(1.5)
    with pytest.raises(F.FormulaRuntimeError):
        prog({"a": 1000.0, "b": 0.5})
