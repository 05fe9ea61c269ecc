"""`ftstudio calibrate CONFIG DATA` and `ftstudio compare-graders A B DATA`: how far to trust a grader.

calibrate prints today's calibration figures (as `grade` does) plus, with `--labels FIELD`, Cohen's κ and
Spearman ρ against human labels; with `--repeat K`, the judge's self-consistency (K more passes, cache
bypassed); with `--agree KEY,KEY`, Spearman ρ between two children of a multi meant to agree.
compare-graders grades the data with two graders meant to agree. Exit 0; 3 when graders meant to agree
have ρ < 0.8; 1 for an invalid grader or flag; 2 for unreadable data.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ftstudio.core import DEFAULT_CONCURRENCY, DEFAULT_SAMPLE_FIELD

from ._commands import add_command
from ._common import EXIT_INVALID, EXIT_OK, CliError, load_json_file, positive_int, sample_field
from ._grade import _Progress, grader_of
from ._probe import EXIT_FLAGGED, add_cost_flags, cost_gate

MAX_LISTED = 10  # disagreeing rows printed (the JSON has more)


def _iv(interval: list[float] | None) -> str:
    return "n/a" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _load(path: str) -> Any:
    from ftstudio.grading import InvalidGrader, to_grader

    grader = grader_of(load_json_file(path), path)
    try:
        return to_grader(grader)
    except InvalidGrader as exc:
        lines = "\n".join("  " + issue.line() for issue in exc.issues)
        raise CliError(f"ftstudio: {path}: the grader can't be evaluated:\n{lines}", EXIT_INVALID) from None


def _rows(path: str) -> list[Any]:
    from ftstudio.datasets import DatasetError, read_dataset

    try:
        rows = read_dataset(path, max_bytes=None).rows
    except DatasetError as exc:
        raise CliError(f"ftstudio: {exc}") from None
    except OSError as exc:
        raise CliError(f"ftstudio: cannot read {path}: {exc.strerror or exc}") from None
    if not rows:
        raise CliError(f"ftstudio: {path}: no rows")
    return rows


def _agree_keys(grader: Any, text: str | None) -> tuple[str, str] | None:
    from ftstudio.probes import check_agree

    if not text:
        return None
    try:
        return check_agree(grader, text.split(","))
    except ValueError as exc:
        raise CliError(f"ftstudio: --agree: {exc}", EXIT_INVALID) from None


def cmd_calibrate(args) -> int:
    from ftstudio.grading import GradeOptions, model_requests
    from ftstudio.probes import calibrate, pass_threshold_of

    grader = _load(args.config)
    agree = _agree_keys(grader, args.agree)
    if args.repeat is not None and args.repeat < 2:
        raise CliError("ftstudio: --repeat must be at least 2 (grade each row K times and compare)", EXIT_INVALID)
    rows = _rows(args.data)
    if args.labels and not any(isinstance(r, dict) and args.labels in r for r in rows):
        raise CliError(f"ftstudio: {args.data}: no row has the label field '{args.labels}' (--labels)")
    refused = cost_gate(model_requests(grader, rows, args.sample_field), args, ask=False, repeats=args.repeat or 0)
    if refused is not None:
        return refused
    progress = _Progress()
    try:
        out = calibrate(grader, rows, repeat=args.repeat, labels=args.labels, threshold=args.threshold, agree=agree,
                        group_field=args.group_field, sample_field=args.sample_field,
                        options=GradeOptions(concurrency=args.concurrency), progress=progress)
    finally:
        progress.finish()
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print(_calibrate_text(out, pass_threshold_of(grader, args.threshold)))
    sys.stdout.flush()
    return EXIT_FLAGGED if agree and out["agreement"]["flagged"] else EXIT_OK


def _calibrate_text(out: dict[str, Any], threshold: float) -> str:
    from ftstudio.probes import calibration_text

    lines = [calibration_text(out)]
    if "n_labels" in out:
        base = "n/a" if out["base_rate"] is None else f"{100 * out['base_rate']:.0f}%"
        lines.append(f"agreement with labels ({out['n_labels']} labels, {base} pass; pass at {threshold:g}): "
                     f"kappa {_num(out['kappa'])} {_iv(out['kappa_interval'])}, "
                     f"spearman {_num(out['spearman'])} {_iv(out['spearman_interval'])}")
        c = out["confusion"]
        lines.append(f"labels pass: grader pass {c['label_pass']['grader_pass']}, fail {c['label_pass']['grader_fail']}; "
                     f"labels fail: grader pass {c['label_fail']['grader_pass']}, fail {c['label_fail']['grader_fail']}"
                     + "".join(f"\n  row {d['row']}: reward {d['reward']:.4g}, label {d['label']!r}"
                               for d in out["label_disagreements"][:MAX_LISTED]))
        if out["threshold_max_kappa"] is not None:
            lines.append(f"the threshold that maximises kappa: {out['threshold_max_kappa']:.4g}")
        if out["labels_skipped"]:
            lines.append(f"{out['labels_skipped']} rows without a readable label were left out")
        if out["labels_warning"]:
            lines.append("WARNING: " + out["labels_warning"])
    sc = out.get("self_consistency")
    if sc:
        lines.append(f"self-consistency over {sc['repeats']} repeats: per-row std {_num(sc['std_mean'])}, "
                     f"{100 * (sc['flip_rate'] or 0):.1f}% of rows flip pass/fail, {sc['group_sign_flips']} of "
                     f"{sc['groups']} groups have an advantage that changes sign")
    ag = out.get("agreement")
    if ag:
        lines.append(_agreement_text(" and ".join(f"graders.{k}" for k in ag["keys"]), ag))
    return "\n".join(line for line in lines if line)


def _agreement_text(what: str, ag: dict[str, Any]) -> str:
    verdict = ("FLAGGED: meant to agree but spearman is under 0.8" if ag["flagged"] else "they agree")
    lines = [f"{what}: spearman {_num(ag['spearman'])} {_iv(ag['interval'])} on {ag['n']} rows; {verdict}"]
    for d in ag["disagreements"]:
        lines.append(f"  row {d['row']}: {d['a']:.4g} vs {d['b']:.4g}")
    return "\n".join(lines)


def cmd_compare_graders(args) -> int:
    from ftstudio.grading import GradeOptions, model_requests
    from ftstudio.probes import compare_graders

    a, b = _load(args.a), _load(args.b)
    rows = _rows(args.data)
    refused = cost_gate(model_requests(a, rows, args.sample_field) + model_requests(b, rows, args.sample_field),
                        args, ask=False)
    if refused is not None:
        return refused
    progress = _Progress()
    try:
        found = compare_graders(a, b, rows, args.sample_field, GradeOptions(concurrency=args.concurrency), progress)
    finally:
        progress.finish()
    out = {"spearman": found["spearman"], "interval": found["interval"], "n": found["n"],
           "disagreements": found["disagreements"]}
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print(_agreement_text(f"{a.name} and {b.name}", found))
    sys.stdout.flush()
    return EXIT_FLAGGED if found["flagged"] else EXIT_OK


def _common_flags(g) -> None:
    g.add_argument("--sample-field", type=sample_field, default=DEFAULT_SAMPLE_FIELD, metavar="NAME",
                   help="the field holding the model output (default: model_sample)")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.add_argument("--concurrency", type=positive_int, default=DEFAULT_CONCURRENCY, metavar="N", help="parallel model-grader requests")
    add_cost_flags(g, confirm=False)


def register(sub) -> None:
    g = add_command(sub, "calibrate")
    g.add_argument("config", metavar="CONFIG", help="a grader JSON file or a job config with one")
    g.add_argument("data", metavar="DATA", help=".jsonl, .json (an array) or .csv")
    g.add_argument("--repeat", type=int, metavar="K", help="grade each row K more times, cache bypassed, and report "
                                                            "how much the rewards move")
    g.add_argument("--labels", metavar="FIELD", help="a human label per row: a number, true/false or pass/fail")
    g.add_argument("--threshold", type=float, metavar="X",
                   help="pass at or above X (default: the grader's pass_threshold, else 0.5)")
    g.add_argument("--agree", metavar="KEY,KEY", help="two children of a multi meant to agree (spearman >= 0.8)")
    g.add_argument("--group-field", metavar="NAME",
                   help="rows sharing this field's value are samples of one item (default: identical items)")
    _common_flags(g)
    g.set_defaults(func=cmd_calibrate)
    c = add_command(sub, "compare-graders")
    c.add_argument("a", metavar="A", help="a grader JSON file or a job config with one")
    c.add_argument("b", metavar="B", help="the other grader")
    c.add_argument("data", metavar="DATA", help=".jsonl, .json (an array) or .csv")
    _common_flags(c)
    c.set_defaults(func=cmd_compare_graders)
