"""Before you train, for model graders (issue 24 in the app): the judge probes, self-consistency, agreement
with a label column and graders meant to agree, against the stub's gullible / careful / fickle judges. Each
figure the page shows equals the CLI's JSON (`probe --probes judge`, `calibrate --repeat --labels`,
`calibrate --agree`) on the same data, and nothing is sent before the cost is shown and confirmed."""

from __future__ import annotations

import json

import pytest

from components.app_state import AppState
from ftstudio.cli._main import main
from ftstudio.datasets import read_dataset
from tests.app.app_util import texts

# _isolated: no API keys from the environment; a temporary $FTSTUDIO_HOME and cache per test.
from tests.app.test_test_grading_page import _isolated, grade, metric, open_page, rft  # noqa: F401
from tests.openai_stub import JUDGE_GRADER, LABELLED_ROWS

ROWS, JUDGE = LABELLED_ROWS, JUDGE_GRADER
EQ = {"type": "string_check", "name": "eq", "input": "{{sample.output_text}}", "reference": "{{item.reference}}",
      "operation": "eq"}
NE = {**EQ, "name": "ne", "operation": "ne"}
SIM = {"type": "text_similarity", "name": "sim", "input": "{{sample.output_text}}", "reference": "{{item.reference}}",
       "evaluation_metric": "fuzzy_match"}
MULTI = {"type": "multi", "name": "m", "graders": {"eq": EQ, "ne": NE, "sim": SIM}, "calculate_output": "eq"}


@pytest.fixture
def stub(openai_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    return openai_stub


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    out = {"data": str(data)}
    for name, g in (("judge", JUDGE), ("multi", MULTI)):
        (tmp_path / f"{name}.json").write_text(json.dumps(g))
        out[name] = str(tmp_path / f"{name}.json")
    return out


def cli_json(capsys, monkeypatch, cache, *argv) -> tuple[int, dict]:
    """The CLI's JSON on the same files, with its own model cache (so it asks the stub what the app asked)."""
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(cache))
    try:
        code = main(list(argv))
    finally:
        monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(cache.parent / "cache"))
    return code, json.loads(capsys.readouterr().out)


def open_with(config, path):
    at = open_page(rft(config))
    AppState(at.session_state).dataset = read_dataset(path)
    at.run()
    assert not at.exception
    return at


def iv(interval) -> str:
    return "n/a" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def test_judge_probes_show_the_cost_first_and_equal_the_cli(stub, files, capsys, monkeypatch, tmp_path):
    stub.judge_mode = "gullible"
    at = open_with(JUDGE, files["data"])
    assert "Judge probes" in texts(at) and at.multiselect(key="tg.judge.names").value == [
        "master_key", "master_key_wrong", "authority", "flattery", "verbose_wrong", "instructions_quoted",
        "other_language", "blank"]
    assert not {"master_key", "judge"} & set(at.multiselect(key="tg.probe-names").options)  # listed apart
    at.number_input(key="tg.judge.rows").set_value(12).run()
    assert "Estimated cost in all: $" in texts(at) and "model-grader requests to gpt-4.1-mini" in texts(at)
    assert "estimate; price unverified for gpt-4.1-mini" in texts(at)  # the list price nobody confirmed
    runs = [b for b in at.button if b.key == "tg.judge.run"]
    assert runs == []  # no Run button before the cost is confirmed
    at.number_input(key="tg.judge.max-cost").set_value(0.000001).run()
    assert "is over the max cost" in texts(at) and not [c for c in at.checkbox if "tg.judge.confirm" in c.key]
    at.number_input(key="tg.judge.max-cost").set_value(1.0).run()
    next(c for c in at.checkbox if c.key.startswith("tg.judge.confirm")).check().run()
    assert stub.requests_to("/chat/completions") == []  # nothing sent before the click
    at.button(key="tg.judge.run").click().run()
    assert not at.exception
    assert len(stub.requests_to("/chat/completions")) == 12 * 10  # genuine, known wrong, 8 variants
    shown = next(d.value for d in at.dataframe if "wrong mean" in d.value.columns).set_index("probe")
    assert "judge probe(s) get credit they don't deserve" in texts(at)

    code, doc = cli_json(capsys, monkeypatch, tmp_path / "cli-cache", "probe", files["judge"], files["data"],
                         "--probes", "judge", "--yes", "--json")
    assert code == 3
    for p in doc["probes"]:
        row = shown.loc[p["probe"]]
        assert row["node"] == p["node"] and bool(row["flagged"]) == p["flagged"] and row["fix"] == p["fix"]
        assert row["mean"] == pytest.approx(p["mean"]) and row["genuine mean"] == pytest.approx(p["genuine_mean"])
        assert row["wrong mean"] == pytest.approx(p["wrong_mean"]) and row["95% interval"] == iv(p["interval"])
    assert shown.loc["master_key", "flagged"] and shown.loc["master_key", "node"] == "judge"


