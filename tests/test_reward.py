"""ftstudio.reward: every adapter gives `ftstudio grade`'s rewards on the same rows.

verl and OpenRLHF load their reward file by path and call it as their code does (verl 0.9.1
reward_loop/reward_manager/naive.py: keyword arguments, one sample per call; OpenRLHF 0.11.2 utils/agent.py:
`reward_func([query], [prompt], [label])`); so do these tests. tests/trainer_envs runs the trainers' own code.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from ftstudio.cli import main as ftstudio
from ftstudio.reward import InvalidGrader, Reward, weights_of

GRADER = {
    "type": "multi", "name": "answer_check",
    "graders": {
        "exact": {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                  "reference": "{{ item.reference_answer }}", "operation": "eq"},
        "rouge": {"type": "text_similarity", "name": "rouge", "input": "{{ sample.output_text }}",
                  "reference": "{{ item.reference_answer }}", "evaluation_metric": "rouge_l"},
    },
    "calculate_output": "(3 * exact + rouge) / 4",
}
# item, completion; the last row has no reference_answer: an error row (reward 0.0).
ROWS = [
    ({"reference_answer": "paris"}, "paris"),
    ({"reference_answer": "the answer is four"}, "the answer is five"),
    ({"reference_answer": "hello there"}, "hello"),
    ({"reference_answer": "yes"}, ""),
    ({"question": "no reference"}, "anything"),
]


@pytest.fixture
def graded(tmp_path) -> tuple[Path, list[dict]]:
    """The grader file and `ftstudio grade --out`'s records for ROWS."""
    grader = tmp_path / "grader.json"
    grader.write_text(json.dumps(GRADER))
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({**item, "model_sample": c}) + "\n" for item, c in ROWS))
    out = tmp_path / "records.jsonl"
    assert ftstudio(["grade", str(grader), str(data), "--out", str(out)]) == 0
    return grader, [json.loads(line) for line in out.read_text().splitlines()]


