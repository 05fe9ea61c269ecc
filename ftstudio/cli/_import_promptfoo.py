"""`ftstudio import-promptfoo promptfooconfig.yaml -o grader.json`: the assertions with an exact grader
equivalent as a grader tree (exit 0, the others listed on stderr); exit 1 when none has one, 2 when the file
can't be read."""

from __future__ import annotations

import json
from pathlib import Path

from ._commands import add_command
from ._common import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, CliError, err


def _load(path: str):
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"ftstudio: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise CliError(f"ftstudio: {path}:{where}: not YAML: {getattr(exc, 'problem', None) or exc}",
                       EXIT_UNREADABLE) from None


def cmd_import_promptfoo(args) -> int:
    from ftstudio.reward import grader_from_promptfoo
    from ftstudio.validation import check_grader, errors

    grader, skipped = grader_from_promptfoo(_load(args.file))
    for skip in skipped:
        err(f"not imported: {skip.line()}")
    if grader is None:
        err(f"ftstudio: {args.file}: no assertion has an exact grader equivalent (equals, not-equals, contains, "
            "icontains with text values in defaultTest.assert)")
        return EXIT_INVALID
    for issue in errors(check_grader(grader)):
        err("  " + issue.line())
    text = json.dumps(grader, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"ftstudio: cannot write {args.output}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
        err(f"wrote {args.output}")
    else:
        print(text, end="")
    count = len(grader.get("graders") or [grader])
    err(f"imported {count} assertion(s); {len(skipped)} not imported")
    return EXIT_OK


def register(sub) -> None:
    p = add_command(sub, "import-promptfoo")
    p.add_argument("file", metavar="PROMPTFOOCONFIG")
    p.add_argument("-o", "--output", metavar="GRADER_JSON")
    p.set_defaults(func=cmd_import_promptfoo)
