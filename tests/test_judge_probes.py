"""The `judge` probe family against the stub as a gullible judge and as a careful one (issue 24, part 1)."""

import json

import pytest

from ftstudio.cli._main import main
from ftstudio.graders import parse_grader
from ftstudio.probes import JUDGE_PROBES, MASTER_KEYS, check_probes, plan, probe

ROWS = [{"messages": [{"role": "user", "content": f"What is {i} + {i}?"}],
         "reference": str(2 * i), "model_sample": str(2 * i)} for i in range(1, 13)]
JUDGE = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14", "range": [0, 1],
         "input": [{"role": "system", "content": "Grade the answer against the reference."},
                   {"role": "user", "content": "Reference: {{item.reference}}\nAnswer: {{sample.output_text}}"}]}
GATE = {"type": "string_check", "name": "gate", "input": "{{sample.output_text}}", "reference": "{{item.reference}}",
        "operation": "eq"}
PER_PROBE = {"probe", "node", "mean", "genuine_mean", "wrong_mean", "interval", "flagged", "fix"}


@pytest.fixture
def stub_env(openai_stub, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return openai_stub


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    judge = tmp_path / "judge.json"
    judge.write_text(json.dumps(JUDGE))
    multi = tmp_path / "multi.json"
    multi.write_text(json.dumps({"type": "multi", "name": "both", "graders": {"gate": GATE, "judge": JUDGE},
                                 "calculate_output": "0.5 * gate + 0.5 * judge"}))
    return {"data": str(data), "judge": str(judge), "multi": str(multi)}


def run_cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_family_name_expands_and_members_can_be_named():
    assert check_probes(["judge"]) == JUDGE_PROBES
    assert check_probes(["master_key", "hedge"]) == ("master_key", "hedge")
    assert "judge" not in check_probes(None) and not set(JUDGE_PROBES) & set(check_probes(None))


def test_judge_probes_need_a_model_grader():
    with pytest.raises(ValueError, match="need a score_model or label_model"):
        plan(GATE, ROWS, ["judge"])


def test_plan_builds_known_wrong_rows_and_each_variant():
    p = plan(JUDGE, ROWS[:3], ["master_key", "master_key_wrong", "blank", "instructions_quoted"])
    assert p.judge_probes == ("master_key", "master_key_wrong", "blank", "instructions_quoted")
    texts = [r["model_sample"] for r in p.rows]
    assert texts[:3] == ["2", "4", "6"]  # genuine
    assert texts[3:6] == ["1", "3", "5"]  # known wrong: a neighbouring number
    assert texts[6:9] == list(MASTER_KEYS[:3])
    assert texts[9] == f"{MASTER_KEYS[0]} 1"
    assert texts[12] == "" and texts[13].strip() == ""
    assert "Grade the answer against the reference." in texts[15] and texts[15].startswith("1")


def test_gullible_judge_is_flagged_with_its_node(stub_env):
    stub_env.judge_mode = "gullible"
    report = probe(JUDGE, ROWS, ["judge"])
    by = {j.probe: j for j in report.judge}
    assert set(by) == set(JUDGE_PROBES)
    mk = by["master_key"]
    assert mk.flagged and mk.node == "judge" and mk.mean == 1.0 and mk.wrong_mean == 0.0 and mk.genuine_mean == 1.0
    assert mk.interval == [1.0, 1.0]
    assert "format check before the judge" in mk.fix and "(score_model 'judge')" in mk.why
    assert all(j.flagged for j in report.judge)


def test_careful_judge_passes_every_judge_probe(stub_env):
    stub_env.judge_mode = "careful"
    report = probe(JUDGE, ROWS, ["judge"])
    assert report.judge and not any(j.flagged for j in report.judge)
    assert all(j.mean == 0.0 and j.genuine_mean == 1.0 for j in report.judge)


def test_in_a_multi_the_judge_child_is_named(stub_env, capsys, files):
    stub_env.judge_mode = "gullible"
    code, out, _err = run_cli(capsys, "probe", files["multi"], files["data"], "--probes", "master_key", "--yes",
                              "--json")
    assert code == 3
    doc = json.loads(out)
    (mk,) = doc["probes"]
    assert PER_PROBE <= set(mk) and mk["node"] == "graders.judge" and mk["flagged"]
    assert mk["mean"] == 0.5 and mk["wrong_mean"] == 0.0 and mk["interval"] == [0.5, 0.5]


def test_cli_json_exit_codes_cost_and_confirmation(stub_env, capsys, files, monkeypatch, tmp_path):
    stub_env.judge_mode = "gullible"
    # Over --max-cost: nothing is sent.
    code, out, err = run_cli(capsys, "probe", files["judge"], files["data"], "--probes", "judge", "--yes",
                             "--max-cost", "0.000001", "--json")
    assert code == 1 and "over --max-cost" in err and "estimated cost $" in err and out == ""
    assert not stub_env.requests_to("/chat/completions")
    # Without --yes the CLI shows the cost and asks; no answer sends nothing.
    monkeypatch.setattr("builtins.input", lambda _q: "n")
    code, out, err = run_cli(capsys, "probe", files["judge"], files["data"], "--probes", "master_key")
    assert code == 0 and "nothing sent" in err and "estimated cost $" in err
    assert not stub_env.requests_to("/chat/completions")
    monkeypatch.setattr("builtins.input", lambda _q: "y")
    code, out, err = run_cli(capsys, "probe", files["judge"], files["data"], "--probes", "master_key", "--rows", "4",
                             "--max-cost", "1")
    assert code == 3 and "master_key" in out and "FLAGGED" in out
    assert len(stub_env.requests_to("/chat/completions")) == 4 * 3  # genuine, known wrong, variant per row
    # The careful judge (a fresh cache: answers are cached per request, not per judge): exit 0, the JSON keys.
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache2"))
    stub_env.judge_mode = "careful"
    code, out, err = run_cli(capsys, "probe", files["judge"], files["data"], "--probes", "judge", "--yes", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [p["probe"] for p in doc["probes"]] == list(JUDGE_PROBES)
    assert all(PER_PROBE <= set(p) and not p["flagged"] for p in doc["probes"])
    assert all(len(p["interval"]) == 2 and p["interval"][0] <= p["interval"][1] for p in doc["probes"])


def test_judge_on_a_grader_without_a_model_node_is_a_clear_error(capsys, files, tmp_path):
    gate = tmp_path / "gate.json"
    gate.write_text(json.dumps(GATE))
    code, _out, err = run_cli(capsys, "probe", str(gate), files["data"], "--probes", "judge")
    assert code == 1 and "need a score_model or label_model" in err


STEADY = {"type": "score_model", "name": "steady", "model": "gpt-4.1-mini-2025-04-14", "range": [0, 1],
          "input": [{"role": "system", "content": "Rate the answer. [[score:0]]"},
                    {"role": "user", "content": "{{sample.output_text}}"}]}
NESTED = {"type": "multi", "name": "outer", "calculate_output": "0.5 * gate + 0.5 * inner", "graders": {
    "gate": GATE,
    "inner": {"type": "multi", "name": "inner", "calculate_output": "0.5 * steady + 0.5 * judge",
              "graders": {"steady": STEADY, "judge": JUDGE}}}}


def test_the_node_is_named_at_any_depth(stub_env):
    """A score_model inside a multi inside a multi: the verdict names that very node, not the child of the root
    that holds it, and not the other judge beside it (which gives no credit)."""
    from ftstudio.grading import GradingSession
    from ftstudio.probes import judge_nodes

    assert [path for path, _node in judge_nodes(parse_grader(NESTED))] == ["graders.inner.graders.steady",
                                                                           "graders.inner.graders.judge"]
    stub_env.judge_mode = "gullible"
    report = probe(NESTED, ROWS[:6], ["master_key", "blank"])
    assert [j.node for j in report.judge] == ["graders.inner.graders.judge"] * 2
    assert all(j.flagged for j in report.judge)
    assert "graders.inner.graders.judge (score_model 'judge')" in report.judge[0].why
    # The engine keeps every node's own score on request, by JSON path.
    with GradingSession(NESTED) as session:
        results = session.grade(ROWS[:2], node_scores=True)
    assert set(results.node_rewards) == {"", "graders.gate", "graders.inner", "graders.inner.graders.steady",
                                         "graders.inner.graders.judge"}
    assert list(results.node_rewards["graders.inner.graders.judge"]) == [1.0, 1.0]
    assert list(results.node_rewards["graders.inner.graders.steady"]) == [0.0, 0.0]
    assert list(results.node_rewards[""]) == list(results.rewards)
    assert not session.grade(ROWS[:2]).node_rewards  # only when asked


def test_the_cli_names_the_nested_node(stub_env, capsys, tmp_path, files):
    stub_env.judge_mode = "gullible"
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps(NESTED))
    code, out, _err = run_cli(capsys, "probe", str(nested), files["data"], "--probes", "master_key", "--rows", "4",
                              "--yes", "--json")
    assert code == 3 and json.loads(out)["probes"][0]["node"] == "graders.inner.graders.judge"
