"""The rules registry: the single source of severities, per target, with evidence; the README follows it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from ftstudio.cli._main import main
from ftstudio.validation import (
    EVIDENCE_KINDS,
    RULES,
    SOURCES,
    TARGETS,
    check,
    check_grader,
    rule,
    rules_markdown,
)

ROOT = Path(__file__).resolve().parent.parent


def sc(**kw):
    g = {"type": "string_check", "name": "s", "input": "{{ sample.output_text }}", "reference": "{{ item.a }}",
         "operation": "eq"}
    g.update(kw)
    return g


def rft(grader, **kw):
    body = {"model": "o4-mini-2025-04-16", "training_file": "file-a", "validation_file": "file-b",
            "method": {"type": "reinforcement", "reinforcement": {"grader": grader}}}
    body.update(kw)
    return body


def by_code(issues):
    return {(i.path, i.code): i.severity for i in issues}


def test_every_rule_is_complete():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for r in RULES:
        assert set(r.severity) == set(TARGETS), r.id
        assert all(s in ("error", "warning", "info", None) for s in r.severity.values()), r.id
        assert r.evidence and r.message, r.id
        for e in r.evidence:
            assert e.kind in EVIDENCE_KINDS and e.source in SOURCES, (r.id, e)


def test_readme_choices_table_is_the_registry():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- rules:begin -->\n(.*?)\n<!-- rules:end -->", text, re.S)
    assert block, "README's Choices section lost its rules table"
    assert block.group(1) == rules_markdown(), "README rules table is stale: run `ftstudio rules --markdown`"


CORPUS_LIKE = [
    rft(sc(pass_threshold=0.5)), rft({"type": "python", "source": "def grade(s, i):\n    return 1.0\n"}),
    rft(sc(), test_file="file-x", suffix="x y"), sc(operation="neq"),
    {"type": "multi", "graders": [sc()], "calculate_output": "(a"},
    rft({"type": "endpoint", "url": "https://x.example/score"}),
    rft({"type": "lambda", "lambda": {"function": "nope"}}),
    {"model": "gpt-4.1-2025-04-14", "training_file": "file-a", "prompt_loss_weight": 0.1,
     "method": {"type": "dpo", "dpo": {"beta": 0.1, "l2_multiplier": 0.1}}},
]


@pytest.mark.parametrize("target", TARGETS)
def test_every_emitted_code_is_registered_and_resolved(target):
    for doc in CORPUS_LIKE:
        issues = check_grader(doc, target=target) if "training_file" not in doc else check(doc, target=target)
        for i in issues:
            r = rule(i.code)
            assert r is not None, f"{i.code} has no rule in the registry"
            assert i.severity == r.severity_for(target), (i.code, target)


def test_pinned_severities():
    issues = check(rft({"type": "multi", "pass_threshold": 0.6, "calculate_output": "a",
                        "graders": {"a": {"type": "python", "source": "def grade(s, i):\n    return 1\n"}}}))
    got = by_code(issues)
    assert got[("method.reinforcement.grader.pass_threshold", "pass_threshold_ignored")] == "warning"
    assert got[("method.reinforcement.grader.name", "grader_name_missing")] == "warning"
    assert got[("method.reinforcement.grader.graders.a.name", "grader_name_missing")] == "warning"
    assert not [i for i in issues if i.severity == "error"]


def test_file_id_null_and_sampling_at_default():
    g = {"type": "score_model", "name": "img", "model": "gpt-5-mini", "sampling_params": {"temperature": 1,
                                                                                          "top_p": 1.0},
         "input": [{"role": "user", "type": "message", "content": [
             {"type": "input_text", "text": "{{ sample.output_text }}"},
             {"type": "input_image", "image_url": "https://x/y.png", "file_id": None, "detail": "auto"}]}]}
    issues = check_grader(g)
    assert not [i for i in issues if i.severity == "error"], issues
    assert "sampling_reasoning_model" not in {i.code for i in issues}
    g["sampling_params"] = {"temperature": 0.2}
    assert ("sampling_params.temperature", "sampling_reasoning_model") in by_code(check_grader(g))


def test_unknown_models_and_placeholders():
    g = {"type": "label_model", "name": "l", "model": "o3-mini-2024-01-31", "labels": ["a"], "passing_labels": ["a"],
         "input": [{"role": "user", "content": "{{ sample.output_text }}"}]}
    notes = [i for i in check_grader(g, reinforcement=False) if i.code == "model_unknown"]
    assert notes and notes[0].severity == "info" and "unknown model" in notes[0].message
    for placeholder in ("<SUPPORTED_GRADER_MODEL_ID>", "{{aoai_deployment_and_model}}"):
        g["model"] = placeholder
        assert by_code(check_grader(g, reinforcement=False))[("model", "model_placeholder")] == "warning"


def test_unknown_fields_did_you_mean_and_target_severity():
    body = rft(sc(), test_file="file-x")
    body["method"]["reinforcement"]["hyperparameters"] = {"etest_samples": 3}
    for target, sev in (("openai", "error"), ("azure", "error"), ("bedrock", "warning"), ("compatible", "warning")):
        issues = {i.path: i for i in check(body, target=target) if i.code == "schema_unknown_field"}
        assert issues["test_file"].severity == sev
        assert "did you mean 'validation_file'" in issues["test_file"].message
        assert "did you mean 'eval_samples'" in issues["method.reinforcement.hyperparameters.etest_samples"].message


def test_response_format_forms():
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    def rf(value):
        body = rft(sc())
        body["method"]["reinforcement"]["response_format"] = value
        return {(i.path, i.code): i for i in check(body, target="azure")}

    assert not [k for k in rf({"type": "json_schema", "json_schema": {"name": "a", "schema": schema, "strict": True}})
                if k[1].startswith("response_format")]
    flat = rf({"type": "json_schema", "name": "a", "schema": schema, "strict": True})
    issue = flat[("method.reinforcement.response_format", "response_format_flat")]
    assert issue.severity == "warning" and '"json_schema": {"name"' in issue.hint
    assert rf({"type": "text"})[("method.reinforcement.response_format.type", "response_format_type")].severity == "error"
    broken = rf({"type": "json_schema", "json_schema": {"name": "a", "schema": {
        "type": "object", "properties": {"answer": {"type": "strnig"}}}}})
    bad = [k for k in broken if k[1] == "response_format_schema_invalid"]
    assert bad and bad[0][0].startswith("method.reinforcement.response_format.json_schema.schema.properties.answer")


def test_openai_wind_down_by_date():
    body = rft(sc())
    before = {i.code: i for i in check(body, today=dt.date(2026, 6, 1))}
    assert "openai_jobs_closed" not in before
    last_day = {i.code: i for i in check(body, today=dt.date(2027, 1, 6))}  # jobs accepted through 2027-01-06
    assert "openai_jobs_closed" not in last_day and "openai_jobs_closing" in last_day
    after = {i.code: i for i in check(body, today=dt.date(2027, 1, 7))}
    closed = after["openai_jobs_closed"]
    assert closed.severity == "warning" and "no longer accepts" in closed.message and "Azure" in closed.message
    assert "openai_jobs_closed" not in {i.code for i in check(body, target="azure", today=dt.date(2027, 2, 1))}


def test_bedrock_suffix_and_models():
    body = rft({"type": "lambda", "lambda": {"function": "arn:aws:lambda:us-west-2:123456789012:function:my-reward"}},
               model="openai.gpt-oss-20b", suffix="mine")
    got = by_code(check(body, target="bedrock"))
    assert got[("suffix", "suffix_unsupported")] == "error"
    assert not [k for k, s in got.items() if s == "error" and k[1] != "suffix_unsupported"], got
    assert ("suffix", "suffix_unsupported") not in by_code(check(rft(sc(), suffix="mine")))


def test_rules_cli(capsys):
    assert main(["rules", "--json", "--target", "azure"]) == 0
    data = json.loads(capsys.readouterr().out)
    entry = next(r for r in data if r["id"] == "endpoint_grader")
    assert entry["severity"] == "info" and entry["evidence"][0]["url"].startswith("https://")
    assert main(["rules"]) == 0
    assert "pass_threshold_ignored: openai=warning  azure=warning" in capsys.readouterr().out


def test_checks_never_write_a_severity():
    """The registry is the single source of severities: no check module spells one out."""
    pattern = re.compile(r'"(error|warning|info)",')
    for path in (ROOT / "ftstudio" / "validation").glob("*.py"):
        if path.name == "_rules.py":
            continue
        hits = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
        assert not hits, f"{path.name} lines {hits} hard-code a severity; name the rule and let the registry decide"
