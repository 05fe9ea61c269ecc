"""`ftstudio`: the command-line face over the same functions the pages call.

Exit codes everywhere: 0 success (warnings allowed), 1 the config/grader is invalid,
2 a file can't be read or isn't JSON. Heavy modules are imported inside each command so that
`ftstudio --help` and `ftstudio validate` start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_UNREADABLE):
        super().__init__(message)
        self.message, self.code = message, code


def _err(text: str) -> None:
    from .secrets import redact

    print(redact(text), file=sys.stderr)


def load_json_file(path: str) -> Any:
    """Read a JSON file or raise CliError(exit 2) saying what's wrong and where."""
    from .export import ImportProblem, parse_json

    try:
        raw = Path(path).read_bytes() if path != "-" else sys.stdin.buffer.read()
    except OSError as exc:
        raise CliError(f"ftstudio: cannot read {path}: {exc.strerror or exc}") from None
    try:
        return parse_json(raw)
    except ImportProblem as exc:
        raise CliError(f"ftstudio: {path}: {exc.message}") from None


def _issues_for(data: Any):
    from .export import read_document
    from .validation import check, check_grader

    doc = read_document(data)
    return doc, (check_grader(doc.data) if doc.kind == "grader" else check(doc.data))


# --- validate ----------------------------------------------------------------------------

def cmd_validate(args) -> int:
    from .issues import count

    worst, records = EXIT_OK, []
    for path in args.files:
        try:
            data = load_json_file(path)
        except CliError as exc:
            _err(exc.message)
            worst = EXIT_UNREADABLE
            continue
        _, issues = _issues_for(data)
        c = count(issues)
        if c["error"] and worst == EXIT_OK:
            worst = EXIT_INVALID
        if args.json:
            records += [dict(i.to_dict(), file=path) for i in issues]
        else:
            if len(args.files) > 1:
                print(f"# {path}")
            for issue in issues:
                print(issue.line())
        _err(f"{path}: {c['error']} error(s), {c['warning']} warning(s), {c['info']} note(s)")
    if args.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
    return worst


# --- export / flatten / schema -------------------------------------------------------------

def _config_or_grader(path: str):
    from .export import ImportProblem, read_document
    from .loading import from_json, grader_from_json

    doc = read_document(load_json_file(path))
    try:
        model = grader_from_json(doc.data) if doc.kind == "grader" else from_json(doc.data)
    except ImportProblem as exc:
        lines = "\n".join("  " + i.line() for i in exc.issues)
        raise CliError(f"ftstudio: {path}: {exc.message}\n{lines}", EXIT_INVALID) from None
    return doc.kind, model


def _write(text: str, out: str | None) -> None:
    if out:
        Path(out).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        _err(f"wrote {out}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def cmd_export(args) -> int:
    from . import export
    from .validation import check, check_grader, errors

    kind, model = _config_or_grader(args.file)
    problems = errors(check_grader(model) if kind == "grader" else check(model))
    if problems and not args.force:
        _err(f"ftstudio: {args.file} has {len(problems)} error(s); fix them or pass --force to export anyway:")
        for issue in problems:
            _err("  " + issue.line())
        return EXIT_INVALID
    for issue in problems:
        _err("exported anyway: " + issue.line())
    if args.format == "json":
        text = export.to_json(model)
    elif args.format == "python":
        text = export.grader_to_python(model) if kind == "grader" else export.to_python(model)
    else:
        if kind == "grader":
            raise CliError("ftstudio: curl export needs a whole job config, not a bare grader", EXIT_INVALID)
        text = export.to_curl(model)
    _write(text, args.output)
    return EXIT_OK


def cmd_flatten(args) -> int:
    from . import export
    from .flatten import flatten, flatten_config
    from .formula import FormulaError

    kind, model = _config_or_grader(args.file)
    try:
        flat = flatten(model) if kind == "grader" else flatten_config(model)
    except FormulaError as exc:
        _err(f"ftstudio: {args.file}: cannot flatten: a formula does not parse: {exc.message}")
        return EXIT_INVALID
    _write(export.to_json(flat), args.output)
    return EXIT_OK


def cmd_schema(args) -> int:
    from .schema import grader_schema, job_config_schema

    schema = grader_schema() if args.grader else job_config_schema()
    _write(json.dumps(schema, indent=2, ensure_ascii=False), args.output)
    return EXIT_OK


# --- parser ------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ftstudio", description="Fine-Tune Studio: build, validate, "
                                "test-grade and export OpenAI fine-tuning job configs.")
    from . import __version__

    p.add_argument("--version", action="version", version=f"ftstudio {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    v = sub.add_parser("validate", help="check job configs or bare graders; exit 0 ok, 1 errors, 2 unreadable")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--json", action="store_true", help="print a JSON array of issue objects")
    v.set_defaults(func=cmd_validate)

    e = sub.add_parser("export", help="print the create-job body as JSON, a Python SDK call or curl")
    e.add_argument("file", metavar="FILE")
    e.add_argument("--format", choices=("json", "python", "curl"), default="json")
    e.add_argument("-o", "--output", metavar="OUT")
    e.add_argument("--force", action="store_true", help="export even when validation finds errors")
    e.set_defaults(func=cmd_export)

    f = sub.add_parser("flatten", help="inline nested multi graders so the API accepts the tree")
    f.add_argument("file", metavar="FILE")
    f.add_argument("-o", "--output", metavar="OUT")
    f.set_defaults(func=cmd_flatten)

    s = sub.add_parser("schema", help="print the JSON Schema of the job config (or of a grader)")
    s.add_argument("--grader", action="store_true")
    s.add_argument("-o", "--output", metavar="OUT")
    s.set_defaults(func=cmd_schema)

    from ._cli_more import register

    register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return args.func(args)
    except CliError as exc:
        _err(exc.message)
        return exc.code
    except KeyboardInterrupt:
        _err("ftstudio: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
