"""`ftstudio export --format promptfoo` scored by promptfoo itself (npm, pinned): each test's top-level score in
promptfoo's JSON output equals `ftstudio grade`'s reward for the row (1e-6), on a preset's dataset and on
external corpus datasets; where the export says a mapping is approximate, it says so in the YAML and its
summary, and only the exact ones are compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from promptfoo_cli import ROOT, run_eval

from ftstudio.cli import main as ftstudio

pytestmark = pytest.mark.slow

QUIZ = ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl"
EXTERNAL = [  # (config, data): native string checks, weighted-average multis of python-graded children, python
    ("openapi-schema-example-string-check.json", "openapi-string-check-text-similarity-label.jsonl"),
    ("azure-clausematching-multi-grader-pass-threshold.json",
     "azure-clausematching-validation-8rows-constructed-outputs.jsonl"),
    ("docs-graders-guide-multi-name-email.json", "docs-graders-guide-multi-name-email.jsonl"),
    ("cookbook-rft-multi-python-clinical-phrase.json", "cookbook-rft-clinical-phrase-worked-examples.jsonl"),
]


ROWS = 6  # promptfoo starts a Python process per python assertion (1-3 s each here): a few rows per dataset


def _export_and_eval(tmp_path: Path, config: Path, source: Path, capsys) -> tuple[list[dict], list[dict], str, str]:
    data = tmp_path / f"{config.stem}.data.jsonl"
    data.write_text("".join(source.read_text(encoding="utf-8").splitlines(keepends=True)[:ROWS]), encoding="utf-8")
    out = tmp_path / config.stem
    assert ftstudio(["export", str(config), "--format", "promptfoo", "--data", str(data), "-o", str(out)]) == 0
    summary = capsys.readouterr().err
    records_file = tmp_path / f"{config.stem}.records.jsonl"
    assert ftstudio(["grade", str(config), str(data), "--out", str(records_file)]) == 0
    records = [json.loads(line) for line in records_file.read_text().splitlines()]
    results = run_eval(out / "promptfooconfig.yaml", tmp_path)
    return results, records, (out / "promptfooconfig.yaml").read_text(), summary


def _same_scores(results: list[dict], records: list[dict], where: str) -> None:
    assert len(results) == len(records), where
    for result, record in zip(results, records, strict=True):
        assert result["score"] == pytest.approx(record["reward"], abs=1e-6), \
            f"{where}: row {result['testIdx'] + 1}: promptfoo {result['score']} vs ftstudio {record['reward']}"


@pytest.mark.timeout(900)
def test_preset_datasets_score_as_grade_does(tmp_path, capsys):
    for name in ("rft-exact-match", "rft-classification-structured"):
        results, records, yaml, summary = _export_and_eval(tmp_path, ROOT / "presets" / f"{name}.json", QUIZ, capsys)
        assert "approximate" not in yaml and "approximate" not in summary
        _same_scores(results, records, name)
        assert {r["score"] for r in results} == {0.0, 1.0}
    assert "equals" in (tmp_path / "rft-exact-match" / "promptfooconfig.yaml").read_text()  # native


@pytest.mark.timeout(1200)
def test_external_corpus_datasets_score_as_grade_does(tmp_path, capsys):
    from tests.test_corpus import CONFIGS, DATA

    if not CONFIGS.is_dir():
        pytest.skip(f"the conformance corpus is not at {CONFIGS.parent} (set FTSTUDIO_CONFORMANCE_DIR)")
    for config, data in EXTERNAL:
        results, records, yaml, summary = _export_and_eval(tmp_path, CONFIGS / config, DATA / data, capsys)
        assert "approximate" not in yaml, config
        _same_scores(results, records, config)
    threshold = (tmp_path / "azure-clausematching-multi-grader-pass-threshold" / "promptfooconfig.yaml").read_text()
    assert "threshold: 0.65" in threshold  # pass_threshold -> the test's threshold


def test_an_approximate_mapping_says_so_and_the_exact_part_still_matches(tmp_path, capsys):
    """bleu is computed by promptfoo's own code: the YAML and the summary say approximate; the string check
    beside it is exact, so its component score equals ftstudio's sub-reward."""
    grader = {"type": "multi", "name": "mix", "calculate_output": "0.25 * words + 0.75 * label", "graders": {
        "words": {"type": "text_similarity", "name": "words", "evaluation_metric": "bleu",
                  "input": "{{ sample.output_text }}", "reference": "{{ item.reference }}"},
        "label": {"type": "string_check", "name": "label", "operation": "ilike",
                  "input": "{{ sample.output_text }}", "reference": "{{ item.label }}"}}}
    (tmp_path / "grader.json").write_text(json.dumps(grader))
    results, records, yaml, summary = _export_and_eval(tmp_path, tmp_path / "grader.json", QUIZ, capsys)
    assert "# approximate: words: text_similarity bleu -> promptfoo bleu" in yaml
    assert "approximate: words" in summary
    for result, record in zip(results, records, strict=True):
        assert result["namedScores"]["label"] == pytest.approx(record["sub_rewards"]["label"], abs=1e-6)
