"""The data-facing CLI commands: check-data (and grade, compare, submit as they arrive)."""

from __future__ import annotations


def cmd_check_data(args) -> int:
    from .dataset_report import check_data_main

    return check_data_main(args.data, args.method, args.json)


def register(sub) -> None:
    c = sub.add_parser("check-data", help="report what the API would reject in a dataset, with token counts")
    c.add_argument("data", metavar="DATA")
    c.add_argument("--method", choices=("supervised", "dpo", "reinforcement"), required=True)
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_check_data)
