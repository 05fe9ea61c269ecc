"""The data-facing CLI commands: grade and check-data (registered into the main parser)."""

from __future__ import annotations


def cmd_check_data(args) -> int:
    from .dataset_report import check_data_main

    return check_data_main(args.data, args.method, args.json)


def cmd_grade(args) -> int:
    from ._cli_grade import cmd_grade as run

    return run(args)


def cmd_compare(args) -> int:
    from ._cli_connected import cmd_compare as run

    return run(args)


def cmd_submit(args) -> int:
    from ._cli_connected import cmd_submit as run

    return run(args)


def register(sub) -> None:
    g = sub.add_parser("grade", help="score a dataset with a grader (a job config's or a bare one)")
    g.add_argument("config", metavar="CONFIG_OR_GRADER.json")
    g.add_argument("data", metavar="DATA", help=".jsonl, .json (an array) or .csv")
    g.add_argument("--sample-field", default="model_sample", metavar="NAME",
                   help="the field holding the model output (default: model_sample)")
    g.add_argument("--out", metavar="FILE.jsonl|FILE.csv", help="write one record per input row")
    g.add_argument("--concurrency", type=int, default=8, metavar="N", help="parallel model-grader requests")
    g.add_argument("--chunk-size", type=int, default=50_000, help=argparse_suppress())
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    g.set_defaults(func=cmd_grade)

    cmp = sub.add_parser("compare", help="grade N rows locally and with the official grader service; show differences")
    cmp.add_argument("config", metavar="CONFIG_OR_GRADER.json")
    cmp.add_argument("data", metavar="DATA")
    cmp.add_argument("--rows", type=int, default=20, metavar="N", help="how many rows (default 20, the first ones)")
    cmp.add_argument("--sample-field", default="model_sample", metavar="NAME")
    cmp.add_argument("--json", action="store_true")
    cmp.set_defaults(func=cmd_compare)

    s = sub.add_parser("submit", help="upload the files and create the fine-tuning job")
    s.add_argument("config", metavar="CONFIG")
    s.add_argument("--train", required=True, metavar="FILE", help="a .jsonl path, or an uploaded file id (file-...)")
    s.add_argument("--validation", metavar="FILE", help="a .jsonl path, or an uploaded file id (default: the config's validation_file)")
    s.add_argument("--wait", action="store_true", help="follow the job until it ends, printing its events")
    s.add_argument("--force", action="store_true", help="submit even when validation finds errors")
    s.add_argument("--poll", type=float, default=2.0, help=argparse_suppress())
    s.set_defaults(func=cmd_submit)

    c = sub.add_parser("check-data", help="report what the API would reject in a dataset, with token counts")
    c.add_argument("data", metavar="DATA")
    c.add_argument("--method", choices=("supervised", "dpo", "reinforcement"), required=True)
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_check_data)


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS
