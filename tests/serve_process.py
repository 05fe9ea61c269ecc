"""`ftstudio serve` as a real process on 127.0.0.1 (port 0: it prints the port it got) and a tiny HTTP client."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class ServeProcess:
    """`memory_limit` (bytes) caps the server's address space, so a request that would make it allocate
    without bound fails there instead of taking the machine's memory."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, wait_ready: bool = True,
                 timeout: float = 60.0, memory_limit: int | None = None):
        # The server's log (internal failures) and model cache go to a folder of this test, never the user's.
        self.home = tempfile.mkdtemp(prefix="ftstudio-serve-test-")
        full_env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                        PYTHONUNBUFFERED="1")
        full_env.setdefault("FTSTUDIO_HOME", self.home)
        full_env.setdefault("FTSTUDIO_CACHE_DIR", os.path.join(self.home, "cache"))
        full_env.update(env or {})

        def limit_memory() -> None:
            if memory_limit:
                resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

        self.proc = subprocess.Popen([sys.executable, "-m", "ftstudio", "serve", *args], cwd=ROOT, env=full_env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=limit_memory if memory_limit else None)
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._port = threading.Event()
        self.port = 0
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.errors), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._port.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("ftstudio serve did not start:\n" + "\n".join(self.lines + self.errors))
        # With --token-env every request carries the token, the readiness probe too.
        token_var = args[args.index("--token-env") + 1] if "--token-env" in args else None
        ready_token = full_env.get(token_var) if token_var else None
        if wait_ready:
            while self.get("/readyz", token=ready_token, check=False)[0] != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("ftstudio serve never became ready")
                time.sleep(0.05)

    def _read(self, stream, sink: list[str]) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))
            match = re.search(r"http://127\.0\.0\.1:(\d+)/", line) or re.search(r"http://[^/]*:(\d+)/", line)
            if match and not self._port.is_set():
                self.port = int(match.group(1))
                self._port.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                headers: dict[str, str] | None = None, token: str | None = None,
                timeout: float = 60.0) -> tuple[int, dict[str, str], bytes]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"content-type": "application/json", **(headers or {})}
        if token:
            h["authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()

    def post(self, path: str, body: Any = None, **kw) -> tuple[int, Any]:
        status, _, content = self.request("POST", path, body, **kw)
        return status, json.loads(content)

    def get(self, path: str, token: str | None = None, check: bool = True) -> tuple[int, bytes]:
        try:
            status, _, content = self.request("GET", path, token=token)
        except OSError:
            if check:
                raise
            return 0, b""
        return status, content

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        shutil.rmtree(self.home, ignore_errors=True)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.stop(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
