"""`ftstudio export --format nemo-gym`: a NeMo-Gym resources server that forwards /verify to `ftstudio serve`,
NeMo-Gym's dataset rows, and a smoke run that starts `serve` and posts the example rows to its /verify.

NeMo-Gym itself needs Python >= 3.13.14; `ftstudio serve` does not, so the grader runs where ftstudio is
installed and NeMo-Gym's resources server only passes the request on.
"""

from __future__ import annotations

import json
from typing import Any

NEMO_GYM_VERSION = "0.7.0"
SERVER = "ftstudio_grader"

APP_PY = '''\
"""NeMo-Gym resources server for the grader in grader.json: /verify forwards the request, as NeMo-Gym sends
it, to `ftstudio serve grader.json`'s /verify, which answers in NeMo-Gym's shape (the request echoed with
`reward`, and `reward_components` for a multi grader). Written by `ftstudio export --format nemo-gym`."""

import aiohttp

from nemo_gym.base_resources_server import (
    BaseResourcesServerConfig,
    BaseVerifyRequest,
    BaseVerifyResponse,
    SimpleResourcesServer,
)


class FtstudioGraderConfig(BaseResourcesServerConfig):
    ftstudio_url: str = "http://127.0.0.1:8000"
    ftstudio_token: str | None = None


class FtstudioVerifyRequest(BaseVerifyRequest):
    model_config = {"extra": "allow"}  # the row's item fields ride at the top level


class FtstudioVerifyResponse(BaseVerifyResponse):
    model_config = {"extra": "allow"}
    reward_components: dict[str, float] | None = None


class FtstudioGraderServer(SimpleResourcesServer):
    config: FtstudioGraderConfig

    async def verify(self, body: FtstudioVerifyRequest) -> FtstudioVerifyResponse:
        headers = {"Authorization": f"Bearer {self.config.ftstudio_token}"} if self.config.ftstudio_token else {}
        async with aiohttp.ClientSession() as session:
            async with session.post(self.config.ftstudio_url.rstrip("/") + "/verify", headers=headers,
                                    json=body.model_dump(mode="json")) as response:
                response.raise_for_status()
                return FtstudioVerifyResponse(**await response.json())


if __name__ == "__main__":
    FtstudioGraderServer.run_webserver()
'''

SMOKE_PY = '''\
"""Offline smoke run (no model, no download): starts `ftstudio serve grader.json` on a free loopback port,
posts each example row to its /verify in NeMo-Gym's shape (the row's model_sample as the response's
output text) and prints the answers.

    python3 smoke.py        # one JSON line per row ({"reward", ...reward_components}), then the mean
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def response(text):
    return {"id": "resp_smoke", "object": "response", "created_at": 0, "model": "smoke", "status": "completed",
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "output": [{"type": "message", "id": "msg_smoke", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": text, "annotations": []}]}]}


def wait_ready(port, tries=600):
    """/readyz answers 200 once the grader is loaded and its python workers are warm."""
    for _ in range(tries):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("ftstudio serve never became ready")


def main():
    with open(os.path.join(HERE, "data", "example.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(HERE, "example_rows.jsonl"), encoding="utf-8") as f:
        samples = [json.loads(line)["model_sample"] for line in f if line.strip()]
    server = subprocess.Popen([sys.executable, "-m", "ftstudio", "serve", os.path.join(HERE, "grader.json"),
                               "--port", "0", "--no-access-log"], stdout=subprocess.PIPE, text=True)
    try:
        port = None
        for line in server.stdout:
            match = re.search(r"http://127\\.0\\.0\\.1:(\\d+)/", line)
            if match:
                port = match.group(1)
                break
        if port is None:
            sys.exit("ftstudio serve did not start")
        wait_ready(port)
        rewards = []
        for row, sample in zip(rows, samples):
            request = urllib.request.Request(f"http://127.0.0.1:{port}/verify", method="POST",
                                             data=json.dumps({**row, "response": response(sample)}).encode(),
                                             headers={"content-type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as answer:
                body = json.loads(answer.read())
            rewards.append(body["reward"])
            print(json.dumps({"reward": body["reward"], **body.get("reward_components", {})}))
        print(f"ftstudio serve /verify (NeMo-Gym shape): scored {len(rewards)} rows, "
              f"mean reward {sum(rewards) / len(rewards):.4f}")
    finally:
        server.terminate()  # SIGTERM: serve drains its requests, then exits
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
'''


