"""`ftstudio sample DATA --model M [--n K] [--out OUT.jsonl]`: K answers per prompt from the configured
chat endpoint, ready for `ftstudio grade` / `ftstudio probe` and the calibration's group analysis.

A token and cost estimate comes first; on a terminal it asks before sending (`--yes` skips the question).
Ctrl-C (SIGINT, also in a process started with SIGINT ignored) cancels cleanly: requests in flight finish,
nothing more is sent, and the rows done are written.
Exit 0 when samples were written, 2 when the data can't be read, 3 when the API could not be used, 130 when
cancelled.
"""

from __future__ import annotations

import json
import signal
import sys
import threading

from ftstudio.core import DEFAULT_CONCURRENCY

from ._commands import add_command
from ._common import EXIT_OK, EXIT_UNREADABLE, CliError, err, positive_int

EXIT_API = 3


def _confirm(question: str) -> bool:
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _read_rows(path: str) -> list[dict]:
    from ftstudio.datasets import DatasetError, read_dataset

    try:
        data = read_dataset(path, max_bytes=None)
    except DatasetError as exc:
        raise CliError(f"ftstudio: {exc}") from None
    except OSError as exc:
        raise CliError(f"ftstudio: cannot read {path}: {exc.strerror or exc}") from None
    for e in data.errors[:5]:
        err(f"ftstudio: {path}: line {e.line} skipped: {e.message}")
    return [r for r in data.rows if isinstance(r, dict)]


class _CtrlC:
    """SIGINT for the whole command, installed before anything else happens.

    Until the requests start it raises KeyboardInterrupt (nothing was sent: exit 130, also at the
    confirmation prompt); from then on it only sets `cancel`, so no exception can land between two
    lines of the waiting loop. Installing it ourselves also covers a process started with SIGINT
    ignored (a background job of a script inherits SIG_IGN, and Python then installs no handler:
    Ctrl-C or `kill -INT` would be ignored and every request sent)."""

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.sending = False
        self._previous = None

    def __call__(self, signum, frame) -> None:
        self.cancel.set()
        if not self.sending:
            raise KeyboardInterrupt

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():  # signal.signal works there only
            self._previous = signal.signal(signal.SIGINT, self)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _cancellable(work, ctrl_c: _CtrlC):
    """Run work(cancel) in a thread; Ctrl-C sets `cancel` (requests in flight finish, nothing more is sent)."""
    finished = threading.Event()  # not Thread.join: an interrupted join can leave is_alive() wrong
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = work(ctrl_c.cancel)
        except BaseException as exc:  # re-raised in the main thread
            box["error"] = exc
        finally:
            finished.set()

    ctrl_c.sending = True
    threading.Thread(target=target, name="ftstudio-sample", daemon=True).start()
    announced = False
    while not finished.wait(0.2):
        if ctrl_c.cancel.is_set() and not announced:
            err("\nftstudio: cancelling: requests in flight finish, nothing more is sent")
            announced = True
    if "error" in box:
        raise box["error"]
    return box["value"], ctrl_c.cancel.is_set()


def cmd_sample(args) -> int:
    with _CtrlC() as ctrl_c:
        return _sample(args, ctrl_c)


def _sample(args, ctrl_c: _CtrlC) -> int:
    from ftstudio.api import Endpoint, ModelRunner
    from ftstudio.grading import Progress, Stage
    from ftstudio.probes import estimate_samples, generate

    from ._grade import _Progress

    rows = _read_rows(args.data)
    endpoint = Endpoint.from_env()
    if not endpoint.configured:
        err("ftstudio: no endpoint: set OPENAI_BASE_URL (Ollama, vLLM, …) and/or OPENAI_API_KEY, or Azure's "
            "AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY")
        return EXIT_API
    est = estimate_samples(rows, args.n, args.max_tokens, args.input_price, args.output_price)
    err(f"ftstudio: {args.model} at {endpoint.label}: {est.text()}")
    if not est.requests:
        err(f"ftstudio: {args.data}: no row has `messages` with a user message")
        return EXIT_UNREADABLE
    if sys.stdin.isatty() and not args.yes and not _confirm("Send them? [y/N] "):
        err("ftstudio: nothing sent")
        return EXIT_OK
    try:
        out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    except OSError as exc:
        err(f"ftstudio: cannot write {args.out}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
    progress = _Progress()
    runner = ModelRunner(endpoint, concurrency=args.concurrency)
    try:
        run, interrupted = _cancellable(lambda cancel: generate(
            rows, args.model, args.n, runner=runner, max_tokens=args.max_tokens, temperature=args.temperature,
            progress=lambda d, t: progress(Progress(d, t, Stage.REQUESTS, "sampling")), cancel=cancel), ctrl_c)
        progress.finish()
        for row in run.rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    written = len({r["group"] for r in run.rows})
    err(f"ftstudio: wrote {len(run.rows):,} samples ({written:,} rows × up to {args.n})"
        + (f" to {args.out}" if args.out else "")
        + (f"; {runner.stats.cache_hits:,} answers from the cache" if runner.stats.cache_hits else ""))
    for i, why in [f for f in run.failed if f[0] not in run.not_sent][:5]:
        err(f"  row {i}: {why}")
    if run.cancelled or interrupted:
        err("ftstudio: cancelled; run again to finish (answers so far are cached)")
        return 130
    return EXIT_API if run.failed and not run.rows else EXIT_OK


def register(sub) -> None:
    g = add_command(sub, "sample")
    g.add_argument("data", metavar="DATA", help=".jsonl, .json or .csv whose rows have `messages`")
    g.add_argument("--model", required=True, metavar="M", help="the model (or Azure deployment) to sample from")
    g.add_argument("--n", type=positive_int, default=1, metavar="K", help="samples per row (default 1)")
    g.add_argument("--out", metavar="OUT.jsonl", help="write here (default: stdout)")
    g.add_argument("--yes", action="store_true", help="don't ask before sending")
    g.add_argument("--max-tokens", type=positive_int, metavar="N", help="max_completion_tokens per sample")
    g.add_argument("--temperature", type=float, metavar="T", help="sampling temperature (default: the server's)")
    g.add_argument("--input-price", type=float, metavar="USD", help="USD per 1M prompt tokens, for the estimate")
    g.add_argument("--output-price", type=float, metavar="USD", help="USD per 1M completion tokens, for the estimate")
    g.add_argument("--concurrency", type=positive_int, default=DEFAULT_CONCURRENCY, metavar="N", help="parallel requests")
    g.set_defaults(func=cmd_sample)
