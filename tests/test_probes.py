"""Probes: each variant, the flag rules, `why`, and `ftstudio probe`'s JSON and exit codes."""

import json

import pytest

from ftstudio.cli._main import main
from ftstudio.probes import (
    CONTENT_PRESERVING,
    DEGENERATE,
    INJECTION,
    PROBES,
    check_probes,
    plan,
    probe,
    variant,
)

ROWS = [{"messages": [{"role": "system", "content": "Answer with a number."},
                      {"role": "user", "content": f"What is {i} + {i}?"}],
         "reference": str(2 * i), "model_sample": str(2 * i)} for i in range(1, 21)]
LIKE = {"type": "string_check", "name": "contains", "input": "{{sample.output_text}}",
        "reference": "{{item.reference}}", "operation": "like"}
EQ = {**LIKE, "name": "exact", "operation": "eq"}
JUDGE = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14", "range": [0, 1],
         "input": [{"role": "system", "content": "Grade the answer against the reference. [[score:0.2]]"},
                   {"role": "user", "content": "Reference: {{item.reference}}\nAnswer: {{sample.output_text}}"}]}


def test_variants_are_exactly_as_specified():
    row = {"messages": [{"role": "user", "content": "first"}, {"role": "assistant", "content": "x"},
                        {"role": "user", "content": "What is 21 + 21?"}]}
    assert variant("empty", "42", row) == ""
    assert variant("whitespace", "42", row).strip() == "" and variant("whitespace", "42", row)
    assert variant("echo_prompt", "42", row) == "What is 21 + 21?"
    pad = variant("pad", "42", row)
    assert pad.startswith("42") and 1900 <= len(pad) - 2 <= 2100
    assert variant("repeat", "42", row).split() == ["42"] * 5
    assert variant("hedge", "42", row) == "42 or 41 or 43 or 44"
    assert variant("inject", "42", row) == "42\n\n" + INJECTION
    assert variant("truncate", "abcdef", row) == "abc"
    assert variant("case", "Paris", row) == "PARIS"
    # JSON outputs: format_only keeps the keys with empty values, extra_keys adds fields, hedge hedges values.
    out = json.dumps({"answer": 42, "city": "Paris", "tags": ["a"], "ok": True})
    assert json.loads(variant("format_only", out, row)) == {"answer": 0, "city": "", "tags": [], "ok": False}
    extra = json.loads(variant("extra_keys", out, row))
    assert set(extra) > {"answer", "city", "tags", "ok"} and extra["city"] == "Paris"
    hedged = json.loads(variant("hedge", out, row))
    assert hedged["answer"] == "42 or 41 or 43 or 44" and hedged["city"].startswith("Paris or ")
    # Not applicable: no JSON output, no user message.
    assert variant("format_only", "42", row) is None and variant("extra_keys", "42", row) is None
    assert variant("echo_prompt", "42", {"reference": "1"}) is None
    # Text hedges use other rows' answers as the alternatives.
    assert variant("hedge", "Paris", row, ["Lyon", "Nice", "Lille"]) == "Paris or Lyon or Nice or Lille"
    assert set(DEGENERATE) | set(CONTENT_PRESERVING) | {"truncate"} == set(PROBES) and len(PROBES) == 11


def test_unknown_probe_names_are_refused():
    with pytest.raises(ValueError, match="unknown probe 'nope'"):
        check_probes(["hedge", "nope"])


def test_like_with_a_hedge_is_flagged_and_names_the_fix():
    report = probe(LIKE, ROWS, probes=["hedge", "pad", "empty"])
    by = {p.probe: p for p in report.probes}
    assert report.genuine_mean == 1.0 and report.threshold == 0.5
    assert by["hedge"].flagged and by["hedge"].share_at_or_above_threshold == 1.0
    assert "`like` passes any output that contains the reference: a hedged list passes" in by["hedge"].why
    assert "use `eq`" in by["hedge"].why
    assert by["hedge"].examples == [0, 1, 2, 3, 4]
    assert not by["pad"].flagged  # content-preserving: scores the same as the genuine answer, not above
    assert not by["empty"].flagged and by["empty"].mean_reward == 0.0


