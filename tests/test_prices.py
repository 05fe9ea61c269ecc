"""The list prices behind every cost estimate (issue 24): each says where it was confirmed, or the estimate says
it is unverified; the estimate with repeats (self-consistency) and the max-cost check the CLI and the app share."""

import re

import pytest

from ftstudio.core.records import replace
from ftstudio.grading import _prices as prices  # the table itself is what is under test
from ftstudio.grading import estimate_cost, estimate_requests

REQUEST = {"model": "gpt-4.1-mini-2025-04-14", "messages": [{"role": "user", "content": "Grade this answer."}]}


def test_every_price_has_a_source_and_date_or_is_marked_unverified():
    for prefix, entry in prices.PRICES.items():
        if entry.verified:
            assert entry.source and entry.source.startswith("https://"), prefix
            assert entry.checked and re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry.checked), prefix
        else:
            assert entry.source is None and entry.note, prefix  # says what was found instead


def test_an_unverified_price_is_said_in_the_estimate(monkeypatch):
    monkeypatch.setattr(prices, "PRICES", {"gpt-4.1-mini": prices.ListPrice(0.40, 1.60, note="not found")})
    text = estimate_requests([REQUEST]).text()
    assert "estimate; price unverified for gpt-4.1-mini-2025-04-14" in text
    assert "price unverified" not in estimate_requests([REQUEST]).text(0.4, 1.6)  # the user's own prices
    monkeypatch.setattr(prices, "PRICES", {"gpt-4.1-mini": prices.ListPrice(
        0.40, 1.60, "https://platform.openai.com/docs/pricing", "2026-12-07")})
    assert "price unverified" not in estimate_requests([REQUEST]).text()


def test_the_shipped_table_marks_what_nobody_confirmed():
    unverified = [p for p, e in prices.PRICES.items() if not e.verified]
    text = estimate_requests([REQUEST]).text()
    assert ("estimate; price unverified" in text) == ("gpt-4.1-mini" in unverified)


def test_repeats_cost_every_request_again_and_max_cost_refuses():
    once = estimate_cost([REQUEST, {**REQUEST, "model": "o3"}])
    three = estimate_cost([REQUEST, {**REQUEST, "model": "o3"}], repeats=3)
    assert once.repeat_requests == 0 and three.repeat_requests == 6
    assert three.cost == pytest.approx(4 * once.cost)
    assert three.over(once.cost * 2) and not three.over(None) and not three.over(three.cost)
    assert estimate_cost([REQUEST], input_price=0.0, output_price=0.0).cost == 0.0


def test_repeats_paid_at_an_unverified_price_say_so_even_when_the_first_pass_is_cached(monkeypatch):
    monkeypatch.setattr(prices, "PRICES", {"gpt-4.1-mini": prices.ListPrice(0.40, 1.60, note="not found")})
    est = estimate_cost([REQUEST], repeats=2)
    cached = replace(est, first=replace(est.first, cached=1, to_send={}))  # its one request is in the cache
    assert cached.first.cost() == 0.0 and cached.cost > 0
    assert "estimate; price unverified for gpt-4.1-mini-2025-04-14" in cached.text()
