"""Issue 25, item 1 in Chromium: at 1280 and 1920 px no label or title is cut: the hyperparameter cards' auto
toggles, the widget labels, and every plotly title and subplot title of the Test grading charts (measured: a
text cut by ellipsis or overflow is wider than its box; a chart title wider than its chart)."""

from __future__ import annotations

import pytest
from test_round3_flow import _graded_twice
from ui import go, settle, wait_for

pytestmark = pytest.mark.e2e

# Texts that hide what overflows them (ellipsis or hidden overflow) and are cut: their content is wider.
CUT_LABELS = """() => [...document.querySelectorAll('[data-testid="stWidgetLabel"] *, [data-testid="stMarkdownContainer"] p')]
    .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1
                  && ['ellipsis', 'clip'].includes(getComputedStyle(el).textOverflow)
                     || (el.offsetParent !== null && getComputedStyle(el).overflow === 'hidden'
                         && el.scrollWidth > el.clientWidth + 1))
    .map(el => el.textContent.trim()).filter(t => t)"""
# Plotly draws titles as SVG text that never wraps: one wider than its chart is cut at the edge.
CUT_TITLES = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(plot => {
    const width = plot.getBoundingClientRect().right;
    return [...plot.querySelectorAll('.gtitle, .g-gtitle text, .annotation-text')]
        .filter(t => t.getBoundingClientRect().right > width + 1 || t.getBoundingClientRect().left < plot.getBoundingClientRect().left - 1)
        .map(t => t.textContent);
})"""


def test_nothing_is_cut_at_1280_and_1920(app_server, page):
    _graded_twice(app_server, page)
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 1000})
        go(page, "2 Hyperparameters")
        settle(page)
        toggles = page.locator('[data-testid="stCheckbox"], [data-testid="stToggle"]')
        assert toggles.count() >= 6
        assert page.evaluate(CUT_LABELS) == [], width
        go(page, "4 Test grading")
        wait_for(page, '[data-testid="stPlotlyChart"] .main-svg', shot_name=f"labels-{width}")
        settle(page)
        assert page.evaluate(CUT_TITLES) == [], width
        assert page.evaluate(CUT_LABELS) == [], width
