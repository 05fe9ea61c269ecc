"""`ftstudio pull` and store.pull against the stub: every page, bodies that validate and export back,
unknown fields kept, exit 3 with nothing written, reruns that leave unchanged files alone, no keys."""

import copy
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftstudio.api import ApiError, Endpoint, job_body, list_jobs
from ftstudio.cli import main
from ftstudio.store import pull
from tests.openai_stub import account_jobs, closed_port_url
from tests.openai_stub._account import DAY, MULTI_GRADER, T0, job

ROOT = Path(__file__).resolve().parent.parent
LEAKY_KEY = "sk-live-ABCDEFGHIJKLMNOPQRSTUVWX"


@pytest.fixture
def env(openai_stub, monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "AZURE_OPENAI")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPENAI_API_KEY", openai_stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return openai_stub


def endpoint(stub, key=None):
    return Endpoint(base_url=stub.base_url, api_key=key or stub.api_key)


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def by_id(jobs):
    return {j["id"]: j for j in jobs}


def test_every_page_is_followed_with_the_last_id_as_cursor(openai_stub):
    openai_stub.add_jobs(account_jobs(extra=25))  # 30 jobs; pages as the real API sends them (no last_id)
    jobs = list_jobs(endpoint(openai_stub), page_size=7)
    assert len(jobs) == 30 and len({j["id"] for j in jobs}) == 30
    assert [j["created_at"] for j in jobs] == sorted((j["created_at"] for j in jobs), reverse=True)
    requests = openai_stub.requests_to("/fine_tuning/jobs", "GET")
    assert len(requests) == 5
    cursors = [r.query.get("after") for r in requests]
    assert cursors[0] is None and cursors[1:] == [jobs[i]["id"] for i in (6, 13, 20, 27)]


def test_bodies_validate_and_export_back_to_the_same_method(env, tmp_path, capsys):
    env.add_jobs(account_jobs(extra=12))
    out = tmp_path / "pulled"
    code, stdout, stderr = run_cli(capsys, "pull", "--out", str(out))
    assert code == 0, stderr
    originals = by_id(account_jobs(extra=12))
    files = sorted(p for p in out.glob("*.json") if p.name != "index.json")
    assert len(files) == 17
    code, _, stderr = run_cli(capsys, "validate", *map(str, files))
    assert code == 0, stderr
    for path in files:
        job_obj = originals[path.stem]
        code, exported, stderr = run_cli(capsys, "export", str(path))
        assert code == 0, stderr
        body = json.loads(exported)
        want = job_obj["method"]
        got = body["method"]
        assert got["type"] == want["type"]
        block, want_block = got[want["type"]], want[want["type"]]
        assert block["hyperparameters"] == want_block["hyperparameters"]
        if want["type"] == "reinforcement":
            assert block["grader"] == want_block["grader"]
        for key in ("model", "training_file", "seed"):
            assert body[key] == job_obj[key]
    rft = json.loads((out / "ftjob-rft000003.json").read_text())
    assert rft["method"]["reinforcement"]["grader"] == MULTI_GRADER  # the map, exactly as reported
    assert rft["suffix"] == "extractor" and "user_provided_suffix" not in rft
    assert rft["method"]["reinforcement"]["response_format"]["type"] == "json_schema"
    failed = json.loads((out / "ftjob-rft000004.json").read_text())
    assert "response_format" not in failed["method"]["reinforcement"]  # null means unset
    sft = json.loads((out / "ftjob-sft000001.json").read_text())
    assert sft["metadata"] == {"team": "support"} and sft["integrations"][0]["wandb"]["project"] == "ft-support"
    assert sft["validation_file"] == "file-validsft001" and sft["suffix"] == "support-bot"
    assert "hyperparameters" not in sft  # the top-level block only mirrored method.supervised's
    for body in (rft, failed, sft):
        assert not {"id", "status", "created_at", "fine_tuned_model", "error", "result_files", "organization_id",
                    "trained_tokens", "usage_metrics", "shared_with_openai", "object"} & set(body)


