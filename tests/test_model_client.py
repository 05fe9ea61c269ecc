
from ftstudio.api import Endpoint, ModelCache, ModelRunner, cache_key


def test_endpoint_never_shows_the_key_and_reads_the_environment(monkeypatch):
    ep = Endpoint(base_url="http://x/v1", api_key="sk-secret-value-123456789")
    assert "sk-secret" not in repr(ep)
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY",
                "OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION"):
        monkeypatch.delenv(var, raising=False)
    assert not Endpoint.from_env().configured
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com/")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key-0123456789")
    ep = Endpoint.from_env()
    assert (ep.kind, ep.base_url, ep.api_version) == ("azure", "https://res.openai.azure.com/openai/v1", None)
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    ep = Endpoint.from_env()
    assert (ep.base_url, ep.api_version) == ("https://res.openai.azure.com", "2025-04-01-preview")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-0123456789abcdef")
    assert Endpoint.from_env().kind == "openai"  # OpenAI settings win when both are present


def test_cache_keys_depend_on_url_and_request_not_on_the_key(tmp_path):
    a = Endpoint(base_url="http://a/v1", api_key="sk-one-0000000000000000")
    b = Endpoint(base_url="http://a/v1", api_key="sk-two-0000000000000000")
    req = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert cache_key(a, "chat", req) == cache_key(b, "chat", req)
    assert cache_key(a, "chat", req) != cache_key(Endpoint(base_url="http://other/v1"), "chat", req)
    assert cache_key(a, "chat", req) != cache_key(a, "chat", dict(req, temperature=0))
    cache = ModelCache(tmp_path / "c.sqlite")
    cache.put_many({"k": {"value": {"content": "x"}}})
    assert cache.get_many(["k", "missing"]) == {"k": {"value": {"content": "x"}}}
    assert b"sk-one" not in (tmp_path / "c.sqlite").read_bytes()


def test_runner_dedupes_and_caches(openai_stub, tmp_path):
    ep = Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key)
    runner = ModelRunner(ep, concurrency=2, cache=ModelCache(tmp_path / "c.sqlite"))
    req = {"model": "gpt-4.1-mini-2025-04-14", "messages": [{"role": "user", "content": "[[score:0.4]]"}]}
    seen = []
    out = runner.chat([req, req, dict(req, seed=1)], progress=lambda d, t: seen.append((d, t)))
    assert [r.error for r in out] == [None, None, None] and len(openai_stub.requests_to("/chat/completions")) == 2
    assert out[0].usage.requests == 1 and out[1].usage.requests == 0  # the duplicate paid nothing
    assert seen[-1] == (3, 3)
    again = ModelRunner(ep, cache=ModelCache(tmp_path / "c.sqlite")).chat([req])
    assert again[0].cached and len(openai_stub.requests_to("/chat/completions")) == 2


def test_cancel_before_sending(openai_stub, tmp_path):
    ep = Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key)
    out = ModelRunner(ep, use_cache=False).chat([{"model": "m", "messages": []}], cancel=lambda: True)
    assert out[0].error[0] == "other_error" and "cancelled" in out[0].error[1]
    assert not openai_stub.requests_to("/chat/completions")
