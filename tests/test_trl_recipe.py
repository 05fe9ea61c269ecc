"""`ftstudio export --format trl` and `ftstudio convert --to trl`: files, mapping comments, conversion.

The recipes themselves are trained in tests/trainers/test_recipes.py (slow)."""

from __future__ import annotations

import ast
import io
import json
import zipfile

import pytest

from ftstudio.cli import main as ftstudio
from ftstudio.config import JobConfig
from ftstudio.datasets import TrlRowError, read_trl, to_trl_row
from ftstudio.reward import MAPPING, mapping_table, openrlhf_snippet, recipe_files, recipe_zip, verl_snippet

GRADER = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
          "reference": "{{ item.answer }}", "operation": "eq"}


def _config(method: str, hp: dict | None = None, **extra) -> JobConfig:
    block: dict = {"hyperparameters": hp} if hp else {}
    if method == "reinforcement":
        block["grader"] = GRADER
    return JobConfig.model_validate({"model": "m", "training_file": "file-1",
                                     "method": {"type": method, method: block}, **extra})


def _settings(train_py: str) -> dict[str, str]:
    """keyword -> source of the XConfig(...) call in train.py."""
    tree = ast.parse(train_py)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "").endswith("Config"))
    return {k.arg: ast.unparse(k.value) for k in call.keywords}


def test_auto_maps_to_trl_defaults_with_a_comment():
    text = recipe_files(_config("supervised"))["train.py"]
    s = _settings(text)
    assert s["num_train_epochs"] == "3" and s["per_device_train_batch_size"] == "8" and s["seed"] == "42"
    assert 'n_epochs "auto": TRL\'s default' in text and 'batch_size "auto": TRL\'s default' in text
    assert s["learning_rate"] == "2e-05 * 1.0" and s["report_to"] == "'none'"


def test_numbers_map_explicitly():
    cfg = _config("dpo", {"n_epochs": 2, "batch_size": 24, "learning_rate_multiplier": 3, "beta": 0.3},
                  seed=11, suffix="mine",
                  integrations=[{"type": "wandb", "wandb": {"project": "p", "name": "run-1", "tags": ["a", "b"]}}])
    files = recipe_files(cfg)
    s = _settings(files["train.py"])
    assert s["num_train_epochs"] == "2" and s["beta"] == "0.3" and s["seed"] == "11"
    assert (s["per_device_train_batch_size"], s["gradient_accumulation_steps"]) == ("8", "3")  # 24 = 8 × 3
    assert s["learning_rate"] == "1e-06 * 3.0"
    assert s["report_to"] == "'wandb'" and s["run_name"] == "'run-1'"
    assert "os.environ.setdefault('WANDB_PROJECT', 'p')" in files["train.py"]
    assert "os.environ.setdefault('WANDB_TAGS', 'a,b')" in files["train.py"]
    assert "wandb" in files["requirements.txt"].split()
    assert _settings(recipe_files(_config("supervised", suffix="my-model"))["train.py"])["run_name"] == "'my-model'"


def test_reinforcement_maps_compute_eval_and_says_what_has_no_equivalent():
    hp = {"batch_size": 4, "compute_multiplier": 0.5, "eval_interval": 5, "eval_samples": 3,
          "reasoning_effort": "high"}
    cfg = _config("reinforcement", hp)
    cfg.method.reinforcement.response_format = {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}
    files = recipe_files(cfg)
    s = _settings(files["train.py"])
    assert s["num_generations"] == "4" and s["per_device_train_batch_size"] == "4"
    assert s["gradient_accumulation_steps"] == "4" and s["num_generations_eval"] == "3"
    assert s["eval_steps"] == "5" and s["eval_strategy"] == "'steps' if args.validation_file else 'no'"
    assert "# reasoning_effort = 'high'  # no equivalent in TRL" in files["train.py"]
    assert "# response_format = 'json_schema'  # no equivalent in TRL" in files["train.py"]
    assert json.loads(files["grader.json"]) == GRADER
    assert "Reward.load(os.path.join(HERE, \"grader.json\")).for_trl()" in files["train.py"]
    assert set(files) == {"train.py", "grader.json", "requirements.txt", "README.md"}
    assert {"trl>=1.16", "torch", "datasets"} <= set(files["requirements.txt"].split())
    assert "ftstudio" not in files["requirements.txt"]  # the export adds it, from the wheel it ships


