"""`ftstudio migrate CONFIG --to azure|bedrock-rft|gemini|trl -o DIR [target flags]`: move a job to another platform.

DIR gets the target's export (as `export --format` writes it) and CHANGES.md; the same list is printed
on stdout, one change a line. Exit 0 when nothing is lost, 4 when something is, 1 for an invalid config
(or a missing flag), 2 for an unreadable file or folder.
"""

from __future__ import annotations

from ._commands import add_command
from ._common import EXIT_INVALID, EXIT_OK, CliError, err, load_json_file
from ._targets import add_flags, write_files

EXIT_LOST = 4
CHANGES_FILE = "CHANGES.md"


def cmd_migrate(args) -> int:
    from ftstudio.migrate import MoveError, plan_move

    data = load_json_file(args.file)
    flags = {"role_arn": args.role_arn, "lambda_arn": args.lambda_arn, "training_s3": args.training_s3,
             "output_s3": args.output_s3, "validation_s3": args.validation_s3, "job": args.job_name,
             "model": args.base_model} if args.to == "bedrock-rft" else {}
    try:
        move = plan_move(data, args.to, cloud_run_uri=args.cloud_run_uri, **flags)
    except MoveError as exc:
        lines = "".join("\n  " + i.line() for i in exc.issues)
        raise CliError(f"ftstudio: {args.file}: cannot move to {args.to}: {exc.message}{lines}", EXIT_INVALID) from None
    for path in write_files(args.output, {**move.files, CHANGES_FILE: move.markdown()}):
        err(f"wrote {path}")
    for line in move.lines():
        print(line)
    lost = sum(c.lost for c in move.changes)
    err(f"{len(move.changes)} change(s), {lost} lose something; see {args.output}/{CHANGES_FILE}")
    return EXIT_LOST if move.lost else EXIT_OK


def register(sub) -> None:
    m = add_command(sub, "migrate")
    m.add_argument("file", metavar="CONFIG")
    m.add_argument("--to", required=True, choices=("azure", "bedrock-rft", "gemini", "trl"))
    m.add_argument("-o", "--output", required=True, metavar="DIR")
    add_flags(m)
    m.set_defaults(func=cmd_migrate)
