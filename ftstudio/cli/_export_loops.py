"""`ftstudio export CONFIG --format tinker|promptfoo --data DATA [--sample-field NAME] -o DIR`: folders where
the user's own loop computes the reward (tinker-cookbook environments) or promptfoo scores the rows."""

from __future__ import annotations

from pathlib import Path

from ._common import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, CliError, err

LOOP_FORMATS = ("tinker", "promptfoo")


def typed_job(kind: str, model, args):
    """The document as a JobConfig (a bare grader becomes a reinforcement job): exports read typed fields."""
    from ftstudio.config import ImportProblem, method_block, new_config
    from ftstudio.validation import from_json, grader_from_json

    try:
        if kind == "grader":
            return new_config("reinforcement").model_copy(
                update={"method": method_block("reinforcement", grader_from_json(model))})
        return from_json(model)
    except ImportProblem as exc:
        lines = "\n".join("  " + i.line() for i in exc.issues)
        raise CliError(f"ftstudio: {args.file}: --format {args.format} needs a valid {kind}: {exc.message}\n{lines}",
                       EXIT_INVALID) from None


def _rows(path: str) -> list[dict]:
    from ftstudio.datasets import DatasetError, read_dataset

    try:
        ds = read_dataset(path)
    except DatasetError as exc:
        raise CliError(f"ftstudio: --data {path}: {exc}", EXIT_UNREADABLE) from None
    if ds.errors:
        first = ds.errors[0]
        raise CliError(f"ftstudio: --data {path}: line {first.line}: {first.message} ({len(ds.errors)} unreadable "
                       "line(s)); fix them so every row is exported", EXIT_UNREADABLE)
    return ds.rows


def _write(args, job, rows: list[dict]) -> tuple[list[Path], str]:
    """(files written, the command that runs the folder)."""
    if args.format == "tinker":
        from ftstudio.reward import TINKER_COMMAND, write_tinker

        return write_tinker(job, rows, args.output, args.sample_field), TINKER_COMMAND
    from ftstudio.reward import PROMPTFOO_COMMAND, write_promptfoo

    written, notes = write_promptfoo(job, rows, args.output, args.sample_field)
    for note in notes:
        err(f"approximate: {note}")
    return written, PROMPTFOO_COMMAND


def export_loop(kind: str, model, args) -> int:
    from ftstudio.reward import WheelError

    if not args.output:
        raise CliError(f"ftstudio: --format {args.format} writes a folder: give it with -o DIR", EXIT_INVALID)
    if not args.data:
        raise CliError(f"ftstudio: --format {args.format} exports the dataset's rows: give them with --data DATA",
                       EXIT_INVALID)
    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise CliError(f"ftstudio: -o {args.output} is a file; give a folder", EXIT_UNREADABLE)
    job = typed_job(kind, model, args)
    rows = _rows(args.data)
    try:
        written, command = _write(args, job, rows)
    except ValueError as exc:  # an SFT / DPO job: no grader to export
        raise CliError(f"ftstudio: {args.file}: {exc}", EXIT_INVALID) from None
    except WheelError as exc:
        raise CliError(f"ftstudio: {exc}", EXIT_INVALID) from None
    except OSError as exc:
        raise CliError(f"ftstudio: cannot write {args.output}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    for path in written:
        err(f"wrote {path}")
    err(f"run: cd {args.output} && {command}")
    return EXIT_OK
