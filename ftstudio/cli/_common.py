"""What every command shares: exit codes, CliError, stderr output with secrets redacted, reading JSON files.

Exit codes everywhere: 0 success (warnings allowed), 1 the config/grader is invalid,
2 a file can't be read or isn't JSON, 3 the API could not be used. Heavy modules are imported inside each command so that
`ftstudio --help` and `ftstudio validate` start fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE, EXIT_API = 0, 1, 2, 3


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_UNREADABLE):
        super().__init__(message)
        self.message, self.code = message, code


def positive_int(text: str) -> int:
    """argparse type of counts that must be at least 1 (--concurrency 0 would hang, -5 means nothing)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def sample_field(text: str) -> str:
    """argparse type of --sample-field: the name of a row field, never empty."""
    from ftstudio.core import sample_field_problem

    problem = sample_field_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def err(text: str) -> None:
    from ftstudio.core import redact

    print(redact(text), file=sys.stderr)


def load_json_file(path: str) -> Any:
    """Read a JSON file (at most MAX_DOCUMENT_BYTES) or raise CliError(exit 2) saying what's wrong and where."""
    from ftstudio.config import ImportProblem, read_json_file

    try:
        return read_json_file(path if path != "-" else sys.stdin.buffer)
    except OSError as exc:
        raise CliError(f"ftstudio: cannot read {path}: {exc.strerror or exc}") from None
    except ImportProblem as exc:
        # Readable JSON nested past the depth limit is an invalid document (1), not an unreadable file (2).
        code = EXIT_INVALID if "nest" in exc.message else EXIT_UNREADABLE
        raise CliError(f"ftstudio: {path}: {exc.message}", code) from None


def issues_for(data: Any, target: str | None = None):
    from ftstudio.config import read_document
    from ftstudio.validation import check, check_grader

    doc = read_document(data)
    return doc, (check_grader(doc.data, target=target) if doc.kind == "grader" else check(doc.data, target=target))


TARGET_CHOICES = ("openai", "azure", "bedrock", "compatible", "gemini", "bedrock-rft")


def add_target(parser) -> None:
    parser.add_argument("--target", choices=TARGET_CHOICES, default=None,
                        help="the provider whose rules apply (default: openai, or the configured connection's "
                             "kind: Azure env or a Bedrock base URL)")


def resolve_target(args) -> str:
    """--target, else the kind of the connection the environment configures, else openai."""
    target = getattr(args, "target", None)
    if target:
        return target
    from ftstudio.api import default_target

    return default_target()


def endpoint_from_env():
    """The endpoint the connected commands use (OPENAI_* or AZURE_OPENAI_* variables); exit 3 when none is set."""
    from ftstudio.api import Endpoint

    ep = Endpoint.from_env()
    if not ep.configured:
        raise CliError("ftstudio: no API endpoint: set OPENAI_API_KEY (and OPENAI_BASE_URL for other servers), "
                       "or AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY", EXIT_API)
    return ep


def retry_note(attempt: int, why: str, delay: float) -> None:
    err(f"  {why}: retry {attempt} in {delay:.1f} s")
