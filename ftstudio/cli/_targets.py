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


BEDROCK_FLAGS = (("role_arn", "--role-arn"), ("lambda_arn", "--lambda-arn"), ("training_s3", "--training-s3"),
                 ("output_s3", "--output-s3"))


def bedrock_rft_document(path: str, args) -> Any:
    """The export of a config for Bedrock's RFT job (CliError when a flag or the base model is missing)."""
    from ftstudio.targets import BedrockRftError, export_bedrock_rft

    missing = [flag for attr, flag in BEDROCK_FLAGS if not getattr(args, attr, None)]
    if missing:
        raise CliError(f"ftstudio: --format bedrock-rft needs {', '.join(missing)} (the job's IAM role, the reward "
                       "Lambda's ARN and the S3 locations of the data and the output)", EXIT_INVALID)
    doc, _ = checked_grader(path, "bedrock-rft", args.force)
    config = doc.data if doc.kind != "grader" else {}
    try:
        return export_bedrock_rft(config, grader_of(doc.data, path), role_arn=args.role_arn,
                                  lambda_arn=args.lambda_arn, training_s3=args.training_s3, output_s3=args.output_s3,
                                  validation_s3=args.validation_s3, job=args.job_name, model=args.base_model)
    except BedrockRftError as exc:
        raise CliError(f"ftstudio: {path}: {exc}", EXIT_INVALID) from None


def write_files(folder: str, files: dict[str, str]) -> list[Path]:
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise CliError(f"ftstudio: -o {folder} is a file; give a folder", EXIT_UNREADABLE)
    written = []
    try:
        for rel, text in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(target)
    except OSError as exc:
        raise CliError(f"ftstudio: cannot write {folder}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    return written


def export_bedrock_rft_cmd(args) -> int:
    if not args.output:
        raise CliError("ftstudio: --format bedrock-rft writes a folder: give it with -o DIR", EXIT_INVALID)
    export = bedrock_rft_document(args.file, args)
    for path in write_files(args.output, export.files):
        err(f"wrote {path}")
    for warning in export.warnings:
        err("warning: " + warning)
    for change in export.changes:
        err(f"[{change.rule}] {change.line()}")
    return EXIT_OK


def add_flags(parser) -> None:
    """The target flags of `export` (and `migrate`): Gemini's Cloud Run URL, Bedrock RFT's job fields."""
    parser.add_argument("--cloud-run-uri", metavar="URL",
                        help="gemini: the URL where `ftstudio serve GRADER.json` answers Gemini's Cloud Run scorer "
                             "(POST /gemini); default a placeholder to replace")
    for flag, help_text in (("--role-arn", "the IAM role Bedrock assumes"),
                            ("--lambda-arn", "the reward Lambda's ARN (deploy DIR/lambda there)"),
                            ("--training-s3", "s3:// URI of the training data"),
                            ("--output-s3", "s3:// URI for the job's output"),
                            ("--validation-s3", "s3:// URI of the validation data (optional)"),
                            ("--job-name", "default: the config's suffix and a short hash"),
                            ("--base-model", "default: the config's model when Bedrock offers it for RFT")):
        parser.add_argument(flag, metavar=flag.split("-")[-1].upper() if flag != "--base-model" else "ID",
                            help="bedrock-rft: " + help_text)