def _load_by_path(module: str, name: str):
    """As verl's load_extern_object / OpenRLHF's agent do: spec_from_file_location on the file."""
    import ftstudio.reward

    path = Path(ftstudio.reward.__file__).with_name(f"{module}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_score_and_score_detailed_equal_grade(graded):
    grader, records = graded
    with Reward.load(str(grader)) as reward:
        items, completions = [r[0] for r in ROWS], [r[1] for r in ROWS]
        assert reward.score(completions, items) == [r["reward"] for r in records]
        assert reward.score_detailed(completions, items) == [{k: v for k, v in r.items() if k != "line"}
                                                             for r in records]
    assert records[-1]["errors"] and records[-1]["reward"] == 0.0
    assert records[0]["reward"] == 1.0 and 0 < records[1]["reward"] < 1


def test_load_accepts_a_job_config_a_preset_and_a_dict(tmp_path):
    config = {"model": "o4-mini-2025-04-16", "training_file": "file-1",
              "method": {"type": "reinforcement", "reinforcement": {"grader": GRADER}}}
    (tmp_path / "job.json").write_text(json.dumps(config))
    (tmp_path / "preset.json").write_text(json.dumps({"title": "t", "description": "d", "config": config}))
    for source in (tmp_path / "job.json", str(tmp_path / "preset.json"), GRADER):
        with Reward.load(source) as reward:
            assert reward.name == "answer_check"
            assert reward.score(["paris"], [{"reference_answer": "paris"}]) == [1.0]


def test_an_oversized_grader_file_and_an_empty_sample_field_are_clear_errors(tmp_path):
    from ftstudio.config import MAX_DOCUMENT_BYTES

    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(MAX_DOCUMENT_BYTES + 1)  # sparse; a device such as /dev/zero is cut at the same point
    with pytest.raises(InvalidGrader) as exc:
        Reward.load(big)
    assert f"{big}: more than 16 MB" in exc.value.issues[0].message
    with pytest.raises(ValueError, match="the sample field is empty: name the row field that holds the model's"):
        Reward.load(GRADER, sample_field="")


def test_invalid_trees_raise_invalid_grader_with_issues(tmp_path):
    with pytest.raises(InvalidGrader) as exc:
        Reward.load({**GRADER, "calculate_output": "exact +"})
    assert exc.value.issues and any("calculate_output" in i.path for i in exc.value.issues)
    sft = {"model": "gpt-4.1-mini-2025-04-14", "training_file": "f", "method": {"type": "supervised"}}
    (tmp_path / "sft.json").write_text(json.dumps(sft))
    with pytest.raises(InvalidGrader, match="method.reinforcement.grader"):
        Reward.load(tmp_path / "sft.json")


def test_for_trl_follows_grpo_trainers_contract(graded):
    grader, records = graded
    metrics: dict[str, float] = {}
    with Reward.load(grader) as reward:
        f = reward.for_trl()
        assert f.__name__ == "answer_check"
        # conversational completions, a column per item field (None where a row lacks it, as Arrow fills)
        completions = [[{"role": "assistant", "content": c}] for _, c in ROWS]
        columns = {"reference_answer": [item.get("reference_answer") for item, _ in ROWS],
                   "question": [item.get("question") for item, _ in ROWS]}
        out = f(prompts=[[{"role": "user", "content": "q"}]] * len(ROWS), completions=completions,
                completion_ids=[[1, 2]] * len(ROWS), **columns, trainer_state=object(),
                log_extra=lambda *a: None, log_metric=metrics.__setitem__)
        assert out == [r["reward"] for r in records]
        for key in GRADER["graders"]:
            assert metrics[key] == pytest.approx(sum(r["sub_rewards"][key] for r in records) / len(records))
        # the error row is its own metric, not only a 0.0 among the rewards
        assert metrics["answer_check/grader_error_rate"] == sum(1 for r in records if r["errors"]) / len(records) > 0
        none_for_errors = reward.for_trl(on_error=None)(prompts=["q"] * len(ROWS), completions=[c for _, c in ROWS],
                                                        **columns)
        assert none_for_errors == [None if r["errors"] else r["reward"] for r in records]


def test_trl_components_split_a_weighted_sum(graded):
    grader, records = graded
    with Reward.load(grader) as reward:
        funcs, weights = reward.trl_components()
        assert [f.__name__ for f in funcs] == ["exact", "rouge"] and weights == [0.75, 0.25]
        completions = [c for _, c in ROWS[:4]]
        columns = {"reference_answer": [item["reference_answer"] for item, _ in ROWS[:4]]}
        parts = [f(prompts=["q"] * 4, completions=completions, **columns) for f in funcs]
        total = [sum(w * p[i] for w, p in zip(weights, parts)) for i in range(4)]
        assert total == pytest.approx([r["reward"] for r in records[:4]])


@pytest.mark.parametrize("formula, why", [
    ("exact * rouge", "not a weighted sum"), ("max(exact, rouge)", "not a weighted sum"),
    ("exact + rouge + 1", "constant"), ("exact / rouge", "not a weighted sum"),
])
def test_trl_components_says_why_not(formula, why):
    with Reward.load({**GRADER, "calculate_output": formula}) as reward, pytest.raises(ValueError, match=why):
        reward.trl_components()
    with pytest.raises(ValueError, match="needs a multi grader"):
        weights_of(Reward.load(GRADER["graders"]["exact"]).grader)
    assert weights_of(Reward.load({**GRADER, "calculate_output": "-(exact - 2*rouge)/2 + exact"}).grader) == \
        {"exact": 0.5, "rouge": 1.0}


def test_verl_compute_score_equals_grade(graded, monkeypatch):
    grader, records = graded
    monkeypatch.setenv("FTSTUDIO_GRADER", str(grader))
    verl = _load_by_path("verl", "custom_module_3f2a")
    for (item, completion), record in zip(ROWS, records):
        # verl adds num_turns (and tool fields) to extra_info before calling
        score = verl.compute_score(data_source="quiz", solution_str=completion, ground_truth="ignored",
                                   extra_info={**item, "num_turns": 2})
        assert score == {"score": record["reward"], **record["sub_rewards"]}
    # no item fields (verl 0.9 still passes a dict with its own keys): the item is {"reference_answer": ground_truth}
    for (item, completion), record in zip(ROWS[:4], records[:4]):
        for extra in (None, {"num_turns": 2, "rollout_reward_scores": {}}):
            score = verl.compute_score(data_source="quiz", solution_str=completion,
                                       ground_truth=item["reference_answer"], extra_info=extra)
            assert score["score"] == record["reward"]


def test_verl_compute_score_takes_numpy_values_and_the_grader_keyword(graded, monkeypatch):
    """Parquet columns arrive as numpy values; reward_kwargs' grader= wins over $FTSTUDIO_GRADER."""
    import numpy as np

    grader, records = graded
    monkeypatch.setenv("FTSTUDIO_GRADER", "/nonexistent/grader.json")
    verl = _load_by_path("verl", "custom_module_np")
    for (item, completion), record in zip(ROWS, records):
        extra = {**{k: np.str_(v) for k, v in item.items()}, "rollout_reward_scores": {}, "num_turns": np.int64(1)}
        score = verl.compute_score(data_source=np.str_("quiz"), solution_str=completion, ground_truth=None,
                                   extra_info=extra, grader=str(grader))
        assert score == {"score": record["reward"], **record["sub_rewards"]}


def test_adapters_are_importable_by_their_dotted_names():
    import importlib

    assert callable(importlib.import_module("ftstudio.reward.verl").compute_score)
    assert callable(importlib.import_module("ftstudio.reward.openrlhf").reward_func)


@pytest.mark.slow  # imports torch (~10 s) for the tensors OpenRLHF expects
def test_openrlhf_reward_func_equals_grade(graded, monkeypatch):
    grader, records = graded
    monkeypatch.setenv("FTSTUDIO_GRADER", str(grader))
    module = _load_by_path("openrlhf", "reward_func")
    for i, ((item, completion), record) in enumerate(zip(ROWS, records)):
        prompt = "<s><|user|> question <|end|> <|assistant|> "
        # a label string holding a JSON object is the item; a plain label is the reference answer
        label = json.dumps(item) if i % 2 or "reference_answer" not in item else item["reference_answer"]
        out = module.reward_func([prompt + completion], [prompt], [label])
        assert set(out) == {"rewards", "scores", "extra_logs"}
        rewards = out["rewards"].tolist() if hasattr(out["rewards"], "tolist") else out["rewards"]
        assert rewards == pytest.approx([record["reward"]], abs=1e-6)  # float32 tensors
        logs = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in out["extra_logs"].items()}
        assert logs == {**{k: pytest.approx([v], abs=1e-6) for k, v in record["sub_rewards"].items()},
                        "grader_error": [1.0 if record["errors"] else 0.0]}


