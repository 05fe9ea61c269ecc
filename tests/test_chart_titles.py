"""Issue 25, item 1: a plotly title never wraps, so the charts keep titles short and put what qualifies them (a
count, a mean) on a line of its own; the hyperparameter toggles have a row of their own (tests/e2e measures both)."""

from __future__ import annotations

from test_score_charts import make_results

from ftstudio.report import charts as C


def test_the_correlation_title_is_short_and_its_count_a_subtitle():
    res = make_results([0.0, 0.5, 1.0], subs={"a_long_sub_grader_name": [0, 1, 1], "b": [0, 0.5, 1]})
    fig = C.correlation_heatmap(res)
    assert fig.layout.title.text == "Sub-grader correlation"
    assert fig.layout.title.subtitle.text == "3 rows without errors"


def test_sub_grader_titles_are_two_short_lines():
    res = make_results([0.0, 1.0], subs={"label": [0, 1], "fuzzy": [1, 1]})
    titles = [a.text for a in C.sub_reward_histograms(res).layout.annotations]
    assert titles == ["label<br>mean 0.50", "fuzzy<br>mean 1.00"]
