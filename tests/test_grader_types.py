"""Every grader type is complete (each facet there and working), every (target, type) pair is declared
once, and the checks that say so fail when something is missing."""

from __future__ import annotations

from typing import Literal

import pytest

from ftstudio import targets as T
from ftstudio.core import Evidence, Rule, Unavailable, records
from ftstudio.graders import (
    GRADER_CLASSES,
    GRADER_TYPES,
    MODEL_TYPES,
    REMOTE_GRADER_TYPES,
    GraderModel,
    facet_gaps,
    grader_type,
    grader_types,
    parse_grader,
    template_fields,
    tree,
    types,
)
from ftstudio.grading import SCORERS, prepare
from ftstudio.probes._fixes import fix_for
from ftstudio.validation import check_grader, rule

ALL = [t.name for t in grader_types()]
ROW = {"model_sample": "Paris", "answer": "Paris", "reference": "Paris"}


@pytest.mark.parametrize("name", ALL)
def test_every_facet_of_every_type_is_there_and_fits(name):
    assert facet_gaps(grader_type(name), build=True) == []


@pytest.mark.parametrize("name", ALL)
def test_each_facet_works_on_the_default_node(name):
    t = grader_type(name)
    node = t.default("n")
    data = node.model_dump(mode="json", exclude_none=True)
    assert parse_grader(data) == node  # the default round-trips through the union
    issues = check_grader(data, reinforcement=False)
    assert "internal_error" not in {i.code for i in issues}
    batch = prepare([ROW])
    assert isinstance(t.explain(node, batch), dict)
    assert isinstance(fix_for(node, "pad"), str) and fix_for(node, "pad")
    assert all(isinstance(text, str) for _, text in template_fields(node))
    assert tree.default_node(name, "n") == node


def test_every_table_is_derived_from_the_registry():
    assert set(SCORERS) == set(ALL) == set(GRADER_CLASSES)
    assert GRADER_TYPES + REMOTE_GRADER_TYPES == tuple(ALL)
    assert set(MODEL_TYPES) == {t.name for t in grader_types() if t.calls_model} == {"score_model", "label_model"}
    assert GRADER_TYPES == ("string_check", "text_similarity", "score_model", "label_model", "python", "multi")


def test_a_missing_or_broken_facet_is_detected():
    t = grader_type("string_check")
    assert "score" in facet_gaps(records.replace(t, score=None))  # type: ignore[arg-type]
    assert "check" in facet_gaps(records.replace(t, check="not a function"))  # type: ignore[arg-type]
    assert any(g.startswith("model") for g in facet_gaps(records.replace(t, name="other")))
    wrong_default = records.replace(t, default=grader_type("python").default)
    assert any(g.startswith("default") for g in facet_gaps(wrong_default, build=True))
    assert "remote" in facet_gaps(records.replace(t, remote=None))  # type: ignore[arg-type]
    bad_target = records.replace(t, targets={"openai": "as is"})  # type: ignore[arg-type]
    assert any("targets['openai']" in g for g in facet_gaps(bad_target))


