"""Agreement statistics against their reference implementations, and `ftstudio calibrate` /
`ftstudio compare-graders` (issue 24, parts 2-4)."""

import json
import random

import pytest
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score

from ftstudio.cli._main import main
from ftstudio.probes import (
    bootstrap,
    kappa,
    label_agreement,
    label_passes,
    mean_interval,
    self_consistency,
    spearman,
    spearman_interval,
    threshold_max_kappa,
)

RNG = random.Random(7)
A = [RNG.choice([0.0, 0.25, 0.5, 0.75, 1.0]) for _ in range(80)]   # ties on purpose
B = [min(1.0, max(0.0, x + RNG.choice([-0.25, 0.0, 0.0, 0.25]))) for x in A]


def test_kappa_equals_sklearn():
    for t in (0.25, 0.5, 0.75):
        a = [x >= t for x in A]
        b = [x >= t for x in B]
        assert kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
    a, b = [True, False, True, True], [True, True, False, True]
    assert kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
    assert kappa([True] * 5, [True] * 5) is None  # sklearn: nan (0/0)


def test_spearman_equals_scipy():
    assert spearman(A, B) == pytest.approx(spearmanr(A, B).statistic, abs=1e-12)
    x = [3.0, 1.0, 2.0, 2.0, 5.0, 4.0]
    y = [0.1, 0.3, 0.2, 0.25, 0.9, 0.9]
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    assert spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) is None


def test_intervals_are_seeded_percentile_bootstraps():
    iv = spearman_interval(A, B)
    assert iv == spearman_interval(A, B)  # seeded: the same every run
    assert iv[0] <= spearman(A, B) <= iv[1] and -1 <= iv[0] < iv[1] <= 1
    calls = []
    bootstrap(lambda idx: calls.append(len(idx)) or 0.0, 7)
    assert calls == [7] * 1000
    assert mean_interval([1.0] * 10) == [1.0, 1.0]
    assert mean_interval([1.0]) is None


def test_labels_pass_and_best_threshold():
    assert [label_passes(v, 0.5) for v in (True, "pass", "FAIL", 0.5, 0.49, "0.7", "maybe", None)] == \
        [True, True, False, True, False, True, None, None]
    scores = [0.1, 0.2, 0.6, 0.7, 0.8, 0.9]
    labels = [False, False, False, True, True, True]
    assert threshold_max_kappa(scores, labels) == 0.7
    found = label_agreement(scores, labels, 0.5)
    assert found["n_labels"] == 6 and found["base_rate"] == 0.5 and "only 6 labels" in found["warning"]
    assert found["kappa"] == pytest.approx(cohen_kappa_score([s >= 0.5 for s in scores], labels))
    assert found["confusion"] == {"label_pass": {"grader_pass": 3, "grader_fail": 0},
                                  "label_fail": {"grader_pass": 1, "grader_fail": 2}}
    assert found["label_disagreements"] == [{"row": 2, "reward": 0.6, "label": False}]


def test_self_consistency_flips_and_group_sign_changes():
    runs = [[1.0, 0.0, 0.6, 0.4], [1.0, 0.0, 0.4, 0.6]]
    sc = self_consistency(runs, 0.5, keys=["g", "g", "h", "h"])
    assert sc["flip_rate"] == 0.5 and sc["groups"] == 2 and sc["group_sign_flips"] == 1
    assert sc["std_mean"] == pytest.approx((0 + 0 + 0.1 + 0.1) / 4)
    steady = self_consistency([[1.0, 0.0]] * 3, 0.5, keys=["g", "g"])
    assert steady["flip_rate"] == 0.0 and steady["std_mean"] == 0.0 and steady["group_sign_flips"] == 0


def run_cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


SIM = {"type": "text_similarity", "name": "sim", "input": "{{sample.output_text}}", "reference": "{{item.reference}}",
       "evaluation_metric": "fuzzy_match"}
EQ = {"type": "string_check", "name": "eq", "input": "{{sample.output_text}}", "reference": "{{item.reference}}",
      "operation": "eq"}
NE = {**EQ, "name": "ne", "operation": "ne"}


@pytest.fixture
def files(tmp_path):
    rows = []
    for i in range(60):
        ref = f"answer number {i}"
        sample = ref if i % 3 else f"answer numbr {i + 7}"
        rows.append({"reference": ref, "model_sample": sample, "human": "pass" if i % 3 else "fail",
                     "score": 1.0 if i % 3 else 0.2})
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = {"data": str(data)}
    for name, g in (("eq", EQ), ("ne", NE), ("sim", SIM),
                    ("multi", {"type": "multi", "name": "m", "graders": {"eq": EQ, "sim": SIM, "ne": NE},
                               "calculate_output": "eq"})):
        p = tmp_path / f"{name}.json"
        p.write_text(json.dumps(g))
        out[name] = str(p)
    return out


