"""ftstudio.reward.envs through tinker-cookbook 0.6.1's own classes, in its venv: environments built from
presets and from the external corpus's graders are rolled out by the package's `do_group_rollout` with a
policy that answers given completions; each rollout's reward equals `ftstudio grade`'s for that row and
completion (1e-9), sub-rewards and grader errors are the step's metrics, and every env of a group keeps the
row's item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tinker_venv import ROOT, run_driver

from ftstudio.cli import main as ftstudio
from ftstudio.core import compact_json
from ftstudio.grading import to_grader, uses_models
from ftstudio.reward import Reward

pytestmark = pytest.mark.slow

GROUP = 3
WRONG = "not an answer"
QUIZ = ROOT / "ftstudio" / "data" / "examples" / "reinforcement-quiz.jsonl"
PRESET_DATA = {"rft-exact-match": QUIZ, "rft-classification-structured": QUIZ, "rft-fuzzy-similarity": QUIZ,
               "rft-math-python": QUIZ}
EXTRACTION_ROWS = [
    {"messages": [{"role": "user", "content": "Extract: Ann Lee, ann@x.org, 1 Main St"}], "name": "Ann Lee",
     "email": "ann@x.org", "address": "1 Main St",
     "model_sample": '{"name": "Ann Lee", "email": "ann@x.org", "address": "1 Main Street"}'},
    {"messages": [{"role": "user", "content": "Extract: Bo Chen, bo@y.com, 9 Elm Rd"}], "name": "Bo Chen",
     "email": "bo@y.com", "address": "9 Elm Rd", "model_sample": "Bo Chen, bo@y.com"},
    {"name": "Cy Dee", "email": "cy@z.net", "address": "5 Oak Ave",  # no messages: an empty prompt
     "model_sample": '{"name": "C. Dee", "email": "cy@z.net", "address": "5 Oak Ave"}'}]


def _rows(path: Path, limit: int = 10) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if isinstance(r, dict)][:limit]


def _sample(row: dict) -> str:
    value = row.get("model_sample", "")
    return value if isinstance(value, str) else compact_json(value)


def _case(name: str, grader: Path, rows: list[dict]) -> dict:
    completions = [[_sample(r), _sample(rows[(i + 1) % len(rows)]), WRONG] for i, r in enumerate(rows)]
    return {"name": name, "grader": str(grader), "rows": rows, "completions": completions}


def _expected(case: dict, tmp_path: Path) -> list[list[dict]]:
    """`ftstudio grade` on one row per (row, completion): the row's fields, the completion as model_sample."""
    data = tmp_path / f"{case['name']}.jsonl"
    flat = [{**row, "model_sample": c} for row, cs in zip(case["rows"], case["completions"]) for c in cs]
    data.write_text("".join(json.dumps(r) + "\n" for r in flat), encoding="utf-8")
    out = tmp_path / f"{case['name']}.out.jsonl"
    assert ftstudio(["grade", case["grader"], str(data), "--out", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return [records[i:i + GROUP] for i in range(0, len(records), GROUP)]


def _check(case: dict, got: list[dict], tmp_path: Path) -> None:
    expected = _expected(case, tmp_path)
    assert len(got) == len(case["rows"])
    for row, completions, group, records in zip(case["rows"], case["completions"], got, expected, strict=True):
        item = {k: v for k, v in row.items() if k != "messages"}
        assert group["items"] == [item] * GROUP, f"{case['name']}: every env of a group keeps the row's item"
        for message in row.get("messages", []):
            assert message["content"] in group["prompt"]
        by_text = {s["text"]: s for s in group["samples"]}
        assert sorted(by_text) == sorted(set(completions))
        for text, record in zip(completions, records, strict=True):
            sample = by_text[text]
            where = f"{case['name']}: completion {text[:40]!r}"
            assert sample["done"] is True
            assert sample["reward"] == pytest.approx(record["reward"], abs=1e-9), where
            assert sample["metrics"]["grader_error"] == (1.0 if record["errors"] else 0.0), where
            for key, value in record["sub_rewards"].items():
                assert sample["metrics"][key] == pytest.approx(value, abs=1e-9), where
            assert ("grader_error" in sample["logs"]) == bool(record["errors"]), where


def test_presets_roll_out_with_grade_rewards(tmp_path):
    presets = ROOT / "presets"
    cases = [_case(name, presets / f"{name}.json", _rows(data)) for name, data in PRESET_DATA.items()]
    cases.append(_case("rft-json-extraction", presets / "rft-json-extraction.json", EXTRACTION_ROWS))
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in _rows(QUIZ, 7)), encoding="utf-8")
    dataset = {"grader": str(presets / "rft-exact-match.json"), "train": str(train), "test": str(QUIZ),
               "batch_size": 3, "group_size": 4}
    out = run_driver("envs_driver.py", {"group_size": GROUP, "cases": cases, "dataset": dataset}, tmp_path)
    for case in cases:
        _check(case, out["cases"][case["name"]], tmp_path)
    structured = out["cases"]["rft-classification-structured"]  # a job with a response_format
    assert {s["metrics"]["response_format_valid"] for g in structured for s in g["samples"]} == {0.0, 1.0}
    assert "response_format_valid" not in out["cases"]["rft-exact-match"][0]["samples"][0]["metrics"]
    assert out["cases"]["rft-exact-match"][0]["tags"] == ["exact_answer"]
    # the dataset builder: 7 rows in batches of 3 groups of 4; the test split, one rollout per problem
    assert out["dataset"]["train_batches"] == [[4, 4, 4], [4, 4, 4], [4]]
    assert out["dataset"]["train_items"] == sorted(
        json.dumps({k: v for k, v in r.items() if k != "messages"}, sort_keys=True) for r in _rows(QUIZ, 7))
    assert [len(b) for b in out["dataset"]["test_batches"]] == [3] * 10 + [2]
    assert {n for b in out["dataset"]["test_batches"] for n in b} == {1}


def _corpus_cases() -> list[dict]:
    from tests.test_corpus import CONFIGS, DATA, PAIRS

    if not CONFIGS.is_dir():
        pytest.skip(f"the conformance corpus is not at {CONFIGS.parent} (set FTSTUDIO_CONFORMANCE_DIR)")
    cases = []
    for data, configs in PAIRS.items():
        for config in configs:
            try:
                grader = Reward.load(CONFIGS / config)
            except Exception:  # a corpus file the engine refuses has no env to build
                continue
            with grader:
                if uses_models(to_grader(grader.grader)):
                    continue  # model graders call a service; the engine path is the same
            cases.append(_case(config.removesuffix(".json"), CONFIGS / config, _rows(DATA / data)))
    return cases


def test_corpus_graders_roll_out_with_grade_rewards(tmp_path):
    cases = _corpus_cases()
    assert len(cases) >= 10
    out = run_driver("envs_driver.py", {"group_size": GROUP, "cases": cases}, tmp_path)
    for case in cases:
        _check(case, out["cases"][case["name"]], tmp_path)
    errors = [s for c in cases for g in out["cases"][c["name"]] for s in g["samples"] if s["metrics"]["grader_error"]]
    assert errors, "some corpus rows can't be scored (missing fields): their error metric must show"
