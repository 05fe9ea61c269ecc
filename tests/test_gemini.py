"""Target gemini: the export validates with google-genai's own types; the exported scorers, run locally as
Gemini documents them, give `ftstudio grade`'s rewards (after the map onto [-1, 1]) on the presets and the
conformance corpus; `ftstudio serve`'s /gemini gives the same; convert writes valid examples."""

from __future__ import annotations

import json
import math

import pytest

from ftstudio.cli import main
from ftstudio.graders import parse_grader
from ftstudio.grading import GradeOptions, grade
from ftstudio.targets import export_gemini, gemini_row, gemini_runtime, re2_escape, reward_range
from ftstudio.validation import check_grader
from tests.providers import CORPUS, PRESETS, QUIZ, gemini_reward, grader_of, need, rows
from tests.serve_process import ServeProcess
from tests.test_corpus import PAIRS

TOL = 1e-9
GEMINI_TYPES = "google.genai.types"


def _exports():
    """(name, grader JSON, dataset rows) for every preset and every corpus pairing with an RFT-shaped tree."""
    out = [(p.name, grader_of(json.loads(p.read_text())), rows(QUIZ)) for p in PRESETS]
    for data, configs in PAIRS.items():
        if not (CORPUS / "data" / data).is_file():
            continue
        for name in configs:
            out.append((name, grader_of(json.loads((CORPUS / "configs" / name).read_text())),
                        rows(CORPUS / "data" / data)))
    return out


CASES = _exports()


def _validated(document: dict):
    types = need(GEMINI_TYPES)
    assert len(document) == 1, document.keys()
    (key, value), = document.items()
    cls = {"singleRewardConfig": types.SingleReinforcementTuningRewardConfig,
           "compositeRewardConfig": types.CompositeReinforcementTuningRewardConfig}[key]
    model = cls.model_validate(value)  # unknown fields are rejected by these types
    assert model.model_dump(mode="json", by_alias=True, exclude_none=True) == value
    return model


@pytest.mark.parametrize("name,grader,_rows", CASES, ids=[c[0] for c in CASES])
def test_export_validates_with_google_genai(name, grader, _rows):
    _validated(export_gemini(parse_grader(grader)).document)


def _example(row: dict) -> tuple[dict, dict]:
    item = {k: v for k, v in row.items() if k not in ("model_sample", "messages")}
    refs, _ = gemini_runtime.ftstudio_references(item)
    return {"contents": [{"role": "user", "parts": [{"text": "q"}]}], "references": refs}, \
        {"role": "model", "parts": [{"text": row["model_sample"]}]}


@pytest.mark.slow
@pytest.mark.parametrize("name,grader,data", CASES, ids=[c[0] for c in CASES])
def test_exported_scorers_give_ftstudio_rewards(name, grader, data, monkeypatch, tmp_path):
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FTSTUDIO_HOME", str(tmp_path))
    model = parse_grader(grader)
    export = export_gemini(model)
    data = [r for r in data if isinstance(r.get("model_sample"), str)]
    result = grade(model, data, options=GradeOptions(use_cache=False))
    compared = 0
    for i, row in enumerate(data):
        if i in result.errors:  # an error row scores 0 in ftstudio; Gemini's scorers say nothing about it
            continue
        example, response = _example(row)

        def cloud_run(uri: str, ex: dict, resp: dict, i=i) -> float:
            key = uri.rsplit("/gemini", 1)[1].lstrip("/") or None
            value = result.rewards[i] if key is None else result.sub_rewards[key][i]
            affine = export.affine if key is None else export.affine_for(key)
            assert affine is not None, uri
            return affine(value)

        if not export.exact:
            continue
        got = gemini_reward(export.document, example, response, cloud_run)
        want = export.affine(result.rewards[i])
        if export.range.assumed and not -1 <= want <= 1:
            want = max(min(want, 1.0), -1.0)  # a python reward outside the assumed [0, 1]: Gemini clips
        assert math.isclose(got, want, abs_tol=TOL), (name, i, got, want)
        compared += 1
    if export.exact and len(result.errors) < len(data):
        assert compared


def test_a_range_outside_minus_one_one_is_mapped_and_said():
    tree = {"type": "multi", "name": "m", "calculate_output": "2 * a + b - 1",
            "graders": {"a": {"type": "string_check", "name": "a", "input": "{{sample.output_text}}",
                              "reference": "{{item.x}}", "operation": "eq"},
                        "b": {"type": "string_check", "name": "b", "input": "{{sample.output_text}}",
                              "reference": "{{item.y}}", "operation": "ne"}}}
    export = export_gemini(parse_grader(tree))
    assert (export.range.lo, export.range.hi) == (-1.0, 2.0)
    assert math.isclose(export.affine.scale, 2 / 3) and math.isclose(export.affine.offset, -1 / 3)
    assert "affine map onto Gemini's [-1, 1]: reward_gemini = " in export.summary()
    issues = check_grader(tree, target="gemini")
    assert "gemini_reward_mapped" in {i.code for i in issues if i.severity == "warning"}
    data = [{"x": "p", "y": "q", "model_sample": s} for s in ("p", "q", "r")]
    result = grade(parse_grader(tree), data)
    for i, row in enumerate(data):
        example, response = _example(row)
        got = gemini_reward(export.document, example, response, None)
        assert math.isclose(got, export.affine(result.rewards[i]), abs_tol=TOL)
    # each child of the composite stays inside [-1, 1]
    for part in export.parts:
        s = part.config["stringMatchRewardScorer"]
        assert -1 <= s["correctAnswerReward"] <= 1 and -1 <= s["wrongAnswerReward"] <= 1


