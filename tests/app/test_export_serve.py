"""The Export page's serve panel: the `ftstudio serve` command and the Azure endpoint-grader JSON."""

import json

from app_util import new_app, preset_config

PAGE = "app_pages/export.py"


def _codes(at) -> list[str]:
    return [c.value for c in at.code]


def test_serve_command_and_azure_endpoint_grader(monkeypatch, tmp_path):
    cfg = preset_config("rft-json-extraction")
    at = new_app(monkeypatch, tmp_path, cfg, page=PAGE)
    assert not at.exception
    name = cfg.grader.name.replace(" ", "-")
    commands = [c for c in _codes(at) if c.startswith("ftstudio serve ")]
    assert commands and commands[0].split()[2].strip("'") == f"{name}.json"
    endpoint = json.loads([c for c in _codes(at) if '"endpoint"' in c][0])
    assert endpoint == {"type": "endpoint", "name": cfg.grader.name, "url": "http://127.0.0.1:8000/score",
                        "rate_limit": 50}

    at.text_input(key="serve_host").input("0.0.0.0").run()
    at.number_input(key="serve_port").set_value(9001).run()
    at.text_input(key="serve_public_url").input("https://grader.example.com").run()
    command = [c for c in _codes(at) if c.startswith("ftstudio serve ")][0]
    assert "--host 0.0.0.0" in command and "--port 9001" in command and "--token-env FTSTUDIO_SERVE_TOKEN" in command
    endpoint = json.loads([c for c in _codes(at) if '"endpoint"' in c][0])
    assert endpoint["url"] == "https://grader.example.com/score"
    assert endpoint["headers"] == {"Authorization": "Bearer ${FTSTUDIO_SERVE_TOKEN}"}
    assert not at.exception


def test_no_grader_says_so(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, preset_config("supervised-chat"), page=PAGE)
    assert not at.exception
    assert any("Only a reinforcement config has a grader to serve" in i.value for i in at.info)
    assert not any(c.startswith("ftstudio serve ") for c in _codes(at))


def test_a_tunnel_to_a_loopback_server_is_allowed_as_host(monkeypatch, tmp_path):
    at = new_app(monkeypatch, tmp_path, preset_config("rft-json-extraction"), page=PAGE)
    at.text_input(key="serve_public_url").input("https://abc.tunnel.example").run()
    command = [c for c in _codes(at) if c.startswith("ftstudio serve ")][0]
    assert command.endswith("--allow-host abc.tunnel.example") and "--token-env" not in command
    at.text_input(key="serve_public_url").input("http://127.0.0.1:8000").run()
    assert "--allow-host" not in [c for c in _codes(at) if c.startswith("ftstudio serve ")][0]
    assert not at.exception
