
from ftstudio.api import Endpoint, ModelCache, ModelRunner, cache_key, chat_cache_entry


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


def test_a_live_answer_is_read_as_a_batch_line_is(openai_stub, tmp_path):
    """The live call reads the chat.completion body with the Batch API's reader (chat_cache_entry): the same
    value, usage and model for the same body, n > 1 included."""
    import openai

    ep = Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key)
    req = {"model": "gpt-4.1-mini-2025-04-14", "n": 3, "seed": 7,
           "messages": [{"role": "user", "content": "Say something [[distinct]]"}]}
    [live] = ModelRunner(ep, use_cache=False).chat([req])
    body = openai.OpenAI(base_url=openai_stub.base_url, api_key=openai_stub.api_key).chat.completions.create(**req)
    entry = chat_cache_entry(body.model_dump(), req["model"])
    assert live.error is None and entry is not None
    assert live.value == entry["value"] and len(live.value["choices"]) == 3
    assert live.usage.to_dict() == entry["usage"] and live.usage.requests == 1 and live.usage.prompt_tokens > 0
    assert live.model == entry["model"]


def test_odd_bodies_are_results_not_crashes(openai_stub):
    ep = Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key)
    req = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    runner = ModelRunner(ep, use_cache=False, max_retries=0)
    # choices out of index order, one without a message: the first by index is the answer
    openai_stub.fail_next(200, body={"model": "m-1", "choices": [{"index": 1, "message": {"content": "b"}},
                                                                 {"index": 0}],
                                     "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4,
                                               "prompt_tokens_details": {"cached_tokens": 2}}})
    [out] = runner.chat([req])
    assert out.error is None and out.model == "m-1"
    assert out.value == {"content": None, "refusal": None,
                         "choices": [{"content": None, "refusal": None}, {"content": "b", "refusal": None}]}
    assert (out.usage.prompt_tokens, out.usage.cached_tokens, out.usage.requests) == (3, 2, 1)
    openai_stub.fail_next(200, body={"choices": [{"index": "1", "message": {"content": "s"}}, {"index": 0}]})
    [out] = runner.chat([req])
    assert out.error is None and out.value["choices"][0]["content"] == "s"  # an odd index sorts first
    for choices in ([], [1, "x"], {"0": {}}):  # none, none that is a choice, not a list
        openai_stub.fail_next(200, body={"id": "x", "choices": choices})
        [out] = runner.chat([req])
        assert out.error == ("model_grader_server_error", "the response has no choices") and out.usage.requests == 1
    openai_stub.malformed_next()
    [out] = runner.chat([req])
    assert out.error[0] == "model_grader_server_error" and "unreadable response" in out.error[1]


def test_azure_deployments_route(openai_stub):
    """An endpoint + api-version Azure connection: the chat call goes to /openai/deployments/{model}/..., with the
    api-version and the api-key header, as the SDK's Azure client sends it."""
    ep = Endpoint(base_url=openai_stub.azure_endpoint, api_key=openai_stub.api_key, kind="azure",
                  api_version="2024-10-21")
    req = {"model": "my-deployment", "messages": [{"role": "user", "content": "[[score:0.4]]"}]}
    [out] = ModelRunner(ep, use_cache=False).chat([req])
    [sent] = openai_stub.requests_to("/chat/completions")
    assert out.error is None and out.value["content"]
    assert sent.deployment == "my-deployment" and sent.path == "/openai/deployments/my-deployment/chat/completions"
    assert sent.query.get("api-version") == "2024-10-21" and sent.headers.get("api-key") == openai_stub.api_key
