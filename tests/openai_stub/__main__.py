"""`python -m tests.openai_stub --port 0 --delay 0.1`: prints the base URL, serves until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .server import DEFAULT_API_KEY, OpenAIStub


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.openai_stub", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds of latency added to every request")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    args = parser.parse_args(argv)
    stub = OpenAIStub(api_key=args.api_key, delay=args.delay, host=args.host, port=args.port).start()
    # First line is the base URL so a benchmark can read it from the pipe.
    print(stub.base_url, flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    stub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