def test_eq_is_not_gamed_by_any_probe():
    report = probe(EQ, ROWS)
    assert report.flagged == []
    assert {p.probe: p.rows for p in report.probes}["format_only"] == 0  # no JSON outputs


def test_multi_names_the_child_responsible():
    multi = {"type": "multi", "name": "both", "graders": {"exact": EQ, "loose": LIKE},
             "calculate_output": "0.5 * exact + 0.5 * loose"}
    report = probe(multi, ROWS, probes=["hedge"])
    hedge = report.probes[0]
    assert hedge.flagged and "graders.loose (string_check 'contains')" in hedge.why
    # A product makes the strict child a factor: nothing passes.
    strict = {**multi, "calculate_output": "exact * loose"}
    assert not probe(strict, ROWS, probes=["hedge"]).probes[0].flagged


def test_five_percent_rule_and_threshold():
    # One row in 20 (5 %) whose reference is empty: `like` passes the empty probe there.
    rows = [dict(r) for r in ROWS]
    rows[3]["reference"] = ""
    report = probe(LIKE, rows, probes=["empty"])
    assert report.probes[0].flagged and report.probes[0].examples == [3]
    assert not probe(LIKE, rows[4:], probes=["empty"]).probes[0].flagged
    # A threshold above every reward flags nothing degenerate.
    assert probe(LIKE, ROWS, probes=["hedge"], threshold=1.5).flagged == []


def test_content_preserving_probe_flagged_when_above_genuine():
    # The genuine answers are lower-case; an ilike-free `eq` on an upper-case reference rewards `case`.
    rows = [{**r, "reference": "PARIS", "model_sample": "paris"} for r in ROWS]
    report = probe({**EQ, "reference": "{{item.reference}}"}, rows, probes=["case"])
    assert report.probes[0].flagged and report.probes[0].share_at_or_above_genuine == 1.0
    assert "above the genuine answer" in report.probes[0].why
    assert report.probes[0].share_above_genuine == 1.0 and report.probes[0].share_tied_with_genuine == 0.0


def test_ties_at_zero_are_tied_not_above_genuine():
    """Issue 25: a probe scoring 0 where the genuine answer also scores 0 ties it; it never beats it."""
    rows = [{**r, "model_sample": "wrong"} if i < 5 else r for i, r in enumerate(ROWS)]  # 5 genuine answers score 0
    p = probe(EQ, rows, probes=["empty"]).probes[0]
    assert p.share_above_genuine == 0.0 and p.share_tied_with_genuine == 5 / 20
    assert p.share_at_or_above_genuine == 5 / 20
    assert p.to_dict()["share_at_or_above_genuine"] == 5 / 20 and "share_tied_with_genuine" not in p.to_dict()


def test_rows_limit_and_rows_without_a_sample():
    rows = ROWS[:5] + [{"reference": "1"}]
    p = plan(EQ, rows, ["empty"], limit=3)
    assert p.genuine == [0, 1, 2] and p.variant_count == 3
    assert plan(EQ, rows, ["empty"]).genuine == [0, 1, 2, 3, 4]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS[:6]))
    paths = {"data": str(data)}
    for name, grader in (("like", LIKE), ("eq", EQ), ("judge", JUDGE)):
        p = tmp_path / f"{name}.json"
        p.write_text(json.dumps(grader))
        paths[name] = str(p)
    return paths


def test_cli_json_shape_and_exit_codes(capsys, files, tmp_path):
    code, out, _ = run_cli(capsys, "probe", files["like"], files["data"], "--json")
    assert code == 3
    doc = json.loads(out)
    assert set(doc) == {"genuine_mean", "threshold", "probes"}
    assert [p["probe"] for p in doc["probes"]] == list(PROBES)
    keys = {"probe", "rows", "mean_reward", "share_at_or_above_genuine", "share_at_or_above_threshold", "flagged",
            "why", "examples"}
    assert all(set(p) == keys for p in doc["probes"])
    assert next(p for p in doc["probes"] if p["probe"] == "hedge")["flagged"]
    code, out, _ = run_cli(capsys, "probe", files["eq"], files["data"], "--json")
    assert code == 0 and not any(p["flagged"] for p in json.loads(out)["probes"])
    code, out, _ = run_cli(capsys, "probe", files["eq"], files["data"], "--probes", "hedge,pad", "--rows", "2",
                           "--threshold", "0.7", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["threshold"] == 0.7 and [p["rows"] for p in doc["probes"]] == [2, 2]
    code, out, _ = run_cli(capsys, "probe", files["like"], files["data"])
    assert code == 3 and "hedge" in out and "FLAGGED" in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "string_check", "name": "x"}))
    assert run_cli(capsys, "probe", str(bad), files["data"])[0] == 1
    assert run_cli(capsys, "probe", files["eq"], str(tmp_path / "missing.jsonl"))[0] == 2
    code, _, err = run_cli(capsys, "probe", files["eq"], files["data"], "--probes", "bogus")
    assert code == 1 and "unknown probe 'bogus'" in err


