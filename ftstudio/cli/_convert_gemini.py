"""`ftstudio convert DATA --method reinforcement --to gemini -o OUT.jsonl`: Gemini's reinforcement tuning rows.

Each row becomes a ReinforcementTuningExample (ftstudio.targets.gemini_row). What rows lost is
reported on stderr, counted per kind, and so are the reference keys that were JSON-encoded. Exit as
for `--to trl`: 0 every row converted, 1 some could not (the others are written), 2 unreadable.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from ._common import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, err

_INDEX = re.compile(r"\[\d+\]")


def convert_gemini(args) -> int:
    from ftstudio.datasets import DatasetError, iter_rows
    from ftstudio.targets import GeminiRowError, gemini_row

    if args.method != "reinforcement":
        err("ftstudio: --to gemini converts reinforcement data (Gemini's reinforcement tuning examples); "
            "use --method reinforcement")
        return EXIT_INVALID
    bad = written = 0
    dropped: Counter[str] = Counter()
    encoded: Counter[str] = Counter()
    try:
        with open(args.output, "w", encoding="utf-8") as fh:
            for chunk in iter_rows(args.data, max_bytes=None):
                for e in chunk.errors:
                    bad += 1
                    err(f"ftstudio: {args.data}: line {e.line}: {e.message}")
                for line, row in zip(chunk.lines, chunk.rows):
                    try:
                        out = gemini_row(row)
                    except GeminiRowError as exc:
                        bad += 1
                        err(f"ftstudio: {args.data}: line {line}: {exc}")
                        continue
                    fh.write(json.dumps(out.example, ensure_ascii=False) + "\n")
                    written += 1
                    dropped.update(_INDEX.sub("[]", d) for d in out.dropped)
                    encoded.update(out.encoded)
    except DatasetError as exc:
        err(f"ftstudio: {exc}")
        return EXIT_UNREADABLE
    except OSError as exc:
        err(f"ftstudio: {exc.filename or args.output}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
    for what, n in sorted(dropped.items()):
        err(f"dropped {what} from {n:,} row(s)")
    if encoded:
        err("JSON-encoded references (values that are not strings; listed per row in references._ftstudio_json_keys "
            "and decoded by the exported scorer and ftstudio serve's /gemini): "
            + ", ".join(f"{k} ({n:,} rows)" for k, n in sorted(encoded.items())))
    err(f"wrote {written:,} Gemini rows to {args.output}" + (f"; {bad:,} row(s) could not be converted" if bad else ""))
    return EXIT_INVALID if bad else EXIT_OK
