"""The README's compatibility table is generated from TESTED, the list these tests run (trainer, the release
installed in its venv, the code path exercised, the test): a test checks README == generated, another that each
venv holds that release, and that exports name the same versions."""

from __future__ import annotations

import pytest
from envs import ROOT, last_json, run_in

from ftstudio.reward import FORMATS

# (trainer, PyPI distribution, version, code path tested, test)
TESTED = [
    ("TRL", "trl", "1.16.0", "GRPOTrainer / SFTTrainer / DPOTrainer train 2 steps with `Reward.for_trl()`; the "
     "exported folder installs and runs `train.py --smoke` in a new venv", "tests/trainers/"),
    ("verl", "verl", "0.9.1", "Hydra `ppo_trainer` config + our overrides → `get_custom_reward_fn(config)` → "
     "registered `naive` manager `run_single` (sync and async `compute_score`); exported `smoke.py`",
     "tests/trainer_envs/test_verl.py"),
    ("OpenRLHF", "openrlhf", "0.11.2", "`SingleTurnAgentExecutor` loading the exported `reward_func.py`; its "
     "remote-URL client against `ftstudio serve` `/openrlhf`", "tests/trainer_envs/test_openrlhf.py"),
    ("verifiers", "verifiers", "0.4.0", "`task_for(grader, row)` → `vf.Task.score(trace)` (weighted rewards per "
     "child of a linear formula, else one); `taskset(grader, rows)`; exported `smoke.py`",
     "tests/trainer_envs/test_verifiers.py"),
    ("NeMo-Gym", "nemo-gym", "0.7.0", "`ftstudio serve` `POST /verify` against the request/response shapes "
     "recorded from NeMo-Gym's models (the package needs Python >= 3.13.14, so its own code is not run); "
     "exported `smoke.py`", "tests/test_serve_nemo_gym.py"),
]
VENVS = {"verl": "verl", "openrlhf": "openrlhf", "verifiers": "verifiers"}


def table() -> str:
    rows = ["| trainer | version | code path tested | test |", "|---|---|---|---|"]
    rows += [f"| {t} | {v} | {path} | `{test}` |" for t, _dist, v, path, test in TESTED]
    return "\n".join(rows)


def test_readme_table_is_generated_from_the_tested_list():
    readme = (ROOT / "README.md").read_text()
    assert table() in readme, "README.md's compatibility table is stale; paste:\n" + table()


def test_exports_name_the_tested_versions():
    tested = {dist: v for _t, dist, v, _p, _test in TESTED}
    for fmt, spec in FORMATS.items():
        assert spec.version == tested[fmt], fmt


@pytest.mark.slow
@pytest.mark.parametrize("dist", sorted(VENVS))
def test_each_venv_holds_the_tested_release(tmp_path, dist):
    version = next(v for _t, d, v, _p, _test in TESTED if d == dist)
    out = last_json(run_in(VENVS[dist], ["-c", f"import json, importlib.metadata as m; "
                                         f"print(json.dumps(m.version({dist!r})))"], home=tmp_path))
    assert out == version


def test_trl_is_the_tested_release():
    pytest.importorskip("trl")
    import trl

    assert trl.__version__ == next(v for _t, d, v, _p, _test in TESTED if d == "trl")