def test_no_map_inside_the_range_and_no_note():
    tree = {"type": "string_check", "name": "eq", "input": "{{sample.output_text}}", "reference": "{{item.a}}",
            "operation": "eq"}
    export = export_gemini(parse_grader(tree))
    assert export.affine.identity and "none (the range lies inside)" in export.summary()
    assert not [i for i in check_grader(tree, target="gemini") if i.code == "gemini_reward_mapped"]


def test_string_check_operations_translate_as_documented():
    def sc(op, ref="{{item.a}}"):
        node = {"type": "string_check", "name": "s", "input": "{{sample.output_text}}", "reference": ref,
                "operation": op}
        return export_gemini(parse_grader(node)).document["singleRewardConfig"]
    assert sc("eq")["stringMatchRewardScorer"]["stringMatchExpression"] == {
        "matchOperation": "EXACT_MATCH", "expression": "{{references.a}}"}
    assert sc("like")["stringMatchRewardScorer"]["stringMatchExpression"]["matchOperation"] == "PARTIAL_MATCH"
    ne = sc("ne")["stringMatchRewardScorer"]
    assert (ne["correctAnswerReward"], ne["wrongAnswerReward"]) == (0.0, 1.0)
    ilike = sc("ilike", "a.b (c)")["stringMatchRewardScorer"]["stringMatchExpression"]
    assert ilike == {"matchOperation": "REGEX_CONTAINS", "expression": r"(?i)a\.b \(c\)"}
    assert "cloudRunRewardScorer" in sc("ilike")  # a reference from the row would be read as a pattern
    assert re2_escape("x+y") == r"x\+y"


def test_non_string_references_round_trip():
    item = {"answer": "4", "n": 4, "tags": ["a", "b"], "obj": {"k": None}}
    refs, encoded = gemini_runtime.ftstudio_references(item)
    assert all(isinstance(v, str) for v in refs.values()) and encoded == ["n", "tags", "obj"]
    assert gemini_runtime.ftstudio_item({"references": refs}) == item
    # a string that looks like JSON stays a string: only listed keys are decoded
    assert gemini_runtime.ftstudio_item({"references": {"answer": "4"}}) == {"answer": "4"}


def test_runtime_sample_is_the_engines_sample():
    from ftstudio.graders import Sample

    for text in ("plain", '{"a": 1}', '{"output_tools": [1], "choices": [2]}', "[1, 2]", "", "nan", "1e400"):
        assert gemini_runtime.ftstudio_sample(text) == Sample(text).as_dict(), text


def test_python_reward_outside_the_assumed_range_is_flagged():
    tree = {"type": "python", "name": "p", "source": "def grade(sample, item):\n    return 5\n"}
    codes = {i.code for i in check_grader(tree, target="gemini")}
    assert "gemini_range_assumed" in codes
    assert reward_range(parse_grader(tree)).assumed == ("python",)