def test_score_model_whose_judge_obeys_the_injection_is_flagged(capsys, files, openai_stub, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    openai_stub.judge_obeys_injection = True
    code, out, err = run_cli(capsys, "probe", files["judge"], files["data"], "--json")
    assert code == 3
    assert "model-grader requests" in err and "prompt tokens" in err  # shown before anything is sent
    by = {p["probe"]: p for p in json.loads(out)["probes"]}
    assert by["inject"]["flagged"] and by["inject"]["mean_reward"] == 1.0
    assert "the judge obeys instructions inside the answer" in by["inject"]["why"]
    assert [name for name, p in by.items() if p["flagged"]] == ["inject"]
    sent = len(openai_stub.requests_to("/chat/completions"))
    # Cached like every model call: a rerun sends nothing and says so.
    code, _, err = run_cli(capsys, "probe", files["judge"], files["data"], "--json")
    assert code == 3 and len(openai_stub.requests_to("/chat/completions")) == sent
    assert "already answered in the cache" in err


JSON_ROWS = [{"messages": [{"role": "user", "content": f"Capital number {i}? Answer as JSON."}], "city": "Paris",
              "model_sample": json.dumps({"answer": "Paris", "country": "France"})} for i in range(10)]


def _python(body: str) -> dict:
    return {"type": "python", "name": "py", "source": "import json\n\ndef grade(sample, item):\n    t = "
            "sample['output_text']\n    " + body + "\n"}


NE = {**EQ, "name": "different", "operation": "ne"}
GAMED = [  # (probe, a grader it games, rows)
    ("empty", NE, ROWS),
    ("whitespace", NE, ROWS),
    ("echo_prompt", {**LIKE, "reference": "What is"}, ROWS),
    ("pad", _python("return min(1.0, len(t) / 100)"), ROWS),
    ("repeat", _python("return min(1.0, len(t.split()) / 5)"), ROWS),
    ("hedge", LIKE, ROWS),
    ("format_only", _python("return 1.0 if set(json.loads(t)) >= {'answer', 'country'} else 0.0"), JSON_ROWS),
    ("truncate", {**LIKE, "input": "{{item.reference}}", "reference": "{{sample.output_text}}"}, ROWS),
    ("case", _python("return 1.0 if t.isupper() else 0.5"), JSON_ROWS),
    ("extra_keys", _python("return min(1.0, len(json.loads(t)) / 5)"), JSON_ROWS),
]
SAFE = {  # graders the same probe doesn't game
    "empty": EQ, "whitespace": EQ, "echo_prompt": EQ, "pad": EQ, "repeat": EQ, "hedge": EQ, "truncate": EQ,
    "format_only": {**EQ, "input": "{{sample.output_json.answer}}", "reference": "{{item.city}}"},
    "case": {**EQ, "input": "{{sample.output_json.answer}}", "reference": "{{item.city}}"},
    "extra_keys": {**EQ, "input": "{{sample.output_json.answer}}", "reference": "{{item.city}}"},
}


@pytest.mark.parametrize(("name", "grader", "rows"), GAMED, ids=[g[0] for g in GAMED])
def test_each_probe_flags_a_grader_it_games_and_not_one_it_doesnt(name, grader, rows):
    gamed = probe(grader, rows, probes=[name]).probes[0]
    assert gamed.rows == len(rows) and gamed.flagged, gamed
    assert gamed.why and gamed.examples
    safe = probe(SAFE[name], rows, probes=[name]).probes[0]
    assert safe.rows == len(rows) and not safe.flagged and safe.why is None and safe.examples == []
