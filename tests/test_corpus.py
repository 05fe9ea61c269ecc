"""The external conformance corpus: every real config through validate, export --force and grade.

The corpus stays in shared/ beside the clone (`<repo>/../shared/conformance/external`, or
FTSTUDIO_CONFORMANCE_DIR); MANIFEST.md gives each file's source and what the source shows. The
expectation of a file is derived from that claim:
  ok        the source shows it working: validate without ERROR, export --force, grade
  unproven  a template or script with no output: treated like ok (no evidence says it is refused)
  evals     an Evals testing criterion: must grade; only RFT-only refusals (ALLOWED) may be ERRORs
  mock      a generated SDK test against a mock server: no claim either way (ALLOWED errors only)
  refuse    the source is broken: validate ERRORs and names the place (REFUSE_PLACE)
Failure messages name the file and its source.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from ftstudio.cli._main import main

_REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("FTSTUDIO_CONFORMANCE_DIR") or _REPO.parent / "shared" / "conformance" / "external")
CONFIGS, DATA = CORPUS / "configs", CORPUS / "data"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CONFIGS.is_dir(), reason=f"the conformance corpus is not at {CORPUS} "
                                 "(it lives in shared/ beside the clone; set FTSTUDIO_CONFORMANCE_DIR)")]

# data file -> configs it exercises (MANIFEST "Data" table; "+" = our extra pairing by field names)
PAIRS: dict[str, list[str]] = {
    "cookbook-self-evolving-eval-row.jsonl": [
        "cookbook-self-evolving-python-chemical-name-grader.json",
        "cookbook-self-evolving-python-word-length-grader.json"],
    "azure-countdown-model-outputs-from-notebook.jsonl": [
        "azure-countdown-python-grader-no-name.json",
        "azure-countdown-grader-config-score-model-file.json",
        "azure-countdown-rft-job-python-grader-no-name.json",
        "azure-countdown-rft-job-score-model-o3-mini.json"],
    "azure-clausematching-validation-8rows-constructed-outputs.jsonl": [
        "azure-clausematching-multi-grader-pass-threshold.json",
        "azure-clausematching-multigrader-2025-07.json",
        "azure-docs-include-clause-multi-grader.json",                 # + same fields
        "azure-docs-include-clause-rft-job-with-response-format.json"],  # + same fields
    "azure-medmcq-validation-5rows-as-shipped.jsonl": [
        "azure-medmcq-stringcheck-grader.json",
        "azure-docs-include-medmcq-string-check.json"],                  # + same dataset
    "cookbook-receipt-ground-truth-pairs.jsonl": [
        "cookbook-receipt-string-check-boolean-value.json",
        "cookbook-receipt-string-check-spaced-template.json",
        "cookbook-receipt-text-similarity-bleu-pass-threshold.json",
        "cookbook-receipt-text-similarity-fuzzy-list-value.json"],
    "cookbook-rft-clinical-phrase-worked-examples.jsonl": [
        "cookbook-rft-multi-python-clinical-phrase.json"],
    "docs-graders-guide-python-wratio-run-example.jsonl": [
        "docs-graders-guide-python-rapidfuzz-wratio-no-name.json"],
    "docs-graders-guide-score-model-run-example.jsonl": [
        "docs-graders-guide-score-model-o4-mini.json"],
    "openapi-run-grader-score-model-text.jsonl": ["openapi-run-grader-score-model-text.json"],
    "openapi-run-grader-score-model-image.jsonl": ["openapi-run-grader-score-model-image.json"],
    "openapi-run-grader-score-model-audio.jsonl": ["openapi-run-grader-score-model-audio.json"],
    "docs-graders-guide-multi-name-email.jsonl": ["docs-graders-guide-multi-name-email.json"],
    "docs-graders-guide-multi-tool-call.jsonl": ["docs-graders-guide-multi-tool-call.json"],
    "openapi-string-check-text-similarity-label.jsonl": [
        "openapi-schema-example-string-check.json",
        "openapi-schema-example-text-similarity.json",
        "openapi-validate-grader-string-check.json"],
    "azure-docs-rft-multigrader-example.jsonl": ["azure-docs-rft-multigrader-example.json"],
    "docs-rft-use-cases-chipstack.jsonl": ["docs-rft-use-cases-chipstack-python-alpha-tag.json"],
    "docs-rft-use-cases-harvey.jsonl": ["docs-rft-use-cases-harvey-python-f1-wrapped.json"],
    "cookbook-evals-mcp-output-tools.jsonl": ["cookbook-evals-mcp-python-output-tools.json"],
    "cookbook-healthbench-score-model-rows.jsonl": [
        "cookbook-healthbench-rft-job-current.json",
        "cookbook-healthbench-rft-job-2025-06.json"],                    # + same grader family
}

# Expectation per file, derived from the MANIFEST's "what the source says" (see targets.md §A):
#   ok       the source shows it working / official example: validate without ERROR, export, grade
#   unproven acceptance not shown (template, placeholder, no output): treated like ok, because no
#            evidence says the service refuses it; errors listed in ALLOWED are fine
#   evals    an Evals testing criterion, not an RFT grader: must grade locally; ERRORs only for
#            RFT-specific refusals (ALLOWED: label_model top-level, cosine)
#   mock     generated SDK test against a mock server: no claim either way (ALLOWED errors only)
#   refuse   the source is broken: validate must ERROR and name the place (REFUSE_PLACE)
REFUSE_PLACE: dict[str, list[str]] = {
    # file -> substrings that ERROR paths/messages/hints must contain (the place, and did-you-mean text)
    "azure-docs-dpo-rest-job-beta-flat-l2-prompt-loss.json": ["prompt_loss_weight", "method.dpo.beta",
                                                              "method.dpo.l2_multiplier", "hyperparameters.beta"],
    "cookbook-rft-job-model-grader2-as-published.json": ["test_file", "etest_samples",
                                                         "did you mean"],
    "docs-graders-guide-label-model-o3-mini.json": ["sampling_params.max_tokens"],
    "openapi-create-job-wandb-as-published-invalid-json.json": ["<json>"],
    "openapi-schema-example-multi-list-graders-broken-formula.json": ["graders", "calculate_output"],
    "azure-sdk-sample-eval-score-model-image-tag-stray-braces.json": ["image_tag"],
}
EVALS = {  # MANIFEST: "evals testing_criteria (Evals API), not an RFT grader"
    "azure-sdk-sample-eval-label-model-templated-model.json",
    "azure-sdk-sample-eval-text-similarity-bleu-item-only.json",
    "cookbook-dpo-guide-eval-score-model-judge.json",
    "cookbook-evals-bulk-label-model-o3-mini-developer-role.json",
    "cookbook-evals-mcp-label-model-pass-fail.json",
    "cookbook-evals-mcp-python-output-tools.json",
    "cookbook-evals-sentiment-score-model-range-1-5.json",
    "cookbook-evals-structured-outputs-score-model-output-json.json",
    "cookbook-evals-tools-score-model-output-tools-path.json",
    "cookbook-receipt-score-model-audit-reasoning.json",
    "cookbook-receipt-score-model-system-only-range-0-10.json",
    "cookbook-receipt-string-check-boolean-value.json",
    "cookbook-receipt-string-check-spaced-template.json",
    "cookbook-receipt-text-similarity-bleu-pass-threshold.json",
    "cookbook-receipt-text-similarity-fuzzy-list-value.json",
    "cookbook-self-evolving-python-chemical-name-grader.json",
    "cookbook-self-evolving-python-word-length-grader.json",
    "cookbook-self-evolving-score-model-gpt41-judge.json",
    "cookbook-self-evolving-text-similarity-cosine.json",
    "openapi-schema-example-eval-python-pass-threshold.json",
    "openapi-schema-example-label-model-content-object.json",
}
UNPROVEN = {
    "azure-clausematching-multi-grader-pass-threshold.json",   # "acceptance unproven"
    "azure-clausematching-multigrader-2025-07.json",           # fields don't match the shipped data
    "azure-docs-include-score-model-placeholder-model.json",   # <SUPPORTED_GRADER_MODEL_ID>
    "azure-docs-include-clause-rft-job-with-response-format.json",
    "azure-docs-rft-job-puzzle-response-format-flat.json",     # flat response_format -> WARNING
    "thirdparty-rft-character-judge-job-multi-range-0-100.json",
    "thirdparty-rl-subliminal-job-python-no-name.json",
    "cookbook-healthbench-rft-job-2025-06.json",
}
MOCK = {
    "openai-python-test-graders-string-check-placeholder.json",
    "openai-python-test-jobs-create-all-params.json",          # type supervised + dpo + rft blocks
    "openai-python-test-jobs-create-minimal.json",
}
# ERROR codes a file may keep (RFT-only refusals of an evals criterion; mock oddities)
ALLOWED: dict[str, set[str]] = {
    "azure-sdk-sample-eval-label-model-templated-model.json": {"label_model_top_level"},
    "cookbook-evals-bulk-label-model-o3-mini-developer-role.json": {"label_model_top_level"},
    "cookbook-evals-mcp-label-model-pass-fail.json": {"label_model_top_level"},
    "openapi-schema-example-label-model-content-object.json": {"label_model_top_level"},
    "cookbook-self-evolving-text-similarity-cosine.json": {"cosine_in_reinforcement"},
    "openai-python-test-jobs-create-all-params.json": {"method_block_mismatch"},
}
# Pinned (issue) non-error expectations: (path suffix, "warning"|"absent", code-or-None, why)
PINNED: dict[str, list[tuple[str, str, str | None, str]]] = {
    "azure-docs-rft-job-puzzle-response-format-flat.json": [
        ("method.reinforcement.response_format", "warning", None, "flat json_schema form -> WARNING")],
    "azure-docs-include-score-model-placeholder-model.json": [
        ("model", "warning", None, "placeholder <...> -> WARNING")],
    "azure-sdk-sample-eval-label-model-templated-model.json": [
        ("model", "warning", None, "placeholder {{...}} -> WARNING")],
    "azure-sdk-sample-eval-score-model-image-tag-stray-braces.json": [
        ("model", "warning", None, "placeholder {{...}} -> WARNING")],
    "openapi-run-grader-score-model-text.json": [
        ("sampling_params.temperature", "absent", "sampling_reasoning_model", "temperature 1 on a reasoning model"),
        ("sampling_params.top_p", "absent", "sampling_reasoning_model", "top_p 1 on a reasoning model")],
    "openapi-schema-example-score-model-image-gpt5mini.json": [
        ("sampling_params.temperature", "absent", "sampling_reasoning_model", "temperature 1"),
        ("sampling_params.top_p", "absent", "sampling_reasoning_model", "top_p 1")],
    "docs-graders-guide-score-model-o4-mini.json": [
        ("sampling_params.top_p", "absent", "sampling_reasoning_model", "top_p 1")],
    "docs-graders-guide-label-model-o3-mini.json": [
        ("sampling_params.top_p", "absent", "sampling_reasoning_model", "top_p 1"),
        ("model", "info", "model_unknown", "o3-mini-2024-01-31 does not exist")],
    "openapi-run-grader-score-model-image.json": [
        ("sampling_params.temperature", "warning", "sampling_reasoning_model", "temperature 0.2 != 1")],
}
# pass_threshold / missing name are WARNINGs after the pinned change; these must carry the warning
for _f in ("azure-clausematching-model-grader.json", "azure-countdown-grader-config-score-model-file.json",
           "azure-zava-retail-score-model-grader.json", "cookbook-rft-score-model-grader1.json"):
    PINNED.setdefault(_f, []).append(("pass_threshold", "warning", None, "pass_threshold -> WARNING"))
for _f in ("azure-countdown-python-grader-no-name.json", "docs-graders-guide-python-minimal-no-name.json"):
    PINNED.setdefault(_f, []).append(("name", "warning", None, "grader without name -> WARNING"))




def _expect(name: str) -> str:
    if name in REFUSE_PLACE:
        return "refuse"
    if name in EVALS:
        return "evals"
    if name in MOCK:
        return "mock"
    if name in UNPROVEN:
        return "unproven"
    return "ok"


def _sources() -> dict[str, str]:
    """file -> 'source (what the source says)' from the MANIFEST table."""
    out = {}
    if not (CORPUS / "MANIFEST.md").is_file():
        return out
    for line in (CORPUS / "MANIFEST.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([^`]+\.json)` \| (.*?) \| .*? \| (.*?) \|", line)
        if m:
            out[m.group(1)] = f"{m.group(2)} -- says: {m.group(3)}"
    return out


SOURCES = _sources()
FILES = sorted(p.name for p in CONFIGS.glob("*.json")) if CONFIGS.is_dir() else []
GRADE_FOR: dict[str, list[str]] = {}
for _data, _cfgs in PAIRS.items():
    for _c in _cfgs:
        GRADE_FOR.setdefault(_c, []).append(_data)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No endpoint: model-grader rows become per-row errors (still 'graded'); nothing touches ~."""
    for key in list(os.environ):
        if key.startswith(("OPENAI_", "AZURE_", "AWS_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def _run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _where(name: str) -> str:
    return f"{name} [{_expect(name)}] from {SOURCES.get(name, '(not in MANIFEST)')}"


def test_manifest_lists_every_file():
    missing = [f for f in FILES if f not in SOURCES]
    assert not missing, f"corpus files without a MANIFEST row: {missing}"


def _validate_problems(name: str, rc: int, out: str, err: str) -> tuple[list[str], list[dict]]:
    exp, problems = _expect(name), []
    issues = json.loads(out) if rc != 2 and out.strip() else []
    errs = [i for i in issues if i["severity"] == "error"]
    if exp != "refuse":
        bad = sorted({f"{i['code']}@{i['path'] or '$'}" for i in errs if i["code"] not in ALLOWED.get(name, set())})
        if rc == 2:
            problems.append(f"validate says unreadable: {err.strip()[-300:]}")
        if bad:
            problems.append("validate ERROR where the source shows it accepted: " + ", ".join(bad))
        return problems, issues
    text = " ".join(i["path"] + " " + i["message"] + " " + i.get("hint", "") for i in errs)
    text += " <json>" if rc == 2 else ""
    if not errs and rc != 2:
        problems.append("not refused although the source is broken")
    missing = [w for w in REFUSE_PLACE[name] if w not in text]
    if missing:
        problems.append("refused without naming: " + ", ".join(missing))
    return problems, issues


def _pinned_problems(name: str, issues: list[dict]) -> list[str]:
    problems = []
    for suffix, want, code, why in PINNED.get(name, []):
        pool = [i for i in issues if (want == "absent" and i["severity"] != "error") or i["severity"] == want]
        hit = [i for i in pool if i["path"].endswith(suffix) and (code is None or i["code"] == code)]
        if want == "absent" and hit:
            problems.append(f"{code} fires at {suffix} but should not ({why})")
        elif want != "absent" and not hit:
            problems.append(f"no {want} at {suffix} ({why})")
    return problems


def _export_problems(path: Path, unreadable: bool, tmp: Path, capsys) -> list[str]:
    out_file = tmp / "export.json"
    erc, _, eerr = _run(capsys, "export", path, "--format", "json", "--force", "-o", out_file)
    if unreadable:
        return [] if erc == 2 else [f"export of unreadable JSON exits {erc}, not 2"]
    if erc != 0:
        return [f"export --force failed ({erc}): {eerr.strip()[-300:]}"]
    written = json.loads(out_file.read_text(encoding="utf-8"))
    original = json.loads(path.read_text(encoding="utf-8"))
    if written != original or json.dumps(written) != json.dumps(original):
        return ["export --force changed what the user wrote (keys, order, values or nulls)"]
    return []


@pytest.mark.parametrize("name", FILES)
def test_corpus_file(name, offline, capsys):
    path = CONFIGS / name
    rc, out, err = _run(capsys, "validate", "--json", path)
    problems, issues = _validate_problems(name, rc, out, err)
    problems += _pinned_problems(name, issues)
    problems += _export_problems(path, rc == 2, offline, capsys)
    for data in GRADE_FOR.get(name, []):
        grc, gout, gerr = _run(capsys, "grade", path, DATA / data, "--json")
        if grc != 0:
            problems.append(f"grade on {data} refused ({grc}): {gerr.strip()[-300:]}")
        elif json.loads(gout)["summary"]["count"] < 1:
            problems.append(f"grade on {data} scored no rows")
    assert not problems, f"{_where(name)}:\n  " + "\n  ".join(problems)
