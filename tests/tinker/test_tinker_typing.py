"""ftstudio/reward/envs.py subclasses tinker-cookbook's classes, so pyproject's pyright run (whose venv can't
hold tinker-cookbook) excludes it; here pyright checks it in strict mode in the tinker venv, where the
cookbook's own types resolve (.ci/pyright-tinker.json). Without the cookbook its imports are errors."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from tinker_venv import ROOT, venv_python

pytestmark = pytest.mark.slow


def test_envs_is_strict_clean_against_tinker_cookbook(tmp_path):
    python = venv_python()
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)  # ftstudio from this checkout through the config's extraPaths, nothing else
    proc = subprocess.run([str(python), "-m", "pyright", "-p", str(ROOT / ".ci" / "pyright-tinker.json"),
                           "--pythonpath", str(python), "--outputjson"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    report = json.loads(proc.stdout)
    assert report["summary"]["filesAnalyzed"] == 1
    problems = [f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
                for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert not problems and proc.returncode == 0, "\n".join(problems) or proc.stderr
