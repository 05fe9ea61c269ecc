"""Rewards of any finite size (1e308 included) give a summary, calibration and charts, never OverflowError:
a python grader returning 1e308 and `calculate_output: "a*1e308"`, through the grading API and `ftstudio grade`."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest

from ftstudio.cli import main
from ftstudio.core import mean, mean_std
from ftstudio.grading import grade
from ftstudio.probes import calibration
from ftstudio.report import charts as score_charts

PYTHON_HUGE = {"type": "python", "name": "huge",
               "source": "def grade(sample, item):\n    return 1e308 if item['i'] % 2 else -1e308\n"}
FORMULA_HUGE = {"type": "multi", "name": "scaled", "calculate_output": "a*1e308", "graders": {
    "a": {"type": "string_check", "name": "a", "input": "{{ sample.output_text }}", "reference": "{{ item.answer }}",
          "operation": "eq"}}}
ROWS = [{"model_sample": "yes", "answer": "yes" if i < 3 else "no", "i": i} for i in range(4)]


@pytest.mark.parametrize("values", [
    [1e308, 1e308], [1e308, -1e308, 1e308, -1e308], [1.7e308, 1.7e308, 0.0], [1e200, 3e200, -2e200],
    [0.1, 0.2, 0.3], [5.0],
])
def test_mean_and_std_of_any_finite_floats(values):
    m, s = mean_std(values)
    assert math.isfinite(m) and math.isfinite(s) and mean(values) == m
    exact = sum(map(Fraction, values)) / len(values)  # exact arithmetic, to compare at float precision
    variance = sum((Fraction(v) - exact) ** 2 for v in values) / len(values)
    assert m == pytest.approx(float(exact), rel=1e-12)
    top = max(map(abs, values))
    assert s / top == pytest.approx(math.sqrt(float(variance / Fraction(top) ** 2)), rel=1e-9)


def test_grading_api_summary_of_a_python_grader_returning_1e308():
    s = grade(PYTHON_HUGE, ROWS).summary()
    assert s["rows_with_errors"] == 0
    assert s["mean"] == 0.0 and s["std"] == pytest.approx(1e308)
    assert s["quantiles"]["p0"] == -1e308 and s["quantiles"]["p100"] == 1e308 and s["quantiles"]["p50"] == 0.0
    json.loads(json.dumps(s), parse_constant=_no_constants)  # no Infinity, no NaN


def test_grading_api_summary_of_a_formula_reaching_1e308():
    result = grade(FORMULA_HUGE, ROWS)
    assert list(result.rewards) == [1e308, 1e308, 1e308, 0.0]
    s = result.summary()
    assert s["mean"] == pytest.approx(0.75e308) and s["std"] == pytest.approx(math.sqrt(3) / 4 * 1e308)
    assert s["sub_reward_means"] == {"a": 0.75}
    c = calibration(result)
    assert c["std"] == pytest.approx(s["std"]) and c["share_at_max"] == 0.75 and not c["no_learning_signal"]


def test_cli_grade_prints_and_writes_huge_rewards(tmp_path, capsys):
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    for grader in (PYTHON_HUGE, FORMULA_HUGE):
        path = tmp_path / "g.json"
        path.write_text(json.dumps(grader))
        out = tmp_path / "out.jsonl"
        assert main(["grade", str(path), str(data), "--out", str(out)]) == 0
        text = capsys.readouterr()
        assert "Traceback" not in text.err and "Overflow" not in text.err + text.out
        assert "std 1e+308" in text.out or "std 4.33e+307" in text.out
        assert "inf" not in text.out.replace("info", "")
        assert [json.loads(line)["reward"] for line in out.read_text().splitlines()][0] in (1e308, -1e308)
        assert main(["grade", str(path), str(data), "--json"]) == 0
        summary = json.loads(capsys.readouterr().out, parse_constant=_no_constants)["summary"]
        assert math.isfinite(summary["mean"]) and math.isfinite(summary["std"])


def test_histograms_of_huge_rewards():
    counts, edges = score_charts.histogram_counts([1e308, -1e308, 0.0, 1e308])
    assert sum(counts) == 4 and counts[0] == 1 and counts[-1] == 2
    assert edges[0] == -1e308 and edges[-1] == pytest.approx(1e308) and all(map(math.isfinite, edges))


def _no_constants(name):
    raise AssertionError(f"{name} in JSON output")


@pytest.mark.slow
def test_serve_v1_grade_answers_huge_rewards_as_json(tmp_path):
    from tests.serve_process import ServeProcess

    path = tmp_path / "g.json"
    path.write_text(json.dumps(FORMULA_HUGE))
    with ServeProcess(str(path), "--port", "0") as server:
        status, body = server.post("/v1/grade", {"rows": ROWS})
    assert status == 200, body
    summary = body["summary"]
    assert summary["mean"] == pytest.approx(0.75e308) and summary["std"] == pytest.approx(math.sqrt(3) / 4 * 1e308)
    assert [r["reward"] for r in body["records"]] == [1e308, 1e308, 1e308, 0.0]
