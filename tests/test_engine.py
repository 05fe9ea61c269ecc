import json
import random
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftstudio.api import Endpoint
from ftstudio.config import flatten
from ftstudio.grading import GradeOptions, InvalidGrader, explain, grade, grade_chunks, merge, prepare


def sc(inp="{{ sample.output_text }}", ref="{{ item.answer }}", op="eq", name="s"):
    return {"type": "string_check", "name": name, "input": inp, "reference": ref, "operation": op}


def ts(metric, inp="{{ sample.output_text }}", ref="{{ item.answer }}"):
    return {"type": "text_similarity", "name": metric, "input": inp, "reference": ref, "evaluation_metric": metric}


def multi(graders, formula, name="m"):
    return {"type": "multi", "name": name, "graders": graders, "calculate_output": formula}


def rewards(result):
    return list(result.rewards)


@pytest.mark.parametrize("op,pairs", [
    ("eq", [("Paris", "Paris", 1), ("paris", "Paris", 0), ("Paris ", "Paris", 0)]),
    ("ne", [("Paris", "Paris", 0), ("paris", "Paris", 1)]),
    ("like", [("It is Paris.", "Paris", 1), ("It is paris.", "Paris", 0), ("x", "", 1)]),
    ("ilike", [("IT IS PARIS", "paris", 1), ("Straße", "STRASSE", 1), ("London", "paris", 0)]),
])
def test_string_check_semantics(op, pairs):
    rows = [{"answer": ref, "model_sample": out} for out, ref, _ in pairs]
    assert rewards(grade(sc(op=op), rows)) == [float(want) for _, _, want in pairs]


def test_templates_render_non_strings_as_compact_json():
    rows = [{"answer": {"a": [1, "é"]}, "model_sample": '{"a":[1,"é"]}'}, {"answer": 3, "model_sample": "3"},
            {"answer": True, "model_sample": "true"}, {"answer": None, "model_sample": "null"}]
    assert rewards(grade(sc(), rows)) == [1.0, 1.0, 1.0, 1.0]


def test_error_rows_score_zero_and_carry_codes():
    g = multi({"a": sc(inp="{{ sample.output_json.x }}"), "b": sc(ref="{{ item.nope }}")}, "a + b")
    rows = [{"answer": "1", "model_sample": "not json"}, {"answer": "1", "model_sample": '{"x": "1"}'},
            {"answer": "1"}, "oops"]
    res = grade(g, rows)
    recs = list(res.records())
    assert [r["reward"] for r in recs] == [0.0] * 4
    assert recs[0]["errors"] == ["invalid_variable_error", "sample_parse_error"]
    assert recs[1]["errors"] == ["invalid_variable_error"] and recs[1]["sub_rewards"]["a"] == 1.0
    assert "'nope' does not exist" in recs[1]["error_details"]["invalid_variable_error"]
    assert recs[2]["errors"] == ["other_error"] and "model_sample" in recs[2]["error_details"]["other_error"]
    assert recs[3]["errors"] == ["other_error"]
    assert res.summary()["errors_by_code"] == {"invalid_variable_error": 2, "other_error": 2, "sample_parse_error": 1}


def test_sample_field_choice_and_item_excludes_it():
    rows = [{"answer": "yes", "out": "yes"}]
    assert rewards(grade(sc(), rows, sample_field="out")) == [1.0]
    g = sc(ref="{{ item.out }}")
    assert grade(g, rows, sample_field="out").record(0)["errors"] == ["invalid_variable_error"]


def test_multi_formula_runtime_errors():
    g = multi({"a": sc(), "b": sc(ref="{{ item.other }}")}, "a / b + log(a + 1)")
    rows = [{"answer": "x", "other": "x", "model_sample": "x"}, {"answer": "x", "other": "y", "model_sample": "x"}]
    res = grade(g, rows)
    assert res.record(0)["reward"] == pytest.approx(1 + 0.6931471805599453)
    rec = res.record(1)
    assert rec["reward"] == 0.0 and rec["errors"] == ["formula_parse_error"]
    assert "division by zero" in rec["error_details"]["formula_parse_error"]
    assert rec["sub_rewards"] == {"a": 1.0, "b": 0.0}


def test_invalid_grader_refused():
    with pytest.raises(InvalidGrader) as exc:
        grade(multi({"a": sc()}, "a +"), [{"answer": "x", "model_sample": "x"}])
    assert exc.value.issues[0].code == "formula_parse_error"
    with pytest.raises(InvalidGrader):
        grade(sc(inp="{{ sample.output }}"), [])
    # API-only problems do not stop local grading
    nested = multi({"n": multi({"x": sc()}, "x"), "c": ts("fuzzy_match")}, "n + c")
    assert rewards(grade(nested, [{"answer": "a", "model_sample": "a"}])) == [2.0]


