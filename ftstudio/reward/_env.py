"""The Reward for a grader file, loaded once per process and path (trainers import the adapter module in
each worker and call it per sample, so loading per call would restart python-grader workers each time).

The file comes from the adapter's `grader=` keyword (verl's reward_kwargs, OpenRLHF's file beside the
reward module) or, failing that, from $FTSTUDIO_GRADER.
"""

from __future__ import annotations

import os
import threading

from ._reward import Reward

ENV_VAR = "FTSTUDIO_GRADER"
_cache: dict[tuple[str, float], Reward] = {}
_lock = threading.Lock()


def reward_at(path: str | os.PathLike[str], where: str = "grader") -> Reward:
    """The Reward of the grader file at `path`, reloaded when the file changes."""
    try:
        stamp = os.stat(path).st_mtime
    except OSError as exc:
        raise FileNotFoundError(f"{where}={path}: cannot read it: {exc.strerror or exc}") from None
    key = (os.path.abspath(path), stamp)
    with _lock:
        reward = _cache.get(key)
        if reward is None:
            for old in [r for k, r in _cache.items() if k[0] == key[0]]:  # the file changed: its workers are of no use
                old.close()
            for k in [k for k in _cache if k[0] == key[0]]:
                del _cache[k]
            reward = _cache[key] = Reward.load(path)
        return reward


def reward_from_env() -> Reward:
    path = os.environ.get(ENV_VAR)
    if not path:
        raise RuntimeError(f"${ENV_VAR} is not set: export {ENV_VAR}=/path/to/grader.json (a grader, job config "
                           "or preset JSON file) in the environment the trainer's workers start with, or pass "
                           "the path as the adapter's grader= keyword")
    return reward_at(path, f"${ENV_VAR}")
