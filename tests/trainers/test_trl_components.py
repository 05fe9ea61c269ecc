"""Reward.trl_components() in a real GRPOTrainer: one function per child plus reward_weights give the
same total reward (TRL's logged `reward`) as the whole multi grader's Reward.score; the same with
`asynchronous=True` (for_trl_async functions, which TRL 1.16 gathers on its event loop). Each function
logs `<name>/grader_error_rate`."""

from __future__ import annotations

import inspect

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


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_components_and_weights_reproduce_the_multi_grader(tiny_model, tmp_path, asynchronous):
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    calls: list[dict] = []

    def recording(f):
        def record(completions, kwargs, out):
            calls.append({"name": f.__name__, "step": kwargs["trainer_state"].global_step,
                          "completions": completions, "reference_answer": kwargs["reference_answer"], "out": out})
            return out

        if inspect.iscoroutinefunction(f):  # stays async, so TRL takes its async path
            async def g(prompts, completions, completion_ids=None, **kwargs):
                return record(completions, kwargs, await f(prompts, completions, completion_ids, **kwargs))
        else:
            def g(prompts, completions, completion_ids=None, **kwargs):
                return record(completions, kwargs, f(prompts, completions, completion_ids, **kwargs))
        g.__name__ = f.__name__
        return g

    rows = [{"prompt": [{"role": "user", "content": q}], "reference_answer": a}
            for q, a in [("what is two plus two ?", "four"), ("what is the capital of france ?", "paris")]]
    with Reward.load(GRADER) as reward:
        funcs, weights = reward.trl_components(asynchronous=asynchronous)
        assert [f.__name__ for f in funcs] == ["exact", "close"] and weights == [0.75, 0.25]
        assert all(inspect.iscoroutinefunction(f) == asynchronous for f in funcs)
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
            # async functions run concurrently: find each step's calls by name
            exact, close = ({c["name"]: c for c in calls if c["step"] == step}[n] for n in ("exact", "close"))
            items = [{"reference_answer": r} for r in exact["reference_answer"]]
            whole = reward.score(exact["completions"], items)
            assert [0.75 * a + 0.25 * b for a, b in zip(exact["out"], close["out"])] == pytest.approx(whole)
            assert log["reward"] == pytest.approx(sum(whole) / len(whole), abs=1e-5)
            assert log["rewards/exact/mean"] == pytest.approx(sum(exact["out"]) / 4, abs=1e-5)
            assert log["exact/grader_error_rate"] == 0.0 and log["close/grader_error_rate"] == 0.0
