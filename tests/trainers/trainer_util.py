"""What the trainer tests share besides fixtures: the offline environment recipes run in."""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false", "WANDB_DISABLED": "true",
           "WANDB_MODE": "disabled"}


def subprocess_env() -> dict[str, str]:
    """The environment a recipe runs in: offline, this checkout first on the path, one thread per op."""
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, **OFFLINE, "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
