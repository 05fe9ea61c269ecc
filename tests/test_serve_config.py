"""ftstudio.serve's configuration pieces: loopback detection, refusing unsafe binds, loading GRADER.json,
the command line and the Azure endpoint-grader JSON the app shows."""

from __future__ import annotations

import json

import pytest

from ftstudio.serve import ServeConfig, ServeError, azure_endpoint_grader, is_loopback, load_grader, serve_command

EXACT = {"type": "string_check", "name": "eq", "input": "{{sample.output_text}}", "reference": "x", "operation": "eq"}


@pytest.mark.parametrize(("host", "loop"), [("127.0.0.1", True), ("127.8.0.2", True), ("localhost", True),
                                            ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("::", False),
                                            ("10.1.2.3", False), ("example.com", False)])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop
    assert ServeConfig(host=host).request_code_allowed is loop
    assert ServeConfig(host=host, allow_request_code=True).request_code_allowed


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