def test_index_and_table(env, tmp_path, capsys):
    env.add_jobs(account_jobs())
    out = tmp_path / "p"
    code, stdout, _ = run_cli(capsys, "pull", "--out", str(out))
    assert code == 0
    index = json.loads((out / "index.json").read_text())
    assert [e["id"] for e in index] == ["ftjob-sft000005", "ftjob-rft000004", "ftjob-rft000003", "ftjob-dpo000002",
                                        "ftjob-sft000001"]
    entries = by_id(index)
    for entry in index:
        for key in ("id", "status", "created_at", "finished_at", "model", "fine_tuned_model", "trained_tokens",
                    "error", "file"):
            assert key in entry
        assert (out / entry["file"]).is_file() and entry["valid"] and entry["problems"] == []
    assert entries["ftjob-rft000004"]["error"]["message"] == "The training file has 3 invalid lines."
    assert entries["ftjob-sft000005"]["error"] is None and entries["ftjob-sft000001"]["error"] is None  # {} / nulls
    assert entries["ftjob-rft000003"]["usage_metrics"] == {"train_tokens": 1000, "grader_tokens": 300}
    assert entries["ftjob-rft000003"]["fine_tuned_model"].startswith("ft:o4-mini")
    rows = {line.split()[0]: line for line in stdout.splitlines() if line.startswith("ftjob-")}
    assert "stopped 2026-10-23" in rows["ftjob-rft000003"]  # o4-mini retired
    assert "2027-01-14" in rows["ftjob-sft000001"]  # gpt-4o family
    assert rows["ftjob-rft000004"].split()[1] == "failed"
    assert "Saved 5 jobs" in stdout and "ftstudio submit" in stdout and "--target azure" in stdout
    assert "--format trl" in stdout
    code, stdout, _ = run_cli(capsys, "pull", "--out", str(out), "--json")
    assert code == 0 and json.loads(stdout) == index


def test_retiring_within_60_days_uses_the_model_table():
    jobs = [pull.convert(j) for j in account_jobs()]
    soon = pull.retiring(jobs, 60, today=dt.date(2026, 12, 3))
    assert [(j.id, when.isoformat()) for j, when in soon] == [("ftjob-dpo000002", "2027-01-14"),
                                                             ("ftjob-sft000001", "2027-01-14")]
    assert pull.retiring(jobs, 60, today=dt.date(2026, 10, 1))[0][0].id == "ftjob-rft000003"  # o4-mini, 22 days
    unknown = pull.convert(job("ftjob-x", created_at=T0, model="my-own-model",
                               method={"type": "supervised", "supervised": {"hyperparameters": {}}}))
    assert unknown.stops_serving() is None


def test_unknown_configuration_is_kept_and_reported(env, tmp_path, capsys):
    azure = job("ftjob-azure0007", created_at=T0 + 9 * DAY, model="o4-mini-2025-04-16", status="paused",
                method={"type": "reinforcement", "reinforcement": {
                    "grader": copy.deepcopy(MULTI_GRADER), "hyperparameters": {"n_epochs": 1},
                    "max_episode_steps": 8, "tools": [{"name": "search", "server_url": "https://tools.example"}]}},
                training_type="globalstandard")
    env.add_jobs([*account_jobs(), azure])
    out = tmp_path / "p"
    code, stdout, _ = run_cli(capsys, "pull", "--out", str(out))
    assert code == 1  # saved, but one job isn't a valid config here
    body = json.loads((out / "ftjob-azure0007.json").read_text())
    assert body["training_type"] == "globalstandard"
    assert body["method"]["reinforcement"]["max_episode_steps"] == 8
    assert body["method"]["reinforcement"]["tools"][0]["name"] == "search"
    entry = by_id(json.loads((out / "index.json").read_text()))["ftjob-azure0007"]
    assert entry["status"] == "paused" and not entry["valid"]
    paths = {p["path"] for p in entry["problems"]}
    assert {"training_type", "method.reinforcement.max_episode_steps", "method.reinforcement.tools"} <= paths
    assert "couldn't become a valid config" in stdout and "ftjob-azure0007" in stdout
    assert len(list(out.glob("ftjob-*.json"))) == 6


