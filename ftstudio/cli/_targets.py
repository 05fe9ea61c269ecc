"""`ftstudio export --format gemini` and `--format bedrock-rft`: the tree for Google's and Bedrock's RL tuning.

The document is validated for the target first (errors stop the export unless --force); the grader
is then translated by ftstudio.targets, and what the translation changes is printed on stderr (the
same list `validate --target gemini` gives).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._common import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, CliError, err, issues_for, load_json_file
from ._grade import grader_of


def checked_grader(path: str, target: str, force: bool):
    """The parsed grader of a grader / job config file after validation for `target`; CliError if invalid."""
    from ftstudio.graders import parse_grader
    from ftstudio.validation import errors

    data = load_json_file(path)
    doc, issues = issues_for(data, target)
    problems = errors(issues)
    if problems and not force:
        lines = "\n".join("  " + i.line() for i in problems)
        raise CliError(f"ftstudio: {path} has {len(problems)} error(s) for --target {target}; fix them or pass "
                       f"--force to export anyway:\n{lines}", EXIT_INVALID)
    for issue in problems:
        err("exported anyway: " + issue.line())
    raw = grader_of(doc.data, path)
    try:
        return doc, parse_grader(raw)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise CliError(f"ftstudio: {path}: the grader can't be translated: {first}", EXIT_INVALID) from None


def write_text(text: str, out: str | None) -> None:
    text = text if text.endswith("\n") else text + "\n"
    if not out:
        print(text, end="")
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"ftstudio: cannot write {out}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    err(f"wrote {out}")


def gemini_document(path: str, force: bool, cloud_run_uri: str | None) -> tuple[Any, Any]:
    from ftstudio.targets import CLOUD_RUN_PLACEHOLDER, export_gemini

    _, grader = checked_grader(path, "gemini", force)
    return grader, export_gemini(grader, cloud_run_uri=cloud_run_uri or CLOUD_RUN_PLACEHOLDER)


def export_gemini_cmd(args) -> int:
    _, export = gemini_document(args.file, args.force, getattr(args, "cloud_run_uri", None))
    write_text(json.dumps(export.document, indent=2, ensure_ascii=False), args.output)
    err(export.summary())
    return EXIT_OK
