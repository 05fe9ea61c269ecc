"""`ftstudio validate`, `export`, `flatten` and `schema`: the config commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ._commands import add_command
from ._common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_UNREADABLE,
    CliError,
    add_target,
    err,
    issues_for,
    load_json_file,
    resolve_target,
)
from ._export_loops import LOOP_FORMATS, export_loop, typed_job
from ._targets import add_flags, export_bedrock_rft_cmd, export_gemini_cmd

# Formats that translate the grader tree for another platform (ftstudio.targets), not OpenAI's job body.
TARGET_FORMATS = {"gemini": export_gemini_cmd, "bedrock-rft": export_bedrock_rft_cmd}

# --- validate ----------------------------------------------------------------------------

def cmd_validate(args) -> int:
    from ftstudio.core import count

    target = resolve_target(args)
    worst, records = EXIT_OK, []
    for path in args.files:
        try:
            data = load_json_file(path)
        except CliError as exc:
            err(exc.message)
            worst = max(worst, exc.code)
            continue
        _, issues = issues_for(data, target)
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
        err(f"{path}: {c['error']} error(s), {c['warning']} warning(s), {c['info']} note(s)")
    if args.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
    return worst


# --- export / flatten / schema -------------------------------------------------------------

def _config_or_grader(path: str):
    from ftstudio.config import ImportProblem, read_document
    from ftstudio.validation import from_json, grader_from_json

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
        err(f"wrote {out}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def cmd_export(args) -> int:
    """Export the document as written: key order, numbers, explicit nulls and unknown fields stay.

    Validation only decides whether to export; `--force` exports any JSON object, errors on stderr.
    """
    from ftstudio import config as export
    from ftstudio.validation import errors

    if args.format in TARGET_FORMATS:
        return TARGET_FORMATS[args.format](args)
    doc, issues = issues_for(load_json_file(args.file), resolve_target(args))
    kind, model = doc.kind, doc.data
    if not isinstance(model, dict):
        raise CliError(f"ftstudio: {args.file}: expected a JSON object (a job config or a grader), "
                       f"got {type(model).__name__}", EXIT_INVALID)
    problems = errors(issues)
    if problems and not args.force:
        err(f"ftstudio: {args.file} has {len(problems)} error(s); fix them or pass --force to export anyway:")
        for issue in problems:
            err("  " + issue.line())
        return EXIT_INVALID
    for issue in problems:
        err("exported anyway: " + issue.line())
    if args.format in TRAINER_FORMATS:
        return _export_trainer(kind, model, args)
    if args.format in LOOP_FORMATS:
        return export_loop(kind, model, args)
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


TRAINER_FORMATS = ("trl", "verl", "openrlhf", "verifiers", "nemo-gym")


def _export_trainer(kind: str, model, args) -> int:
    """`--format trl|verl|openrlhf|verifiers|nemo-gym -o DIR`: a folder for that trainer (a bare grader gives a reinforcement job)."""
    from ftstudio.reward import FORMATS, WheelError, write_export

    if not args.output:
        raise CliError(f"ftstudio: --format {args.format} writes a folder: give it with -o DIR", EXIT_INVALID)
    model = typed_job(kind, model, args)  # the folder reads typed fields: a valid config (or grader) here
    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise CliError(f"ftstudio: -o {args.output} is a file; give a folder", EXIT_UNREADABLE)
    try:
        written = write_export(model, args.format, args.output)
    except ValueError as exc:  # a format that needs a grader, for an SFT / DPO job
        raise CliError(f"ftstudio: {args.file}: {exc}", EXIT_INVALID) from None
    except WheelError as exc:
        raise CliError(f"ftstudio: {exc}", EXIT_INVALID) from None
    except OSError as exc:
        raise CliError(f"ftstudio: cannot write {args.output}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    for path in written:
        err(f"wrote {path}")
    err(f"run (tested with {FORMATS[args.format].trainer} {FORMATS[args.format].version}): "
        f"cd {args.output} && {FORMATS[args.format].smoke}")
    return EXIT_OK


def cmd_flatten(args) -> int:
    from ftstudio import config as export
    from ftstudio.config import JobConfig, flatten, flatten_config
    from ftstudio.graders.formula import FormulaError

    kind, model = _config_or_grader(args.file)
    try:
        flat = flatten_config(model) if isinstance(model, JobConfig) else flatten(model)
    except FormulaError as exc:
        err(f"ftstudio: {args.file}: cannot flatten: a formula does not parse: {exc.message}")
        return EXIT_INVALID
    _write(export.to_json(flat), args.output)
    return EXIT_OK


def cmd_schema(args) -> int:
    from ftstudio.config import grader_schema, job_config_schema

    schema = grader_schema() if args.grader else job_config_schema()
    _write(json.dumps(schema, indent=2, ensure_ascii=False), args.output)
    return EXIT_OK


def register(sub) -> None:
    v = add_command(sub, "validate")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--json", action="store_true", help="print a JSON array of issue objects")
    add_target(v)
    v.set_defaults(func=cmd_validate)

    e = add_command(sub, "export")
    e.add_argument("file", metavar="FILE")
    e.add_argument("--format", choices=("json", "python", "curl", *TRAINER_FORMATS, *TARGET_FORMATS, *LOOP_FORMATS),
                   default="json")
    e.add_argument("-o", "--output", metavar="OUT")
    add_flags(e)
    e.add_argument("--data", metavar="DATA", help="--format tinker|promptfoo: the dataset whose rows are exported")
    e.add_argument("--sample-field", default="model_sample", metavar="NAME",
                   help="--format tinker|promptfoo: the rows' column holding the model output (default model_sample)")
    e.add_argument("--force", action="store_true",
                   help="export any JSON object even when validation finds errors (listed on stderr)")
    add_target(e)
    e.set_defaults(func=cmd_export)

    f = add_command(sub, "flatten")
    f.add_argument("file", metavar="FILE")
    f.add_argument("-o", "--output", metavar="OUT")
    f.set_defaults(func=cmd_flatten)

    s = add_command(sub, "schema")
    s.add_argument("--grader", action="store_true")
    s.add_argument("-o", "--output", metavar="OUT")
    s.set_defaults(func=cmd_schema)