def test_openrlhf_without_torch_returns_lists(graded, monkeypatch):
    import builtins

    grader, records = graded
    monkeypatch.setenv("FTSTUDIO_GRADER", str(grader))
    module = _load_by_path("openrlhf", "reward_func")
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("no torch here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    out = module.reward_func(["Q: x A: paris", "Q: y A: the answer is five"], ["Q: x A: ", "Q: y A: "],
                             ["paris", '{"reference_answer": "the answer is four"}'])
    assert out["rewards"] == out["scores"] == [records[0]["reward"], records[1]["reward"]]
    assert isinstance(out["extra_logs"]["exact"], list)


def test_adapters_without_grader_env_say_what_to_set(monkeypatch):
    monkeypatch.delenv("FTSTUDIO_GRADER", raising=False)
    verl = _load_by_path("verl", "custom_module_x")
    with pytest.raises(RuntimeError, match=r"export FTSTUDIO_GRADER="):
        verl.compute_score(data_source="d", solution_str="s", ground_truth="g")


def test_python_graders_keep_a_warm_pool_across_calls():
    grader = {"type": "python", "name": "length", "source": "def grade(sample, item):\n"
              "    return min(1.0, len(sample['output_text']) / 10)\n"}
    with Reward.load(grader) as reward:
        f = reward.for_trl()
        assert f(prompts=["p"], completions=["abcde"]) == [0.5]
        pools = dict(reward.session._pools)
        assert f(prompts=["p", "p"], completions=["a", "abcdefghijkl"]) == [0.1, 1.0]
        assert reward.session._pools == pools and len(pools) == 1  # the same workers served both calls
    assert not reward.session._pools  # closed with the context manager


