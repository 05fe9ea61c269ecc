"""The engine's small-call plan (grading/_plan.py) against the engine itself: the same records, rewards and
metrics on the presets, the examples, the external corpus and every case where a row can't take the short way.

A progress callback makes GradingSession.grade take the whole-column engine, so each comparison here grades the
same rows both ways in one session.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from ftstudio.config import grader_of, read_json_file
from ftstudio.datasets import read_dataset
from ftstudio.grading import GradeOptions, GradeResults, GradingSession, completion_text, plain_texts
from ftstudio.reward import Reward
from ftstudio.reward._trl import items_from_columns
from tests.test_corpus import CONFIGS, DATA, PAIRS

ROOT = Path(__file__).resolve().parents[1]
PRESETS = sorted((ROOT / "presets").glob("rft-*.json"))
EXAMPLES = sorted((ROOT / "ftstudio" / "data" / "examples").glob("*.jsonl"))
CHEAP = {"rft-exact-match.json", "rft-fuzzy-similarity.json", "rft-classification-structured.json",
         "rft-json-extraction.json", "rft-math-python.json"}


# rows the examples lack: the fields rft-json-extraction reads
EXTRACTION = [{"name": "Ann Lee", "email": "ann@example.com", "address": "1 Main St", "model_sample":
               json.dumps({"name": n, "email": e, "address": a})}
              for n, e, a in (("Ann Lee", "ANN@example.com", "1 Main Street"), ("Bo", "x", ""))]


def _engine(session: GradingSession, rows: Any) -> GradeResults:
    return session.grade(rows, progress=lambda _p: None)


def _same(a: GradeResults, b: GradeResults) -> None:
    assert list(a.records()) == list(b.records())
    assert list(a.rewards) == list(b.rewards)
    assert {k: list(v) for k, v in a.sub_rewards.items()} == {k: list(v) for k, v in b.sub_rewards.items()}
    assert a.sub_missing == b.sub_missing and a.errors == b.errors
    assert (a.grader_name, a.grader_type, a.lines) == (b.grader_name, b.grader_type, b.lines)


def _planned(session: GradingSession, rows: list[dict[str, Any]]) -> bool:
    """Whether the plan answers these rows (all with a string output) by itself."""
    sf = session.sample_field
    if not rows or any(type(r.get(sf)) is not str for r in rows):
        return False
    return isinstance(session.score_columns([r[sf] for r in rows],
                                            lambda k: None if k == sf else [r.get(k, object()) for r in rows],
                                            lambda: [{k: v for k, v in r.items() if k != sf} for r in rows]), tuple)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_presets_on_the_examples_grade_the_same_both_ways(preset: Path) -> None:
    answered = 0
    with GradingSession(grader_of(read_json_file(preset), str(preset))) as session:
        if preset.name in CHEAP:
            assert session._plan is not None  # the plan exists for the cheap presets
        for data in EXAMPLES:
            dataset = read_dataset(data)
            _same(session.grade(dataset), _engine(session, dataset))
            clean = [r for r in dataset.rows if type(r.get("model_sample")) is str]
            if clean:
                _same(session.grade(clean), _engine(session, clean))
            for row in clean + EXTRACTION:  # one row at a time, as serve grades
                _same(session.grade([row]), _engine(session, [row]))
                answered += _planned(session, [row])
    if preset.name in CHEAP:
        assert answered, "the plan answered none of the examples"


@pytest.mark.slow
@pytest.mark.skipif(not CONFIGS.is_dir(), reason="the conformance corpus is not beside the clone")
def test_the_external_corpus_grades_the_same_both_ways() -> None:
    planned = compared = 0
    for data, configs in PAIRS.items():
        dataset = read_dataset(DATA / data)
        for name in configs:
            doc = json.loads((CONFIGS / name).read_text(encoding="utf-8"))
            try:
                session = GradingSession(grader_of(doc, name))
            except Exception:  # a config the engine refuses is test_corpus's business
                continue
            with session:
                if session._plan is None:  # model graders: the engine's alone
                    continue
                _same(session.grade(dataset), _engine(session, dataset))
                clean = [r for r in dataset.rows if type(r.get("model_sample")) is str]
                if clean:
                    _same(session.grade(clean), _engine(session, clean))
                for row in clean:
                    _same(session.grade([row]), _engine(session, [row]))
                    planned += _planned(session, [row])
                compared += 1
    assert compared >= 5 and planned >= 1, (compared, planned)


# --- edge cases: each one must leave the call to the engine, with the engine's answer --------------------------

EXACT = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
         "reference": "{{ item.answer }}", "operation": "eq"}
JSON_LABEL = {"type": "string_check", "name": "label", "input": "{{ sample.output_json.label }}",
              "reference": "{{ item.label }}", "operation": "ilike"}
SIMILAR = {"type": "text_similarity", "name": "sim", "input": "{{ sample.output_text }}",
           "reference": "{{ item.answer }}", "evaluation_metric": "fuzzy_match"}
MULTI = {"type": "multi", "name": "mix", "graders": {"a": EXACT, "b": SIMILAR, "c": JSON_LABEL},
         "calculate_output": "a + b / (1 - c)"}  # c == 1 divides by zero: the engine's message
LITERAL = {"type": "string_check", "name": "lit", "input": "{{ sample.output_text }}", "reference": "yes",
           "operation": "ne"}


class Sub(str):
    pass


CASES = {
    "plain": ({"answer": ["4", "5", "4"]}, ["4", "4", "x"]),
    "conversations": ({"answer": ["4", "5"]}, [[{"role": "assistant", "content": "4"}],
                                               [{"role": "user", "content": "q"}, {"role": "assistant", "content": "5"}]]),
    "last message not the assistant's": ({"answer": ["4"]}, [[{"role": "assistant", "content": "4"},
                                                             {"role": "user", "content": "more"}]]),
    "content parts": ({"answer": ["4"]}, [[{"role": "assistant", "content": [{"type": "text", "text": "4"}]}]]),
    "message without role": ({"answer": ["4"]}, [[{"content": "4"}]]),
    "empty conversation": ({"answer": ["4"]}, [[]]),
    "a dict completion": ({"answer": ["4"]}, [{"role": "assistant", "content": "4"}]),
    "str subclass completion": ({"answer": ["4"]}, [Sub("4")]),
    "number in the column": ({"answer": [4, "4"]}, ["4", "4"]),
    "None in the column": ({"answer": [None, "4"]}, ["4", "4"]),
    "missing column": ({"other": ["4"]}, ["4"]),
    "column of another length": ({"answer": ["4", "4"]}, ["4"]),
    "not JSON": ({"answer": ["4"], "label": ["math"]}, ["4"]),
    "JSON label": ({"answer": ["4", "x"], "label": ["math", "MATH"]}, ['{"label": "Math"}', '{"label": "x"}']),
    "JSON label not a string": ({"answer": ["4"], "label": ["1"]}, ['{"label": 1}']),
    "too long to compare": ({"answer": ["a" * 150_000]}, ["a" * 150_000]),
    "a column named as the sample field": ({"answer": ["4"], "model_sample": ["4"]}, ["4"]),
}


def _expected(reward: Reward, completions: list[Any], columns: dict[str, Any]) -> tuple[list[float], list[Any]]:
    """The rewards and logged metrics as the TRL face computed them before the plan: every row through the engine."""
    sf = reward.sample_field
    items = items_from_columns(columns, len(completions))
    result = _engine(reward.session, [{**item, sf: completion_text(c)} for c, item in zip(completions, items)])
    logged: list[Any] = []
    if len(result):
        for key in getattr(reward.grader, "graders", {}):
            logged.append((key, math.fsum(result.sub_rewards[key]) / len(result)))
        logged.append((f"{reward.name}/grader_error_rate", len(result.errors) / len(result)))
    return [0.0 if i in result.errors else v for i, v in enumerate(result.rewards)], logged


@pytest.mark.parametrize("grader", [EXACT, JSON_LABEL, SIMILAR, MULTI, LITERAL], ids=lambda g: g["name"])
@pytest.mark.parametrize("case", list(CASES), ids=str)
def test_trl_rewards_and_metrics_are_the_engines(grader: dict[str, Any], case: str) -> None:
    columns, completions = CASES[case]
    logged: list[Any] = []
    kwargs = {**columns, "trainer_state": object(), "log_extra": lambda *a: None,
              "log_metric": lambda k, v: logged.append((k, v))}
    with Reward.load(grader) as reward:
        got = reward.for_trl()(prompts=["p"] * len(completions), completions=completions, **kwargs)
        want, want_logged = _expected(reward, completions, kwargs)
    assert got == want and logged == want_logged


def test_the_plan_answers_a_trainers_call_and_declines_what_it_cannot_answer() -> None:
    with Reward.load(MULTI) as reward:
        ok = reward.score_columns(["4"], {"answer": ["4"], "label": ["x"]})
        assert ok is None  # "4" is not JSON: sample.output_json is the engine's error
        ok = reward.score_columns(['{"label": "x"}'], {"answer": ["4"], "label": ["y"]})
        assert ok is not None and ok[1].keys() == {"a", "b", "c"}
        assert reward.score_columns(['{"label": "y"}'], {"answer": ["4"], "label": ["y"]}) is None  # 1 / 0
    with Reward.load({"type": "python", "name": "p", "source": "def grade(s, i):\n    return 1.0\n"}) as reward:
        assert reward.score_columns(["4", "5"], {"answer": ["4", "4"]}) == ([1.0, 1.0], {})  # one sandbox run
        assert reward.session.score_columns(["4"], lambda k: None) is None  # no items given: python declines


@pytest.mark.parametrize("completions", [
    ["a", "b"], [Sub("a")], ["a", 1], [[{"role": "assistant", "content": "a"}]],
    [[{"role": "assistant", "content": Sub("a")}]], [[{"role": "assistant"}]], [[]], [("x",)], [None],
    [[{"role": "assistant", "content": "a"}, {"role": "tool", "content": "t"}]], [[{"role": ["x"], "content": "a"}]], [],
], ids=repr)
def test_plain_texts_are_completion_text_or_none(completions: list[Any]) -> None:
    texts = plain_texts(completions)
    if texts is not None:
        assert texts == [completion_text(c) for c in completions]
        assert all(type(t) is str for t in texts)


# --- python nodes: one sandbox run for the column; a row's error leaves the call to the engine -----------------

def _python(name: str, body: str) -> dict[str, Any]:
    return {"type": "python", "name": name, "source": f"def grade(sample, item):\n{body}\n"}


LENGTH = _python("length", "    return min(1.0, len(sample['output_text']) / 10)")
# the item and the sample as the engine sends them, in one number (a JSON output's output_json included)
SEEN = _python("seen", "    return len(item) + 10 * len(sample['output_json'] or {}) + (0.5 if 'model_sample' in item else 0)")
# errors on some rows only: raises on "x", returns text on "t", NaN on "n", sleeps past the limit on "slow"
FLAKY = _python("flaky", "    t = sample['output_text']\n"
                         "    if t == 'x':\n        raise ValueError('no x')\n"
                         "    if t == 't':\n        return 'text'\n"
                         "    if t == 'n':\n        return float('nan')\n"
                         "    if t == 'slow':\n        import time\n        time.sleep(30)\n"
                         "    return 0.25")
PY_TREES = {
    "python": LENGTH,
    "seen": SEEN,
    "flaky": FLAKY,
    "multi(exact, python)": {"type": "multi", "name": "mixed", "graders": {"exact": EXACT, "length": LENGTH},
                             "calculate_output": "0.5 * exact + 0.5 * length"},
    "multi(exact, flaky)": {"type": "multi", "name": "mixed", "graders": {"exact": EXACT, "flaky": FLAKY},
                            "calculate_output": "exact + flaky", "invalid_grade": -1.0},
    "nested": {"type": "multi", "name": "outer", "calculate_output": "inner / (2 - seen)",
               "graders": {"inner": {"type": "multi", "name": "inner", "calculate_output": "2 * sim + flaky",
                                     "graders": {"sim": SIMILAR, "flaky": FLAKY}},
                           "seen": SEEN}},
}
PY_CASES = {
    **CASES,
    "python errors": ({"answer": ["x", "4", "t", "n", "4"]}, ["x", "4", "t", "n", "4"]),
    "one row raises": ({"answer": ["4", "x"]}, [[{"role": "assistant", "content": "4"}],
                                               [{"role": "assistant", "content": "x"}]]),
    "a row past the time limit": ({"answer": ["slow", "4"]}, ["slow", "4"]),
    "JSON outputs": ({"answer": ['{"a": 1}', "4"], "extra": ["e", None]}, ['{"a": 1, "b": [1]}', "[1, 2]"]),
}
SHORT = GradeOptions(python_timeout=1.0, python_workers=1)


@pytest.mark.parametrize("tree", list(PY_TREES), ids=str)
def test_trl_rewards_and_metrics_with_python_nodes_are_the_engines(tree: str) -> None:
    with Reward.load(PY_TREES[tree], options=SHORT) as reward:
        assert reward.session._plan is not None
        f = reward.for_trl()
        for case, (columns, completions) in PY_CASES.items():
            if case == "a row past the time limit" and "flaky" not in json.dumps(PY_TREES[tree]):
                continue
            logged: list[Any] = []
            kwargs = {**columns, "trainer_state": object(), "log_extra": lambda *a: None,
                      "log_metric": lambda k, v, out=logged: out.append((k, v))}
            got = f(prompts=["p"] * len(completions), completions=completions, **kwargs)
            want, want_logged = _expected(reward, completions, kwargs)
            assert (got, logged) == (want, want_logged), case


@pytest.mark.parametrize("tree", list(PY_TREES), ids=str)
def test_grade_with_python_nodes_is_the_engines(tree: str) -> None:
    rows = [{"answer": a, "model_sample": o} for a, o in
            (("4", "4"), ("x", "x"), ("4", "t"), ("4", "n"), ("5", '{"label": "x"}'), ("4", "four words here"))]
    with GradingSession(PY_TREES[tree], options=SHORT) as session:
        for chunk in (rows, rows[:1], rows[1:2], rows[4:], [rows[0], rows[5]]):
            _same(session.grade(chunk), _engine(session, chunk))
            _same(session.grade(chunk, node_scores=True), session.grade(chunk, node_scores=True, progress=lambda _p: None))


def test_a_python_row_runs_once_when_the_call_falls_back_to_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from ftstudio.sandbox import PythonGraderPool

    runs: list[int] = []
    real = PythonGraderPool.run

    def counted(self: PythonGraderPool, calls: Any, **kw: Any) -> Any:
        runs.append(len(calls))
        return real(self, calls, **kw)

    monkeypatch.setattr(PythonGraderPool, "run", counted)
    tree = PY_TREES["multi(exact, flaky)"]
    with Reward.load(tree) as reward:
        f = reward.for_trl()
        assert f(prompts=["p"] * 3, completions=["4", "x", "5"], answer=["4", "4", "4"]) == [1.25, 0.0, 0.25]
        assert runs == [3]  # the engine graded the call with the plan's results
        planned = reward.score_columns(["x"], {"answer": ["4"]})
        assert isinstance(planned, GradeResults) and planned.errors[0].status.name == "FAILED"
        assert reward.score_columns(["4"], {"answer": ["4"]}) == ([1.25], {"exact": [1.0], "flaky": [0.25]})
        assert runs == [3, 1, 1]
    with GradingSession(tree) as session:
        result = session.grade([{"answer": "4", "model_sample": o} for o in ("x", "4")])
        assert list(result.rewards) == [-1.0, 1.25] and list(result.errors) == [0] and runs[3:] == [2]


def test_a_cancelled_python_run_is_the_engines_cancelled_rows() -> None:
    import threading

    cancel = threading.Event()
    cancel.set()
    with GradingSession(PY_TREES["multi(exact, python)"]) as session:
        result = session.score_columns(["4", "5"], lambda k: ["4", "4"] if k == "answer" else None,
                                       lambda: [{"answer": "4"}] * 2, cancel)
        assert isinstance(result, GradeResults) and result.cancelled and sorted(result.errors) == [0, 1]
