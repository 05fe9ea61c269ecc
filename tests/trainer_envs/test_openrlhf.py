"""OpenRLHF 0.11.2's own code on our artifacts, in the OpenRLHF venv: its loader for a `.py` remote reward
(the exported reward_func.py, which finds grader.json beside itself) and its remote-URL client against
`ftstudio serve`'s /openrlhf. Rewards equal `ftstudio grade`'s (float32 tensors from the .py path)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from envs import HERE, last_json, run_in

from ftstudio.cli import main as ftstudio
from ftstudio.reward._openrlhf_recipe import reward_func_py

sys.path.insert(0, str(HERE.parent))
from serve_process import ServeProcess  # noqa: E402

pytestmark = pytest.mark.slow

GRADER = {"type": "multi", "name": "answer", "calculate_output": "0.6 * same + 0.4 * fuzzy", "graders": {
    "same": {"type": "string_check", "name": "same", "operation": "eq",
             "input": "{{ sample.output_text }}", "reference": "{{ item.reference_answer }}"},
    "fuzzy": {"type": "text_similarity", "name": "fuzzy", "evaluation_metric": "fuzzy_match",
              "input": "{{ sample.output_text }}", "reference": "{{ item.reference_answer }}"}}}
PROMPT = "<s><|user|> what is the answer ? <|end|> <|assistant|> "
# (label as OpenRLHF passes it from --data.label_key, completion). A label holding a JSON object is the item;
# the last has no reference_answer: an error row.
SAMPLES = [("four", "four<|end|>"), ('{"reference_answer": "paris"}', "paris"), ("hello there", "hello"),
           ('{"question": "none"}', "anything")]


def _expected(tmp_path: Path) -> list[dict]:
    grader = tmp_path / "grader.json"
    grader.write_text(json.dumps(GRADER))
    data = tmp_path / "rows.jsonl"
    rows = [{**(json.loads(label) if label.startswith("{") else {"reference_answer": label}), "model_sample": c}
            for label, c in SAMPLES]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "records.jsonl"
    ftstudio(["grade", str(grader), str(data), "--out", str(out)])
    return [json.loads(line) for line in out.read_text().splitlines()]


def _payload(url) -> dict:
    return {"remote_rm_url": url, "queries": [PROMPT + c for _, c in SAMPLES], "prompts": [PROMPT] * len(SAMPLES),
            "labels": [label for label, _ in SAMPLES]}


def _logs(record: dict) -> dict:
    return {**record["sub_rewards"], "grader_error": 1.0 if record["errors"] else 0.0}


def test_the_exported_reward_func_py_through_openrlhfs_loader(tmp_path):
    records = _expected(tmp_path)
    assert records[-1]["errors"] and records[1]["reward"] == 1.0
    export = tmp_path / "export"
    export.mkdir()
    (export / "grader.json").write_text(json.dumps(GRADER))
    (export / "reward_func.py").write_text(reward_func_py())
    out = last_json(run_in("openrlhf", [str(HERE / "openrlhf_driver.py")], payload=_payload(str(export / "reward_func.py")),
                           home=tmp_path, env={"FTSTUDIO_GRADER": ""}))
    assert out["loaded_func"] is True
    assert len(out["results"]) == len(SAMPLES)
    for got, record in zip(out["results"], records, strict=True):
        assert got["rewards"] == got["scores"] == pytest.approx([record["reward"]], abs=1e-7)  # float32
        assert got["extra_logs"] == {k: pytest.approx([v], abs=1e-7) for k, v in _logs(record).items()}


def test_openrlhfs_http_client_against_ftstudio_serve(tmp_path):
    records = _expected(tmp_path)
    with ServeProcess(str(tmp_path / "grader.json"), "--port", "0", "--no-access-log") as server:
        urls = [server.url + "/openrlhf", server.url + "/openrlhf"]  # a list: OpenRLHF shards over it
        out = last_json(run_in("openrlhf", [str(HERE / "openrlhf_driver.py")], payload=_payload(urls), home=tmp_path))
    assert out["loaded_func"] is False
    got = out["results"]
    assert len(got) == 2  # two servers, two shards of two samples
    rewards = [v for shard in got for v in shard["rewards"]]
    assert rewards == pytest.approx([r["reward"] for r in records], abs=1e-9)
    assert [v for shard in got for v in shard["scores"]] == rewards
    for key in ("same", "fuzzy", "grader_error"):
        assert [v for shard in got for v in shard["extra_logs"][key]] == pytest.approx([_logs(r)[key] for r in records])
