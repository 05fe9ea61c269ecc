import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(args, env):
    return subprocess.run([sys.executable, "-m", "ftstudio", *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)


def env_for(stub, tmp_path, key=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI"))}
    env.update(OPENAI_API_KEY=key or stub.api_key, OPENAI_BASE_URL=stub.base_url,
               FTSTUDIO_CACHE_DIR=str(tmp_path / "cache"))
    return env


def data(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [
        {"name": "Ann", "email": "a@x.io", "address": "1 Main St",
         "model_sample": json.dumps({"name": "Ann", "email": "A@X.IO", "address": "1 Main Street"})},
        {"name": "Bob", "email": "b@x.io", "address": "2 Side", "model_sample": "not json"}]) + "\n")
    return str(p)


@pytest.mark.slow
def test_compare_cli(openai_stub, tmp_path):
    env = env_for(openai_stub, tmp_path)
    r = run(["compare", "presets/rft-json-extraction.json", data(tmp_path), "--rows", "5"], env)
    assert r.returncode == 0, r.stderr
    assert "0 of 2 rows differ" in r.stdout
    openai_stub.grader_reward_overrides = {"address_fuzzy": 0.0}
    r = run(["compare", "presets/rft-json-extraction.json", data(tmp_path), "--json"], env)
    assert json.loads(r.stdout)["summary"]["cached"] == 2  # unchanged requests: answers come from the cache
    env["FTSTUDIO_CACHE_DIR"] = str(tmp_path / "fresh-cache")
    r = run(["compare", "presets/rft-json-extraction.json", data(tmp_path), "--json"], env)
    out = json.loads(r.stdout)
    assert out["rows"][0]["differs"] and out["summary"]["differ"] >= 1


@pytest.mark.slow
def test_submit_cli_and_no_key_anywhere(openai_stub, tmp_path):
    train = tmp_path / "t.jsonl"
    train.write_text('{"messages": [{"role": "user", "content": "hi"}], "answer": "x"}\n')
    env = env_for(openai_stub, tmp_path)
    r = run(["submit", "presets/rft-exact-match.json", "--train", str(train), "--validation", str(train), "--wait",
             "--poll", "0.01"], env)
    assert r.returncode == 0, r.stderr
    assert "succeeded" in r.stdout and "ft:o4-mini" in r.stdout
    assert openai_stub.api_key not in r.stdout + r.stderr
    bad = env_for(openai_stub, tmp_path, key="sk-live-ABCDEFGHIJKLMNOPQRSTUVWX")
    r = run(["submit", "presets/rft-exact-match.json", "--train", str(train)], bad)
    assert r.returncode == 3 and "check the API key" in r.stderr
    assert "ABCDEFGHIJKLMNOP" not in r.stdout + r.stderr


@pytest.mark.slow
def test_no_endpoint_exit_3(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI"))}
    r = run(["compare", "presets/rft-exact-match.json", data(tmp_path)], env)
    assert r.returncode == 3 and "OPENAI_API_KEY" in r.stderr
