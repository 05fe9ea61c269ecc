"""`ftstudio check-data DATA --method M`: what the API would reject in a dataset, with token counts.

Exit 0 = loads with no errors, 1 = the report has errors, 2 = unreadable.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from ._commands import add_command
from ._common import add_target, resolve_target

if TYPE_CHECKING:
    from ftstudio.datasets import FormatReport


def _report(path: str, method: str, role: str, sample_field: str | None, n_epochs: int | str,
            target: str = "openai") -> FormatReport | str:
    """The dataset's report, or what stops it (an unknown method or role, an unreadable file)."""
    from ftstudio.datasets import METHODS, ROLES, DatasetError, ReportBuilder, iter_rows  # `--help` stays light

    if method not in METHODS:
        return f"unknown method {method!r}; use one of {', '.join(METHODS)}"
    if role not in ROLES:
        return f"unknown role {role!r}; use one of {', '.join(ROLES)}"
    builder = ReportBuilder(method, role=role, sample_field=sample_field, name=_display_name(path), target=target)
    blank = 0
    try:
        for chunk in iter_rows(path, max_bytes=None):
            builder.add_file_notes(notes=chunk.notes, fmt=chunk.format if chunk.start == 0 else None)
            builder.add_line_errors(chunk.errors)
            blank += chunk.blank_lines
            builder.add_rows(chunk.rows, chunk.lines, chunk.start)
    except DatasetError as e:
        return str(e)
    builder.add_file_notes(blank_lines=blank)
    return builder.finish(n_epochs)


def check_data_main(
    path: str,
    method: str,
    as_json: bool = False,
    *,
    role: str = "training",
    n_epochs: int | str = "auto",
    sample_field: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    target: str = "openai",
) -> int:
    """`ftstudio check-data`: 0 = loads with no errors, 1 = the report has errors, 2 = unreadable.

    Streams the file (no size limit); prints the report, or JSON with --json, to stdout."""
    stdout: TextIO = out or sys.stdout
    stderr: TextIO = err or sys.stderr
    report = _report(path, method, role, sample_field, n_epochs, target)
    if isinstance(report, str):
        if as_json:
            stdout.write(json.dumps({"ok": False, "error": report}, ensure_ascii=False) + "\n")
        else:
            stderr.write(f"error: {report}\n")
        return 2
    stdout.write((json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if as_json else report.to_text()) + "\n")
    return 0 if report.ok else 1



def _display_name(path: Any) -> str:
    return os.path.basename(os.fspath(path)) or os.fspath(path)


def cmd_check_data(args) -> int:
    return check_data_main(args.data, args.method, args.json, target=resolve_target(args))


def register(sub) -> None:
    c = add_command(sub, "check-data")
    c.add_argument("data", metavar="DATA")
    c.add_argument("--method", choices=("supervised", "dpo", "reinforcement"), required=True)
    c.add_argument("--json", action="store_true")
    add_target(c)
    c.set_defaults(func=cmd_check_data)