def test_self_consistency_and_labels_equal_calibrate(stub, files, capsys, monkeypatch, tmp_path):
    # The CLI first, against a fickle judge that changes its mind on every second asking of a request.
    stub.judge_mode = "fickle"
    code, doc = cli_json(capsys, monkeypatch, tmp_path / "cli-cache", "calibrate", files["judge"], files["data"],
                         "--repeat", "2", "--labels", "human", "--group-field", "group", "--json")
    assert code == 0 and doc["self_consistency"]["flip_rate"] > 0
    stub.reset()  # the same judge, asked afresh: the app sees what the CLI saw
    stub.judge_mode = "fickle"
    at = open_with(JUDGE, files["data"])
    grade(at)
    at.run()
    at.selectbox(key="tg.cal-group").set_value("group").run()
    assert "Self-consistency" in texts(at) and "Estimated cost in all: $" in texts(at)
    at.number_input(key="tg.consistency.k").set_value(2).run()
    at.number_input(key="tg.consistency.rows").set_value(12).run()
    sent = len(stub.requests_to("/chat/completions"))
    assert [b for b in at.button if b.key == "tg.consistency.run"] == []  # not before the cost is confirmed
    next(c for c in at.checkbox if c.key.startswith("tg.consistency.confirm")).check().run()
    assert len(stub.requests_to("/chat/completions")) == sent
    at.button(key="tg.consistency.run").click().run()
    assert not at.exception
    assert len(stub.requests_to("/chat/completions")) == sent + 2 * 12  # two repeats, cache bypassed
    sc = doc["self_consistency"]
    assert metric(at, "Per-row std (mean)") == f"{sc['std_mean']:.3f}"
    assert metric(at, "Rows that flip pass/fail") == f"{100 * sc['flip_rate']:.1f}%"
    assert metric(at, "Groups whose advantage flips sign") == f"{sc['group_sign_flips']} of {sc['groups']}"
    assert sc["groups"] == 4 and sc["flip_rate"] == pytest.approx(4 / 12)  # the four wrong answers flip

    at.selectbox(key="tg.labels").set_value("human").run()
    assert not at.exception
    assert metric(at, "Cohen's κ") == f"{doc['kappa']:.3f}" and metric(at, "Spearman ρ") == f"{doc['spearman']:.3f}"
    assert metric(at, "Labels") == "12" and metric(at, "Threshold maximising κ") == f"{doc['threshold_max_kappa']:.3g}"
    shown = texts(at)
    assert f"κ {iv(doc['kappa_interval'])} · ρ {iv(doc['spearman_interval'])}" in shown
    assert f"base rate {100 * doc['base_rate']:.0f}% pass" in shown and "agreement needs at least 50" in shown
    matrix = next(d.value for d in at.dataframe if list(d.value.columns) == ["grader pass", "grader fail"])
    c = doc["confusion"]
    assert matrix.values.tolist() == [[c["label_pass"]["grader_pass"], c["label_pass"]["grader_fail"]],
                                      [c["label_fail"]["grader_pass"], c["label_fail"]["grader_fail"]]]
    wrong = next(d.value for d in at.dataframe if list(d.value.columns) == ["row", "reward", "label"])
    assert wrong.to_dict("records") == doc["label_disagreements"] and len(wrong) == 1  # row 3 (i = 4)


def test_graders_meant_to_agree_equal_calibrate_agree(files, capsys, monkeypatch, tmp_path):
    at = open_with(MULTI, files["data"])
    grade(at)
    at.run()
    at.multiselect(key="tg.agree.keys").set_value(["eq", "ne", "sim"]).run()
    assert not at.exception
    for a, b in (("eq", "ne"), ("eq", "sim")):
        code, doc = cli_json(capsys, monkeypatch, tmp_path / "cli-cache", "calibrate", files["multi"], files["data"],
                             "--agree", f"{a},{b}", "--json")
        ag = doc["agreement"]
        line = f"**{a}** and **{b}**: Spearman ρ **{ag['spearman']:.3f}** {iv(ag['interval'])}"
        flagged = [e.value for e in at.error if line in e.value]
        fine = [e.value for e in at.success if line in e.value]
        assert len(flagged + fine) == 1 and bool(flagged) == ag["flagged"] == (code == 3)
        table = next(d.value for d in at.dataframe if list(d.value.columns) == ["row", a, b])
        assert table.rename(columns={a: "a", b: "b"}).to_dict("records") == ag["disagreements"]
    assert any("under 0.8" in e.value for e in at.error)
