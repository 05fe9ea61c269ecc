"""`ftstudio export CONFIG --format trl|verl|openrlhf -o DIR`: each folder has what its trainer needs, installs
ftstudio from a wheel built at export time (never an unpublished name from an index) and has an offline smoke
run its README gives. tests/trainer_envs runs the smoke runs in the trainers' venvs; tests/trainers installs
the TRL folder in a new venv."""

from __future__ import annotations

import io
import json
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from ftstudio.cli import main as ftstudio
from ftstudio.reward import FORMATS, export_files, export_zip
from ftstudio.validation import from_json

GRADER = {"type": "python", "name": "brevity", "source":
          "def grade(sample, item):\n    return float(sample['output_text'].strip() == item['answer'])\n"}
RFT = {"model": "o4-mini-2025-04-16", "training_file": "file-1",
       "method": {"type": "reinforcement", "reinforcement": {"grader": GRADER}}}
SFT = {"model": "gpt-4.1-mini-2025-04-14", "training_file": "file-1", "method": {"type": "supervised"}}
FILES = {
    "trl": ["README.md", "example_rows.jsonl", "grader.json", "requirements.txt", "train.py", "wheels"],
    "verl": ["README.md", "example_rows.jsonl", "grader.json", "overrides.txt", "prepare_data.py", "requirements.txt",
             "run.sh", "smoke.py", "wheels"],
    "openrlhf": ["README.md", "example_rows.jsonl", "grader.json", "prepare_data.py", "requirements.txt",
                 "reward_func.py", "run.sh", "smoke.py", "wheels"],
    "verifiers": ["README.md", "example_rows.jsonl", "grader.json", "requirements.txt", "smoke.py", "taskset.py",
                  "wheels"],
    "nemo-gym": ["README.md", "data", "example_rows.jsonl", "grader.json", "requirements.txt", "resources_servers",
                 "smoke.py", "wheels"],
}


def _export(tmp_path: Path, doc: dict, fmt: str) -> Path:
    src = tmp_path / f"{fmt}.json"
    src.write_text(json.dumps(doc))
    out = tmp_path / fmt
    assert ftstudio(["export", str(src), "--format", fmt, "-o", str(out)]) == 0
    return out


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_each_format_writes_its_folder_with_a_wheel(tmp_path, fmt, capsys):
    out = _export(tmp_path, RFT, fmt)
    assert sorted(p.name for p in out.iterdir()) == FILES[fmt]
    version = metadata.version("ftstudio")
    wheel = out / "wheels" / f"ftstudio-{version}-py3-none-any.whl"
    reqs = (out / "requirements.txt").read_text().splitlines()
    # the wheel beside the file, pinned: pip resolves --find-links relative to the requirements file
    pinned = f"ftstudio[serve]=={version}" if fmt == "nemo-gym" else f"ftstudio=={version}"
    assert reqs[0] == "--find-links wheels" and pinned in reqs and "ftstudio" not in reqs
    assert FORMATS[fmt].requirement in reqs or fmt == "nemo-gym"  # NeMo-Gym itself runs elsewhere (Python 3.13)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "ftstudio/reward/verl.py" in names and f"ftstudio-{version}.dist-info/RECORD" in names
        assert "ftstudio" in zf.read(f"ftstudio-{version}.dist-info/entry_points.txt").decode()
    readme = (out / "README.md").read_text()
    assert FORMATS[fmt].smoke in readme and f"{FORMATS[fmt].version}" in readme
    assert FORMATS[fmt].smoke in capsys.readouterr().err
    assert json.loads((out / "grader.json").read_text()) == GRADER
    # the example rows carry the item field the python grader reads
    rows = [json.loads(line) for line in (out / "example_rows.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all("answer" in r and "model_sample" in r for r in rows)
    for path in out.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_verl_overrides_name_the_exported_grader_absolutely(tmp_path):
    out = _export(tmp_path, GRADER, "verl")
    assert (out / "overrides.txt").read_text().splitlines() == [
        "reward.custom_reward_function.path=pkg://ftstudio.reward.verl",
        "reward.custom_reward_function.name=compute_score",
        f"+reward.custom_reward_function.reward_kwargs.grader={(out / 'grader.json').resolve()}",
        "reward.reward_manager.name=naive"]
    run = (out / "run.sh").read_text()
    assert "python3 -m verl.trainer.main_ppo $OVERRIDES" in run and "prepare_data.py" in run
    assert (out / "run.sh").stat().st_mode & 0o111


def test_model_graders_get_the_async_compute_score(tmp_path):
    judge = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14",
             "input": [{"role": "user", "content": "Grade {{ sample.output_text }}"}]}
    out = _export(tmp_path, judge, "verl")
    assert "reward.custom_reward_function.name=compute_score_async" in (out / "overrides.txt").read_text()


def test_openrlhf_reward_func_finds_the_grader_beside_itself(tmp_path, monkeypatch):
    import importlib.util

    out = _export(tmp_path, RFT, "openrlhf")
    monkeypatch.delenv("FTSTUDIO_GRADER", raising=False)
    moved = out.rename(tmp_path / "moved")  # loaded by path from wherever the folder is
    spec = importlib.util.spec_from_file_location("reward_func", moved / "reward_func.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.reward_func(["Q: A: four"], ["Q: A: "], ['{"answer": "four"}'])
    assert list(result["rewards"]) == [1.0] and list(result["extra_logs"]["grader_error"]) == [0.0]


def test_nemo_gym_folder_has_the_resources_server_and_dataset_rows(tmp_path):
    out = _export(tmp_path, RFT, "nemo-gym")
    server = out / "resources_servers" / "ftstudio_grader"
    assert (server / "app.py").exists() and (server / "data" / "example.jsonl").exists()
    config = (server / "configs" / "ftstudio_grader.yaml").read_text()
    assert "entrypoint: app.py" in config and "ftstudio_url: http://127.0.0.1:8000" in config
    rows = [json.loads(line) for line in (out / "data" / "example.jsonl").read_text().splitlines()]
    # NeMo-Gym's row shape: the prompt as responses_create_params.input, item fields at the top level
    assert rows[0]["responses_create_params"]["input"][0]["role"] == "user" and rows[0]["answer"] == "four"


@pytest.mark.parametrize("fmt", ["verl", "openrlhf", "verifiers", "nemo-gym"])
def test_formats_that_need_a_grader_refuse_an_sft_job(tmp_path, fmt, capsys):
    src = tmp_path / "sft.json"
    src.write_text(json.dumps(SFT))
    assert ftstudio(["export", str(src), "--format", fmt, "-o", str(tmp_path / "out")]) == 1
    assert "needs a reinforcement job with a grader" in capsys.readouterr().err


def test_the_zip_holds_the_folder_and_the_wheel():
    config = from_json(RFT)
    data = export_zip(config, "verl", "quiz-verl")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        files = export_files(config, "verl", "/path/to/quiz-verl/grader.json")
        assert {f"quiz-verl/{n}" for n in files} <= names
        assert any(n.startswith("quiz-verl/wheels/ftstudio-") and n.endswith(".whl") for n in names)
        assert zf.getinfo("quiz-verl/run.sh").external_attr >> 16 == 0o755
