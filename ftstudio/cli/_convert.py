"""`ftstudio convert DATA --method M --to trl|gemini -o OUT.jsonl`: OpenAI-format training data as TRL's dataset
rows (or, for reinforcement, Gemini's reinforcement tuning examples: _convert_gemini.py).

Every row that converts is written, in input order; each bad row is reported with its line on stderr.
Exit 0 when every row converted, 1 when some rows could not (the others are still written), 2 when the
file can't be read or written.
"""

from __future__ import annotations

import json

from ._commands import add_command
from ._common import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, err


def cmd_convert(args) -> int:
    from ftstudio.datasets import DatasetError, TrlRowError, iter_trl

    if args.to == "gemini":
        from ._convert_gemini import convert_gemini

        return convert_gemini(args)

    bad = written = 0
    try:
        with open(args.output, "w", encoding="utf-8") as fh:
            for _, row in sorted(iter_trl(args.data, args.method), key=lambda e: e[0]):
                if isinstance(row, TrlRowError):
                    bad += 1
                    err(f"ftstudio: {args.data}: {row}")
                    continue
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
    except DatasetError as exc:
        err(f"ftstudio: {exc}")
        return EXIT_UNREADABLE
    except OSError as exc:
        err(f"ftstudio: {exc.filename or args.output}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
    err(f"wrote {written:,} TRL rows to {args.output}" + (f"; {bad:,} row(s) could not be converted" if bad else ""))
    return EXIT_INVALID if bad else EXIT_OK


def register(sub) -> None:
    c = add_command(sub, "convert")
    c.add_argument("data", metavar="DATA", help="OpenAI-format .jsonl (or .json / .csv)")
    c.add_argument("--method", choices=("supervised", "dpo", "reinforcement"), required=True)
    c.add_argument("--to", choices=("trl", "gemini"), required=True,
                   help="the target format (gemini: reinforcement rows as Gemini's reinforcement tuning examples)")
    c.add_argument("-o", "--output", required=True, metavar="OUT.jsonl")
    c.set_defaults(func=cmd_convert)