def test_cli_export_and_validate(tmp_path, capsys):
    preset = str(PRESETS[0].parent / "rft-safety-label.json")
    out = tmp_path / "reward.json"
    assert main(["export", preset, "--format", "gemini", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    assert list(document) == ["compositeRewardConfig"]
    err = capsys.readouterr().err
    assert "Gemini reward config: compositeRewardConfig" in err and "gemini_autorater_unavailable" in err
    assert main(["validate", "--target", "gemini", "--json", preset]) == 0
    codes = {i["code"] for i in json.loads(capsys.readouterr().out)}
    assert {"gemini_autorater_unavailable", "gemini_ilike"} <= codes
    assert "openai_jobs_closing" not in codes and "label_model_in_multi" not in codes
    _validated(document)


def test_convert_to_gemini(tmp_path, capsys):
    types = need(GEMINI_TYPES)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in [
        {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "2+2?"}],
         "answer": "4", "n": 4, "model_sample": "4"},
        {"messages": [{"role": "user", "content": [{"type": "input_text", "text": "see"},
                                                   {"type": "input_image", "image_url": "http://x"}]}],
         "answer": "cat"},
        {"messages": [{"role": "assistant", "content": "only me"}], "answer": "x"},
    ]))
    out = tmp_path / "out.jsonl"
    assert main(["convert", str(src), "--method", "reinforcement", "--to", "gemini", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "line 3: no user message" in err and "dropped model_sample from 1 row(s)" in err
    assert "dropped messages[].content[] (input_image) from 1 row(s)" in err and "n (1 rows)" in err
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 2
    for line in lines:
        types.ReinforcementTuningExample.model_validate(line)
        assert all(isinstance(v, str) for v in line["references"].values())
    assert lines[0]["systemInstruction"] == {"parts": [{"text": "be brief"}]}
    assert gemini_row({"messages": [{"role": "user", "content": "q"}], "n": 4}).encoded == ["n"]


SERVE_TREE = {
    "type": "multi", "name": "mixed", "calculate_output": "2 * exact + fuzzy + length",
    "graders": {
        "exact": {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
                  "reference": "{{item.reference_answer}}", "operation": "eq"},
        "fuzzy": {"type": "text_similarity", "name": "fuzzy", "input": "{{sample.output_text}}",
                  "reference": "{{item.reference_answer}}", "evaluation_metric": "fuzzy_match"},
        "length": {"type": "python", "name": "length",
                   "source": "def grade(sample, item):\n    return min(len(sample['output_text']), item['cap']) / 10\n"},
    },
}
SERVE_ROWS = [{"model_sample": s, "reference_answer": "Paris", "cap": 10}
              for s in ("Paris", "paris, France", "Lyon", "", "Paris Paris Paris")]


@pytest.mark.slow
def test_serve_gemini_equals_grade(tmp_path):
    (tmp_path / "grader.json").write_text(json.dumps(SERVE_TREE))
    export = export_gemini(parse_grader(SERVE_TREE))
    assert not export.affine.identity  # [0, 4] is outside [-1, 1]
    result = grade(parse_grader(SERVE_TREE), SERVE_ROWS, options=GradeOptions(use_cache=False))
    with ServeProcess(str(tmp_path / "grader.json"), "--port", "0") as server:
        for i, row in enumerate(SERVE_ROWS):
            example, response = _example(row)
            status, body = server.post("/gemini", {"example": example, "response": response,
                                                   "metadata": {"step": 1, "tuning_job_id": 7}})
            assert status == 200 and math.isclose(body["reward"], export.affine(result.rewards[i]), abs_tol=TOL)

            def cloud_run(uri, ex, resp):
                code, answer = server.post("/gemini/" + uri.rsplit("/", 1)[1], {"example": ex, "response": resp})
                assert code == 200, answer
                return answer["reward"]
            got = gemini_reward(export.document, example, response, cloud_run)
            assert math.isclose(got, export.affine(result.rewards[i]), abs_tol=TOL)
        status, body = server.post("/gemini/nope", {"example": {}, "response": {"parts": []}})
        assert status == 404 and body["error"]["code"] == "not_found"
        status, body = server.post("/gemini", {"example": {"references": {"a": 1}}, "response": {}})
        assert status == 400 and "example.references" in body["error"]["message"]


def test_model_graders_on_gemini_models_become_autoraters():
    judge = {"type": "score_model", "name": "judge", "model": "gemini-2.5-flash", "range": [0, 1],
             "sampling_params": {"temperature": 0.2},
             "input": [{"role": "system", "content": "Grade the answer."},
                       {"role": "user", "content": "Answer: {{sample.output_text}}\nReference: {{item.answer}}"}]}
    export = export_gemini(parse_grader(judge))
    scorer = export.document["singleRewardConfig"]["autoraterScorer"]
    assert "{{response}}" in scorer["autoraterPrompt"] and "{{references.answer}}" in scorer["autoraterPrompt"]
    assert scorer["autoraterConfig"]["autoraterModel"].endswith("/publishers/google/models/gemini-2.5-flash")
    assert scorer["autoraterConfig"]["generationConfig"] == {"temperature": 0.2}
    assert "parsedResponseConversionScorer" in scorer and not export.exact
    _validated(export.document)
    label = {"type": "label_model", "name": "safe", "model": "gemini-2.5-pro", "labels": ["safe", "unsafe"],
             "passing_labels": ["safe"], "input": [{"role": "user", "content": "Is {{sample.output_text}} safe?"}]}
    exact = export_gemini(parse_grader(label)).document["singleRewardConfig"]["autoraterScorer"]["exactMatchScorer"]
    assert exact == {"correctAnswerReward": 1.0, "wrongAnswerReward": 0.0, "expression": "safe"}
    _validated(export_gemini(parse_grader(label)).document)
    # an OpenAI judge, or a score the autorater can't rescale: Cloud Run
    openai_judge = dict(judge, model="gpt-4.1-mini-2025-04-14")
    assert "cloudRunRewardScorer" in export_gemini(parse_grader(openai_judge)).document["singleRewardConfig"]
    wide = dict(judge, range=[0, 10])
    assert "cloudRunRewardScorer" in export_gemini(parse_grader(wide)).document["singleRewardConfig"]
    assert "gemini_autorater_unavailable" in {i.code for i in check_grader(wide, target="gemini")}