WORDS = ["alpha", "beta", "gamma", "delta", "Alpha", "BETA", "x", "42", "é"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_flatten_gives_identical_rewards(data):
    rnd = random.Random(data.draw(st.integers(0, 10**6)))

    def leaf(i):
        kind = rnd.choice(["sc", "fuzzy_match", "rouge_1", "bleu"])
        ref = f"{{{{ item.f{i % 3} }}}}"
        return sc(ref=ref, op=rnd.choice(["eq", "like", "ilike"])) if kind == "sc" else ts(kind, ref=ref)

    inner = multi({"x": leaf(0), "y": leaf(1)}, rnd.choice(["x * y", "(x + y) / 2", "max(x, y) - min(x, y)", "x / y"]))
    g = multi({"a": leaf(2), "n": inner, "b": leaf(1)}, rnd.choice(["a + n * b", "(a + n + b) / 3", "n ^ 2 - a"]))
    rows = [{f"f{k}": " ".join(rnd.choices(WORDS, k=3)) for k in range(3)} for _ in range(30)]
    for r in rows:
        r["model_sample"] = " ".join(rnd.choices(WORDS, k=rnd.randint(0, 4)))
    nested, flat = grade(g, rows), grade(flatten(g), rows)
    assert rewards(nested) == pytest.approx(rewards(flat), abs=1e-12)
    assert [r["errors"] for r in nested.records()] == [r["errors"] for r in flat.records()]


def test_dataset_rows_keep_malformed_lines(tmp_path):
    from ftstudio.datasets import read_dataset

    path = tmp_path / "d.jsonl"
    path.write_text('{"answer": "a", "model_sample": "a"}\n{broken\n\n{"answer": "b", "model_sample": "c"}\n')
    res = grade(sc(), read_dataset(path))
    recs = list(res.records())
    assert [r["reward"] for r in recs] == [1.0, 0.0, 0.0]
    assert [r["line"] for r in recs] == [1, 2, 4]
    assert recs[1]["errors"] == ["other_error"] and "line 2" in recs[1]["error_details"]["other_error"]


def test_chunks_and_merge():
    rows = [{"answer": str(i % 3), "model_sample": str(i % 2)} for i in range(100)]
    whole = grade(sc(), rows)
    parts = list(grade_chunks(sc(), [rows[:40], rows[40:]]))
    assert [p.row_offset for p in parts] == [0, 40]
    assert list(merge(parts).rewards) == list(whole.rewards)
    assert parts[1].record(0)["row"] == 40


def test_cancel_marks_rows():
    ev = threading.Event()
    ev.set()
    res = grade(sc(), [{"answer": "a", "model_sample": "a"}], cancel=ev)
    assert res.cancelled and res.record(0)["errors"] == ["other_error"]


def test_summary_statistics():
    rows = [{"answer": "a", "model_sample": "a" if i < 3 else "b"} for i in range(4)]
    s = grade(sc(), rows).summary()
    assert s["count"] == 4 and s["mean"] == 0.75 and s["std"] == pytest.approx(0.4330127)
    assert s["quantiles"]["p50"] == 1.0 and s["quantiles"]["p0"] == 0.0 and s["error_rate"] == 0.0


def test_explain_shows_rendered_templates():
    g = multi({"a": sc(), "b": ts("fuzzy_match")}, "(a + b) / 2")
    out = explain(g, {"answer": "cat", "model_sample": "cats"})
    assert out["sub_rewards"]["a"] == 0.0 and out["sub_rewards"]["b"] == pytest.approx(6 / 7)
    node = [n for n in out["nodes"] if n["path"] == "graders.a"][0]
    assert node["rendered"] == {"input": "cats", "reference": "cat"}
    bad = explain(sc(ref="{{ item.zzz }}"), {"model_sample": "x"})
    assert bad["errors"] == ["invalid_variable_error"] and bad["nodes"][0]["rendered"]["reference"].startswith("⚠")


# --- model graders against the OpenAI stub over real HTTP -----------------------------------

def judge(content="Grade {{ sample.output_text }} {{ item.d }}", kind="score_model", **extra):
    g = {"type": kind, "name": "judge", "model": "gpt-4.1-mini-2025-04-14",
         "input": [{"role": "system", "content": "You grade."}, {"role": "user", "content": content}], **extra}
    if kind == "label_model":
        g.setdefault("labels", ["good", "bad"])
        g.setdefault("passing_labels", ["good"])
    return g


@pytest.fixture
def opts(openai_stub, tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return GradeOptions(endpoint=Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key), max_retries=2)


def test_score_model_outcomes(openai_stub, opts):
    rows = [{"d": d, "model_sample": "answer"} for d in
            ("[[score:0.25]]", "[[score:7]]", "[[score:-3]]", "[[score:abc]]", "[[refuse]]", "[[malformed]]",
             "[[empty]]")]
    res = grade(judge(range=[0, 5]), rows, options=opts)
    recs = list(res.records())
    assert [r["reward"] for r in recs[:3]] == [0.25, 5.0, 0.0]
    assert [r["errors"] for r in recs[3:]] == [["model_grader_parse_error"], ["model_grader_refusal_error"],
                                              ["model_grader_parse_error"], ["model_grader_parse_error"]]
    usage = res.summary()["token_usage"]["gpt-4.1-mini-2025-04-14"]
    assert usage["requests"] == 7 and usage["prompt_tokens"] > 0
    sent = [r.json for r in openai_stub.requests_to("/chat/completions")
            if "[[score:0.25]]" in r.json["messages"][1]["content"]][0]  # requests run concurrently: find row 0's
    assert sent["response_format"]["json_schema"]["schema"]["required"] == ["steps", "result"]
    assert sent["messages"][1]["content"] == "Grade answer [[score:0.25]]"


def test_label_model_and_sampling_params(openai_stub, opts):
    g = judge(kind="label_model", sampling_params={"temperature": 0, "seed": 3, "max_completions_tokens": 50})
    rows = [{"d": "[[label:good]]", "model_sample": "a"}, {"d": "[[label:bad]]", "model_sample": "b"},
            {"d": "[[label:meh]]", "model_sample": "c"}]
    recs = list(grade(multi({"j": g}, "j"), rows, options=opts).records())
    assert [r["reward"] for r in recs] == [1.0, 0.0, 0.0] and recs[2]["errors"] == ["model_grader_parse_error"]
    sent = openai_stub.requests_to("/chat/completions")[0].json  # every request carries the same params
    assert (sent["temperature"], sent["seed"], sent["max_completion_tokens"]) == (0, 3, 50)
    assert sent["response_format"]["json_schema"]["schema"]["properties"]["result"]["enum"] == ["good", "bad"]


@pytest.mark.slow
def test_server_errors_retries_and_cache(openai_stub, opts):
    rows = [{"d": f"[[score:0.{i}]]", "model_sample": "x"} for i in range(1, 6)]
    openai_stub.fail_next(429, times=2, path="/chat/completions", retry_after=0.01)
    first = grade(judge(), rows, options=opts)
    assert list(first.rewards) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    calls = len(openai_stub.requests_to("/chat/completions"))
    assert calls == 7  # 5 answers + 2 retried 429s
    again = grade(judge(), rows, options=opts)
    assert list(again.rewards) == list(first.rewards)
    assert len(openai_stub.requests_to("/chat/completions")) == calls  # fully cached
    assert again.summary()["token_usage"]["gpt-4.1-mini-2025-04-14"]["cache_hits"] == 5
    openai_stub.fail_next(500, times=10, path="/chat/completions")
    res = grade(judge(), [{"d": "new", "model_sample": "y"}], options=opts)
    assert res.record(0)["errors"] == ["model_grader_server_error"]
    assert "HTTP 500" in res.record(0)["error_details"]["model_grader_server_error"]


def test_auth_error_never_shows_the_key(openai_stub, opts):
    bad = GradeOptions(endpoint=Endpoint(base_url=openai_stub.base_url, api_key="sk-wrong-key-1234567890abcdef"),
                       use_cache=False)
    rec = grade(judge(), [{"d": "", "model_sample": "x"}], options=bad).record(0)
    details = rec["error_details"]["model_grader_server_error"]
    assert "401" in details and "check the API key" in details and "sk-wrong" not in json.dumps(rec)


def test_no_endpoint_is_a_clear_row_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    rec = grade(judge(), [{"d": "", "model_sample": "x"}]).record(0)
    assert rec["errors"] == ["model_grader_server_error"]
    assert "no model endpoint configured" in rec["error_details"]["model_grader_server_error"]
    rec = grade(ts("cosine"), [{"answer": "a", "model_sample": "a"}]).record(0)
    assert rec["errors"] == ["other_error"] and "embeddings" in rec["error_details"]["other_error"]


def test_cosine_through_embeddings(openai_stub, opts):
    rows = [{"answer": "the cat sat on the mat", "model_sample": "the cat sat on the mat"},
            {"answer": "the cat sat on the mat", "model_sample": "a cat sat on a mat"},
            {"answer": "the cat sat on the mat", "model_sample": "quantum chromodynamics lecture"}]
    r = list(grade(ts("cosine"), rows, options=opts).rewards)
    assert r[0] == pytest.approx(1.0) and r[0] > r[1] > r[2]
    body = openai_stub.requests_to("/embeddings")[0].json
    assert body["model"] == "text-embedding-3-large"


def test_identical_requests_are_sent_once(openai_stub, opts):
    rows = [{"d": "[[score:0.5]]", "model_sample": "same"}] * 6
    res = grade(judge(), rows, options=opts)
    assert list(res.rewards) == [0.5] * 6 and len(openai_stub.requests_to("/chat/completions")) == 1


def test_prepare_serialises_non_string_outputs():
    batch = prepare([{"model_sample": {"label": "x"}}])
    assert batch.samples[0].output_text == '{"label":"x"}'


def test_python_grader_through_the_engine():
    source = ("import json\n"
              "def grade(sample, item):\n"
              "    if item.get('boom'):\n"
              "        raise ValueError('bad row')\n"
              "    if item.get('text'):\n"
              "        return 'not a number'\n"
              "    data = sample['output_json'] or {}\n"
              "    return 1.0 if data.get('label') == item['label'] and 'model_sample' not in item else 0.0\n")
    g = {"type": "python", "name": "py", "source": source}
    rows = [{"label": "a", "model_sample": '{"label": "a"}'}, {"label": "a", "model_sample": "plain"},
            {"label": "a", "boom": True, "model_sample": "x"}, {"label": "a", "text": True, "model_sample": "x"}]
    recs = list(grade(g, rows, options=GradeOptions(python_timeout=20, python_workers=1)).records())
    assert [r["reward"] for r in recs] == [1.0, 0.0, 0.0, 0.0]
    assert recs[2]["errors"] == ["python_grader_runtime_error"]
    assert "ValueError: bad row" in recs[2]["error_details"]["python_grader_runtime_error"]
    assert recs[3]["errors"] == ["python_grader_runtime_error"]


def test_huge_texts_are_row_errors_not_hangs():
    rows = [{"answer": "x" * 150_000, "model_sample": "y" * 150_000}, {"answer": "abc", "model_sample": "abc"}]
    recs = list(grade(ts("fuzzy_match"), rows).records())
    assert recs[0]["errors"] == ["other_error"] and "characters" in recs[0]["error_details"]["other_error"]
    assert recs[1]["reward"] == 1.0


@pytest.mark.slow
def test_malformed_and_slow_answers_are_row_errors(openai_stub, tmp_path, monkeypatch):
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    fast_fail = GradeOptions(endpoint=Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key,
                                               timeout=0.5), max_retries=1, use_cache=False)
    openai_stub.malformed_next(times=2, path="/chat/completions")  # the call and its one retry
    rec = grade(judge(), [{"d": "[[score:0.3]]", "model_sample": "x"}], options=fast_fail).record(0)
    assert rec["errors"] == ["model_grader_server_error"] and rec["reward"] == 0.0
    openai_stub.slow_next(3.0, times=2, path="/chat/completions")
    rec = grade(judge(), [{"d": "[[score:0.3]]", "model_sample": "y"}], options=fast_fail).record(0)
    assert rec["errors"] == ["model_grader_server_error"] and "timed out" in rec["error_details"]["model_grader_server_error"]
    ok = grade(judge(), [{"d": "[[score:0.3]]", "model_sample": "z"}], options=fast_fail).record(0)
    assert ok["reward"] == 0.3, ok["error_details"]  # the endpoint works again: nothing stuck


