"""`ftstudio`: the command-line face over the same functions the pages call.

Exit codes everywhere: 0 success (warnings allowed), 1 the config/grader is invalid,
2 a file can't be read or isn't JSON, 3 the API could not be used. Heavy modules are imported
inside each command so that `ftstudio --help` and `ftstudio validate` start fast.
"""

from __future__ import annotations

import argparse
import sys

from . import (
    _calibrate,
    _config_cmds,
    _connected,
    _convert,
    _data,
    _grade,
    _import_promptfoo,
    _migrate,
    _models,
    _probe,
    _pull,
    _rules,
    _sample,
    _serve,
)
from ._common import EXIT_OK, CliError, err


def build_parser() -> argparse.ArgumentParser:
    from ftstudio import __version__

    p = argparse.ArgumentParser(prog="ftstudio", description="Fine-Tune Studio: build, validate, "
                                "test-grade and export OpenAI fine-tuning job configs.")
    p.add_argument("--version", action="version", version=f"ftstudio {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in (_config_cmds, _grade, _connected, _data, _convert, _migrate, _models, _probe, _calibrate, _sample,
                   _pull, _serve, _rules, _import_promptfoo):
        module.register(sub)
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
        err(exc.message)
        return exc.code
    except KeyboardInterrupt:
        err("ftstudio: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