def dataset_rows(rows: list[dict[str, Any]]) -> str:
    """NeMo-Gym dataset rows: the prompt as `responses_create_params.input`, the item fields at the top level."""
    out = []
    for row in rows:
        item = {k: v for k, v in row.items() if k not in ("messages", "model_sample")}
        params = {"input": [{"role": m["role"], "type": "message", "content": m["content"]} for m in row["messages"]]}
        out.append(json.dumps({"responses_create_params": params, **item}) + "\n")
    return "".join(out)


def config_yaml() -> str:
    return f"""# NeMo-Gym {NEMO_GYM_VERSION} config (written by `ftstudio export --format nemo-gym`): copy this folder's
# resources_servers/{SERVER} into NeMo-Gym's resources_servers/ and run
#   ng_run "+config_paths=[resources_servers/{SERVER}/configs/{SERVER}.yaml,responses_api_models/vllm_model/configs/vllm_model.yaml]"
# with `ftstudio serve grader.json --port 8000` running (ftstudio_url below).
{SERVER}:
  resources_servers:
    {SERVER}:
      entrypoint: app.py
      domain: other
      verified: false
      description: The Fine-Tune Studio grader in grader.json, graded by ftstudio serve
      value: The same rewards as ftstudio grade for the exported grader tree
      ftstudio_url: http://127.0.0.1:8000
{SERVER}_simple_agent:
  responses_api_agents:
    simple_agent:
      entrypoint: app.py
      resources_server:
        type: resources_servers
        name: {SERVER}
      model_server:
        type: responses_api_models
        name: policy_model
      datasets:
      - name: example
        type: example
        jsonl_fpath: resources_servers/{SERVER}/data/example.jsonl
"""


def readme(name: str) -> str:
    return f"""# The grader `{name}` for NeMo-Gym, served by `ftstudio serve`

Written by `ftstudio export --format nemo-gym`. `ftstudio serve` answers `POST /verify` in NeMo-Gym's
resources-server shape. The request is `{{responses_create_params, response, ...}}`, with the row's item
fields at the top level. The answer is the request echoed plus `reward`, and `reward_components` for a
multi grader. The shapes were checked against NeMo-Gym {NEMO_GYM_VERSION}'s request and response models.

```bash
pip install -r requirements.txt && python3 smoke.py
```

`requirements.txt` installs ftstudio with its `[serve]` extra from `wheels/` (built at export time; ftstudio
is not on PyPI). `smoke.py` is the offline smoke run: no model, no download. It starts
`ftstudio serve grader.json` on a free loopback port, posts each row of `data/example.jsonl` with its
`model_sample` from `example_rows.jsonl` as the response, and prints the rewards.

## With NeMo-Gym

NeMo-Gym needs Python >= 3.13.14; the server does not.

1. `ftstudio serve grader.json --port 8000` (another host: add `--host 0.0.0.0 --token-env VAR`, and set
   `ftstudio_token` in the config).
2. Copy `resources_servers/{SERVER}/` into NeMo-Gym's `resources_servers/`, together with `data/example.jsonl`
   (or your rows in that shape). Its `app.py` forwards `/verify` to the server (`ftstudio_url` in
   `configs/{SERVER}.yaml`).
3. Run `ng_run "+config_paths=[resources_servers/{SERVER}/configs/{SERVER}.yaml,...]"` and collect rollouts
   as usual.
"""
