"""`ftstudio export --format tinker`, run exactly as its README says in a new venv (the tinker venv's packages,
pip off the network, ftstudio from the exported wheel): the smoke run rolls each row's given completion out
through tinker-cookbook's own loop, and every reward equals `ftstudio grade`'s."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from tinker_venv import ROOT, fresh_venv, offline_env

from ftstudio.cli import main as ftstudio

pytestmark = pytest.mark.slow

QUIZ = ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl"


def test_the_exported_folder_runs_as_its_readme_says(tmp_path):
    data = tmp_path / "quiz.jsonl"  # the completions under another name, to follow --sample-field
    data.write_text("".join(json.dumps({("answer_given" if k == "model_sample" else k): v for k, v in r.items()}) + "\n"
                            for r in map(json.loads, QUIZ.read_text().splitlines()[:12])))
    out = tmp_path / "export"
    preset = ROOT / "presets" / "rft-classification-structured.json"
    assert ftstudio(["export", str(preset), "--format", "tinker", "--data", str(data), "--sample-field",
                     "answer_given", "-o", str(out)]) == 0
    command = re.search(r"```bash\n(.+?)\n```", (out / "README.md").read_text(), flags=re.S).group(1)
    assert command == ("pip install --no-deps tinker-cookbook==0.6.1 && pip install -r requirements.txt && "
                       "python train.py --smoke")
    python = fresh_venv(tmp_path / "venv")
    env = offline_env(tmp_path, python)
    proc = subprocess.run(["bash", "-c", command], cwd=out, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    where = subprocess.run([str(python), "-c", "import ftstudio; print(ftstudio.__file__)"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert str(tmp_path / "venv") in where  # the wheel's ftstudio, installed into the new venv

    # training: tinker-cookbook accepts the Config train.py builds (no service contacted), and without the key
    # train.py stops before any call, saying which variable to set
    check = ("import train\n"
             "c = train.config(train.parser().parse_args(['--model', 'Qwen/Qwen3-8B', '--renderer', 'role_colon']))\n"
             "print(type(c.dataset_builder).__name__, c.dataset_builder.response_format['type'], c.renderer_name)")
    built = subprocess.run([str(python), "-c", check], cwd=out, env=env, capture_output=True, text=True, timeout=300)
    assert built.stdout.split() == ["GraderDatasetBuilder", "json_schema", "role_colon"], built.stderr[-3000:]
    keyless = {k: v for k, v in env.items() if k != "TINKER_API_KEY"}
    refused = subprocess.run([str(python), "train.py", "--model", "Qwen/Qwen3-8B"], cwd=out, env=keyless,
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "TINKER_API_KEY is not set" in refused.stderr

    records = tmp_path / "records.jsonl"
    assert ftstudio(["grade", str(out / "grader.json"), str(out / "rows.jsonl"), "--sample-field", "answer_given",
                     "--out", str(records)]) == 0
    expected = [json.loads(line) for line in records.read_text().splitlines()]
    lines = proc.stdout.strip().splitlines()
    got = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(got) == len(expected) == 12 and "12 of 12 rows rolled out" in lines[-1]
    assert len({r["reward"] for r in expected}) > 1
    for row, record in zip(got, expected, strict=True):
        assert row["reward"] == pytest.approx(record["reward"], abs=1e-9)
        assert row["metrics"]["grader_error"] == (1.0 if record["errors"] else 0.0)
        assert row["metrics"]["response_format_valid"] in (0.0, 1.0)  # the job's response_format travelled