def test_legacy_job_without_method_becomes_supervised():
    legacy = job("ftjob-old", created_at=T0, model="gpt-4o-mini-2024-07-18",
                 method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 4}}})
    del legacy["method"]
    body = job_body(legacy)
    assert body["method"] == {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 4}}}
    assert "hyperparameters" not in body and pull.convert(legacy).valid


def test_rerun_rewrites_only_changed_jobs(env, tmp_path, capsys):
    env.add_jobs(account_jobs())
    out = tmp_path / "p"
    assert run_cli(capsys, "pull", "--out", str(out))[0] == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    code, stdout, _ = run_cli(capsys, "pull", "--out", str(out))
    assert code == 0 and "(0 new, 0 updated, 5 unchanged)" in stdout
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
    changed = job("ftjob-sft000001", created_at=T0, model="gpt-4o-2024-08-06", suffix="support-bot-v2",
                  method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 5}}})
    env.add_jobs([changed])
    code, stdout, _ = run_cli(capsys, "pull", "--out", str(out))
    assert "(0 new, 1 updated, 4 unchanged)" in stdout
    after = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert after["ftjob-sft000001.json"] != stamps["ftjob-sft000001.json"]
    assert after["ftjob-dpo000002.json"] == stamps["ftjob-dpo000002.json"]
    assert json.loads((out / "ftjob-sft000001.json").read_text())["suffix"] == "support-bot-v2"


def test_since_and_status_filters(env, tmp_path, capsys):
    env.add_jobs(account_jobs(extra=30))
    out = tmp_path / "p"
    since = dt.datetime.fromtimestamp(T0 + 30 * DAY, dt.UTC).date().isoformat()
    code, stdout, _ = run_cli(capsys, "pull", "--out", str(out), "--since", since, "--json")
    index = json.loads(stdout)
    assert code == 0 and len(index) == 5 and all(e["created_at"] >= T0 + 30 * DAY for e in index)
    assert len(env.requests_to("/fine_tuning/jobs", "GET")) == 1  # the first page already reached older jobs
    code, stdout, _ = run_cli(capsys, "pull", "--out", str(tmp_path / "f"), "--status", "failed", "--json")
    assert [e["id"] for e in json.loads(stdout)] == ["ftjob-rft000004"]
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["ftjob-rft000004.json", "index.json"]
    with pytest.raises(SystemExit) as exc:
        main(["pull", "--since", "12/01/2026"])
    assert exc.value.code == 2 and "YYYY-MM-DD" in capsys.readouterr().err


def test_401_exits_3_and_writes_nothing(env, tmp_path, capsys, monkeypatch):
    env.add_jobs(account_jobs())
    monkeypatch.setenv("OPENAI_API_KEY", LEAKY_KEY)
    out = tmp_path / "p"
    code, stdout, stderr = run_cli(capsys, "pull", "--out", str(out))
    assert code == 3 and not out.exists()
    assert "401" in stderr and "OPENAI_API_KEY" in stderr and "Nothing was written" in stderr
    assert "ABCDEFGHIJKLMNOP" not in stdout + stderr


def test_401_on_a_later_page_writes_nothing(env, tmp_path, capsys):
    env.add_jobs(account_jobs(extra=150))  # two pages of 100
    env.fail_next(401, path="/fine_tuning/jobs", skip=1)
    out = tmp_path / "p"
    code, _, stderr = run_cli(capsys, "pull", "--out", str(out))
    assert code == 3 and not out.exists() and "401" in stderr
    assert [r.query.get("after") for r in env.requests_to("/fine_tuning/jobs", "GET")] == [None, "ftjob-bulk000050"]
    assert len(pull.pull(endpoint(env), out).jobs) == 155  # the fault is used up: now every page is read


def test_connection_refused_raises_before_anything_is_written(tmp_path):
    ep = Endpoint(base_url=closed_port_url(), api_key="sk-test-ABCDEFGHIJKLMNOPQRSTUV")
    out = tmp_path / "p"
    with pytest.raises(ApiError) as exc:
        pull.pull(ep, out, sleep=lambda s: None)
    assert exc.value.status is None and "could not connect" in exc.value.message
    assert "ABCDEFGHIJKLMNOP" not in exc.value.message and not out.exists()


