import pytest

from ftstudio.graders import MultiGrader, ScoreModelGrader, StringCheckGrader, TextSimilarityGrader
from ftstudio.graders import tree as T
from ftstudio.validation import check_grader


def root():
    inner = MultiGrader(name="inner", graders={"x": T.default_node("string_check", "x")}, calculate_output="x")
    return MultiGrader(name="root", graders={"a": T.default_node("string_check", "a"), "n": inner},
                       calculate_output="0.5*a + 0.5 * n + a^2")


def test_add_child_each_type_validates():
    g = root()
    for kind in ("string_check", "text_similarity", "score_model", "label_model", "python", "multi"):
        g, key = T.add_child(g, (), kind)
        assert isinstance(T.node_at(g, (key,)), T.default_node(kind).__class__)
    assert [i for i in check_grader(g) if i.blocks_grading] == []
    g2, key = T.add_child(root(), ("n",), "python", key="py")
    assert T.node_at(g2, ("n", "py")).type == "python"
    with pytest.raises(T.TreeError):
        T.add_child(root(), ("a",), "python")
    with pytest.raises(T.TreeError):
        T.add_child(root(), (), "python", key="a")
    with pytest.raises(T.TreeError):
        T.add_child(root(), (), "python", key="log")


def test_rename_key_formula_follows():
    g = T.rename_key(root(), (), "a", "accuracy")
    assert list(g.graders) == ["accuracy", "n"]
    assert g.calculate_output == "0.5*accuracy + 0.5 * n + accuracy^2"
    assert T.rename_key(root(), ("n",), "x", "y").graders["n"].calculate_output == "y"
    broken = root().model_copy(update={"calculate_output": "a + (n"})
    assert T.rename_key(broken, (), "a", "b").calculate_output == "b + (n"
    for bad in ("n", "1x", "max", "a b"):
        with pytest.raises(T.TreeError):
            T.rename_key(root(), (), "a", bad)


def test_delete_duplicate_move():
    g = T.delete(root(), ("a",))
    assert list(g.graders) == ["n"]
    with pytest.raises(T.TreeError):
        T.delete(root(), ())
    g, key = T.duplicate(root(), ("a",))
    assert list(g.graders) == ["a", "a_copy", "n"] and g.graders["a_copy"].name == "a (copy)"
    g, path = T.move(root(), ("a",), ("n",))
    assert path == ("n", "a") and list(g.graders) == ["n"] and list(g.graders["n"].graders) == ["x", "a"]
    with pytest.raises(T.TreeError):
        T.move(root(), ("n",), ("n",))
    r = root()
    T.move(r, ("a",), ("n",))
    assert list(r.graders) == ["a", "n"]  # the input is never modified


def test_change_type_keeps_shared_fields():
    sc = StringCheckGrader(name="keep", input="{{ sample.output_text }}", reference="{{ item.z }}", operation="like")
    ts = T.change_type(sc, "text_similarity")
    assert isinstance(ts, TextSimilarityGrader) and (ts.name, ts.input, ts.reference) == ("keep", sc.input, sc.reference)
    sm = T.change_type(ts, "score_model")
    assert isinstance(sm, ScoreModelGrader) and sm.name == "keep" and isinstance(sm.input, list)
    lm = T.change_type(sm, "label_model")
    assert lm.input == sm.input and lm.model == sm.model
    m = T.change_type(sc, "multi")
    assert m.graders["a"] == sc and m.calculate_output == "a"
    assert T.change_type(sc, "string_check") is sc


def test_wrap_in_multi():
    g = T.wrap_in_multi(T.default_node("label_model", "judge"))
    assert isinstance(g, MultiGrader) and g.calculate_output == "label_model"
    assert not [i for i in check_grader(g) if i.code == "label_model_top_level"]
