"""`ftstudio export --format openrlhf`: reward_func.py (which finds grader.json beside itself), run.sh, smoke.py."""

from __future__ import annotations

OPENRLHF_VERSION = "0.11.2"

REWARD_FUNC_PY = '''\
"""OpenRLHF reward function for the grader in grader.json beside this file (written by `ftstudio export
--format openrlhf`; tested with OpenRLHF {version}). OpenRLHF loads it by path:

    python3 -m openrlhf.cli.train_ppo_ray --reward.remote_url $PWD/reward_func.py --data.label_key label ...

and calls reward_func(queries, prompts, labels) once per sample. It returns {{"rewards", "scores",
"extra_logs"}}: the same rewards as `ftstudio grade`, each sub-reward and grader_error in extra_logs.
"""

from pathlib import Path

from ftstudio.reward.openrlhf import reward_func_for

reward_func = reward_func_for(Path(__file__).resolve().with_name("grader.json"))
'''


def reward_func_py() -> str:
    return REWARD_FUNC_PY.format(version=OPENRLHF_VERSION)
