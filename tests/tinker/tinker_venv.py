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

from tests.external_tools import missing

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BUILD = "bash .ci/tinker-venv"


def venv_python() -> Path:
    venv = Path(os.environ.get("FTSTUDIO_TINKER_VENV") or ROOT / ".venvs" / "tinker")
    python = venv / "bin" / "python"
    if not python.exists():
        message = (f"the tinker-cookbook venv is missing ({python}): build it with `{BUILD}` "
                   "(or set FTSTUDIO_TINKER_VENV to a venv holding tinker-cookbook 0.6.1)")
        missing(message, "FTSTUDIO_REQUIRE_TINKER")
    return python


def run_driver(script: str, payload: object, home: Path, timeout: float = 600) -> object:
    """Run tests/tinker/SCRIPT in the venv with `payload` as JSON on stdin, in a temporary home; the JSON it
    prints on its last stdout line."""
    env = {**os.environ, "HOME": str(home), "FTSTUDIO_HOME": str(home / ".ftstudio"),
           "FTSTUDIO_CACHE_DIR": str(home / "cache"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run([str(venv_python()), str(HERE / script)], input=json.dumps(payload), capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=home)
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stderr[-6000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fresh_venv(path: Path) -> Path:
    """A new venv holding the tinker venv's packages (linked, so pip finds them satisfied instead of
    downloading torch again) but not ftstudio, which must come from an export's wheel. Its python."""
    python = venv_python()
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([str(python), "-m", "venv", str(path)], check=True)
    theirs = Path(subprocess.run([str(path / "bin" / "python"), "-c",
                                  "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    # the venv's own packages, then those of the folders its .pth files add (.ci/tinker-venv layers it over
    # the project's venv that way); the first of a name wins, as on sys.path
    folders = [Path(purelib)] + [Path(line.strip()) for pth in sorted(Path(purelib).glob("*.pth"))
                                 for line in pth.read_text().splitlines() if Path(line.strip()).is_dir()]
    for folder in folders:
        for entry in folder.iterdir():
            name = entry.name.lower()
            if "ftstudio" in name or name.endswith(".pth") or (theirs / entry.name).exists():
                continue  # not ftstudio (it must come from the wheel), not pip / setuptools (the venv's own)
            (theirs / entry.name).symlink_to(entry)
    return path / "bin" / "python"


def offline_env(home: Path, python: Path) -> dict[str, str]:
    """The environment a README command runs in: the venv first on PATH, pip kept off the network, this
    checkout off the path, a temporary home."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PIP_NO_INDEX="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1",
               HOME=str(home), FTSTUDIO_HOME=str(home / ".ftstudio"), FTSTUDIO_CACHE_DIR=str(home / "cache"),
               PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}")
    return env
