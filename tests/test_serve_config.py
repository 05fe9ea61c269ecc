"""ftstudio.serve's configuration pieces: loopback detection, refusing unsafe binds, loading GRADER.json,
the command line and the Azure endpoint-grader JSON the app shows."""

from __future__ import annotations

import http.client
import json
import time

import pytest

from ftstudio.cli import main
from ftstudio.serve import (
    ServeConfig,
    ServeError,
    azure_endpoint_grader,
    base_url,
    is_loopback,
    load_grader,
    serve_command,
    tunnel_host,
)
from tests.serve_process import ServeProcess

EXACT = {"type": "string_check", "name": "eq", "input": "{{sample.output_text}}", "reference": "x", "operation": "eq"}


@pytest.mark.parametrize(("host", "loop"), [("127.0.0.1", True), ("127.8.0.2", True), ("localhost", True),
                                            ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("::", False),
                                            ("10.1.2.3", False), ("example.com", False)])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop


def test_non_loopback_needs_a_set_token(monkeypatch):
    with pytest.raises(ServeError, match="--token-env"):
        ServeConfig(host="0.0.0.0").check()
    monkeypatch.delenv("SERVE_CFG_TOKEN", raising=False)
    with pytest.raises(ServeError, match="SERVE_CFG_TOKEN"):
        ServeConfig(host="0.0.0.0", token_env="SERVE_CFG_TOKEN").check()
    monkeypatch.setenv("SERVE_CFG_TOKEN", "  secret-value  ")
    cfg = ServeConfig(host="0.0.0.0", token_env="SERVE_CFG_TOKEN")
    cfg.check()
    assert cfg.token() == "secret-value"
    assert "secret-value" not in cfg.to_env()  # workers get the variable's name, never the token
    monkeypatch.setenv("FTSTUDIO_SERVE_CONFIG", cfg.to_env())
    assert ServeConfig.from_env() == cfg


def test_load_grader_from_grader_config_or_preset(tmp_path):
    (tmp_path / "g.json").write_text(json.dumps(EXACT))
    assert load_grader(str(tmp_path / "g.json")) == EXACT
    config = {"model": "o4-mini-2025-04-16", "training_file": "file-x",
              "method": {"type": "reinforcement", "reinforcement": {"grader": EXACT}}}
    (tmp_path / "job.json").write_text(json.dumps({"title": "t", "description": "d", "config": config}))
    assert load_grader(str(tmp_path / "job.json")) == EXACT
    (tmp_path / "sft.json").write_text(json.dumps({"model": "m", "training_file": "f", "method": {"type": "supervised"}}))
    with pytest.raises(ServeError, match="method.reinforcement.grader"):
        load_grader(str(tmp_path / "sft.json"))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ServeError, match="bad.json"):
        load_grader(str(tmp_path / "bad.json"))
    with pytest.raises(ServeError, match="cannot read"):
        load_grader(str(tmp_path / "missing.json"))


def test_serve_command_and_endpoint_grader():
    assert serve_command("g.json") == "ftstudio serve g.json"
    assert serve_command("my grader.json", host="0.0.0.0", port=9000, workers=2, token_env="TOK") == \
        "ftstudio serve 'my grader.json' --host 0.0.0.0 --port 9000 --workers 2 --token-env TOK"
    assert azure_endpoint_grader("https://h.example/", name="g") == \
        {"type": "endpoint", "name": "g", "url": "https://h.example/score", "rate_limit": 50}
    with_token = azure_endpoint_grader("https://h.example/score", token_env="TOK", rate_limit=None)
    assert with_token == {"type": "endpoint", "name": "ftstudio", "url": "https://h.example/score",
                          "headers": {"Authorization": "Bearer ${TOK}"}}


def test_flags_round_trip_to_workers_and_bad_values_are_refused(monkeypatch):
    cfg = ServeConfig(allow_hosts=("grader.example.com", "[::1]:9000"), allow_origins=("http://localhost:3000",),
                      allow_request_endpoints=("scorer.internal:8443",), allow_request_models=True)
    cfg.check()
    monkeypatch.setenv("FTSTUDIO_SERVE_CONFIG", cfg.to_env())
    assert ServeConfig.from_env() == cfg
    assert not ServeConfig().allow_request_code and not ServeConfig().allow_request_models  # off by default
    for bad, flag in ((ServeConfig(allow_hosts=("http://x.example/",)), "--allow-host"),
                      (ServeConfig(allow_hosts=("x.example:99999",)), "--allow-host"),
                      (ServeConfig(allow_origins=("localhost:3000",)), "--allow-origin"),
                      (ServeConfig(allow_origins=("http://x.example/path",)), "--allow-origin"),
                      (ServeConfig(allow_request_endpoints=("",)), "--allow-request-endpoint")):
        with pytest.raises(ServeError, match=flag):
            bad.check()


@pytest.mark.parametrize(("host", "url"), [("127.0.0.1", "http://127.0.0.1:8000"), ("::1", "http://[::1]:8000"),
                                           ("[::1]", "http://[::1]:8000"), ("localhost", "http://localhost:8000")])
def test_base_url_brackets_ipv6_once(host, url):
    assert base_url(host, 8000) == url


@pytest.mark.slow
@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_serve_on_ipv6_loopback_prints_its_url(tmp_path, host):
    (tmp_path / "g.json").write_text(json.dumps(EXACT))
    with ServeProcess(str(tmp_path / "g.json"), "--host", host, "--port", "0", wait_ready=False) as s:
        assert any(f"http://[::1]:{s.port}/score" in line for line in s.lines)
        assert not any("[[" in line for line in s.lines)
        deadline = time.monotonic() + 60
        while True:  # the banner comes just before the socket listens
            conn = http.client.HTTPConnection("::1", s.port, timeout=10)
            try:
                conn.request("GET", "/readyz")  # Host: [::1]:port, the bound address
                if conn.getresponse().status == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            finally:
                conn.close()


@pytest.mark.parametrize("argv", [
    ["grade", "g.json", "d.jsonl", "--concurrency", "{n}"],
    ["probe", "g.json", "d.jsonl", "--concurrency", "{n}"],
    ["sample", "d.jsonl", "--model", "m", "--concurrency", "{n}"],
    ["serve", "--max-concurrency", "{n}"],
    ["serve", "--workers", "{n}"],
    ["serve", "--max-rows", "{n}"],
])
@pytest.mark.parametrize("n", ["0", "-5", "two"])
def test_counts_below_one_are_usage_errors(argv, n, capsys):
    with pytest.raises(SystemExit) as info:
        main([a.format(n=n) for a in argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    flag = argv[-2]
    assert f"argument {flag}: " in err
    assert ("must be at least 1" in err) if n != "two" else ("expected a whole number" in err)


def test_serve_command_allows_a_tunnel_host():
    assert serve_command("g.json", allow_hosts=("abc.tunnel.example",)) == \
        "ftstudio serve g.json --allow-host abc.tunnel.example"
    assert tunnel_host("https://abc.tunnel.example/score", "127.0.0.1") == "abc.tunnel.example"
    assert tunnel_host("https://abc.tunnel.example", "0.0.0.0") is None  # off loopback the token protects
    assert tunnel_host("http://localhost:8000", "127.0.0.1") is None