def test_no_endpoint_exits_3(monkeypatch, tmp_path, capsys):
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "AZURE_OPENAI")):
            monkeypatch.delenv(name)
    code, _, stderr = run_cli(capsys, "pull", "--out", str(tmp_path / "p"))
    assert code == 3 and "OPENAI_API_KEY" in stderr and not (tmp_path / "p").exists()


def test_secrets_in_a_job_are_masked_and_reported(env, tmp_path, capsys):
    leaky = job("ftjob-leak0001", created_at=T0, model="gpt-4.1-mini-2025-04-14", metadata={"note": LEAKY_KEY},
                method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}})
    env.add_jobs([leaky])
    out = tmp_path / "p"
    code, stdout, stderr = run_cli(capsys, "pull", "--out", str(out))
    assert code == 1
    text = "".join(p.read_text() for p in out.iterdir())
    assert LEAKY_KEY not in text + stdout + stderr and "[REDACTED]" in text
    entry = json.loads((out / "index.json").read_text())[0]
    assert [p["code"] for p in entry["problems"]] == ["secret_in_config"]


# Ids that used to share a file (a/b and a_b; "", . and ..; index and job-index), one too long for a file
# name, names differing only in case, and paths out of the folder.
AWKWARD_IDS = ["a/b", "a_b", "", ".", "..", "index", "job-index", "INDEX", "x" * 300, "ABC", "abc", "../../escape",
               "ftjob-plain01", "résumé", "a b"]


def sft(job_id, created_at=T0):
    return job(job_id, created_at=created_at, model="gpt-4.1-mini-2025-04-14",
               method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}})


def test_every_id_gets_a_file_of_its_own_inside_the_folder(tmp_path):
    out = tmp_path / "p"
    jobs = [pull.convert(sft(i, T0 + n)) for n, i in enumerate(AWKWARD_IDS)]
    result = pull.save(jobs, out)
    index = json.loads((out / "index.json").read_text())
    files = {e["id"]: e["file"] for e in index}
    assert sorted(files) == sorted(AWKWARD_IDS) and len(set(files.values())) == len(AWKWARD_IDS)
    assert len({f.lower() for f in files.values()}) == len(AWKWARD_IDS)  # case-insensitive file systems too
    assert sorted(p.name for p in out.iterdir()) == sorted([*files.values(), "index.json"])
    assert all(len(f.encode()) <= 130 and not f.startswith(".") for f in files.values())
    assert files["ftjob-plain01"] == "ftjob-plain01.json" and files["a_b"] == "a_b.json"
    assert files["job-index"] == "job-index.json" and "index" not in (f.lower() for f in files.values())
    for entry in index:  # each file holds its own job
        assert json.loads((out / entry["file"]).read_text())["training_file"] == "file-train" + entry["id"][-6:]
    assert result.counts()["new"] == len(AWKWARD_IDS)
    # The same ids get the same names, whatever order they come in, and nothing is rewritten.
    again = pull.save([pull.convert(sft(i, T0 + AWKWARD_IDS.index(i))) for i in reversed(AWKWARD_IDS)], out)
    assert {e["id"]: e["file"] for e in again.index} == files and again.counts()["unchanged"] == len(AWKWARD_IDS)


def test_awkward_ids_through_the_cli_give_a_complete_index(env, tmp_path, capsys):
    env.add_jobs([sft(i, T0 + n) for n, i in enumerate(AWKWARD_IDS)])
    out = tmp_path / "p"
    code, stdout, stderr = run_cli(capsys, "pull", "--out", str(out))
    assert code == 0, stderr
    index = json.loads((out / "index.json").read_text())
    assert sorted(e["id"] for e in index) == sorted(AWKWARD_IDS)
    assert len({e["file"] for e in index}) == len(AWKWARD_IDS) == len(list(out.iterdir())) - 1
    code, _, stderr = run_cli(capsys, "validate", *(str(out / e["file"]) for e in index))
    assert code == 0, stderr


