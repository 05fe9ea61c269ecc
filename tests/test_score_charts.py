"""ftstudio.report.charts: figures built from a small GradeResults; values checked against hand counts."""

from __future__ import annotations

import math
from array import array

import pytest

from ftstudio.grading import GradeResults, RowErrors
from ftstudio.report import charts as C


def make_results(rewards, subs=None, errors=None) -> GradeResults:
    n = len(rewards)
    return GradeResults(grader_name="g", grader_type="multi" if subs else "string_check", rewards=array("d", rewards),
                        errors=errors or {}, sub_rewards={k: array("d", v) for k, v in (subs or {}).items()},
                        lines=list(range(1, n + 1)))


@pytest.fixture
def results() -> GradeResults:
    return make_results(
        [0.0, 0.25, 0.5, 1.0, 1.0, 0.0],
        subs={"a": [0, 0, 1, 1, 1, 0], "b": [0, 0.5, 0.5, 1, 1, 0], "c": [1, 1, 1, 1, 1, 1]},
        errors={1: RowErrors({"sample_parse_error": "not JSON"}),
                5: RowErrors({"invalid_variable_error": "no field", "sample_parse_error": "not JSON"})},
    )


def test_reward_histogram_counts_every_row_in_its_bin(results):
    fig = C.reward_histogram(results, threshold=0.5)
    bars = fig.data[0]
    counts = list(bars.y)
    assert len(counts) == 20 and sum(counts) == 6
    # 20 bins of 0.05 on [0, 1]: 0.0 -> bin 0, 0.25 -> bin 5, 0.5 -> bin 10, 1.0 -> last bin (right edge included)
    assert counts[0] == 2 and counts[5] == 1 and counts[10] == 1 and counts[19] == 2
    assert bars.x[0] == pytest.approx(0.025) and bars.x[19] == pytest.approx(0.975)
    assert [s.x0 for s in fig.layout.shapes] == [0.5]  # the threshold line


def test_histogram_widens_to_rewards_outside_0_1():
    counts, edges = C.histogram_counts([-2.0, 0.0, 3.0], bins=5)
    assert edges[0] == -2.0 and edges[-1] == 3.0
    assert counts == [1, 0, 1, 0, 1]
    counts, _ = C.histogram_counts([0.5, float("nan")], bins=2)
    assert counts == [0, 1]  # NaN is not counted anywhere


def test_sub_reward_histograms_have_one_trace_per_sub_grader(results):
    fig = C.sub_reward_histograms(results, bins=10)
    assert [t.name for t in fig.data] == ["a", "b", "c"]
    a, b, c = (list(t.y) for t in fig.data)
    assert a[0] == 3 and a[9] == 3 and sum(a) == 6
    assert b[0] == 2 and b[5] == 2 and b[9] == 2
    assert c == [0] * 9 + [6]
    titles = [ann.text for ann in fig.layout.annotations]
    assert titles[0] == "a<br>mean 0.50" and titles[2] == "c<br>mean 1.00"
    assert C.sub_reward_histograms(make_results([1.0, 0.0])) is None


def test_correlation_matrix_leaves_out_error_rows_and_constant_columns(results):
    keys, m, n = C.correlation_matrix(results)
    assert keys == ["a", "b", "c"] and n == 4  # rows 1 and 5 have errors
    # rows 0, 2, 3, 4: a = 0,1,1,1 and b = 0,0.5,1,1; Pearson r by hand = 0.625 / sqrt(0.75 * 0.6875)
    expected = 0.625 / math.sqrt(0.75 * 0.6875)
    assert m[0][1] == pytest.approx(expected, abs=1e-6) and m[1][0] == pytest.approx(expected, abs=1e-6)
    assert m[0][0] == pytest.approx(1.0)
    assert m[2] == [None, None, None] and m[0][2] is None  # c is constant: no correlation
    fig = C.correlation_heatmap(results)
    heat = fig.data[0]
    assert list(heat.x) == keys and heat.text[0][1] == f"{expected:.2f}" and heat.text[0][2] == "n/a"


def test_correlation_needs_two_sub_graders():
    assert C.correlation_heatmap(make_results([1.0, 0.0], subs={"only": [1, 0]})) is None
    assert C.correlation_heatmap(make_results([1.0, 0.0])) is None


def test_errors_bar_counts_rows_per_code(results):
    fig = C.errors_bar(results)
    bars = fig.data[0]
    assert dict(zip(bars.y, bars.x)) == {"sample_parse_error": 2, "invalid_variable_error": 1}
    assert list(bars.y)[-1] == "sample_parse_error"  # most frequent drawn on top
    assert C.errors_bar(make_results([1.0])) is None


def test_overlay_histograms_share_bins():
    fig = C.overlay_histograms([0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.5], ("Run 1", "Run 2"), threshold=0.5)
    base, new = fig.data
    assert (base.name, new.name) == ("Run 1", "Run 2")
    assert list(base.x) == list(new.x)
    assert base.y[0] == 2 and base.y[19] == 1 and sum(base.y) == 3
    assert new.y[19] == 3 and new.y[10] == 1 and sum(new.y) == 4
    assert fig.layout.barmode == "overlay"


def test_delta_histogram_is_symmetric_and_coloured_by_sign():
    counts, edges = C.delta_counts([-1.0, 0.0, 0.0, 0.5, 1.0], bins=21)
    assert edges[0] == pytest.approx(-edges[-1])
    assert counts[10] == 2 and counts[0] == 1 and counts[20] == 1 and sum(counts) == 5
    fig = C.delta_histogram([-1.0, 0.0, 0.0, 0.5, 1.0])
    colors = list(fig.data[0].marker.color)
    assert colors[0] == C.RED and colors[10] == C.GREY and colors[20] == C.GREEN
    assert sum(C.delta_counts([0.0, 0.0])[0]) == 2  # all unchanged: still a valid range


def test_empty_results_make_empty_figures():
    empty = make_results([])
    assert sum(C.reward_histogram(empty).data[0].y) == 0
    assert C.errors_bar(empty) is None
