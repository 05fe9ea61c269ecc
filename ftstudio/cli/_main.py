"""`ftstudio`: the command-line face over the same functions the pages call.

Exit codes everywhere: 0 success (warnings allowed), 1 the config/grader is invalid,
2 a file can't be read or isn't JSON, 3 the API could not be used. Heavy modules are imported
inside each command, and only the invoked command's module is imported to build the parser (the others
are listed from _commands), so that `ftstudio --help` and `ftstudio grade` start fast.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from typing import Any, NoReturn, cast

from ._commands import COMMANDS, add_command
from ._common import EXIT_OK, CliError, err


def invoked(argv: list[str]) -> str | None:
    """The command `argv` names: its first word not starting with "-" (the top-level options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def terminal_columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` gives it: COLUMNS when a positive integer, else the
    terminal's on standard output, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # no stdout, closed, or not a terminal
        return 80


class Parser(argparse.ArgumentParser):
    """argparse's parser, with help as wide as the terminal, measured without shutil: argparse builds a formatter
    for every argument it adds, and its own measure imports shutil (with bz2 and lzma), 2 ms of a one-row grade
    (issue 23). Subparsers are of the parser's class, so every command's parser is one of these."""

    def _get_formatter(self) -> argparse.HelpFormatter:
        formatter: Any = self.formatter_class  # every HelpFormatter takes a width; argparse's stub names prog alone
        return formatter(prog=self.prog, width=terminal_columns() - 2)  # argparse keeps two columns free


class Listed:
    """A command `ftstudio --help` lists but argv does not invoke: its parser is never built. argparse makes a
    parser per command, and each calls gettext three times as it is made (0.2 ms each, a sixth of a one-row
    grade, issue 23); the invoked command, the first word of argv, always gets its real parser."""

    def __init__(self, prog: str | None = None, **_: Any) -> None:
        self.prog = prog

    def parse_known_args(self, *_: Any, **__: Any) -> Any:
        raise RuntimeError(f"{self.prog}: not the command build_parser was asked for; its parser was not built")


def _command_parser(listed: bool = False, **kwargs: Any) -> Any:
    """The subparsers' parser_class: a Listed stand-in for a command only listed, a Parser for the invoked one."""
    return Listed(**kwargs) if listed else Parser(**kwargs)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; only `command`'s module is imported and registers its arguments, the others
    are listed with their help (what `ftstudio --help` and an unknown command's error show)."""
    from ftstudio import __version__

    p = Parser(prog="ftstudio", description="Fine-Tune Studio: build, validate, "
                                "test-grade and export OpenAI fine-tuning job configs.")
    p.add_argument("--version", action="version", version=f"ftstudio {__version__}")
    # argparse calls parser_class(**kwargs) for each command: a function that makes the right one does
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=cast("type[Parser]", _command_parser))
    chosen = COMMANDS[command][0] if command in COMMANDS else None
    for name, (module, _) in COMMANDS.items():
        if module != chosen:
            add_command(sub, name, listed=True)
        elif name not in sub.choices:  # the module registers all its commands at its first
            importlib.import_module(f"{__package__}.{module}").register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(invoked(argv))
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


def run() -> NoReturn:
    """The process's entry (the `ftstudio` script, `python -m ftstudio`): `main`, then exit with its code."""
    code = main()
    # Whatever is alive now is freed at exit by reference counting; frozen, it is not walked again by the
    # collections the interpreter runs as it shuts down (about 8 ms of a one-row grade, issue 23). Files are
    # closed by the commands themselves, and sys.exit still flushes stdout and stderr.
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
