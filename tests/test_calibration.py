"""Calibration: spread, the no-learning-signal warning, fail thresholds, groups; in `ftstudio grade`'s summary."""

import json

import pytest

from ftstudio.cli._main import main
from ftstudio.probes import calibration, calibration_text


def test_calibration_spread_warning_thresholds_and_groups():
    c = calibration([1.0] * 19 + [0.0])
    assert c["no_learning_signal"] and "no learning signal" in c["warning"]
    assert c["share_at_max"] == 0.95 and c["share_at_min"] == 0.05
    c = calibration([0.1 * i for i in range(10)])
    assert not c["no_learning_signal"] and c["warning"] is None
    assert c["fail_thresholds"]["30%"]["share_failing"] == pytest.approx(0.3)
    assert c["fail_thresholds"]["50%"]["share_failing"] == pytest.approx(0.5)
    items = [{"q": "a"}, {"q": "a"}, {"q": "b"}, {"q": "b"}, {"q": "c"}]
    c = calibration([1.0, 1.0, 0.0, 1.0, 0.5], items)
    g = c["groups"]
    assert g["by"] == "identical items" and g["groups"] == 2 and g["zero_variance_share"] == 0.5
    c = calibration([1.0, 0.0, 1.0, 1.0], [{"group": 1}, {"group": 1}, {"group": 2}, {"group": 2}],
                    group_field="group")
    assert c["groups"]["by"] == "group" and c["groups"]["per_group_std"] == {"1": 0.5, "2": 0.0}


def test_all_equal_rewards_have_no_fail_threshold():
    c = calibration([1.0] * 5)
    assert c["fail_thresholds"]["30%"] == {"threshold": None, "share_failing": 0.0}
    assert "every row scores the same" in calibration_text(c)


def test_grade_summary_shows_calibration_text_and_json(tmp_path, capsys):
    rows = [{"q": f"q{i // 2}", "group": i // 2, "reference": "yes", "model_sample": "yes" if i % 4 else "no"}
            for i in range(8)]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    grader = tmp_path / "g.json"
    grader.write_text(json.dumps({"type": "string_check", "name": "g", "input": "{{sample.output_text}}",
                                  "reference": "{{item.reference}}", "operation": "eq"}))
    assert main(["grade", str(grader), str(data)]) == 0
    out = capsys.readouterr().out
    assert "reward spread: std" in out and "a pass threshold of 1 fails 25.0% of rows (target 30%)" in out
    # identical items: every row differs in model_sample only within a pair
    assert "groups (identical items): 4 with 2+ samples; 50.0% have zero reward variance" in out
    assert main(["grade", str(grader), str(data), "--json", "--group-field", "group"]) == 0
    cal = json.loads(capsys.readouterr().out)["summary"]["calibration"]
    assert cal["groups"]["by"] == "group" and cal["groups"]["groups"] == 4
    assert cal["groups"]["zero_variance_share"] == 0.5 and cal["groups"]["per_group_std"]["0"] == 0.5
    assert cal["share_at_max"] == 0.75 and cal["share_at_min"] == 0.25 and not cal["no_learning_signal"]


def test_identical_items_share_a_key_whatever_json_they_hold():
    from ftstudio.probes import group_keys

    big = {"id": 2**70, "messages": [{"role": "user", "content": "q"}]}  # past orjson's 64-bit integers
    rows = [dict(big, model_sample="a"), dict(big, model_sample="b"), {"id": 1, "model_sample": "a"},
            {1: "non-str key", "model_sample": "x"}, {1: "non-str key", "model_sample": "y"}]
    keys = group_keys(rows)
    assert keys[0] == keys[1] != keys[2]
    assert keys[3] == keys[4] != keys[0]
    assert group_keys([{"q": "é", "model_sample": "1"}]) == group_keys([{"q": "é", "model_sample": "2"}])


def _reward_lists():
    """Rewards of every shape a grader gives: few values, continuous, huge, ties at +0.0, groups of samples."""
    import random

    rnd = random.Random(7)
    out = [[1.0], [0.0], [0.5, 0.5], [1e308, -1e308, 1e308], [0.1 * i for i in range(10)], [1 / 3] * 9 + [2 / 3],
           [-1e-12, 0.0, 1e-12], [5e-10, 1.5e-9, 2.5e-9], [float(2 ** 53), 1.0]]
    for n in (2, 7, 8, 9, 16, 127, 128, 129, 300, 1000, 4097):
        out.append([rnd.uniform(-1, 1) * 10 ** rnd.randint(-6, 6) for _ in range(n)])
        out.append([rnd.choice((0.0, 0.25, 0.5, 1.0, 1 / 3)) for _ in range(n)])
        out.append([round(rnd.random(), 2) for _ in range(n)])
    return out


@pytest.mark.parametrize("rewards", _reward_lists())
def test_small_runs_compute_numpys_figures_in_plain_python(rewards, monkeypatch):
    """Issue 23 (start-up): up to PLAIN_ROWS rewards, calibration, its groups and the summary's order come from plain
    Python, so a grade of a few rows imports no numpy; the figures are numpy's, bit for bit."""
    from array import array

    import numpy as np

    import ftstudio.probes._groups as groups_module
    from ftstudio.grading._results import _sorted
    from ftstudio.probes._calibration import _figures, _numpy_figures

    plain, numpy = _figures(rewards), _numpy_figures(rewards)
    assert repr(plain) == repr(numpy)  # repr: the same bits (0.0 and -0.0 differ), not only equal
    assert repr(list(_sorted(array("d", rewards)))) == repr(np.sort(np.asarray(rewards)).tolist())

    def section():
        groups = groups_module.Groups()
        groups.add_hashables([i % 3 for i in range(len(rewards))], rewards)  # three groups of samples
        return groups.section(rewards)

    in_python = section()
    monkeypatch.setattr(groups_module, "plain_rewards", lambda _rewards: None)  # the numpy path
    assert repr(in_python) == repr(section())


def test_rewards_with_negative_zero_or_nan_take_the_numpy_path():
    from ftstudio.core import sorts_as_numpy
    from ftstudio.probes._plain import plain_rewards

    assert sorts_as_numpy([0.0, 1.0]) and plain_rewards([0.0, 1.0]) == [0.0, 1.0]
    assert not sorts_as_numpy([-0.0, 0.0]) and plain_rewards([-0.0, 1.0]) is None
    assert not sorts_as_numpy([float("nan")]) and plain_rewards([1.0, float("nan")]) is None
    assert calibration([-0.0, 0.0, 1.0])["min"] == 0.0
