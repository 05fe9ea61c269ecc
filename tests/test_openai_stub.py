"""The OpenAI stub, exercised only through the real `openai` SDK over real HTTP."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest
from rapidfuzz import fuzz

from tests.openai_stub import REFUSAL_TEXT, OpenAIStub

SCORE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["result", "steps"],
    "properties": {
        "result": {"type": "number"},
        "steps": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["description", "conclusion"],
            "properties": {"description": {"type": "string"}, "conclusion": {"type": "string"}}}},
    },
}
LABEL_SCHEMA = {**SCORE_SCHEMA, "properties": {**SCORE_SCHEMA["properties"],
                                               "result": {"type": "string", "enum": ["no", "yes"]}}}


def fmt(schema: dict) -> dict:
    return {"type": "json_schema", "json_schema": {"name": "grader_output", "strict": True, "schema": schema}}


@pytest.fixture
def client(openai_stub: OpenAIStub) -> openai.OpenAI:
    return openai.OpenAI(base_url=openai_stub.base_url, api_key=openai_stub.api_key, max_retries=0)


def ask(client: openai.OpenAI, text: str, schema: dict | None = SCORE_SCHEMA, **kw):
    extra = {"response_format": fmt(schema)} if schema else {}
    return client.chat.completions.create(model="gpt-4.1-mini", messages=[{"role": "user", "content": text}],
                                          **extra, **kw)


# ---------------------------------------------------------------- chat completions
def test_chat_json_schema_directives(client: openai.OpenAI) -> None:
    reply = ask(client, "Grade this. [[score:0.8]]")
    body = json.loads(reply.choices[0].message.content)
    assert body["result"] == 0.8
    assert body["steps"] and set(body["steps"][0]) == {"description", "conclusion"}
    assert reply.model == "gpt-4.1-mini" and reply.usage.prompt_tokens == 5  # \w+ words: Grade this score 0 8
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert reply.usage.prompt_tokens_details.cached_tokens == 0
    assert json.loads(ask(client, "[[score:abc]]").choices[0].message.content)["result"] == "abc"
    assert json.loads(ask(client, "[[label:yes]]", LABEL_SCHEMA).choices[0].message.content)["result"] == "yes"
    # the last user message wins over earlier ones
    reply = client.chat.completions.create(model="m", response_format=fmt(SCORE_SCHEMA), messages=[
        {"role": "system", "content": "[[score:0.1]]"}, {"role": "user", "content": "[[score:0.3]]"}])
    assert json.loads(reply.choices[0].message.content)["result"] == 0.3


def test_chat_defaults_are_deterministic(client: openai.OpenAI) -> None:
    first = json.loads(ask(client, "no directive here").choices[0].message.content)["result"]
    again = json.loads(ask(client, "no directive here").choices[0].message.content)["result"]
    other = json.loads(ask(client, "a different prompt").choices[0].message.content)["result"]
    assert first == again and 0.0 <= first <= 1.0 and 0.0 <= other <= 1.0
    assert json.loads(ask(client, "x", LABEL_SCHEMA).choices[0].message.content)["result"] == "no"
    text = ask(client, "Tell me something", schema=None).choices[0].message.content
    assert text == ask(client, "Tell me something", schema=None).choices[0].message.content and text


def test_chat_refusal_malformed_empty_and_content_arrays(client: openai.OpenAI) -> None:
    refused = ask(client, "[[refuse]]").choices[0].message
    assert refused.content is None and refused.refusal == REFUSAL_TEXT
    with pytest.raises(ValueError):
        json.loads(ask(client, "[[malformed]]").choices[0].message.content)
    assert ask(client, "[[empty]]").choices[0].message.content == ""
    reply = client.chat.completions.create(model="gpt-4o", response_format=fmt(SCORE_SCHEMA), messages=[
        {"role": "user", "content": [
            {"type": "text", "text": "Look [[score:0.25]]"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}])
    assert json.loads(reply.choices[0].message.content)["result"] == 0.25


def test_chat_status_directive_and_unknown_model(client: openai.OpenAI, openai_stub: OpenAIStub) -> None:
    with pytest.raises(openai.InternalServerError):
        ask(client, "[[status:500]]")
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.2).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "[[delay:1]]"}])
    openai_stub.unknown_models.add("gpt-nope")
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-nope", messages=[{"role": "user", "content": "hi"}])
    assert err.value.code == "model_not_found"
    assert err.value.body["message"] == "The model `gpt-nope` does not exist or you do not have access to it."


def test_chat_parse_with_pydantic(client: openai.OpenAI) -> None:
    from pydantic import BaseModel

    class Step(BaseModel):
        description: str
        conclusion: str

    class Verdict(BaseModel):
        result: float
        steps: list[Step]

    parsed = client.chat.completions.parse(model="gpt-4.1", response_format=Verdict,
                                           messages=[{"role": "user", "content": "[[score:0.6]]"}])
    assert parsed.choices[0].message.parsed.result == 0.6


# ---------------------------------------------------------------- embeddings
def test_embeddings(client: openai.OpenAI) -> None:
    texts = ["the cat sat on the mat", "the cat sat on a mat", "quarterly revenue grew strongly"]
    data = client.embeddings.create(model="text-embedding-3-small", input=texts).data  # SDK asks for base64
    vecs = [d.embedding for d in data]
    assert [len(v) for v in vecs] == [64, 64, 64]
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-5) for v in vecs)
    cos = [sum(a * b for a, b in zip(vecs[0], v)) for v in vecs[1:]]
    assert cos[0] > cos[1]
    floats = client.embeddings.create(model="e", input=texts[0], encoding_format="float", dimensions=16)
    assert len(floats.data[0].embedding) == 16 and floats.usage.prompt_tokens == 6


# ---------------------------------------------------------------- files and jobs
GRADER = {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
          "reference": "{{item.answer}}", "operation": "eq"}


def test_files_roundtrip_and_jsonl_only(client: openai.OpenAI) -> None:
    content = b'{"messages": [{"role": "user", "content": "hi"}], "answer": "x"}\r\n{"a": 1}\n'
    uploaded = client.files.create(file=("train.jsonl", content), purpose="fine-tune")
    assert uploaded.bytes == len(content) and uploaded.purpose == "fine-tune"
    assert client.files.retrieve(uploaded.id).filename == "train.jsonl"
    assert client.files.content(uploaded.id).content == content
    assert [f.id for f in client.files.list()] == [uploaded.id]
    with pytest.raises(openai.BadRequestError, match="jsonl"):
        client.files.create(file=("train.csv", b"a,b\n"), purpose="fine-tune")
    assert client.files.delete(uploaded.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_job_lifecycle_events_and_exact_body(client: openai.OpenAI, openai_stub: OpenAIStub) -> None:
    train = client.files.create(file=("t.jsonl", b"{}\n"), purpose="fine-tune").id
    valid = client.files.create(file=("v.jsonl", b"{}\n"), purpose="fine-tune").id
    method = {"type": "reinforcement", "reinforcement": {
        "grader": {"type": "multi", "name": "m", "graders": {"a": GRADER}, "calculate_output": "a"},
        "hyperparameters": {"n_epochs": 2, "reasoning_effort": "low"}}}
    job = client.fine_tuning.jobs.create(model="o4-mini-2025-04-16", training_file=train, validation_file=valid,
                                         method=method, suffix="demo", metadata={"team": "x"})
    assert job.status == "validating_files"
    assert openai_stub.job_bodies[job.id] == {"model": "o4-mini-2025-04-16", "training_file": train,
                                              "validation_file": valid, "method": method, "suffix": "demo",
                                              "metadata": {"team": "x"}}
    statuses = [client.fine_tuning.jobs.retrieve(job.id).status for _ in range(4)]
    assert statuses == ["queued", "running", "succeeded", "succeeded"]
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.fine_tuned_model.startswith("ft:o4-mini-2025-04-16") and done.result_files
    events = list(client.fine_tuning.jobs.list_events(job.id, limit=3))  # auto-paginates
    metrics = [e for e in events if e.type == "metrics"]
    assert len(metrics) == 3 and all("train_reward_mean" in e.data for e in metrics)
    assert events[0].created_at >= events[-1].created_at
    assert [j.id for j in client.fine_tuning.jobs.list(metadata={"team": "x"})] == [job.id]
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.create(model="gpt-4.1", training_file="file-missing")


def test_job_cancel_pause_resume_and_forced_failure(client: openai.OpenAI, openai_stub: OpenAIStub) -> None:
    train = client.files.create(file=("t.jsonl", b"{}\n"), purpose="fine-tune").id
    first = client.fine_tuning.jobs.create(model="gpt-4.1-mini", training_file=train)
    assert client.fine_tuning.jobs.pause(first.id).status == "paused"
    assert client.fine_tuning.jobs.retrieve(first.id).status == "paused"  # no advance while paused
    assert client.fine_tuning.jobs.resume(first.id).status == "running"
    assert client.fine_tuning.jobs.cancel(first.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.cancel(first.id)
    second = client.fine_tuning.jobs.create(model="gpt-4.1-mini", training_file=train)
    openai_stub.auto_advance_jobs = False
    assert client.fine_tuning.jobs.retrieve(second.id).status == "validating_files"
    openai_stub.set_job_status(second.id, "failed", error={"code": "invalid_training_file", "message": "bad"})
    failed = client.fine_tuning.jobs.retrieve(second.id)
    assert failed.status == "failed" and failed.error.code == "invalid_training_file"
    page = client.fine_tuning.jobs.list(limit=1)
    assert [j.id for j in page.data] == [second.id] and page.has_more


# ---------------------------------------------------------------- graders
def run(client: openai.OpenAI, grader: dict, sample: str, item: dict | None = None):
    return client.fine_tuning.alpha.graders.run(grader=grader, model_sample=sample, item=item or {})


def flags(result) -> set[str]:
    return {k for k, v in result.metadata.errors.model_dump(by_alias=True).items() if v is True}


@pytest.mark.parametrize(("operation", "sample", "reward"), [
    ("eq", "Paris", 1.0), ("eq", "paris", 0.0), ("ne", "paris", 1.0),
    ("like", "It is Paris.", 1.0), ("like", "It is PARIS.", 0.0), ("ilike", "It is PARIS.", 1.0)])
def test_run_string_check(client: openai.OpenAI, operation: str, sample: str, reward: float) -> None:
    result = run(client, {**GRADER, "operation": operation, "reference": "{{ item.answer }}"}, sample,
                 {"answer": "Paris"})
    assert result.reward == reward and not flags(result) and result.metadata.type == "string_check"


@pytest.mark.slow
def test_run_text_similarity_metrics(client: openai.OpenAI) -> None:
    hyp, ref = "the cat is sitting on a mat", "the cat sat on the mat"
    base = {"type": "text_similarity", "name": "sim", "input": "{{sample.output_text}}", "reference": "{{item.r}}"}
    rewards = {m: run(client, {**base, "evaluation_metric": m}, hyp, {"r": ref}).reward
               for m in ("fuzzy_match", "bleu", "gleu", "rouge_1", "rouge_l", "meteor", "cosine")}
    assert rewards["fuzzy_match"] == pytest.approx(fuzz.ratio(hyp, ref) / 100)
    assert all(0.0 < r < 1.0 for r in rewards.values()), rewards
    assert run(client, {**base, "evaluation_metric": "bleu"}, ref, {"r": ref}).reward == pytest.approx(1.0)


def test_run_python_grader(client: openai.OpenAI) -> None:
    source = "def grade(sample, item):\n    return len(sample['output_json']['words']) / item['n']\n"
    good = run(client, {"type": "python", "name": "py", "source": source}, '{"words": [1, 2, 3]}', {"n": 4})
    assert good.reward == 0.75 and not flags(good)
    bad = run(client, {"type": "python", "name": "py", "source": source}, '{"words": []}', {"n": 0})
    assert bad.reward == 0 and flags(bad) == {"python_grader_runtime_error"}
    assert "ZeroDivisionError" in bad.metadata.errors.python_grader_runtime_error_details


def test_run_score_model_directives_and_usage(client: openai.OpenAI) -> None:
    grader = {"type": "score_model", "name": "judge", "model": "gpt-4.1-mini", "range": [0, 1],
              "input": [{"role": "user", "content": [{"type": "input_text", "text": "{{item.prompt}} {{sample.output_text}}"}]}]}
    result = run(client, grader, "answer", {"prompt": "[[score:0.7]]"})
    assert result.reward == 0.7 and not flags(result)
    assert result.metadata.sampled_model_name == "gpt-4.1-mini"
    usage = result.api_model_grader_token_usage_per_model["gpt-4.1-mini"]
    assert usage["total_tokens"] == result.metadata.token_usage > 0 and usage["cached_tokens"] == 0
    assert run(client, grader, "x", {"prompt": "[[score:7]]"}).reward == 1.0  # clamped to range
    cases = {"[[refuse]]": "model_grader_refusal_error", "[[malformed]]": "model_grader_parse_error",
             "[[score:abc]]": "model_grader_parse_error", "[[status:500]]": "model_grader_server_error"}
    for directive, flag in cases.items():
        outcome = run(client, grader, "x", {"prompt": directive})
        assert (outcome.reward, flags(outcome)) == (0, {flag}), directive


def test_run_multi_map_with_label_model_and_flags(client: openai.OpenAI) -> None:
    multi = {"type": "multi", "name": "combo", "calculate_output": "0.5 * exact + 0.5 * label ^ 2", "graders": {
        "exact": {**GRADER, "input": "{{sample.output_json.answer}}"},
        "label": {"type": "label_model", "name": "lab", "model": "gpt-4o", "labels": ["bad", "good"],
                  "passing_labels": ["good"], "input": [{"role": "user", "content": "{{item.hint}}"}]}}}
    result = run(client, multi, '{"answer": "x"}', {"answer": "x", "hint": "[[label:good]]"})
    assert result.reward == 1.0 and result.sub_rewards == {"exact": 1.0, "label": 1.0}
    assert run(client, multi, '{"answer": "y"}', {"answer": "x", "hint": "meh"}).sub_rewards == \
        {"exact": 0.0, "label": 0.0}
    unparsable = run(client, multi, "not json", {"answer": "x", "hint": "[[label:good]]"})
    assert unparsable.reward == 0 and "sample_parse_error" in flags(unparsable)
    missing = run(client, multi, '{"answer": "x"}', {"hint": "[[label:good]]"})
    assert missing.reward == 0 and flags(missing) == {"invalid_variable_error"}
    broken = run(client, {**multi, "calculate_output": "exact +* nope"}, '{"answer": "x"}', {"answer": "x", "hint": ""})
    assert flags(broken) == {"formula_parse_error"}


def test_run_reward_offset_and_override(client: openai.OpenAI, openai_stub: OpenAIStub) -> None:
    openai_stub.grader_reward_offset = 0.25
    assert run(client, GRADER, "a", {"answer": "b"}).reward == 0.25
    openai_stub.grader_reward_offset = 0.0
    openai_stub.grader_reward_overrides["exact"] = 0.5
    assert run(client, GRADER, "a", {"answer": "a"}).reward == 0.5


def test_validate(client: openai.OpenAI) -> None:
    assert client.fine_tuning.alpha.graders.validate(grader=GRADER).to_dict()["grader"] == GRADER
    missing = {k: v for k, v in GRADER.items() if k != "reference"}
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.alpha.graders.validate(grader=missing)
    assert "grader.reference" in err.value.message and err.value.param == "grader.reference"
    nested = {"type": "multi", "name": "outer", "calculate_output": "x",
              "graders": {"x": {"type": "multi", "name": "inner", "graders": {"y": GRADER}, "calculate_output": "y"}}}
    with pytest.raises(openai.BadRequestError, match="grader.graders.x.type"):
        client.fine_tuning.alpha.graders.validate(grader=nested)
    with pytest.raises(openai.BadRequestError, match="calculate_output"):
        client.fine_tuning.alpha.graders.validate(grader={**nested, "graders": {"x": GRADER}, "calculate_output": "x +"})
    with pytest.raises(openai.BadRequestError, match="grader.input"):
        client.fine_tuning.alpha.graders.validate(grader={**GRADER, "input": "{{ answer }}"})
    label = {"type": "label_model", "name": "l", "model": "m", "labels": ["a"], "passing_labels": ["a"],
             "input": [{"role": "user", "content": "x"}]}
    with pytest.raises(openai.BadRequestError, match="grader.type"):  # label_model only inside multi
        client.fine_tuning.alpha.graders.validate(grader=label)


def test_token_usage_style_object(client: openai.OpenAI, openai_stub: OpenAIStub) -> None:
    openai_stub.token_usage_style = "object"  # the shape of the API reference's example response
    grader = {"type": "score_model", "name": "j", "model": "gpt-4o", "input": [{"role": "user", "content": "hi"}]}
    usage = run(client, grader, "x").metadata.token_usage
    assert set(usage) == {"prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens"}


# ---------------------------------------------------------------- auth, faults, transport
def test_wrong_key_is_401_with_masked_key(openai_stub: OpenAIStub) -> None:
    key = "sk-wrong-0123456789abcdefWXYZ"
    bad = openai.OpenAI(base_url=openai_stub.base_url, api_key=key, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        bad.models.list()
    assert err.value.code == "invalid_api_key" and "WXYZ" in err.value.message and key not in err.value.message


def test_429_then_success_with_sdk_retries(openai_stub: OpenAIStub) -> None:
    openai_stub.fail_next(429, times=2, path="/chat/completions", retry_after=0.01)
    retrying = openai.OpenAI(base_url=openai_stub.base_url, api_key=openai_stub.api_key, max_retries=2)
    assert retrying.chat.completions.create(model="m", messages=[{"role": "user", "content": "[[score:1]]"}])
    assert len(openai_stub.requests_to("/chat/completions")) == 3
    openai_stub.fail_next(429, retry_after=0.01)
    no_retry = openai.OpenAI(base_url=openai_stub.base_url, api_key=openai_stub.api_key, max_retries=0)
    with pytest.raises(openai.RateLimitError) as err:
        no_retry.models.list()
    assert err.value.response.headers["retry-after"] == "0.01" and err.value.code == "rate_limit_exceeded"


def test_fault_injection_malformed_slow_and_reset(client: openai.OpenAI, openai_stub: OpenAIStub) -> None:
    openai_stub.fail_next(503, path="/v1/embeddings", body={"error": {"message": "custom", "type": "server_error"}})
    ask(client, "unaffected path")
    with pytest.raises(openai.InternalServerError, match="custom"):
        client.embeddings.create(model="e", input="x")
    openai_stub.malformed_next()
    with pytest.raises(ValueError):
        ask(client, "broken JSON")
    openai_stub.slow_next(1.0)
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.2).models.list()
    assert client.models.list().data  # only the next request was slow
    recorded = openai_stub.requests[0]
    assert recorded.method == "POST" and recorded.path == "/v1/chat/completions" and recorded.json["model"]
    assert recorded.headers["authorization"] == f"Bearer {openai_stub.api_key}"
    openai_stub.reset()
    assert openai_stub.requests == []


def test_keep_alive_connection_is_reused(client: openai.OpenAI, openai_stub: OpenAIStub) -> None:
    for _ in range(3):
        client.models.list()
    assert len({r.client_port for r in openai_stub.requests}) == 1


def test_concurrent_requests_are_not_serialised(openai_stub: OpenAIStub) -> None:
    openai_stub.delay = 0.2

    async def burst() -> float:
        async with openai.AsyncOpenAI(base_url=openai_stub.base_url, api_key=openai_stub.api_key) as aclient:
            started = time.perf_counter()
            replies = await asyncio.gather(*[
                aclient.chat.completions.create(model="m", messages=[{"role": "user", "content": f"q{i}"}])
                for i in range(16)])
            assert len(replies) == 16
            return time.perf_counter() - started

    assert asyncio.run(burst()) < 2.0  # 16 * 0.2 s = 3.2 s if requests were handled one at a time


def test_async_client_graders(openai_stub: OpenAIStub) -> None:
    async def go():
        async with openai.AsyncOpenAI(base_url=openai_stub.base_url, api_key=openai_stub.api_key) as aclient:
            return await aclient.fine_tuning.alpha.graders.run(grader=GRADER, model_sample="a", item={"answer": "a"})

    assert asyncio.run(go()).reward == 1.0


def test_azure_paths(openai_stub: OpenAIStub) -> None:
    v1 = openai.OpenAI(base_url=openai_stub.azure_base_url, api_key=openai_stub.api_key, max_retries=0)
    assert ask(v1, "[[score:0.4]]").choices[0].message.content
    azure = openai.AzureOpenAI(azure_endpoint=openai_stub.azure_endpoint, api_key=openai_stub.api_key,
                               api_version="2024-10-21", max_retries=0)
    reply = azure.chat.completions.create(model="my-deploy", messages=[{"role": "user", "content": "[[label:ok]]"}])
    assert reply.choices[0].message.content == "ok"
    assert azure.fine_tuning.alpha.graders.run(grader=GRADER, model_sample="a", item={"answer": "a"}).reward == 1.0
    chat = openai_stub.requests_to("/chat/completions")[-1]
    assert chat.deployment == "my-deploy" and chat.query["api-version"] == "2024-10-21"
    assert chat.headers["api-key"] == openai_stub.api_key
    assert openai_stub.requests_to("/chat/completions")[0].path == "/openai/v1/chat/completions"


def test_standalone_server_prints_base_url() -> None:
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "tests.openai_stub", "--port", "0", "--delay", "0"],
                            cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        from tests.openai_stub import DEFAULT_API_KEY

        client = openai.OpenAI(base_url=base_url, api_key=DEFAULT_API_KEY, max_retries=0)
        assert client.embeddings.create(model="e", input="hello").data
    finally:
        proc.terminate()
        proc.wait(timeout=10)
