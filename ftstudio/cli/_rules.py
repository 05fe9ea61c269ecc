"""`ftstudio rules [--target T] [--json]`: the validation rules registry, with severities and evidence."""

from __future__ import annotations

import json

from ._commands import add_command
from ._common import EXIT_OK, TARGET_CHOICES


def cmd_rules(args) -> int:
    from ftstudio.validation import RULES, TARGETS, rules_markdown

    if args.markdown:
        print(rules_markdown())
        return EXIT_OK
    if args.json:
        print(json.dumps([r.to_dict(args.target) for r in RULES], indent=2, ensure_ascii=False))
        return EXIT_OK
    targets = (args.target,) if args.target else TARGETS
    for r in RULES:
        sev = "  ".join(f"{t}={r.severity_for(t) or '-'}" for t in targets)
        print(f"{r.id}{'*' if r.family else ''}: {sev}")
        print(f"    {r.message}")
        for e in r.evidence:
            print(f"    [{e.kind}] {e.source}" + (f": {e.quote}" if e.quote else ""))
    return EXIT_OK


def register(sub) -> None:
    r = add_command(sub, "rules")
    r.add_argument("--target", choices=TARGET_CHOICES, default=None, help="show one target's severities")
    r.add_argument("--json", action="store_true", help="print the registry as a JSON array")
    r.add_argument("--markdown", action="store_true", help="print the README's table of the registry")
    r.set_defaults(func=cmd_rules)
