"""verl 0.9.1's own code on our artifact: its Hydra config composed with the overrides we document,
`get_custom_reward_fn(config)`, and the registered `naive` reward manager's `run_single`, in the verl venv.
Every reward equals `ftstudio grade`'s on the same rows."""

from __future__ import annotations

import json

import pytest
from envs import HERE, last_json, run_in

from ftstudio.cli import main as ftstudio
from ftstudio.reward import VERL_VERSION, verl_overrides

pytestmark = pytest.mark.slow

# string_check, text_similarity and a python grader (its sandbox runs inside the trainer's venv).
GRADER = {"type": "multi", "name": "quiz", "calculate_output": "0.5 * exact + 0.3 * close + 0.2 * brief", "graders": {
    "exact": {"type": "string_check", "name": "exact", "operation": "ilike",
              "input": "{{ sample.output_text }}", "reference": "{{ item.reference_answer }}"},
    "close": {"type": "text_similarity", "name": "close", "evaluation_metric": "rouge_l",
              "input": "{{ sample.output_text }}", "reference": "{{ item.reference_answer }}"},
    "brief": {"type": "python", "name": "brief",
              "source": "def grade(sample, item):\n    return min(1.0, 3 / (1 + len(sample['output_text'])))\n"}}}
# (extra_info as prepared in the parquet, ground_truth, completion). Row 3: the item comes from ground_truth;
# row 4 has no reference at all: an error row, 0.0 as in `ftstudio grade`.
ROWS = [
    ({"reference_answer": "Paris", "question": "capital of France?"}, "Paris", "paris"),
    ({"reference_answer": "the answer is four"}, "the answer is four", "the answer is five"),
    ({}, "hello there", "hello"),
    ({"topic": "none"}, None, "anything at all"),
]


def _grade(tmp_path, grader, rows) -> list[dict]:
    """`ftstudio grade --out` records for rows given as (item, completion)."""
    (tmp_path / "grader.json").write_text(json.dumps(grader))
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({**item, "model_sample": c}) + "\n" for item, c in rows))
    out = tmp_path / "records.jsonl"
    ftstudio(["grade", str(tmp_path / "grader.json"), str(data), "--out", str(out)])
    return [json.loads(line) for line in out.read_text().splitlines()]


def _items():
    return [({**extra, **({"reference_answer": gt} if gt is not None and "reference_answer" not in extra else {})}, c)
            for extra, gt, c in ROWS]


def _run(tmp_path, overrides, rows=ROWS, env=None):
    payload = {"overrides": overrides,
               "rows": [{"data_source": "quiz", "extra_info": e, "ground_truth": g, "completion": c} for e, g, c in rows]}
    return last_json(run_in("verl", [str(HERE / "verl_driver.py")], payload=payload, home=tmp_path, env=env))


def test_naive_manager_scores_equal_grade(tmp_path):
    records = _grade(tmp_path, GRADER, _items())
    assert records[-1]["errors"] and records[0]["sub_rewards"]["exact"] == 1.0
    overrides = verl_overrides(tmp_path / "grader.json")
    out = _run(tmp_path, overrides, env={"FTSTUDIO_GRADER": ""})  # reward_kwargs alone find the grader
    assert out["registered"] == ["dapo", "gdpo", "naive", "rate_limited", "remote"]
    assert out["manager"] == "NaiveRewardManager" and out["is_async"] is False
    assert out["custom_reward_function"] == {"path": "pkg://ftstudio.reward.verl", "name": "compute_score",
                                             "reward_kwargs": {"grader": str((tmp_path / "grader.json").resolve())}}
    expected = [{"score": r["reward"], **r["sub_rewards"]} for r in records]
    assert out["direct"] == expected
    for got, want in zip(out["run_single"], expected, strict=True):
        assert got["reward_score"] == pytest.approx(want["score"], abs=1e-9)
        assert got["reward_extra_info"] == pytest.approx(want, abs=1e-9)


def test_async_compute_score_batches_model_graders(tmp_path, openai_stub):
    """A score_model tree: verl awaits compute_score_async; the samples of one batch are graded together."""
    judge = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14", "range": [0, 1],
             "input": [{"role": "user", "content": "Grade {{ sample.output_text }} {{ item.d }}"}]}
    directives = ["[[score:0.25]]", "[[score:1]]", "[[refuse]]", "[[score:0.5]]"]
    rows = [({"d": d}, None, f"answer {i}") for i, d in enumerate(directives)]
    env = {"OPENAI_BASE_URL": openai_stub.base_url, "OPENAI_API_KEY": openai_stub.api_key}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "grade-cache"))
        records = _grade(tmp_path, judge, [(e, c) for e, _, c in rows])
    assert [r["reward"] for r in records] == [0.25, 1.0, 0.0, 0.5]
    openai_stub.reset()
    out = _run(tmp_path, verl_overrides(tmp_path / "grader.json", asynchronous=True), rows=rows, env=env)
    assert out["is_async"] is True and out["custom_reward_function"]["name"] == "compute_score_async"
    assert [m["reward_score"] for m in out["run_single"]] == [r["reward"] for r in records]
    assert out["direct"] == [{"score": r["reward"]} for r in records]
    # each completion asked once: the manager's calls are answered from the runner's cache
    assert len(openai_stub.requests_to("/chat/completions")) == len(rows)


def test_the_readme_documents_these_overrides():
    readme = (HERE.parents[1] / "README.md").read_text()
    for line in verl_overrides("/abs/path/grader.json"):
        assert line in readme
    assert f"verl {VERL_VERSION}" in readme