def test_every_mapping_row_says_how():
    assert {m.how for m in MAPPING} == {"maps", "approximately", "no equivalent"}
    table = mapping_table()
    assert all(m.openai in table for m in MAPPING)
    assert table in recipe_files(_config("dpo"))["README.md"]


def test_readme_shows_the_mapping_table():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "## Train anywhere" in readme and mapping_table() in readme


def test_zip_and_snippets():
    files = recipe_files(_config("reinforcement"))
    with zipfile.ZipFile(io.BytesIO(recipe_zip(files))) as zf:
        assert sorted(zf.namelist()) == sorted(f"trl-recipe/{n}" for n in files)
        assert zf.read("trl-recipe/train.py").decode() == files["train.py"]
    assert "custom_reward_function.name=compute_score" in verl_snippet()
    assert "FTSTUDIO_GRADER=$PWD/grader.json" in openrlhf_snippet()


def test_export_trl_writes_the_project(tmp_path, capsys):
    cfg = tmp_path / "job.json"
    cfg.write_text(_config("reinforcement").model_dump_json(exclude_none=True))
    assert ftstudio(["export", str(cfg), "--format", "trl", "-o", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["README.md", "example_rows.jsonl", "grader.json",
                                                                      "requirements.txt", "train.py", "wheels"]
    compile((tmp_path / "out" / "train.py").read_text(), "train.py", "exec")
    # a bare grader gives a reinforcement recipe
    (tmp_path / "g.json").write_text(json.dumps(GRADER))
    assert ftstudio(["export", str(tmp_path / "g.json"), "--format", "trl", "-o", str(tmp_path / "g")]) == 0
    assert "GRPOTrainer" in (tmp_path / "g" / "train.py").read_text()
    assert ftstudio(["export", str(cfg), "--format", "trl"]) == 1
    assert "-o DIR" in capsys.readouterr().err
    # the other formats are unchanged
    assert ftstudio(["export", str(cfg), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"]["reinforcement"]["grader"] == GRADER


def test_to_trl_row_per_method():
    u, a = {"role": "user", "content": "q"}, {"role": "assistant", "content": "r", "weight": 0}
    assert to_trl_row({"messages": [u, a]}, "supervised") == {"messages": [u, {"role": "assistant", "content": "r"}]}
    dpo = {"input": {"messages": [u], "tools": []}, "preferred_output": [{"role": "assistant", "content": "good"}],
           "non_preferred_output": [{"role": "assistant", "content": "bad"}]}
    assert to_trl_row(dpo, "dpo") == {"prompt": [u], "chosen": [{"role": "assistant", "content": "good"}],
                                      "rejected": [{"role": "assistant", "content": "bad"}]}
    assert to_trl_row({"messages": [u], "answer": "4", "meta": {"k": 1}}, "reinforcement") == \
        {"prompt": [u], "answer": "4", "meta": {"k": 1}}
    with pytest.raises(TrlRowError, match="preferred_output"):
        to_trl_row({**dpo, "preferred_output": "good"}, "dpo")
    with pytest.raises(TrlRowError, match="'completions' clashes"):
        to_trl_row({"messages": [u], "completions": 1}, "reinforcement")


def test_convert_cli_reports_bad_rows_with_lines(tmp_path, capsys):
    data = tmp_path / "rft.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}], "answer": "4"}) + "\n"
                    + "{not json\n" + json.dumps({"answer": "no messages"}) + "\n")
    out = tmp_path / "out.jsonl"
    assert ftstudio(["convert", str(data), "--method", "reinforcement", "--to", "trl", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "line 2:" in err and "line 3: messages must be" in err and "wrote 1 TRL rows" in err
    assert [json.loads(x) for x in out.read_text().splitlines()] == [
        {"prompt": [{"role": "user", "content": "q"}], "answer": "4"}]
    with pytest.raises(TrlRowError, match="line 2"):
        read_trl(str(data), "reinforcement")
    assert ftstudio(["convert", str(tmp_path / "missing.jsonl"), "--method", "dpo", "--to", "trl", "-o",
                     str(out)]) == 2
