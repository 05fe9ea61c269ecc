"""The exported TRL recipes train for 2 steps on CPU with a tiny local model (SFT, DPO, GRPO).

GRPO: the recipe's reward (our Reward.for_trl) is called on every generation batch, and TRL's logged
`rewards/<grader name>/mean` equals the mean of Reward.score on the completions TRL generated.
Each recipe runs as a subprocess, exactly as a user runs train.py.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from trainer_util import subprocess_env

from ftstudio.cli import main as ftstudio

pytestmark = pytest.mark.slow

GRADER = {
    "type": "multi", "name": "quiz",
    "graders": {
        "exact": {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                  "reference": "{{ item.reference_answer }}", "operation": "ilike"},
        "close": {"type": "text_similarity", "name": "close", "input": "{{ sample.output_text }}",
                  "reference": "{{ item.reference_answer }}", "evaluation_metric": "fuzzy_match"},
        "short": {"type": "python", "name": "short",
                  "source": "def grade(sample, item):\n    return 1.0 / (1 + len(sample['output_text'].split()))\n"},
    },
    "calculate_output": "0.5 * exact + 0.3 * close + 0.2 * short",
}


def _u(text):
    return {"role": "user", "content": text}


def _a(text):
    return {"role": "assistant", "content": text}


SFT_ROWS = [
    {"messages": [_u("what is two plus two ?"), _a("two plus two is four .")]},
    {"messages": [{"role": "system", "content": "you are a helpful assistant ."}, _u("say hello"), _a("hello")]},
    {"messages": [_u("what is the capital of france ?"), _a("the capital of france is paris .")]},
    {"messages": [_u("is that right ?"), _a("yes , that is right .", ), ]},
]
DPO_ROWS = [
    {"input": {"messages": [_u("what is two plus two ?")]}, "preferred_output": [_a("the answer is four .")],
     "non_preferred_output": [_a("the answer is five .")]},
    {"input": {"messages": [_u("is that right ?")]}, "preferred_output": [_a("yes , that is right .")],
     "non_preferred_output": [_a("no , that is wrong .")]},
    {"input": {"messages": [_u("what is the capital of france ?")]}, "preferred_output": [_a("paris .")],
     "non_preferred_output": [_a("four .")]},
    {"input": {"messages": [_u("say hello")]}, "preferred_output": [_a("hello , how can i help you today ?")],
     "non_preferred_output": [_a("no .")]},
]
RFT_ROWS = [
    {"messages": [_u("what is two plus two ?")], "reference_answer": "four"},
    {"messages": [_u("what is the capital of france ?")], "reference_answer": "paris"},
    {"messages": [{"role": "system", "content": "you are a helpful assistant ."}, _u("say hello")],
     "reference_answer": "hello"},
    {"messages": [_u("is that right ?")], "reference_answer": "yes"},
]


def _config(method: str, hyperparameters: dict, **extra) -> dict:
    block: dict = {"hyperparameters": hyperparameters}
    if method == "reinforcement":
        block["grader"] = GRADER
    return {"model": "gpt-4.1-mini-2025-04-14" if method != "reinforcement" else "o4-mini-2025-04-16",
            "training_file": "file-train", "seed": 7, "suffix": f"tiny-{method}",
            "method": {"type": method, method: block}, **extra}


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _export(tmp_path: Path, config: dict) -> Path:
    cfg = tmp_path / "job.json"
    cfg.write_text(json.dumps(config))
    out = tmp_path / "recipe"
    assert ftstudio(["export", str(cfg), "--format", "trl", "-o", str(out)]) == 0
    return out


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=subprocess_env(), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def _log_history(out: Path) -> list[dict]:
    return json.loads((out / "trainer_state.json").read_text())["log_history"]


def _assert_saved_model_loads(out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert model.config.num_hidden_layers == 2 and tok.chat_template


@pytest.mark.parametrize("method, rows, hp", [
    ("supervised", SFT_ROWS, {"batch_size": 2, "n_epochs": 1, "learning_rate_multiplier": 50}),
    ("dpo", DPO_ROWS, {"batch_size": 2, "beta": 0.2, "learning_rate_multiplier": 100}),
])
def test_sft_and_dpo_recipes_train_and_save(tiny_model, tmp_path, method, rows, hp):
    recipe = _export(tmp_path, _config(method, hp))
    assert sorted(p.name for p in recipe.iterdir()) == ["README.md", "example_rows.jsonl", "requirements.txt", "train.py",
                                                        "wheels"]
    train = _write_jsonl(tmp_path / "train.jsonl", rows)
    val = _write_jsonl(tmp_path / "val.jsonl", rows[:2])
    out = tmp_path / "out"
    _run([str(recipe / "train.py"), "--model", str(tiny_model), "--train-file", str(train), "--validation-file",
          str(val), "--output-dir", str(out), "--max-steps", "2", "--logging-steps", "1"], tmp_path)
    logs = _log_history(out)
    losses = [h["loss"] for h in logs if "loss" in h]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses)
    assert [h["step"] for h in logs if "loss" in h] == [1, 2]
    assert any(math.isfinite(h.get("eval_loss", math.nan)) for h in logs)  # the validation file was evaluated
    _assert_saved_model_loads(out)


# Runs train.py with its reward functions wrapped: each call's completions, dataset columns and
# returned rewards go to a JSONL file the test compares with its own Reward.
WRAPPER = '''
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("train", sys.argv[1])
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)
log = open(sys.argv[2], "w")
TRL_ARGS = ("trainer_state", "log_extra", "log_metric", "environments")

def wrap(f):
    def g(prompts, completions, completion_ids=None, **kwargs):
        out = f(prompts, completions, completion_ids, **kwargs)
        log.write(json.dumps({"step": kwargs["trainer_state"].global_step, "name": f.__name__,
                              "completions": completions, "returned": out,
                              "columns": {k: v for k, v in kwargs.items() if k not in TRL_ARGS}}) + "\\n")
        log.flush()
        return out
    g.__name__ = f.__name__
    return g

make = train.reward_funcs
train.reward_funcs = lambda: [wrap(f) for f in make()]
train.main(sys.argv[3:])
'''


def test_grpo_recipe_rewards_equal_reward_score(tiny_model, tmp_path):
    from ftstudio.reward import Reward

    hp = {"batch_size": 1, "compute_multiplier": 0.5, "learning_rate_multiplier": 1000, "n_epochs": 1,
          "eval_interval": 2, "eval_samples": 2}
    recipe = _export(tmp_path, _config("reinforcement", hp))
    assert json.loads((recipe / "grader.json").read_text()) == GRADER
    train = _write_jsonl(tmp_path / "train.jsonl", RFT_ROWS)
    val = _write_jsonl(tmp_path / "val.jsonl", RFT_ROWS[:1])
    (tmp_path / "wrapper.py").write_text(WRAPPER)
    calls_file, out = tmp_path / "calls.jsonl", tmp_path / "out"
    _run(["wrapper.py", str(recipe / "train.py"), str(calls_file), "--model", str(tiny_model), "--train-file",
          str(train), "--validation-file", str(val), "--output-dir", str(out), "--max-steps", "2",
          "--logging-steps", "1", "--max-completion-length", "6"], tmp_path)

    calls = [json.loads(line) for line in calls_file.read_text().splitlines()]
    history = _log_history(out)
    # eval_interval 2 -> one evaluation at step 2, eval_samples 2 -> 2 generations of the validation prompt
    evals = [h for h in history if "eval_reward" in h]
    assert len(evals) == 1 and evals[0]["step"] == 2
    eval_calls = [c for c in calls if len(c["completions"]) == 2]
    assert len(eval_calls) == 1
    calls = [c for c in calls if c not in eval_calls]
    assert len(calls) == 2 and all(c["name"] == "quiz" for c in calls)  # one generation batch per step
    logs = [h for h in history if "reward" in h]
    assert len(logs) == 2
    with Reward.load(GRADER) as reward:
        for call, log in zip(calls, logs, strict=True):
            n = len(call["completions"])
            assert n == 4  # compute_multiplier 0.5 -> 4 generations of one prompt
            # conversational completions, as TRL hands them to reward functions
            assert call["completions"][0][0]["role"] == "assistant"
            items = [{k: v[i] for k, v in call["columns"].items()} for i in range(n)]
            assert all(item["reference_answer"] == call["columns"]["reference_answer"][0] for item in items)
            expected = reward.score(call["completions"], items)
            assert call["returned"] == pytest.approx(expected, abs=1e-12)
            mean = sum(expected) / n
            assert log["rewards/quiz/mean"] == pytest.approx(mean, abs=1e-5)
            assert log["reward"] == pytest.approx(mean, abs=1e-5)
            # log_metric: each sub-reward's mean under its key
            records = reward.score_detailed(call["completions"], items)
            for key in GRADER["graders"]:
                assert log[key] == pytest.approx(sum(r["sub_rewards"][key] for r in records) / n, abs=1e-5)
        ev = eval_calls[0]
        items = [{k: v[i] for k, v in ev["columns"].items()} for i in range(2)]
        assert evals[0]["eval_reward"] == pytest.approx(sum(reward.score(ev["completions"], items)) / 2, abs=1e-5)
    _assert_saved_model_loads(out)
