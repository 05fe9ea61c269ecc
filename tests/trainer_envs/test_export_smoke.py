"""The exported folders' offline smoke runs, as their READMEs give them (`python3 smoke.py`), in the trainers'
venvs: verl's own config + loader + naive manager, OpenRLHF's own .py loader, verifiers' own Task.score. Each printed reward equals
`ftstudio grade grader.json example_rows.jsonl`."""

from __future__ import annotations

import json

import pytest
from envs import run_in

from ftstudio.cli import main as ftstudio

pytestmark = pytest.mark.slow

GRADER = {"type": "multi", "name": "quiz", "calculate_output": "0.6 * exact + 0.4 * words", "graders": {
    "exact": {"type": "string_check", "name": "exact", "operation": "ilike",
              "input": "{{ sample.output_text }}", "reference": "{{ item.reference_answer }}"},
    "words": {"type": "python", "name": "words",
              "source": "def grade(sample, item):\n    return len(set(sample['output_text']) & set(item['reference_answer'])) / 10\n"}}}


@pytest.mark.parametrize("fmt", ["verl", "openrlhf", "verifiers"])
def test_smoke_run_scores_the_example_rows_as_grade_does(tmp_path, fmt):
    (tmp_path / "grader.json").write_text(json.dumps(GRADER))
    out = tmp_path / fmt
    assert ftstudio(["export", str(tmp_path / "grader.json"), "--format", fmt, "-o", str(out)]) == 0
    records = tmp_path / "records.jsonl"
    ftstudio(["grade", str(out / "grader.json"), str(out / "example_rows.jsonl"), "--out", str(records)])
    expected = [json.loads(line) for line in records.read_text().splitlines()]
    assert len({r["reward"] for r in expected}) > 1  # a spread, not one value
    proc = run_in(fmt, ["smoke.py"], cwd=out, home=tmp_path, env={"FTSTUDIO_GRADER": ""})
    lines = proc.stdout.strip().splitlines()
    got = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(got) == len(expected) and "scored 4 rows" in lines[-1]
    for row, record in zip(got, expected, strict=True):
        if record["errors"]:
            assert row["reward"] == 0.0
            continue
        assert row["reward"] == pytest.approx(record["reward"], abs=1e-6)  # float32 tensors from OpenRLHF
        for key, value in record["sub_rewards"].items():
            assert row[key] == pytest.approx(value, abs=1e-6)
