"""How far to trust a grader, as one report: the object `ftstudio calibrate --json` prints and the app's Before
you train section draws (both faces call these functions; neither computes a figure of its own).

`trust_report` judges rewards already graded (no model call): calibration, agreement with a human label column,
agreement between two children of a multi meant to agree, and self-consistency when repeats are given.
`calibrate` grades first: once (cached answers reused), then `repeat` more times with the cache bypassed.
`compare_graders` grades the same rows with two graders meant to agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from ftstudio.core import DEFAULT_SAMPLE_FIELD
from ftstudio.core.records import replace
from ftstudio.grading import GradeOptions, GradeResults, Progress, ProgressFn, grade

from ._calibration import calibration, group_keys
from ._judging import grader_agreement, label_agreement, pass_threshold_of, self_consistency


def check_agree(grader: Any, keys: Sequence[str]) -> tuple[str, str]:
    """Two different children of a multi, meant to agree; ValueError saying what to name otherwise."""
    if grader.type != "multi":
        raise ValueError(f"'{grader.name}' is a {grader.type}; agreement names two children of a multi (use "
                         "compare-graders for two separate graders)")
    names = [k.strip() for k in keys if k.strip()]
    if len(names) != 2 or names[0] == names[1] or any(k not in grader.graders for k in names):
        raise ValueError(f"name two different keys of graders, e.g. {','.join(list(grader.graders)[:2])} (the "
                         f"multi has {', '.join(grader.graders)})")
    return names[0], names[1]


def label_values(rows: Iterable[Any], field: str) -> list[Any]:
    """Each row's human label in `field` (None where the row has none or isn't an object)."""
    return [cast(dict[str, Any], r).get(field) if isinstance(r, dict) else None for r in rows]


def trust_report(grader: Any, results: GradeResults, rows: Sequence[Any], *, labels: str | None = None,
                 threshold: float | None = None, agree: tuple[str, str] | None = None,
                 group_field: str | None = None, sample_field: str = DEFAULT_SAMPLE_FIELD,
                 repeats: Sequence[Sequence[float]] | None = None) -> dict[str, Any]:
    """Today's calibration figures, plus (each when asked) agreement with the `labels` column, self-consistency
    over `repeats` (the same rows graded again), and ρ between the children named by `agree`."""
    keys = group_keys(rows, group_field, sample_field)
    out: dict[str, Any] = calibration(results, keys=keys, group_field=group_field)
    passing = pass_threshold_of(grader, threshold)
    rewards = list(results.rewards)
    if labels:
        found = label_agreement(rewards, label_values(rows, labels), passing)
        out.update({k: v for k, v in found.items() if k not in ("warning", "skipped")},
                   labels_skipped=found["skipped"], labels_warning=found["warning"])
    if repeats is not None:
        out["self_consistency"] = self_consistency(repeats, passing, keys)
    if agree:
        subs = results.sub_rewards
        out["agreement"] = {"keys": list(agree), **grader_agreement(list(subs[agree[0]]), list(subs[agree[1]]))}
    return out


def calibrate(grader: Any, rows: Sequence[Any], *, repeat: int | None = None, labels: str | None = None,
              threshold: float | None = None, agree: tuple[str, str] | None = None, group_field: str | None = None,
              sample_field: str = DEFAULT_SAMPLE_FIELD, options: GradeOptions | None = None,
              progress: ProgressFn | None = None) -> dict[str, Any]:
    """Grade `rows` once, then `repeat` more times with the cache bypassed (a judge's answers to the same
    request can differ), and judge them with `trust_report`. Progress is labelled by pass ("repeat 2/3")."""
    options = options or GradeOptions()

    def passes(label: str) -> ProgressFn | None:
        if progress is None:
            return None
        report = progress
        return lambda p: report(Progress(p.done, p.total, p.stage, label, p.waiting, p.limit))

    results = grade(grader, rows, sample_field=sample_field, options=options, progress=passes("grading"))
    runs = None
    if repeat:
        fresh = replace(options, use_cache=False)
        runs = [list(grade(grader, rows, sample_field=sample_field, options=fresh,
                           progress=passes(f"repeat {k + 1}/{repeat}")).rewards) for k in range(repeat)]
    return trust_report(grader, results, rows, labels=labels, threshold=threshold, agree=agree,
                        group_field=group_field, sample_field=sample_field, repeats=runs)


def compare_graders(a: Any, b: Any, rows: Sequence[Any], sample_field: str = DEFAULT_SAMPLE_FIELD,
                    options: GradeOptions | None = None, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Grade the rows with both graders; ρ with its interval, n, the rows where they disagree most, `flagged`
    (ρ under 0.8: two graders compared are meant to agree by definition)."""
    ra = list(grade(a, rows, sample_field=sample_field, options=options, progress=progress).rewards)
    rb = list(grade(b, rows, sample_field=sample_field, options=options, progress=progress).rewards)
    return grader_agreement(ra, rb)
