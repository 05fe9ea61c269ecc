"""The exported TRL folder, run exactly as its README says, in a new venv: `pip install -r requirements.txt &&
python train.py --smoke`. ftstudio comes from the wheel the export built (the checkout is not on the path);
the trainer packages are the ones this environment already has, linked into the new venv so pip finds them
satisfied instead of downloading torch again, and PIP_NO_INDEX=1 keeps pip off the network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import require_trainers
from trainer_util import OFFLINE

from ftstudio.cli import main as ftstudio

pytestmark = pytest.mark.slow

GRADER = {"type": "string_check", "name": "exact", "operation": "ilike",
          "input": "{{ sample.output_text }}", "reference": "{{ item.reference_answer }}"}
SFT = {"model": "gpt-4.1-mini-2025-04-14", "training_file": "file-1", "method": {"type": "supervised"}}


def _venv_with_this_environments_packages(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    theirs = Path(sysconfig.get_paths(vars={"base": str(path), "platbase": str(path)})["purelib"])
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        name = entry.name.lower()
        if "ftstudio" in name or (theirs / entry.name).exists() or name.endswith(".pth"):
            continue  # not ftstudio (it must come from the wheel), not pip / setuptools (the venv's own)
        (theirs / entry.name).symlink_to(entry)
    return path / "bin" / "python"


@pytest.mark.parametrize("doc", [GRADER, SFT], ids=["grpo", "sft"])
def test_the_exported_trl_folder_runs_as_its_readme_says(tmp_path, doc):
    require_trainers()
    (tmp_path / "job.json").write_text(json.dumps(doc))
    out = tmp_path / "export"
    assert ftstudio(["export", str(tmp_path / "job.json"), "--format", "trl", "-o", str(out)]) == 0
    readme = (out / "README.md").read_text()
    command = re.search(r"```bash\n(.+?)\n```", readme, flags=re.S).group(1)
    assert command == "pip install -r requirements.txt && python train.py --smoke"
    python = _venv_with_this_environments_packages(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(OFFLINE, PIP_NO_INDEX="1", OMP_NUM_THREADS="1", HOME=str(tmp_path),
               FTSTUDIO_HOME=str(tmp_path / ".ftstudio"), FTSTUDIO_CACHE_DIR=str(tmp_path / "cache"),
               PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}")
    proc = subprocess.run(["bash", "-c", command], cwd=out, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    where = subprocess.run([str(python), "-c", "import ftstudio; print(ftstudio.__file__)"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert str(tmp_path / "venv") in where  # the wheel's ftstudio, installed into the new venv
    state = json.loads((out / "smoke-out" / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    if doc is GRADER:
        assert any("rewards/exact/mean" in h for h in state["log_history"])
