"""`ftstudio probe GRADER DATA`: can this grader be gamed? Grades probe variants of each genuine sample.

Exit 0 when nothing is flagged, 3 when a probe is flagged, 1 when the grader is invalid, 2 when the data
can't be read. Model graders: the request count and estimated tokens go to stderr before anything is sent.
"""

from __future__ import annotations

import json
import sys

from ftstudio.core import DEFAULT_CONCURRENCY, DEFAULT_SAMPLE_FIELD

from ._commands import add_command
from ._common import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, err, load_json_file, positive_int, sample_field
from ._grade import _Progress, grader_of
from ._sample import _confirm

EXIT_FLAGGED = 3
EXIT_COST = EXIT_INVALID  # the estimated cost is over --max-cost: a limit the user set, nothing sent


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
    if report.judge:
        lines.append(f"\n{'judge probe':<20} {'rows':>5} {'mean':>7} {'95% interval':>16} {'genuine':>8} {'wrong':>7}  verdict")
        for j in report.judge:
            iv = f"[{j.interval[0]:.3f}, {j.interval[1]:.3f}]" if j.interval else "—"
            lines.append(f"{j.probe:<20} {j.rows:>5} {_num(j.mean):>7} {iv:>16} {_num(j.genuine_mean):>8} "
                         f"{_num(j.wrong_mean):>7}  {'FLAGGED' if j.flagged else 'ok' if j.rows else 'n/a'}")
    for p in report.flagged:
        examples = getattr(p, "examples", None)
        lines.append(f"\n{p.probe}: {p.why}" + (f"\n  e.g. rows {', '.join(map(str, examples))}" if examples else ""))
    lines.append("\n" + (f"{len(report.flagged)} probe(s) game this grader" if report.flagged
                         else "no probe games this grader"))
    return "\n".join(lines)


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def cost_gate(requests: list[dict], args, ask: bool, repeats: int = 0) -> int | None:
    """Show the model-grader requests and their estimated cost before anything is sent; an exit code when
    the cost is over `--max-cost` or (when `ask`) the user doesn't confirm, else None (go ahead).
    `repeats` more passes bypass the cache: each sends every request again."""
    if not requests:
        return None
    from ftstudio.api import Endpoint
    from ftstudio.grading import estimate_cost

    est = estimate_cost(requests, Endpoint.from_env(), repeats, args.input_price, args.output_price)
    err("ftstudio: model graders: " + est.text())
    cost = est.cost
    if repeats:
        err(f"ftstudio: --repeat {repeats}: {est.repeat_requests:,} more requests (cache bypassed); "
            f"estimated cost in all ${cost:,.4f}")
    if est.over(args.max_cost):
        err(f"ftstudio: the estimated cost ${cost:,.4f} is over --max-cost ${args.max_cost:,.4f}: nothing sent "
            "(use --rows N to probe fewer rows, or raise --max-cost)")
        return EXIT_COST
    if ask and not args.yes and not _confirm("Send them? [y/N] "):
        err("ftstudio: nothing sent (pass --yes to skip this question)")
        return EXIT_OK
    return None


def add_cost_flags(g, confirm: bool) -> None:
    g.add_argument("--max-cost", type=float, metavar="USD",
                   help="refuse to send anything when the estimated cost of the model-grader requests is over USD")
    g.add_argument("--input-price", type=float, metavar="USD", help="USD per 1M prompt tokens (default: list price)")
    g.add_argument("--output-price", type=float, metavar="USD",
                   help="USD per 1M completion tokens (default: list price)")
    if confirm:
        g.add_argument("--yes", action="store_true", help="don't ask before sending model-grader requests")


def cmd_probe(args) -> int:
    from ftstudio.datasets import DatasetError, read_dataset
    from ftstudio.grading import GradeOptions, InvalidGrader, model_requests, to_grader
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
    try:
        p = plan(grader, data, names, args.rows, args.sample_field)
    except ValueError as exc:
        err(f"ftstudio: --probes: {exc}")
        return EXIT_INVALID
    if not p.genuine:
        err(f"ftstudio: {args.data}: no row has a '{args.sample_field}' to probe")
        return EXIT_UNREADABLE
    options = GradeOptions(concurrency=args.concurrency)
    refused = cost_gate(model_requests(grader, p.rows, args.sample_field), args, ask=bool(p.judge_probes))
    if refused is not None:
        return refused
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
    g = add_command(sub, "probe")
    g.add_argument("grader", metavar="GRADER", help="a grader JSON file or a job config with one")
    g.add_argument("data", metavar="DATA", help=".jsonl, .json (an array) or .csv with genuine samples")
    g.add_argument("--probes", metavar="NAME,...", help="which probes, comma-separated (default: all eleven; `judge` adds the model-grader family, "
                        "which spends money; see the README)")
    g.add_argument("--rows", type=positive_int, metavar="N", help="probe only the first N rows with a genuine sample")
    g.add_argument("--threshold", type=float, default=None, metavar="X",
                   help="reward counted as passing for the degenerate probes (default 0.5)")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.add_argument("--sample-field", type=sample_field, default=DEFAULT_SAMPLE_FIELD, metavar="NAME",
                   help="the field holding the model output (default: model_sample)")
    g.add_argument("--concurrency", type=positive_int, default=DEFAULT_CONCURRENCY, metavar="N", help="parallel model-grader requests")
    add_cost_flags(g, confirm=True)
    g.set_defaults(func=cmd_probe)
