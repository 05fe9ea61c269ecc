"""Reward.trl_components() in a real GRPOTrainer: one function per child plus reward_weights give the
same total reward (TRL's logged `reward`) as the whole multi grader's Reward.score."""

from __future__ import annotations

import pytest

from ftstudio.reward import Reward

pytestmark = pytest.mark.slow

GRADER = {
    "type": "multi", "name": "weighted",
    "graders": {
        "exact": {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                  "reference": "{{ item.reference_answer }}", "operation": "like"},
        "close": {"type": "text_similarity", "name": "close", "input": "{{ sample.output_text }}",
                  "reference": "{{ item.reference_answer }}", "evaluation_metric": "fuzzy_match"},
    },
    "calculate_output": "(3 * exact + close) / 4",
}


def test_components_and_weights_reproduce_the_multi_grader(tiny_model, tmp_path):
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    calls: list[dict] = []

    def recording(f):
        def g(prompts, completions, completion_ids=None, **kwargs):
            out = f(prompts, completions, completion_ids, **kwargs)
            calls.append({"name": f.__name__, "completions": completions,
                          "reference_answer": kwargs["reference_answer"], "out": out})
            return out
        g.__name__ = f.__name__
        return g

    rows = [{"prompt": [{"role": "user", "content": q}], "reference_answer": a}
            for q, a in [("what is two plus two ?", "four"), ("what is the capital of france ?", "paris")]]
    with Reward.load(GRADER) as reward:
        funcs, weights = reward.trl_components()
        assert [f.__name__ for f in funcs] == ["exact", "close"] and weights == [0.75, 0.25]
        args = GRPOConfig(output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=4,
                          num_generations=4, max_completion_length=6, logging_steps=1, save_strategy="no",
                          report_to="none", bf16=False, use_cpu=True, gradient_checkpointing=False, seed=0,
                          reward_weights=weights)
        trainer = GRPOTrainer(model=str(tiny_model), reward_funcs=[recording(f) for f in funcs], args=args,
                              train_dataset=Dataset.from_list(rows),
                              processing_class=AutoTokenizer.from_pretrained(tiny_model))
        trainer.train()
        logs = [h for h in trainer.state.log_history if "reward" in h]
        assert len(logs) == 2 and len(calls) == 4
        for step, log in enumerate(logs):
            exact, close = calls[2 * step], calls[2 * step + 1]
            assert (exact["name"], close["name"]) == ("exact", "close")
            items = [{"reference_answer": r} for r in exact["reference_answer"]]
            whole = reward.score(exact["completions"], items)
            assert [0.75 * a + 0.25 * b for a, b in zip(exact["out"], close["out"])] == pytest.approx(whole)
            assert log["reward"] == pytest.approx(sum(whole) / len(whole), abs=1e-5)
            assert log["rewards/exact/mean"] == pytest.approx(sum(exact["out"]) / 4, abs=1e-5)
