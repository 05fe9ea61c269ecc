"""`ftstudio ARGS` in-process against the OpenAI stub (a subprocess per call costs seconds on a busy machine)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from ftstudio.cli._main import main


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def stub_cli(stub, tmp_path, monkeypatch, capsys):
    """A function running `ftstudio *args` with the stub as the endpoint and stdin not a terminal; `cache=`
    names the FTSTUDIO_CACHE_DIR under tmp_path."""
    for var in [v for v in os.environ if v.startswith(("OPENAI_", "AZURE_OPENAI"))]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("OPENAI_API_KEY", stub.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)

    def run(*args: str, cache: str = "cache") -> Result:
        monkeypatch.setenv("FTSTUDIO_CACHE_DIR", str(tmp_path / cache))
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run