def test_model_graders_through_for_trl_equal_grade(openai_stub, tmp_path, monkeypatch):
    """A score_model grader against the OpenAI stub over real HTTP (endpoint from the environment, as
    in a training job): for_trl's rewards equal `ftstudio grade`'s, one request per completion."""
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    judge = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14", "range": [0, 1],
             "input": [{"role": "user", "content": "Grade {{ sample.output_text }} {{ item.d }}"}]}
    directives = ["[[score:0.25]]", "[[score:1]]", "[[refuse]]", "[[score:0.5]]"] * 2
    grader = tmp_path / "judge.json"
    grader.write_text(json.dumps(judge))
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"d": d, "model_sample": f"answer {i}"}) + "\n"
                            for i, d in enumerate(directives)))
    out = tmp_path / "records.jsonl"
    assert ftstudio(["grade", str(grader), str(data), "--out", str(out)]) == 0
    expected = [json.loads(line)["reward"] for line in out.read_text().splitlines()]
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache2"))  # no answers from the cache
    openai_stub.reset()
    with Reward.load(grader) as reward:
        got = reward.for_trl()(prompts=["p"] * 8, completions=[f"answer {i}" for i in range(8)], d=directives)
    assert got == expected and expected[:4] == [0.25, 1.0, 0.0, 0.5]
    assert len(openai_stub.requests_to("/chat/completions")) == 8


def test_verl_compute_score_async_grades_waiting_calls_as_one_batch(graded, monkeypatch):
    """verl awaits every sample of a batch at once: the calls waiting together are one grade() call."""
    import asyncio

    grader, records = graded
    verl = _load_by_path("verl", "custom_module_async")
    calls = []
    real = Reward.grade

    def counting(self, completions, items):
        calls.append(len(completions))
        return real(self, completions, items)

    monkeypatch.setattr(Reward, "grade", counting)

    async def batch():
        return await asyncio.gather(*(verl.compute_score_async(data_source="quiz", solution_str=c, ground_truth=None,
                                                               extra_info={**item, "num_turns": 1}, grader=str(grader))
                                      for item, c in ROWS))

    assert asyncio.run(batch()) == [{"score": r["reward"], **r["sub_rewards"]} for r in records]
    assert calls == [len(ROWS)]


def test_for_trl_async_equals_for_trl_and_logs_the_error_rate(graded):
    import asyncio
    import inspect

    grader, records = graded
    metrics: dict[str, float] = {}
    with Reward.load(grader) as reward:
        f = reward.for_trl_async()
        assert inspect.iscoroutinefunction(f) and f.__name__ == "answer_check"
        columns = {"reference_answer": [item.get("reference_answer") for item, _ in ROWS]}
        out = asyncio.run(f(prompts=["q"] * len(ROWS), completions=[c for _, c in ROWS], **columns,
                            log_metric=metrics.__setitem__))
        assert out == [r["reward"] for r in records]
        assert metrics["answer_check/grader_error_rate"] == 0.2
        funcs, weights = reward.trl_components(asynchronous=True)
        assert all(inspect.iscoroutinefunction(g) for g in funcs) and weights == [0.75, 0.25]


