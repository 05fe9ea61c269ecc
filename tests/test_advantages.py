"""GRPO advantages for loops that pass advantages in (Azure Fine-Tuning Sessions): rewards are `ftstudio
grade`'s, advantages are group-normalised, and a zero-variance group is said and gets zeros."""

from __future__ import annotations

import json
import math

import pytest

from ftstudio.cli import main as ftstudio
from ftstudio.reward import Reward, advantages_of, score_group

GRADER = {"type": "multi", "name": "quiz", "calculate_output": "(3 * exact + words) / 4", "graders": {
    "exact": {"type": "string_check", "name": "exact", "operation": "ilike",
              "input": "{{ sample.output_text }}", "reference": "{{ item.reference_answer }}"},
    "words": {"type": "text_similarity", "name": "words", "evaluation_metric": "fuzzy_match",
              "input": "{{ sample.output_text }}", "reference": "{{ item.reference_answer }}"}}}
ITEM = {"reference_answer": "the cat sat on the mat"}
ROLLOUTS = ["the cat sat on the mat", "The Cat Sat On The Mat", "a cat sat on a mat", "dogs", ""]


def test_group_scale_is_grpo_with_the_sample_std():
    adv, zero = advantages_of([1.0, 0.0, 0.5, 0.5])
    std = math.sqrt((0.25 + 0.25) / 3)
    assert not zero
    assert adv == pytest.approx([0.5 / (std + 1e-4), -0.5 / (std + 1e-4), 0.0, 0.0], abs=1e-12)
    assert sum(adv) == pytest.approx(0.0, abs=1e-12)


def test_none_scale_only_centres_as_tinker_cookbook_does():
    adv, zero = advantages_of([1.0, 0.0, 0.5, 0.5], scale="none")
    assert adv == pytest.approx([0.5, -0.5, 0.0, 0.0]) and not zero


@pytest.mark.parametrize("rewards", [[0.7, 0.7, 0.7], [0.0], [1.0, 1.0]])
def test_a_zero_variance_group_is_said_and_gets_zeros(rewards):
    for scale in ("group", "none"):
        assert advantages_of(rewards, scale=scale) == ([0.0] * len(rewards), True)


def test_bad_input_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="scale='std'"):
        advantages_of([1.0, 0.0], scale="std")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN"):
        advantages_of([1.0, float("nan")])


def test_score_group_rewards_are_grades_rewards(tmp_path):
    (tmp_path / "grader.json").write_text(json.dumps(GRADER))
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({**ITEM, "model_sample": r}) + "\n" for r in ROLLOUTS))
    assert ftstudio(["grade", str(tmp_path / "grader.json"), str(data), "--out", str(tmp_path / "out.jsonl")]) == 0
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    group = score_group(tmp_path / "grader.json", ROLLOUTS, ITEM)
    assert group.rewards == pytest.approx([r["reward"] for r in records], abs=1e-9)
    assert group.sub_rewards == [pytest.approx(r["sub_rewards"]) for r in records]
    assert group.advantages == pytest.approx(advantages_of(group.rewards)[0])
    assert not group.zero_variance and group.grader_errors == [False] * len(ROLLOUTS)
    assert group.advantages[0] > 0 > group.advantages[3]
    assert json.loads(json.dumps(group.to_dict()))["zero_variance"] is False


def test_score_group_keeps_a_given_reward_open_and_counts_errors():
    with Reward.load(GRADER) as reward:
        group = score_group(reward, ["x", "y"], {"question": "no reference"})
        assert group.grader_errors == [True, True]
        assert group.rewards == [0.0, 0.0] and group.zero_variance and group.advantages == [0.0, 0.0]
        assert score_group(reward, ["the cat sat on the mat"], ITEM).rewards == [1.0]  # still usable
