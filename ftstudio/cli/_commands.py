"""Every `ftstudio` command: its one-line help and the module that builds its arguments and runs it.

The top-level parser lists every command from here without importing its module; only the invoked command's
module is imported and registers its arguments (issue 23, start-up: building all fourteen modules' parsers cost
more than a one-row grade's own work). A module registers its commands with `add_command`, in this order.
"""

from __future__ import annotations

import argparse
from typing import Any

COMMANDS: dict[str, tuple[str, str]] = {  # name -> (module, help)
    "validate": ("_config_cmds", "check job configs or bare graders; exit 0 ok, 1 errors, 2 unreadable"),
    "export": ("_config_cmds", "print the create-job body as JSON, a Python SDK call or curl; or write a folder for a "
               "trainer (--format trl|verl|openrlhf|verifiers|nemo-gym -o DIR), tinker-cookbook environments or a "
               "promptfoo config over a dataset (--format tinker|promptfoo --data DATA -o DIR)"),
    "flatten": ("_config_cmds", "inline nested multi graders so the API accepts the tree"),
    "schema": ("_config_cmds", "print the JSON Schema of the job config (or of a grader)"),
    "grade": ("_grade", "score a dataset with a grader (a job config's or a bare one)"),
    "compare": ("_connected", "grade N rows locally and with the official grader service; show differences"),
    "submit": ("_connected", "upload the files and create the fine-tuning job"),
    "check-data": ("_data", "report what the API would reject in a dataset, with token counts"),
    "convert": ("_convert", "convert OpenAI-format training data to TRL's or Gemini's dataset format"),
    "migrate": ("_migrate", "move a job to azure, bedrock-rft, gemini or trl: DIR gets the export and CHANGES.md; "
                "exit 0 nothing lost, 4 something lost, 1 invalid, 2 unreadable"),
    "models": ("_models", "model facts: `models refresh` reads the provider's models list"),
    "probe": ("_probe", "can this grader be gamed? grade probe variants of each genuine sample"),
    "calibrate": ("_calibrate", "how far to trust a grader: spread, agreement with labels, self-consistency"),
    "compare-graders": ("_calibrate", "do two graders agree on the same data? (spearman >= 0.8)"),
    "sample": ("_sample", "generate K answers per prompt with a chat model (for grading and probes)"),
    "pull": ("_pull", "save every fine-tuning job of the account as a config (and an index)"),
    "serve": ("_serve", "serve a grader over HTTP (graders run/validate, Azure endpoint grader, OpenRLHF remote "
              "reward, batches)"),
    "rules": ("_rules", "list the validation rules: severity per target, evidence and sources"),
    "import-promptfoo": ("_import_promptfoo", "a promptfoo config's assertions with an exact grader equivalent as a "
                         "grader (the others listed); exit 0 written, 1 none, 2 unreadable"),
}


def add_command(sub: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """The parser of command `name` under the subparsers `sub`, with its help from COMMANDS."""
    return sub.add_parser(name, help=COMMANDS[name][1], **kwargs)