def test_text_similarity_rows_over_the_length_limit_are_errors_and_the_rest_grade():
    limit = 200_000  # MAX_SIMILARITY_CHARS: input and reference together
    g = {"type": "text_similarity", "name": "fz", "input": "{{ sample.output_text }}",
         "reference": "{{ item.ref }}", "evaluation_metric": "fuzzy_match"}
    long = "x" * (limit // 2 + 1)
    rows = [{"model_sample": "abc", "ref": "abc"}, {"model_sample": long, "ref": long},
            {"model_sample": "abc"}, {"model_sample": "abd", "ref": "abc"}] * 50  # over the batch threshold
    res = grade(g, rows)
    assert list(res.rewards[:4]) == [1.0, 0.0, 0.0, pytest.approx(2 / 3)]
    assert "characters together" in res.record(1)["error_details"]["other_error"]
    assert res.record(2)["errors"] and not res.record(0)["errors"] and not res.record(3)["errors"]
    fits = "x" * (limit // 2 - 1)
    assert not grade(g, [{"model_sample": fits, "ref": fits}]).errors
    # the fast path (every row renders and fits) gives the same numbers
    clean = grade(g, [r for i, r in enumerate(rows) if i % 4 in (0, 3)])
    assert list(clean.rewards[:2]) == [1.0, pytest.approx(2 / 3)] and not clean.errors
