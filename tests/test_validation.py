import copy
import json
from pathlib import Path

import pytest

from ftstudio.config import new_config
from ftstudio.core import under
from ftstudio.validation import blocks_grading, check, check_grader

ROOT = Path(__file__).resolve().parent.parent


def preset(name):
    return json.loads((ROOT / "presets" / f"{name}.json").read_text())["config"]


def rft(grader, **kw):
    cfg = preset("rft-exact-match")
    cfg["method"]["reinforcement"]["grader"] = grader
    cfg.update(kw)
    return cfg


def codes(issues, severity=None):
    return {(i.path, i.code) for i in issues if severity is None or i.severity == severity}


def sc(**kw):
    return {"type": "string_check", "name": "s", "input": "{{ sample.output_text }}", "reference": "{{ item.a }}",
            "operation": "eq", **kw}


def multi(graders, formula, name="m"):
    return {"type": "multi", "name": name, "graders": graders, "calculate_output": formula}


def test_never_raises_on_garbage():
    for junk in (None, 5, "x", [], {"method": 7}, {"method": {"type": "reinforcement", "reinforcement": 3}},
                 {"model": None, "training_file": []}, {"method": {"type": "dpo", "dpo": {"hyperparameters": []}}}):
        issues = check(junk)
        assert issues and all(i.severity in ("error", "warning", "info") for i in issues)
    assert check_grader("nope")[0].code == "schema_not_object"


def test_schema_paths_and_allowed_values():
    cfg = preset("rft-exact-match")
    cfg["method"]["reinforcement"]["grader"]["operation"] = "equals"
    cfg["method"]["reinforcement"]["hyperparameters"]["n_epochs"] = 0
    del cfg["training_file"]
    issues = check(cfg)
    got = {i.path: i for i in issues if i.severity == "error"}
    op = got["method.reinforcement.grader.operation"]
    assert "'eq', 'ne', 'like' or 'ilike'" in op.message and op.blocks_grading
    assert "1 to 50" in got["method.reinforcement.hyperparameters.n_epochs"].message
    assert not got["method.reinforcement.hyperparameters.n_epochs"].blocks_grading
    assert got["training_file"].code == "schema_missing"


def test_neq_hint():
    issue = [i for i in check_grader(sc(operation="neq")) if i.path == "operation"][0]
    assert "ne" in issue.hint


def test_formula_checks():
    g = multi({"a": sc(), "b": sc(), "c": sc()}, "a + b * 2")
    assert codes(check_grader(g)) >= {("calculate_output", "formula_unused_key")}
    assert not blocks_grading(check_grader(g))
    bad = check_grader(multi({"a": sc()}, "a + zz"))
    assert [(i.code, i.blocks_grading) for i in bad if i.severity == "error"] == [("formula_unknown_variable", True)]
    assert "position 4" in bad[0].message
    for formula, code in (("a ** 2", "formula_operator"), ("pow(a)", "formula_function"), ("(a", "formula_parse_error"),
                          ("a % 2", "formula_operator")):
        err = [i for i in check_grader(multi({"a": sc()}, formula)) if i.severity == "error"]
        assert err[0].code == code and err[0].blocks_grading and err[0].path == "calculate_output"


def test_template_checks_and_dataset_fields():
    g = multi({"a": sc(input="{{ smaple.output_text }}"), "b": sc(input="{{ sample.text }}"),
               "c": sc(reference="{{ item.x"), "d": sc(reference="{{ item.missing_field }}")}, "a+b+c+d")
    issues = check_grader(g, dataset_fields=["a", "x"])
    assert codes(issues, "error") >= {("graders.a.input", "template_namespace"), ("graders.b.input", "template_sample_field"),
                                      ("graders.c.reference", "template_malformed")}
    assert ("graders.d.reference", "template_item_field_missing") in codes(issues, "warning")
    assert ("graders.a.reference", "template_item_field_missing") not in codes(issues)
    cfg = rft(sc(reference="{{ item.nope }}"))
    assert ("method.reinforcement.grader.reference", "template_item_field_missing") in codes(check(cfg, dataset_fields=["a"]))
    assert ("method.reinforcement.grader.reference", "template_item_field_missing") not in codes(check(cfg))


