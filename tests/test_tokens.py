"""Token counting: offline o200k_base, the cookbook's message overhead, auto epochs."""

from __future__ import annotations

import hashlib
import os

import pytest
import tiktoken
import tiktoken.load
import tiktoken.registry

from ftstudio.datasets import EXAMPLE_TOKEN_LIMIT, TokenCounter, count_rows, estimate_auto_epochs, get_encoding, tokens

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"


@pytest.fixture(scope="module")
def enc():
    return get_encoding()


def _no_network(*args, **kwargs):
    raise AssertionError(f"tiktoken tried to download {args!r}")


@pytest.mark.slow
def test_encoding_loads_offline_into_a_fresh_cache(tmp_path, monkeypatch, enc):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # empty = unset for us; restored after the test
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(tokens, "_seeded_dir", None)
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # force a fresh load
    monkeypatch.setattr(tiktoken.load, "read_file", _no_network)
    fresh = get_encoding("o200k_base")
    cache = tmp_path / "tiktoken"
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(cache)
    assert (cache / hashlib.sha1(O200K_URL.encode()).hexdigest()).is_file()
    assert fresh is not enc
    text = "Fine-tuning <|endoftext|> naïve 日本語 tokens!"
    assert fresh.encode_ordinary(text) == enc.encode_ordinary(text)
    assert get_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]


def test_a_user_set_cache_dir_is_respected_and_seeded(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setattr(tokens, "_seeded_dir", None)
    assert tokens.ensure_tiktoken_cache() == str(tmp_path / "mine")
    assert len(os.listdir(tmp_path / "mine")) == 2


def test_message_counts_follow_the_cookbook(enc):
    row = {"messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "2+2?", "name": "bob"},
        {"role": "assistant", "content": "4", "weight": 1},
    ]}
    n = lambda s: len(enc.encode(s))
    expected = (
        3 * 3  # per message
        + n("system") + n("You are terse.")
        + n("user") + n("2+2?") + n("bob") + 1  # name costs one more
        + n("assistant") + n("4")  # weight is not sent
        + 3  # reply priming
    )
    assert count_rows([row], "supervised") == [expected]


def test_parts_tools_dpo_and_reinforcement(enc):
    n = lambda s: len(enc.encode(s))
    parts = {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]}], "tools": [{"type": "function", "function": {"name": "f"}}]}
    tools_json = '[{"type":"function","function":{"name":"f"}}]'
    assert count_rows([parts], "supervised") == [3 + n("user") + n("What is this?") + 85 + n(tools_json) + 3]
    dpo = {
        "input": {"messages": [{"role": "user", "content": "Hi"}]},
        "preferred_output": [{"role": "assistant", "content": "Hello!"}],
        "non_preferred_output": [{"role": "assistant", "content": "What."}],
    }
    assert count_rows([dpo], "dpo") == [
        3 * 3 + n("user") + n("Hi") + 2 * n("assistant") + n("Hello!") + n("What.") + 3
    ]
    rft = {"messages": [{"role": "user", "content": "Capital of France?"}], "answer": "Paris" * 50}
    assert count_rows([rft], "reinforcement") == [3 + n("user") + n("Capital of France?") + 3]
    assert count_rows([{"messages": "not a list"}], "supervised") == [3]


@pytest.mark.parametrize(
    ("n_rows", "epochs"),
    [(0, 25), (1, 25), (4, 25), (5, 20), (10, 10), (33, 4), (34, 3), (8333, 3), (8334, 2), (12_501, 1), (50_000, 1)],
)
def test_auto_epochs_heuristic(n_rows, epochs):
    assert estimate_auto_epochs(n_rows) == epochs


def test_counter_totals_limits_and_billed_tokens():
    counter = TokenCounter("supervised")
    small = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    huge = {"messages": [{"role": "user", "content": " a" * (EXAMPLE_TOKEN_LIMIT + 10)}]}
    first = counter.add([small, small], [1, 2])
    second = counter.add([huge], [5], start=2)
    stats = counter.finish("auto")
    assert stats.n_rows == 3 and stats.total == sum(first) + sum(second)
    assert stats.max == second[0] > EXAMPLE_TOKEN_LIMIT
    assert stats.over_limit == [(2, 5, second[0])]
    assert stats.n_epochs == 25 and stats.n_epochs_auto
    assert stats.billed_tokens == stats.total * 25
    text = stats.to_text()
    assert "row 2 (line 5)" in text and "cookbook heuristic" in text and 'n_epochs "auto" estimated as 25' in text
    fixed = counter.finish(4)
    assert fixed.billed_tokens == stats.total * 4 and not fixed.n_epochs_auto
    assert "n_epochs = 4" in fixed.to_text()
