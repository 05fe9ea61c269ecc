"""`ftstudio probe GRADER DATA`: can this grader be gamed? Grades probe variants of each genuine sample.

Exit 0 when nothing is flagged, 3 when a probe is flagged, 1 when the grader is invalid, 2 when the data
can't be read. Model graders: the request count and estimated tokens go to stderr before anything is sent.
"""

from __future__ import annotations

import json
import sys

from ._common import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, err, load_json_file, positive_int
from ._grade import _Progress, grader_of

EXIT_FLAGGED = 3


def _report_text(report) -> str:
    lines = [f"{report.genuine_rows:,} genuine samples, mean reward "
             + (f"{report.genuine_mean:.4f}" if report.genuine_mean is not None else "—")
             + f"; threshold {report.threshold:g}",
             f"{'probe':<12} {'rows':>6} {'mean':>7} {'>=genuine':>10} {'>=thresh':>9}  verdict"]
    for p in report.probes:
        mean = f"{p.mean_reward:.3f}" if p.mean_reward is not None else "—"
        verdict = "FLAGGED" if p.flagged else ("n/a" if not p.rows else "ok")
        lines.append(f"{p.probe:<12} {p.rows:>6} {mean:>7} {100 * p.share_at_or_above_genuine:>9.0f}% "
                     f"{100 * p.share_at_or_above_threshold:>8.0f}%  {verdict}")
    for p in report.flagged:
        rows = ", ".join(str(r) for r in p.examples)
        lines.append(f"\n{p.probe}: {p.why}\n  e.g. rows {rows}")
    lines.append("\n" + (f"{len(report.flagged)} probe(s) game this grader" if report.flagged
                         else "no probe games this grader"))
    return "\n".join(lines)


def cmd_probe(args) -> int:
    from ftstudio.datasets import DatasetError, read_dataset
    from ftstudio.grading import GradeOptions, InvalidGrader, estimate_requests, model_requests, to_grader
    from ftstudio.probes import DEFAULT_THRESHOLD, check_probes, plan, run

    grader = grader_of(load_json_file(args.grader), args.grader)
    try:
        names = check_probes([n.strip() for n in args.probes.split(",") if n.strip()] if args.probes else None)
    except ValueError as exc:
        err(f"ftstudio: --probes: {exc}")
        return EXIT_INVALID
    try:
        grader = to_grader(grader)
    except InvalidGrader as exc:
        err(f"ftstudio: {args.grader}: the grader can't be evaluated:")
        for issue in exc.issues:
            err("  " + issue.line())
        return EXIT_INVALID
    try:
        data = read_dataset(args.data, max_bytes=None)
    except DatasetError as exc:
        err(f"ftstudio: {exc}")
        return EXIT_UNREADABLE
    except OSError as exc:
        err(f"ftstudio: cannot read {args.data}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
    p = plan(grader, data, names, args.rows, args.sample_field)
    if not p.genuine:
        err(f"ftstudio: {args.data}: no row has a '{args.sample_field}' to probe")
        return EXIT_UNREADABLE
    options = GradeOptions(concurrency=args.concurrency)
    requests = model_requests(grader, p.rows, args.sample_field)
    if requests:
        from ftstudio.api import Endpoint

        err("ftstudio: model graders: " + estimate_requests(requests, Endpoint.from_env()).text())
    progress = _Progress()
    try:
        threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
        report = run(p, threshold, options, progress)
    finally:
        progress.finish()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(_report_text(report))
    sys.stdout.flush()
    return EXIT_FLAGGED if report.flagged else EXIT_OK


def register(sub) -> None:
    g = sub.add_parser("probe", help="can this grader be gamed? grade probe variants of each genuine sample")
    g.add_argument("grader", metavar="GRADER", help="a grader JSON file or a job config with one")
    g.add_argument("data", metavar="DATA", help=".jsonl, .json (an array) or .csv with genuine samples")
    g.add_argument("--probes", metavar="NAME,...", help="which probes, comma-separated (default: all eleven; see the README)")
    g.add_argument("--rows", type=int, metavar="N", help="probe only the first N rows with a genuine sample")
    g.add_argument("--threshold", type=float, default=None, metavar="X",
                   help="reward counted as passing for the degenerate probes (default 0.5)")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.add_argument("--sample-field", default="model_sample", metavar="NAME",
                   help="the field holding the model output (default: model_sample)")
    g.add_argument("--concurrency", type=positive_int, default=8, metavar="N", help="parallel model-grader requests")
    g.set_defaults(func=cmd_probe)
