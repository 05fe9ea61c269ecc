"""`ftstudio migrate CONFIG --to T -o DIR`: the export plus CHANGES.md, the list on stdout, exit 0/4/1/2."""

from __future__ import annotations

import json

import pytest

from ftstudio.cli import main
from ftstudio.migrate import plan_move
from tests.providers import PRESETS, need

PRESET = str(PRESETS[0].parent / "rft-safety-label.json")
BEDROCK = ["--role-arn", "arn:aws:iam::123456789012:role/r", "--lambda-arn",
           "arn:aws:lambda:us-east-1:123456789012:function:reward", "--training-s3", "s3://b/train.jsonl",
           "--output-s3", "s3://b/out/", "--base-model", "amazon.nova-2-lite-v1:0:256k"]


def _run(capsys, *argv):
    capsys.readouterr()
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("target,files,code", [
    ("azure", ["job.json"], 0),
    ("gemini", ["gemini_reward_config.json"], 4),  # suffix has no place on Gemini: lost
    ("trl", ["train.py", "grader.json", "requirements.txt", "README.md"], 0),
    ("bedrock-rft", ["create_model_customization_job.json", "lambda/lambda_function.py", "lambda/grader.json"], 0),
])
def test_migrate_writes_export_and_changes(target, files, code, tmp_path, capsys):
    out = tmp_path / target
    rc, stdout, _ = _run(capsys, "migrate", PRESET, "--to", target, "-o", out, *(BEDROCK if target == "bedrock-rft"
                                                                                 else []))
    assert rc == code
    for name in files:
        assert (out / name).is_file(), name
    changes = (out / "CHANGES.md").read_text()
    assert changes.startswith(f"# Moving this job to {target}")
    lines = stdout.splitlines()
    assert lines and all(line.split(" ")[0] in ("LOST", "CHANGED", "MODELS") for line in lines)
    data = json.loads(PRESETS[0].parent.joinpath("rft-safety-label.json").read_text())["config"]
    flags = {"role_arn": BEDROCK[1], "lambda_arn": BEDROCK[3], "training_s3": BEDROCK[5], "output_s3": BEDROCK[7],
             "model": BEDROCK[9]} if target == "bedrock-rft" else {}
    move = plan_move(data, target, **flags)
    assert lines == move.lines() and (code == 4) == move.lost
    for c in move.changes:
        assert f"`{c.rule}`" in changes


def test_migrate_exports_equal_export_format(tmp_path, capsys):
    need("google.genai.types")
    _run(capsys, "export", PRESET, "--format", "gemini", "-o", tmp_path / "g.json")
    _run(capsys, "migrate", PRESET, "--to", "gemini", "-o", tmp_path / "m")
    assert (tmp_path / "g.json").read_text() == (tmp_path / "m" / "gemini_reward_config.json").read_text()


def test_migrate_exit_codes(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "string_check", "input": "{{sample.output_text}}", "reference": "x", "operation": "eqq"}')
    assert _run(capsys, "migrate", bad, "--to", "gemini", "-o", tmp_path / "x")[0] == 1
    assert _run(capsys, "migrate", tmp_path / "missing.json", "--to", "gemini", "-o", tmp_path / "y")[0] == 2
    rc, _, err = _run(capsys, "migrate", PRESET, "--to", "bedrock-rft", "-o", tmp_path / "z")
    assert rc == 1 and "--role-arn" in err
    grader = tmp_path / "g.json"
    grader.write_text(json.dumps({"type": "string_check", "name": "s", "input": "{{sample.output_text}}",
                                  "reference": "{{item.a}}", "operation": "eq"}))
    assert _run(capsys, "migrate", grader, "--to", "gemini", "-o", tmp_path / "ok")[0] == 0