def test_api_only_errors_do_not_block_grading():
    inner = multi({"x": sc()}, "x", name="inner")
    g = multi({"a": inner, "b": {"type": "text_similarity", "name": "t", "input": "{{ sample.output_text }}",
                                 "reference": "r", "evaluation_metric": "cosine", "pass_threshold": 0.5}}, "a + b")
    issues = check_grader(g)
    errs = {(i.path, i.code) for i in issues if i.severity == "error"}
    assert errs == {("graders.a", "multi_nested"), ("graders.b.evaluation_metric", "cosine_in_reinforcement")}
    # accepted and ignored by the service (issue 10 §2): a warning that never blocks
    assert ("graders.b.pass_threshold", "pass_threshold_ignored") in codes(issues, "warning")
    assert blocks_grading(issues) == []
    assert "flatten" in [i for i in issues if i.code == "multi_nested"][0].hint.lower()
    label = {"type": "label_model", "name": "l", "model": "gpt-4.1-2025-04-14", "labels": ["a"], "passing_labels": ["a"],
             "input": [{"role": "user", "content": "{{ sample.output_text }}"}]}
    top = check_grader(label)
    assert ("", "label_model_top_level") in codes(top, "error") and not blocks_grading(top)
    assert ("graders.l", "label_model_top_level") not in codes(check_grader(multi({"l": label}, "l")))


def score_model(model, **sp):
    return {"type": "score_model", "name": "j", "model": model, "input": [{"role": "user", "content": "{{ sample.output_text }}"}],
            "sampling_params": sp}


@pytest.mark.parametrize("model,sp,severity,code", [
    ("gpt-5", {"reasoning_effort": "none"}, "error", "reasoning_effort_unsupported"),
    ("gpt-5.1", {"reasoning_effort": "none"}, None, None),
    ("gpt-5-pro", {"reasoning_effort": "medium"}, "error", "reasoning_effort_unsupported"),
    ("gpt-5-pro", {"reasoning_effort": "high"}, None, None),
    ("gpt-5.1", {"reasoning_effort": "xhigh"}, "error", "reasoning_effort_unsupported"),
    ("gpt-5.2", {"reasoning_effort": "xhigh"}, None, None),
    ("o3-2025-04-16", {"temperature": 0.5}, "warning", "sampling_reasoning_model"),
    ("gpt-4.1-2025-04-14", {"reasoning_effort": "low"}, "warning", "reasoning_effort_non_reasoning"),
    ("gpt-4.1-2025-04-14", {"temperature": 0.5}, None, None),
])
def test_reasoning_effort_rules(model, sp, severity, code):
    issues = [i for i in check_grader(score_model(model, **sp)) if i.path.startswith("sampling_params")]
    assert [(i.severity, i.code) for i in issues] == ([(severity, code)] if code else [])


def test_score_model_range_and_model_notes():
    issues = check_grader(dict(score_model("my-own-judge"), range=[1, 0]))
    assert ("range", "score_model_range") in codes(issues, "error")
    assert ("model", "model_unknown") in codes(issues, "info")
    assert ("model", "model_retired") in codes(check_grader(score_model("o3-mini-2025-01-31")), "warning")
    msg = [i for i in check_grader(score_model("o1-2024-12-17")) if i.code == "model_retired"][0].message
    assert "2026-10-23" in msg


def test_method_rules():
    cfg = new_config("supervised").model_dump(mode="json", exclude_none=True)
    cfg["training_file"] = "file-x"
    cfg["method"]["supervised"]["hyperparameters"]["beta"] = 0.1
    cfg["method"]["dpo"] = {}
    issues = check(cfg)
    assert ("method.supervised.hyperparameters.beta", "hyperparameter_foreign") in codes(issues, "error")
    assert ("method.dpo", "method_block_mismatch") in codes(issues, "error")
    cfg = preset("supervised-chat")
    cfg["model"] = "o4-mini-2025-04-16"
    issues = check(cfg)
    assert ("model", "method_model_unlisted") in codes(issues, "warning")
    assert ("model", "model_retired") in codes(issues, "warning")
    cfg["model"] = "ft:gpt-4.1-mini-2025-04-14:acme:x:1"
    assert ("model", "method_model_unlisted") not in codes(check(cfg))
    cfg["model"] = "brand-new-model"
    assert ("model", "model_unknown") in codes(check(cfg), "info")