def test_a_type_is_loaded_when_first_asked_for_by_name(tmp_path):
    """The registry imports a type's module on first use (issue 23, start-up), once even when threads ask at once;
    a module's name ("lambda_") is not a type's; asking for every type loads them all and closes registration."""
    import os
    import subprocess
    import sys

    probe = """
import sys, threading
from ftstudio.graders.types import find, grader_type, grader_types
types = lambda: sorted(m.rpartition(".")[2] for m in sys.modules if m.startswith("ftstudio.graders.types.")
                       and not m.rpartition(".")[2].startswith("_"))
assert types() == [], types()
found = []
threads = [threading.Thread(target=lambda: found.append(grader_type("string_check"))) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
assert len(found) == 8 and len(set(map(id, found))) == 1 and types() == ["string_check"], types()
assert find("lambda").name == "lambda" and find("lambda_") is None and find("nope") is None
assert find("_registry") is None and find("a.b") is None and find(3) is None
assert types() == ["lambda_", "python", "string_check"], types()  # lambda's module imports python's
assert [t.name for t in grader_types()][:2] == ["string_check", "text_similarity"] and len(types()) == 8
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                         env=dict(os.environ, PYTHONPATH=os.getcwd(), HOME=str(tmp_path)))
    assert out.stdout.strip() == "ok", out.stderr


def test_a_target_is_loaded_when_first_named(tmp_path):
    """Targets load by name as grader types do (core.Plugins): "bedrock-rft" from bedrock_rft.py; a module's name
    is not a target's; listing them loads every one; an unknown name lists them all."""
    import os
    import subprocess
    import sys

    probe = """
import sys
from ftstudio.targets import UnknownTarget, target, targets
from ftstudio.validation import check_target
loaded = lambda: sorted(m.rpartition(".")[2] for m in sys.modules if m.startswith("ftstudio.targets.")
                        and not m.rpartition(".")[2].startswith("_"))
assert target("openai").name == "openai" and check_target("AZURE") == "azure", loaded()
assert target("bedrock-rft").name == "bedrock-rft" and loaded() == ["azure", "bedrock_rft", "openai"], loaded()
for bad in ("bedrock_rft", "_registry", "nope", "a.b"):
    try:
        target(bad)
        raise SystemExit(f"{bad} found")
    except UnknownTarget as exc:
        assert "use one of openai, azure, bedrock, compatible, gemini, bedrock-rft" in str(exc), exc
assert [t.name for t in targets()] == ["openai", "azure", "bedrock", "compatible", "gemini", "bedrock-rft"]
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                         env=dict(os.environ, PYTHONPATH=os.getcwd(), HOME=str(tmp_path)))
    assert out.stdout.strip() == "ok", out.stderr


def test_registration_refuses_an_incomplete_or_late_type():
    t = grader_type("string_check")
    with pytest.raises(TypeError, match="incomplete: explain"):
        types.register(records.replace(t, name="half", explain=None))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="registered twice"):
        types.register(t)

    class LateGrader(GraderModel):
        type: Literal["late"] = "late"
        name: str | None = None

    late = records.replace(t, name="late", model=LateGrader, default=lambda name: LateGrader(name=name))
    assert facet_gaps(late, build=True) == []
    with pytest.raises(RuntimeError, match="after the Grader union was built"):
        types.register(late)
    assert grader_types() == tuple(grader_type(n) for n in ALL)


# --- targets x grader types ---------------------------------------------------------------------

def test_every_target_x_type_pair_is_declared_exactly_once():
    assert T.gaps() == []
    for target in T.targets():
        for t in grader_types():
            found = target.translation(t.name)
            assert callable(found) or isinstance(found, Unavailable), (target.name, t.name)
    # gemini takes every type (`every`): its per-type scorers must then cover every registered type
    assert set(T.GEMINI_TRANSLATIONS) == {t.name for t in grader_types()}


def test_the_pair_check_fails_on_a_missing_or_doubled_pair():
    openai = T.target("openai")
    fewer = records.replace(openai, graders={k: v for k, v in openai.graders.items() if k != "python"})
    assert T.gaps([fewer]) == ["openai x python: neither a translation nor Unavailable"]
    twice = records.replace(openai, graders={**openai.graders, "endpoint": T.as_is})
    assert T.gaps([twice]) == ["openai x endpoint: declared by the target and by the grader type"]
    assert "openai x toy: declared by the target for an unknown grader type" in \
        T.gaps([records.replace(openai, graders={**openai.graders, "toy": T.as_is})])
    unknown = records.replace(grader_type("python"), targets={"nowhere": T.as_is})
    assert T.gaps([openai], [unknown]) == ["nowhere x python: declared by the grader type for an unknown target"]


def test_every_unavailable_names_a_registered_rule_with_a_severity_there():
    assert T.unavailable_rules()
    for target_name, rule_id in T.unavailable_rules():
        found = rule(rule_id)
        assert found is not None, rule_id
        assert found.severity_for(target_name) is not None, (target_name, rule_id)
        assert found.evidence, rule_id


def test_unavailable_becomes_the_rules_issue_on_that_target_only():
    lam = {"type": "lambda", "name": "l", "lambda": {"function": "arn:aws:lambda:us-east-1:123456789012:function:f"}}
    assert [(i.code, i.severity) for i in check_grader(lam, target="openai")] == [("lambda_grader", "error")]
    assert check_grader(lam, target="bedrock") == []
    with pytest.raises(T.NotTranslatable, match="only on Amazon Bedrock") as exc:
        T.target("azure").translate(parse_grader(lam))
    assert exc.value.unavailable is not None and exc.value.unavailable.rule == "lambda_grader"
    assert T.target("bedrock").translate(parse_grader(lam)) == lam


def test_a_type_may_declare_unavailable_everywhere_else_with_its_own_rule():
    own = Rule("only_here", {"*": "warning"}, (Evidence("none-our-reading", "OURS"),), "not taken elsewhere")
    t = records.replace(grader_type("python"), name="python", targets={"openai": T.as_is},
                            elsewhere=Unavailable("only OpenAI runs it", "only_here"), rules=(own,))
    openai, azure = T.target("openai"), T.target("azure")
    fewer_azure = records.replace(azure, graders={k: v for k, v in azure.graders.items() if k != "python"})
    fewer_openai = records.replace(openai, graders={k: v for k, v in openai.graders.items() if k != "python"})
    assert T.gaps([fewer_openai, fewer_azure], [t]) == []
    assert fewer_azure.translation("python") is None  # the registered python type declares no pairs itself
    assert own.severity_for("gemini") == "warning"  # "*": every target, also one added later


def test_an_unknown_field_lists_the_registered_types_fields():
    # The Grader union is built from the registry: the schema hints still follow it into each type's model.
    root = check_grader({"type": "score_model", "name": "s", "model": "gpt-4.1", "image_tag": "x",
                         "input": [{"role": "user", "content": "{{ sample.output_text }}"}]})
    assert [i.hint for i in root if i.code == "schema_unknown_field"] == [
        "allowed fields here: type, name, model, input, range, sampling_params, pass_threshold"]
    nested = check_grader({"type": "multi", "name": "m", "calculate_output": "a", "graders": {"a": {
        "type": "label_model", "name": "a", "model": "gpt-4.1", "labels": ["y"], "passing_labels": ["y"],
        "input": [{"role": "user", "content": "{{ sample.output_text }}"}], "sampling_params": {"max_tokens": 5}}}})
    assert [i.hint for i in nested if i.code == "schema_unknown_field"] == [
        "allowed fields here: seed, top_p, temperature, max_completions_tokens, reasoning_effort"]
