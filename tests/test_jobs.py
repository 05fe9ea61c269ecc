import json

import pytest

from ftstudio.api import ApiError, Endpoint, SubmitError, call, control, events, follow, submit, upload
from ftstudio.validation import from_json

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def cfg(name="rft-exact-match"):
    return from_json(json.loads((ROOT / "presets" / f"{name}.json").read_text())["config"])


@pytest.fixture
def ep(openai_stub):
    return Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key)


@pytest.fixture
def files(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text('{"messages": [{"role": "user", "content": "2+2?"}], "answer": "4"}\n' * 20)
    valid = tmp_path / "valid.jsonl"
    valid.write_text('{"messages": [{"role": "user", "content": "3+3?"}], "answer": "6"}\n' * 5)
    return str(train), str(valid)


@pytest.mark.slow
def test_submit_uploads_creates_and_follows(ep, openai_stub, files):
    seen = []
    sub = submit(ep, cfg(), *files, progress=lambda role, s, t: seen.append((role, s, t)))
    body = openai_stub.job_bodies[sub.job["id"]]
    assert body["training_file"] == sub.uploaded["training_file"] and body["validation_file"] == sub.uploaded["validation_file"]
    assert body["method"] == json.loads(json.dumps(cfg().model_dump(mode="json", exclude_none=True)))["method"]
    assert seen and seen[-1][1] == seen[-1][2]
    uploaded = openai_stub.files[sub.uploaded["training_file"]]
    assert uploaded["purpose"] == "fine-tune"
    statuses, evs = [], []
    final = follow(ep, sub.job["id"], on_status=lambda j: statuses.append(j["status"]), on_event=evs.append,
                   sleep=lambda s: None)
    assert final["status"] == "succeeded" and statuses[-1] == "succeeded" and len(statuses) >= 3
    assert any(e.get("type") == "metrics" for e in evs)


def test_reusing_file_ids_uploads_nothing(ep, openai_stub, files):
    first = submit(ep, cfg(), *files)
    n = len(openai_stub.requests_to("/files", "POST"))
    submit(ep, cfg(), first.uploaded["training_file"], first.uploaded["validation_file"])
    assert len(openai_stub.requests_to("/files", "POST")) == n


def test_creation_failure_keeps_uploaded_ids(ep, openai_stub, files):
    openai_stub.fail_next(400, path="/fine_tuning/jobs", body={"error": {"message": "bad hyperparameters",
                                                                          "type": "invalid_request_error"}})
    with pytest.raises(SubmitError) as exc:
        submit(ep, cfg(), *files)
    assert set(exc.value.uploaded) == {"training_file", "validation_file"}
    assert "kept" in exc.value.message and "bad hyperparameters" in exc.value.message


def test_unknown_model_is_named(ep, openai_stub, files):
    openai_stub.unknown_models.add("o4-mini-2025-04-16")
    with pytest.raises(SubmitError) as exc:
        submit(ep, cfg(), *files)
    assert "o4-mini-2025-04-16" in exc.value.message


def test_auth_errors_say_check_the_key(openai_stub, files):
    bad = Endpoint(base_url=openai_stub.base_url, api_key="sk-wrong-0000000000000000000000")
    with pytest.raises(SubmitError) as exc:
        submit(bad, cfg(), *files)
    assert "check the API key" in exc.value.message and "sk-wrong" not in exc.value.message
    openai_stub.fail_next(403)
    with pytest.raises(ApiError) as exc:
        call(Endpoint(base_url=openai_stub.base_url, api_key=openai_stub.api_key),
             lambda c: c.files.list(), what="list files")
    assert exc.value.status == 403 and "permissions" in exc.value.message


def test_429_backs_off_with_visible_count(ep, openai_stub):
    openai_stub.fail_next(429, times=2, retry_after=0.01)
    retries, slept = [], []
    call(ep, lambda c: c.files.list(), what="list files", on_retry=lambda a, why, d: retries.append((a, why)),
         sleep=slept.append)
    assert retries == [(1, "HTTP 429"), (2, "HTTP 429")] and all(0 < s < 1 for s in slept)


def test_network_failure_says_so():
    dead = Endpoint(base_url="http://127.0.0.1:9/v1", api_key="sk-test-unreachable-000000000000")
    with pytest.raises(ApiError) as exc:
        call(dead, lambda c: c.files.list(), what="list files", max_retries=1, sleep=lambda s: None)
    assert "network failure" in exc.value.message and "nothing was lost" in exc.value.message


def test_cancel_pause_resume(ep, openai_stub, files):
    openai_stub.auto_advance_jobs = False
    job = submit(ep, cfg(), *files).job
    openai_stub.set_job_status(job["id"], "running")
    assert control(ep, job["id"], "pause")["status"] == "paused"
    assert control(ep, job["id"], "resume")["status"] == "running"
    assert control(ep, job["id"], "cancel")["status"] == "cancelled"
    assert isinstance(events(ep, job["id"]), list)


def test_non_jsonl_is_refused_before_upload(ep, tmp_path):
    p = tmp_path / "data.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(SubmitError) as exc:
        upload(ep, p)
    assert ".jsonl" in exc.value.message


def test_validation_keep_or_none(ep, openai_stub, files):
    train, valid = files
    first = submit(ep, cfg(), train, valid)
    config = cfg().model_copy(update={"validation_file": first.uploaded["validation_file"]})
    kept = submit(ep, config, first.uploaded["training_file"])  # default: the config's validation_file
    assert openai_stub.job_bodies[kept.job["id"]]["validation_file"] == first.uploaded["validation_file"]
    none = submit(ep, config, first.uploaded["training_file"], None)
    assert "validation_file" not in openai_stub.job_bodies[none.job["id"]]
