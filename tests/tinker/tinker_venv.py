"""tinker-cookbook's own venv (it cannot share the app's: tml-renderers needs Python 3.12, so it is installed
with --no-deps), built by .ci/run. Tests run the package's own classes there in a subprocess, this checkout
first on the path.

Where: $FTSTUDIO_TINKER_VENV (default `.venvs/tinker` in the checkout). A missing venv skips the test, saying
how to build it, unless FTSTUDIO_REQUIRE_TINKER=1 (set by .ci/run): then it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BUILD = "bash .ci/tinker-venv"


def venv_python() -> Path:
    venv = Path(os.environ.get("FTSTUDIO_TINKER_VENV") or ROOT / ".venvs" / "tinker")
    python = venv / "bin" / "python"
    if not python.exists():
        message = (f"the tinker-cookbook venv is missing ({python}): build it with `{BUILD}` "
                   "(or set FTSTUDIO_TINKER_VENV to a venv holding tinker-cookbook 0.6.1)")
        if os.environ.get("FTSTUDIO_REQUIRE_TINKER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return python


def run_driver(script: str, payload: object, home: Path, timeout: float = 600) -> object:
    """Run tests/tinker/SCRIPT in the venv with `payload` as JSON on stdin, in a temporary home; the JSON it
    prints on its last stdout line."""
    env = {**os.environ, "HOME": str(home), "FTSTUDIO_HOME": str(home / ".ftstudio"),
           "FTSTUDIO_CACHE_DIR": str(home / "cache"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": f"{ROOT}{os.pathsep}{HERE}", "OMP_NUM_THREADS": "1"}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run([str(venv_python()), str(HERE / script)], input=json.dumps(payload), capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=home)
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stderr[-6000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])
