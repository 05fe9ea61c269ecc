"""verifiers 0.4.0's own code on our tasks, in the verifiers venv (it pins openai<3): `task_for(grader, row)`
is a vf.Task whose rewards come from the grader tree (one weighted reward per child when calculate_output is
a weighted sum, else one), and `await task.score(trace)` gives `ftstudio grade`'s reward as `trace.reward`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from envs import HERE, ROOT, last_json, run_in, venv_python

from ftstudio.cli import main as ftstudio

pytestmark = pytest.mark.slow

LINEAR = {"type": "multi", "name": "quiz", "calculate_output": "(3 * exact + words) / 4", "graders": {
    "exact": {"type": "string_check", "name": "exact", "operation": "ilike",
              "input": "{{ sample.output_text }}", "reference": "{{ item.reference_answer }}"},
    "words": {"type": "text_similarity", "name": "words", "evaluation_metric": "bleu",
              "input": "{{ sample.output_text }}", "reference": "{{ item.reference_answer }}"}}}
NOT_LINEAR = {**LINEAR, "calculate_output": "max(exact, words)"}
# (OpenAI-format row, completion); the last has no reference_answer: an error row.
ROWS = [({"messages": [{"role": "user", "content": "2+2?"}], "reference_answer": "four"}, "Four"),
        ({"reference_answer": "the cat sat on the mat"}, "the cat sat on a mat"),
        ({"reference_answer": "paris"}, "london"),
        ({"question": "none"}, "anything")]


def _records(tmp_path, grader) -> list[dict]:
    (tmp_path / "grader.json").write_text(json.dumps(grader))
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({**{k: v for k, v in r.items() if k != "messages"}, "model_sample": c}) + "\n"
                            for r, c in ROWS))
    ftstudio(["grade", str(tmp_path / "grader.json"), str(data), "--out", str(tmp_path / "out.jsonl")])
    return [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]


def _run(tmp_path):
    payload = {"grader": str(tmp_path / "grader.json"), "rows": [{"row": r, "completion": c} for r, c in ROWS]}
    return last_json(run_in("verifiers", [str(HERE / "verifiers_driver.py")], payload=payload, home=tmp_path))


def test_a_weighted_sum_becomes_weighted_rewards(tmp_path):
    records = _records(tmp_path, LINEAR)
    assert records[-1]["errors"] and 0 < records[1]["reward"] < 1
    out = _run(tmp_path)
    for task, node, record in zip(out["tasks"], out["node_route"], records, strict=True):
        assert task["reward"] == pytest.approx(record["reward"], abs=1e-9)
        assert node == pytest.approx(record["reward"], abs=1e-9)
        weights = {k: w for k, (_s, w) in task["rewards"].items()}
        assert weights == {"exact": 0.75, "words": 0.25}
        if not record["errors"]:
            assert {k: s for k, (s, _w) in task["rewards"].items()} == pytest.approx(record["sub_rewards"])
        assert task["metrics"] == {"grader_error": 1.0 if record["errors"] else 0.0}
    assert out["tasks"][0]["item"] == {"reference_answer": "four"}  # messages became the prompt
    assert out["taskset"] == [t["item"] for t in out["tasks"]]


def test_any_other_formula_is_one_reward(tmp_path):
    records = _records(tmp_path, NOT_LINEAR)
    out = _run(tmp_path)
    for task, record in zip(out["tasks"], records, strict=True):
        assert task["rewards"] == {"quiz": [pytest.approx(record["reward"], abs=1e-12), 1.0]}
        assert task["reward"] == pytest.approx(record["reward"], abs=1e-9)


def test_the_adapter_type_checks_against_verifiers_own_package(tmp_path):
    """pyproject excludes reward/verifiers.py from the main pyright run (verifiers can't be installed beside the
    rest): here the project's pyright checks it against the verifiers venv's packages, in standard mode."""
    (tmp_path / "pyrightconfig.json").write_text(json.dumps({"pythonVersion": "3.11", "extraPaths": [str(ROOT)]}))
    pyright = Path(sys.executable).with_name("pyright")
    proc = subprocess.run([str(pyright), "-p", str(tmp_path / "pyrightconfig.json"), "--pythonpath",
                           str(venv_python("verifiers")), str(ROOT / "ftstudio" / "reward" / "verifiers.py")],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0 and "0 errors" in proc.stdout, proc.stdout[-4000:] + proc.stderr[-2000:]
