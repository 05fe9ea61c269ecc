"""Grader trees as reward functions for open-source trainers, and TRL training recipes.

- `Reward.load(grader)`: `score` / `score_detailed` give exactly `ftstudio grade`'s rewards and records;
  `for_trl()` is a GRPOTrainer reward function; `trl_components()` splits a weighted-sum multi grader
  into (funcs, reward_weights).
- `ftstudio.reward.verl.compute_score` and `ftstudio.reward.openrlhf.reward_func`: the verl and
  OpenRLHF contracts, with the grader from $FTSTUDIO_GRADER. These two are public modules (not
  imported here, so importing ftstudio.reward never needs torch).
- `recipe_files(config)` / `write_recipe(config, dir)`: the TRL project's own files; `export_files` /
  `write_export` / `export_zip`: `ftstudio export --format trl|verl|openrlhf` folders (FORMATS), wheel included.
- `ftstudio.reward.envs`: tinker-cookbook environments (`group_builders`, `GraderDatasetBuilder`), a public
  module too (it imports tinker-cookbook). `score_group` / `advantages_of`: GRPO's group-normalised
  advantages for loops that pass advantages in (Azure Fine-Tuning Sessions).
- `tinker_files` / `write_tinker` / `tinker_zip`: `ftstudio export --format tinker` (`tinker_readme`: its README alone); `promptfoo_files` /
  `write_promptfoo` / `promptfoo_zip`: `--format promptfoo` (both ship ftstudio's wheel in `wheels/` too);
  `grader_from_promptfoo`: `ftstudio import-promptfoo`.
"""

from __future__ import annotations

from ftstudio.grading import InvalidGrader

from ._advantages import GroupAdvantages, advantages_of, score_group
from ._bundle import EXAMPLES, FORMATS, TrainerFormat, export_files, export_zip, write_export
from ._env import ENV_VAR, reward_at, reward_from_env
from ._mapping import MAPPING, Mapping, mapping_table
from ._promptfoo import COMMAND as PROMPTFOO_COMMAND
from ._promptfoo import PROMPTFOO_VERSION, promptfoo_files, promptfoo_zip, write_promptfoo
from ._promptfoo_import import Skipped, grader_from_promptfoo
from ._recipe import GRADER_FILE, openrlhf_snippet, recipe_files, recipe_zip, train_py, verl_snippet, write_recipe
from ._reward import Reward
from ._tinker_export import COMMAND as TINKER_COMMAND
from ._tinker_export import (
    COOKBOOK_REQUIREMENTS,
    TINKER_COOKBOOK_VERSION,
    TINKER_VERSION,
    tinker_files,
    tinker_readme,
    tinker_zip,
    write_tinker,
)
from ._trl import weights_of
from ._verl_recipe import VERL_VERSION, verl_overrides
from ._wheel import WheelError, build_wheel

__all__ = [
    "EXAMPLES", "FORMATS", "TrainerFormat", "WheelError", "build_wheel", "export_files", "export_zip", "write_export",
    "ENV_VAR", "GRADER_FILE", "MAPPING", "InvalidGrader", "Mapping", "Reward", "mapping_table", "openrlhf_snippet",
    "reward_at", "reward_from_env", "GroupAdvantages", "advantages_of", "score_group",
    "COOKBOOK_REQUIREMENTS", "TINKER_COMMAND", "TINKER_COOKBOOK_VERSION", "TINKER_VERSION", "tinker_files", "tinker_readme", "tinker_zip",
    "write_tinker", "PROMPTFOO_COMMAND", "PROMPTFOO_VERSION", "promptfoo_files", "promptfoo_zip", "write_promptfoo",
    "Skipped", "grader_from_promptfoo",
    "recipe_files", "recipe_zip", "train_py", "VERL_VERSION", "verl_overrides", "verl_snippet", "weights_of", "write_recipe",
]
