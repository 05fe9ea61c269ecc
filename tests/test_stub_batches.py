"""The stub's Batch API as the SDK sees it: validation failures, cancel, list, purpose checks."""

import json

import openai
import pytest

MODEL = "gpt-4.1-mini-2025-04-14"


def line(cid, url="/v1/chat/completions"):
    return {"custom_id": cid, "method": "POST", "url": url,
            "body": {"model": MODEL, "messages": [{"role": "user", "content": cid}]}}


def upload(client, lines, purpose="batch"):
    data = "".join(json.dumps(x) + "\n" for x in lines).encode()
    return client.files.create(file=("in.jsonl", data), purpose=purpose).id


def test_bad_inputs_fail_the_batch(openai_stub):
    client = openai.OpenAI(base_url=openai_stub.base_url, api_key=openai_stub.api_key)
    dup = client.batches.create(input_file_id=upload(client, [line("a"), line("a")]),
                                endpoint="/v1/chat/completions", completion_window="24h")
    assert dup.status == "failed" and dup.errors.data[0].code == "duplicate_custom_id"
    url = client.batches.create(input_file_id=upload(client, [line("a", "/v1/embeddings")]),
                                endpoint="/v1/chat/completions", completion_window="24h")
    assert url.errors.data[0].code == "url_mismatch"
    with pytest.raises(openai.BadRequestError, match="expected 'batch'"):
        client.batches.create(input_file_id=upload(client, [line("a")], "fine-tune"),
                              endpoint="/v1/chat/completions", completion_window="24h")
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_missing")


def test_cancel_writes_cancelled_lines_and_list_pages(openai_stub):
    client = openai.OpenAI(base_url=openai_stub.base_url, api_key=openai_stub.api_key)
    batch = client.batches.create(input_file_id=upload(client, [line("a"), line("b")]),
                                  endpoint="/v1/chat/completions", completion_window="24h")
    assert client.batches.cancel(batch.id).status == "cancelling"
    done = client.batches.retrieve(batch.id)
    assert done.status == "cancelled" and done.output_file_id is None
    errors = [json.loads(x) for x in client.files.content(done.error_file_id).text.splitlines()]
    assert {e["custom_id"] for e in errors} == {"a", "b"} and errors[0]["error"]["code"] == "batch_cancelled"
    with pytest.raises(openai.BadRequestError):
        client.batches.cancel(batch.id)
    assert [b.id for b in client.batches.list()] == [batch.id]