def test_a_file_a_job_pulled_earlier_keeps_is_not_taken(tmp_path):
    out = tmp_path / "p"
    pull.save([pull.convert(sft("A_B", T0))], out)
    pull.save([pull.convert(sft("a_b", T0 + 1))], out)  # another --status: A_B stays listed, and its file
    index = {e["id"]: e["file"] for e in json.loads((out / "index.json").read_text())}
    assert index == {"A_B": "A_B.json", "a_b": "a_b~2.json"}
    assert json.loads((out / "A_B.json").read_text())["training_file"] == "file-trainA_B"


def test_index_keeps_jobs_pulled_earlier_with_other_filters(env, tmp_path):
    env.add_jobs(account_jobs())
    out = tmp_path / "p"
    pull.pull(endpoint(env), out, status="failed")
    result = pull.pull(endpoint(env), out, status="cancelled")
    assert [e["id"] for e in result.index] == ["ftjob-sft000005", "ftjob-rft000004"]
    assert json.loads((out / "index.json").read_text()) == result.index


@pytest.mark.slow
def test_cli_subprocess_keys_nowhere_and_connection_refused(openai_stub, tmp_path):
    openai_stub.add_jobs(account_jobs(extra=3))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI"))}
    env.update(OPENAI_API_KEY=openai_stub.api_key, OPENAI_BASE_URL=openai_stub.base_url,
               FTSTUDIO_CACHE_DIR=str(tmp_path / "cache"))
    out = tmp_path / "p"
    r = subprocess.run([sys.executable, "-m", "ftstudio", "pull", "--out", str(out)], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    written = "".join(p.read_text() for p in out.iterdir())
    assert openai_stub.api_key not in written + r.stdout + r.stderr
    env["OPENAI_BASE_URL"] = closed_port_url()
    r = subprocess.run([sys.executable, "-m", "ftstudio", "pull", "--out", str(tmp_path / "q")], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 3 and not (tmp_path / "q").exists()
    assert "could not connect" in r.stderr and "Nothing was written" in r.stderr
    assert openai_stub.api_key not in r.stdout + r.stderr


def test_base_url_without_a_key_says_no_key_is_set(env, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    code, _, stderr = run_cli(capsys, "pull", "--out", str(tmp_path / "p"))
    assert code == 3 and "No API key is set" in stderr and not (tmp_path / "p").exists()


@pytest.mark.parametrize("api_version", [None, "2025-04-01-preview"])
def test_azure_endpoints_from_the_environment(env, tmp_path, capsys, monkeypatch, api_version):
    env.add_jobs(account_jobs(extra=3))
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", env.url)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", env.api_key)
    if api_version:
        monkeypatch.setenv("OPENAI_API_VERSION", api_version)
    code, stdout, stderr = run_cli(capsys, "pull", "--out", str(tmp_path / "p"), "--json")
    assert code == 0, stderr
    assert len(json.loads(stdout)) == 8
    request = env.requests_to("/fine_tuning/jobs", "GET")[0]
    assert request.path.startswith("/openai/") and request.headers["api-key"] == env.api_key
    assert (request.query.get("api-version") == api_version) if api_version else "api-version" not in request.query


def test_submit_accepts_a_pulled_file_and_sends_the_same_method(env, tmp_path, capsys):
    env.add_jobs(account_jobs())
    out = tmp_path / "p"
    assert run_cli(capsys, "pull", "--out", str(out))[0] == 0
    data = tmp_path / "train.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "Ann, 1 Main St"}], "name": "Ann", "address": "1 Main St"}\n')
    pulled = json.loads((out / "ftjob-rft000003.json").read_text())
    code, stdout, stderr = run_cli(capsys, "submit", str(out / "ftjob-rft000003.json"), "--train", str(data),
                                   "--validation", str(data))
    assert code == 0, stderr
    sent = list(env.job_bodies.values())[-1]
    assert sent["method"]["reinforcement"]["grader"] == MULTI_GRADER
    assert sent["method"]["reinforcement"]["hyperparameters"] == pulled["method"]["reinforcement"]["hyperparameters"]
    assert sent["method"]["reinforcement"]["response_format"] == pulled["method"]["reinforcement"]["response_format"]
    assert (sent["model"], sent["suffix"], sent["seed"]) == ("o4-mini-2025-04-16", "extractor", 1234)