def test_secrets_and_misc_job_fields():
    cfg = preset("supervised-chat")
    cfg["metadata"]["note"] = "key sk-proj-abcdefghijklmnopqrstuvwxyz123456"
    cfg["suffix"] = "a:b"
    cfg["validation_file"] = cfg["training_file"]
    issues = check(cfg)
    assert ("metadata.note", "secret_in_config") in codes(issues, "error")
    assert ("suffix", "suffix_characters") in codes(issues, "warning")
    assert ("validation_file", "validation_same_as_training") in codes(issues, "warning")
    assert all("sk-proj" not in i.message for i in issues)


def test_issues_under_a_node():
    g = multi({"a": sc(input="{{ nope.x }}"), "ab": sc()}, "a + ab")
    issues = check_grader(g)
    assert {i.path for i in under(issues, "graders.a")} == {"graders.a.input"}


def test_models_and_dicts_agree():
    cfg = new_config("reinforcement")
    assert check(cfg) == check(cfg.model_dump(mode="json", exclude_none=True))
    data = copy.deepcopy(preset("rft-summarization"))
    assert [i for i in check(data) if i.severity == "error"] == []


class _Exploding:
    """Dataset fields whose iteration fails: stands for a bug inside a check."""

    def __iter__(self):
        raise KeyError("boom sk-proj-abcdefghijklmnopqrstuvwxyz0123456789")


def test_an_internal_failure_is_added_to_the_other_issues_and_logged_with_its_traceback(tmp_path, monkeypatch):
    from ftstudio.core import log_path

    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path))
    config = new_config("reinforcement").model_dump(mode="json", exclude_none=True)
    config["method"]["reinforcement"]["hyperparameters"]["n_epochs"] = 99
    grader = {"type": "string_check", "name": "", "input": "{{ item.a }}", "reference": "x", "operation": "nope"}
    for issues in (check(config, dataset_fields=_Exploding()), check_grader(grader, dataset_fields=_Exploding())):
        codes = [i.code for i in issues]
        assert codes.count("internal_error") == 1
        assert len(codes) > 1  # what the checks before the failure found is kept
        internal = next(i for i in issues if i.code == "internal_error")
        assert internal.severity == "error" and "KeyError" in internal.message and str(log_path()) in internal.hint
        assert "sk-proj-abcdefghij" not in internal.message
    assert log_path() == tmp_path / "logs" / "ftstudio.log"
    text = log_path().read_text()
    assert text.count("Traceback (most recent call last)") == 2 and "KeyError" in text
    assert "sk-proj-abcdefghij" not in text


def test_a_check_out_of_stack_says_so_even_before_the_rules_are_read(tmp_path):
    """The registry is read on first need (issue 23): when that first need is the out-of-stack issue itself, at a
    depth where the caller's stack is nearly spent, the check still returns that one issue instead of raising."""
    import os
    import subprocess
    import sys

    probe = """
import inspect, sys
from ftstudio.validation import check_grader
node = {"type": "string_check", "name": "x", "input": "{{sample.output_text}}", "reference": "{{item.a}}",
        "operation": "eq"}
for _ in range(12):
    node = {"type": "multi", "name": "m", "graders": {"a": node}, "calculate_output": "a"}
assert "ftstudio.targets.azure" not in sys.modules  # the rules, and every target, not read yet
sys.setrecursionlimit(len(inspect.stack()) + 40)
out = check_grader(node)
sys.setrecursionlimit(1000)
print([(i.code, i.message) for i in out])
"""
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                         env=dict(os.environ, PYTHONPATH=os.getcwd(), HOME=str(tmp_path)))
    assert run.stdout.strip() == "[('json_value_invalid', 'the document nests too deeply to check')]", run.stderr
