"""Real-browser fixtures: `streamlit run app.py` on 127.0.0.1 and Debian's Chromium via playwright.

Never `playwright install`: the browser is /usr/bin/chromium from the Debian package. Without it
the tests skip, unless FTSTUDIO_REQUIRE_E2E=1 (set by .ci/run), where its absence is a failure.
Screenshots go to tests/e2e/screenshots/ (or $FTSTUDIO_SCREENSHOTS).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
SHOTS = Path(os.environ.get("FTSTUDIO_SCREENSHOTS") or ROOT / "tests" / "e2e" / "screenshots")


def _require_browser() -> None:
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("FTSTUDIO_REQUIRE_E2E") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    def __init__(self, url: str, home: Path, proc: subprocess.Popen, log: Path):
        self.url, self.home, self.proc, self.log = url, home, proc, log


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, _openai_stub_server):
    """A fresh `streamlit run app.py` per test module, its model endpoint pointed at the OpenAI stub."""
    _require_browser()
    base = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI"))}
    env.update(FTSTUDIO_HOME=str(base / "home"), FTSTUDIO_CACHE_DIR=str(base / "cache"),
               OPENAI_API_KEY=_openai_stub_server.api_key, OPENAI_BASE_URL=_openai_stub_server.base_url,
               PYTHONUNBUFFERED="1")
    log = base / "streamlit.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("streamlit did not start:\n" + log.read_text()[-3000:])
    yield App(url, base / "home", proc, log)
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()