def test_calibrate_json_with_labels(capsys, files):
    code, out, err = run_cli(capsys, "calibrate", files["eq"], files["data"], "--labels", "human", "--json")
    assert code == 0, err
    doc = json.loads(out)
    for key in ("count", "std", "fail_thresholds", "groups", "n_labels", "base_rate", "kappa", "kappa_interval",
                "spearman", "spearman_interval", "threshold_max_kappa"):
        assert key in doc
    assert doc["n_labels"] == 60 and doc["kappa"] == 1.0 and doc["spearman"] == pytest.approx(1.0)
    assert doc["base_rate"] == pytest.approx(40 / 60) and doc["kappa_interval"] == [1.0, 1.0]
    assert doc["labels_warning"] is None
    # The confusion matrix and the disagreeing rows the app shows are in the JSON too.
    assert doc["confusion"] == {"label_pass": {"grader_pass": 40, "grader_fail": 0},
                                "label_fail": {"grader_pass": 0, "grader_fail": 20}}
    assert doc["label_disagreements"] == [] and doc["label_disagreement_count"] == 0
    # Numeric labels, read at --threshold.
    code, out, _ = run_cli(capsys, "calibrate", files["sim"], files["data"], "--labels", "score", "--threshold", "0.9",
                           "--json")
    doc = json.loads(out)
    assert code == 0 and doc["n_labels"] == 60 and doc["threshold_max_kappa"] is not None
    assert doc["spearman_interval"][0] <= doc["spearman"] <= doc["spearman_interval"][1]
    code, out, _ = run_cli(capsys, "calibrate", files["eq"], files["data"], "--labels", "human")
    assert code == 0 and "kappa 1.000 [1.000, 1.000]" in out


def test_calibrate_refuses_bad_flags(capsys, files):
    code, _out, err = run_cli(capsys, "calibrate", files["eq"], files["data"], "--labels", "nope")
    assert code == 2 and "no row has the label field 'nope'" in err
    code, _out, err = run_cli(capsys, "calibrate", files["eq"], files["data"], "--agree", "a,b")
    assert code == 1 and "names two children of a multi" in err
    code, _out, err = run_cli(capsys, "calibrate", files["multi"], files["data"], "--agree", "eq,zz")
    assert code == 1 and "the multi has eq, sim, ne" in err
    code, _out, err = run_cli(capsys, "calibrate", files["eq"], files["data"], "--repeat", "1")
    assert code == 1 and "--repeat must be at least 2" in err


def test_calibrate_agree_flags_children_that_disagree(capsys, files):
    code, out, _ = run_cli(capsys, "calibrate", files["multi"], files["data"], "--agree", "eq,sim", "--json")
    ag = json.loads(out)["agreement"]
    assert code == 0 and ag["keys"] == ["eq", "sim"] and ag["spearman"] > 0.8 and not ag["flagged"]
    code, out, _ = run_cli(capsys, "calibrate", files["multi"], files["data"], "--agree", "eq,ne", "--json")
    ag = json.loads(out)["agreement"]
    assert code == 3 and ag["flagged"] and ag["spearman"] == pytest.approx(-1.0)
    assert ag["disagreements"] and set(ag["disagreements"][0]) == {"row", "a", "b"}


def test_compare_graders_contract(capsys, files):
    code, out, _ = run_cli(capsys, "compare-graders", files["eq"], files["sim"], files["data"], "--json")
    doc = json.loads(out)
    assert code == 0 and set(doc) == {"spearman", "interval", "n", "disagreements"}
    assert doc["n"] == 60 and doc["spearman"] >= 0.8 and len(doc["interval"]) == 2
    code, out, _ = run_cli(capsys, "compare-graders", files["eq"], files["ne"], files["data"], "--json")
    doc = json.loads(out)
    assert code == 3 and doc["spearman"] == pytest.approx(-1.0)
    d = doc["disagreements"][0]
    assert set(d) == {"row", "a", "b"} and d["a"] != d["b"]
    code, out, _ = run_cli(capsys, "compare-graders", files["eq"], files["ne"], files["data"])
    assert code == 3 and "FLAGGED" in out


JUDGE = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini-2025-04-14", "range": [0, 1],
         "input": [{"role": "system", "content": "Grade the answer against the reference."},
                   {"role": "user", "content": "Reference: {{item.reference}}\nAnswer: {{sample.output_text}}"}]}


def test_calibrate_repeat_bypasses_the_cache(capsys, files, tmp_path, openai_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    openai_stub.judge_mode = "careful"
    judge = tmp_path / "judge.json"
    judge.write_text(json.dumps(JUDGE))
    code, out, err = run_cli(capsys, "calibrate", str(judge), files["data"], "--repeat", "2", "--labels", "human",
                             "--json")
    assert code == 0, err
    assert "estimated cost" in err and "--repeat 2: 120 more requests" in err
    assert len(openai_stub.requests_to("/chat/completions")) == 60 * 3  # one cached pass, two bypassing it
    doc = json.loads(out)
    sc = doc["self_consistency"]
    assert set(sc) >= {"std_mean", "flip_rate", "group_sign_flips"}
    assert sc["std_mean"] == 0.0 and sc["flip_rate"] == 0.0 and doc["kappa"] == 1.0
    code, _out, err = run_cli(capsys, "calibrate", str(judge), files["data"], "--repeat", "2", "--max-cost", "0.0000001")
    assert code == 1 and "over --max-cost" in err