def test_async_components_grade_concurrently_under_trl_gather(openai_stub, tmp_path, monkeypatch):
    """Two async component functions with model graders, gathered as TRL 1.16 does: their grading overlaps
    (each waits at a two-party barrier inside grade(), which only opens when both are grading at once), and
    the rewards are the endpoint's."""
    import asyncio
    import threading

    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    judge = {"type": "score_model", "model": "gpt-4.1-mini-2025-04-14", "range": [0, 1],
             "input": [{"role": "user", "content": "Grade {{ sample.output_text }} {{ item.d }}"}]}
    grader = {"type": "multi", "name": "two_judges", "calculate_output": "a + b",
              "graders": {"a": {**judge, "name": "a"}, "b": {**judge, "name": "b"}}}
    barrier = threading.Barrier(2, timeout=60)  # broken (an error) if the two never grade at the same time
    real = Reward.grade

    def meeting(self, completions, items):
        barrier.wait()
        return real(self, completions, items)

    with Reward.load(grader) as reward:
        funcs, _ = reward.trl_components(asynchronous=True)
        monkeypatch.setattr(Reward, "grade", meeting)

        async def gather():
            kw = {"prompts": ["p"] * 2, "completions": ["x", "y"], "d": ["[[score:0.25]]", "[[score:1]]"]}
            return await asyncio.gather(*(g(**kw) for g in funcs))

        assert asyncio.run(gather()) == [[0.25, 1.0], [0.25, 1.0]]
    assert len(openai_stub.requests_to("/chat/completions")) == 4


MIXED = {"type": "multi", "name": "mixed",
         "graders": {"exact": {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                               "reference": "{{ item.reference_answer }}", "operation": "eq"},
                     "length": {"type": "python", "name": "length", "source":
                                "def grade(sample, item):\n"
                                "    if item.get('boom'):\n"
                                "        raise ValueError('boom')\n"
                                "    j = sample['output_json']\n"
                                "    return 1.0 if j is not None else min(1.0, len(sample['output_text']) / 100)\n"}},
         "calculate_output": "0.5 * exact + 0.5 * length"}


def test_for_trl_of_a_multi_with_a_python_child_rewards_and_logs_as_the_engine():
    """The call trainers make most with a python child (issue 23's TRL figure): rewards, error rows and logged
    metrics as computed by hand from the engine's rules (prose, prose starting like a JSON word, JSON, errors)."""
    texts = ["the answer is 4", "4", "true", "null", "no", "the answer is 4", '{"a": 1}', "Infinity and beyond"]
    refs = ["the answer is 4", "4", "x", "x", "no", "x", "x", "x"]
    boom = [None, None, None, None, True, None, True, None]
    length = [0.15, 1.0, 1.0, 0.04, 0.0, 0.15, 0.0, 0.19]  # JSON null: output_json None
    exact = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    metrics: dict[str, float] = {}
    with Reward.load(MIXED) as reward:
        f = reward.for_trl()
        for _ in range(2):  # a cold pool, then the warm one (its reader after the first batch)
            out = f(prompts=["q"] * len(texts), completions=[[{"role": "assistant", "content": t}] for t in texts],
                    reference_answer=refs, boom=boom, log_metric=metrics.__setitem__)
            assert out == [0.0 if b else 0.5 * e + 0.5 * v for b, e, v in zip(boom, exact, length)]
            assert metrics == {"exact": pytest.approx(sum(exact) / 8), "length": pytest.approx(sum(length) / 8),
                               "mixed/grader_error_rate": 0.25}
        records = reward.score_detailed(texts, [{"reference_answer": r, **({"boom": b} if b else {})}
                                                for r, b in zip(refs, boom)])
        assert [r["reward"] for r in records] == out
        assert [bool(r["errors"]) for r in records] == [bool(b) for b in boom]
