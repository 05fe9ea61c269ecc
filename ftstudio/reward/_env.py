"""The Reward named by $FTSTUDIO_GRADER, loaded once per process (trainers import the adapter module in
each worker and call it per sample, so loading per call would restart python-grader workers each time)."""

from __future__ import annotations

import os
import threading

from ._reward import Reward

ENV_VAR = "FTSTUDIO_GRADER"
_cache: dict[tuple[str, float], Reward] = {}
_lock = threading.Lock()


def reward_from_env() -> Reward:
    path = os.environ.get(ENV_VAR)
    if not path:
        raise RuntimeError(f"${ENV_VAR} is not set: export {ENV_VAR}=/path/to/grader.json (a grader, job config "
                           "or preset JSON file) in the environment the trainer's workers start with")
    try:
        stamp = os.stat(path).st_mtime
    except OSError as exc:
        raise FileNotFoundError(f"${ENV_VAR}={path}: cannot read it: {exc.strerror or exc}") from None
    key = (os.path.abspath(path), stamp)
    with _lock:
        reward = _cache.get(key)
        if reward is None:
            for old in _cache.values():  # the file changed: its old workers are of no use
                old.close()
            _cache.clear()
            reward = _cache[key] = Reward.load(path)
        return reward
