"""The trainers' own environments: one venv per trainer (their pins clash with each other and with the
app's), built by `.ci/trainer-venvs` (see README, Development). Tests run the trainer's own code there in a
subprocess, with this checkout first on the path.

Where: $FTSTUDIO_TRAINER_VENVS/<name> (default `.venvs/<name>` in the checkout). A missing venv skips the
test, saying how to build it, unless FTSTUDIO_REQUIRE_TRAINERS=1 (set by .ci/run): then it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "WANDB_MODE": "disabled",
           "TOKENIZERS_PARALLELISM": "false", "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1"}


def venvs_dir() -> Path:
    return Path(os.environ.get("FTSTUDIO_TRAINER_VENVS") or ROOT / ".venvs")


def venv_python(name: str) -> Path:
    """The venv's python, or a skip (a failure under FTSTUDIO_REQUIRE_TRAINERS=1) saying how to build it."""
    python = venvs_dir() / name / "bin" / "python"
    if not python.exists():
        message = (f"the {name} trainer venv is missing ({python}): build it with `bash .ci/trainer-venvs {name}` "
                   "(or set FTSTUDIO_TRAINER_VENVS to the folder holding it)")
        if os.environ.get("FTSTUDIO_REQUIRE_TRAINERS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return python


def run_in(name: str, args: list[str], *, home: Path, payload: object = None, cwd: Path | None = None,
           env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `python ARGS` in the trainer's venv, in a temporary home; `payload` goes to its stdin as JSON.
    Fails with its stderr."""
    python = venv_python(name)
    full_env = {**os.environ, **OFFLINE, "HOME": str(home), "FTSTUDIO_HOME": str(home / ".ftstudio"),
                "FTSTUDIO_CACHE_DIR": str(home / "cache"), **(env or {})}
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run([str(python), *args], input=None if payload is None else json.dumps(payload),
                          capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout)
    assert proc.returncode == 0, f"{name}: {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-6000:]}"
    return proc


def last_json(proc: subprocess.CompletedProcess) -> object:
    """The JSON document a driver prints on its last stdout line (trainers print their own logs before it)."""
    return json.loads(proc.stdout.strip().splitlines()[-1])
